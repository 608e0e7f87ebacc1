//! Ending a request by hand: the requester cancels it or ends their own grant, or an admin
//! revokes someone else's grant, with a reason.

use chrono::{DateTime, Utc};

use crate::auth::Principal;
use crate::domain::request::clean_comment;
use crate::domain::{Request, RequestId, Role, Transition};
use crate::error::{AppError, AppResult};
use crate::service::Portal;
use crate::service::lifecycle;
use crate::store::StoreTx;

impl Portal {
    #[tracing::instrument(skip_all, fields(user = %who.user.id, request = %id))]
    pub async fn cancel(&self, who: &Principal, id: &RequestId) -> AppResult<Request> {
        let now = self.now();
        let (tx, r) = self.begin_change(id).await?;
        // Who asked on the requester's behalf may take it back too (a device account cannot):
        // cancelling only ever takes access away.
        let asker = r.was_asked_by(&who.user.id) && !who.requests_only();
        if r.requester.id != who.user.id && !asker {
            return Err(AppError::Forbidden(
                "Only the requester, or who asked on their behalf, can cancel a request.".into(),
            ));
        }
        self.close_by(who, tx, r, Transition::Cancel, None, now)
            .await
    }

    /// The requester ends their own active grant; an admin ending someone else's revokes it
    /// (the portal's form, which serves both).
    pub async fn end(
        &self,
        who: &Principal,
        id: &RequestId,
        reason: Option<String>,
    ) -> AppResult<Request> {
        self.end_as(who, id, reason, Ending::OwnOrRevoke).await
    }

    /// The requester ends their own active grant; nobody else may.
    pub async fn end_own(
        &self,
        who: &Principal,
        id: &RequestId,
        reason: Option<String>,
    ) -> AppResult<Request> {
        self.end_as(who, id, reason, Ending::Own).await
    }

    /// An admin revokes a grant (anyone's), with a reason.
    pub async fn revoke(
        &self,
        who: &Principal,
        id: &RequestId,
        reason: &str,
    ) -> AppResult<Request> {
        self.end_as(who, id, Some(reason.to_string()), Ending::Revoke)
            .await
    }

    #[tracing::instrument(skip_all, fields(user = %who.user.id, request = %id))]
    async fn end_as(
        &self,
        who: &Principal,
        id: &RequestId,
        reason: Option<String>,
        how: Ending,
    ) -> AppResult<Request> {
        let reason = clean_comment(reason.as_deref(), false)
            .map_err(|f| AppError::invalid_field("reason", f.message))?;
        if how == Ending::Revoke {
            self.may_revoke(who, reason.as_deref())?;
        }
        let now = self.now();
        let (tx, r) = self.begin_change(id).await?;
        // Who asked on the requester's behalf may end it as the requester may (a device
        // account cannot): ending only ever takes access away.
        let own =
            r.requester.id == who.user.id || (r.was_asked_by(&who.user.id) && !who.requests_only());
        let transition = match how {
            Ending::Revoke => Transition::Revoke,
            _ if own => Transition::End,
            Ending::Own => {
                return Err(AppError::Forbidden(
                    "Only the requester (or who asked on their behalf) can end a grant; an admin revokes it instead.".into(),
                ));
            }
            Ending::OwnOrRevoke => {
                self.may_revoke(who, reason.as_deref())?;
                Transition::Revoke
            }
        };
        self.close_by(who, tx, r, transition, reason, now).await
    }

    /// Revoking needs an admin signed in through the portal's own API, and a reason.
    fn may_revoke(&self, who: &Principal, reason: Option<&str>) -> AppResult<()> {
        self.require_portal_reach(who, "Revoking a grant")?;
        if !self.has_role(who, Role::Admin) {
            return Err(AppError::Forbidden(
                "Only the requester or an admin can end a grant.".into(),
            ));
        }
        if reason.is_none() {
            return Err(AppError::invalid_field(
                "reason",
                "Please give a reason for revoking this grant.",
            ));
        }
        Ok(())
    }

    /// Closes `r` by `transition` at `who`'s hand, in `tx`, and commits.
    async fn close_by(
        &self,
        who: &Principal,
        mut tx: Box<dyn StoreTx>,
        mut r: Request,
        transition: Transition,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> AppResult<Request> {
        lifecycle::close(
            &self.outbox,
            &mut *tx,
            &mut r,
            transition,
            Some(who),
            reason,
            now,
        )
        .await?;
        tx.commit().await?;
        self.notify();
        Ok(r)
    }
}

/// Who may end a grant by a given route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// Only the requester, or who asked on their behalf (the API's `end`).
    Own,
    /// Only an admin, as a revocation (the API's `revoke`).
    Revoke,
    /// The requester ends it; an admin ending someone else's revokes it (the portal's form).
    OwnOrRevoke,
}
