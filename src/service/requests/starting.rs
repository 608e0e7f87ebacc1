//! Starting a change on a request: the write transaction on it (404 when there is none), its
//! package still configured, and the start of a decision, which deciding on a request and on
//! an extension share.

use chrono::{DateTime, Utc};

use crate::auth::Principal;
use crate::domain::request::clean_comment;
use crate::domain::{Decision, Package, Request, RequestId};
use crate::error::{AppError, AppResult};
use crate::service::Portal;
use crate::store::StoreTx;

/// What a decision starts from (see [`Portal::begin_decision`]).
pub(in crate::service) struct Deciding<'a> {
    /// The decider's comment, cleaned.
    pub(in crate::service) comment: Option<String>,
    pub(in crate::service) now: DateTime<Utc>,
    pub(in crate::service) tx: Box<dyn StoreTx>,
    /// The request, as read in `tx`.
    pub(in crate::service) r: Request,
    pub(in crate::service) pkg: &'a Package,
}

impl Portal {
    /// The package `r` was asked for; 409 when it is no longer configured.
    pub(in crate::service) fn configured_package(&self, r: &Request) -> AppResult<&Package> {
        self.package(&r.package).ok_or_else(|| {
            AppError::Conflict(format!(
                "The package '{}' is no longer configured.",
                r.package
            ))
        })
    }

    /// Starts a decision by `who` on request `id`, or on the extension waiting on it: the
    /// comment checked (a denial needs one), a write transaction on the request, which `who`
    /// must be allowed to see, and its package still configured.
    pub(in crate::service) async fn begin_decision(
        &self,
        who: &Principal,
        id: &RequestId,
        decision: Decision,
        comment: Option<&str>,
    ) -> AppResult<Deciding<'_>> {
        self.require_portal_reach(who, "Deciding a request")?;
        let comment = clean_comment(comment, decision == Decision::Deny)
            .map_err(|f| AppError::invalid(vec![f]))?;
        let now = self.now();
        let (tx, r) = self.begin_change(id).await?;
        if !self.may_view(who, &r) {
            return Err(AppError::Forbidden(
                "You are not an approver for this request.".into(),
            ));
        }
        let pkg = self.configured_package(&r)?;
        Ok(Deciding {
            comment,
            now,
            tx,
            r,
            pkg,
        })
    }

    /// Starts a write transaction on request `id` (404 when there is none).
    pub(in crate::service) async fn begin_change(
        &self,
        id: &RequestId,
    ) -> AppResult<(Box<dyn StoreTx>, Request)> {
        let mut tx = self.store.begin().await?;
        let r = tx
            .get_request(id.as_str())
            .await?
            .ok_or_else(|| not_found(id))?;
        Ok((tx, r))
    }
}

pub(super) fn not_found(id: impl std::fmt::Display) -> AppError {
    AppError::NotFound(format!("There is no request '{id}'."))
}
