//! Asking for access: a new request, checked against the package (eligibility, the form's
//! rules, its step-up, one open request or grant per package, how often one may ask), with the requester's manager looked up where
//! the package lets managers decide.

use serde_json::json;

use crate::auth::Principal;
use crate::domain::limits::AskKind;
use crate::domain::request::validate_new_request;
use crate::domain::{AuditAction, NewRequestInput, Request, RequestId, RequestStatus};
use crate::error::{AppError, AppResult};
use crate::service::Portal;
use crate::service::event;
use crate::store::RequestFilter;

impl Portal {
    #[tracing::instrument(skip_all, fields(user = %who.user.id, package = %input.package))]
    pub async fn create_request(
        &self,
        who: &Principal,
        input: NewRequestInput,
    ) -> AppResult<Request> {
        let pkg = self.package(input.package.trim()).ok_or_else(|| {
            AppError::invalid_field(
                "package",
                format!("There is no package '{}'.", input.package.trim()),
            )
        })?;
        if !pkg.is_eligible(&who.raw_roles) {
            return Err(AppError::Forbidden(format!(
                "You are not eligible to request {}.",
                pkg.name
            )));
        }
        let now = self.now();
        let valid = validate_new_request(pkg, &input, now).map_err(AppError::invalid)?;
        self.require_step_up(who, pkg)?;

        let open = RequestFilter {
            statuses: vec![
                RequestStatus::Pending,
                RequestStatus::Approved,
                RequestStatus::Active,
            ],
            package: Some(pkg.id.clone()),
            requester_id: Some(who.user.id.clone()),
            ..Default::default()
        };
        if self.store.count_requests(&open).await? > 0 {
            return Err(open_conflict(&pkg.name));
        }

        let manager_id = if pkg.manager_may_approve {
            match self.directory.get_manager(&who.user.id).await {
                Ok(m) => m.map(|m| m.id),
                Err(e) => {
                    tracing::warn!(user = %who.user.id, error = %e, "could not look up the requester's manager");
                    None
                }
            }
        } else {
            None
        };

        let r = Request::pending(
            RequestId::new(),
            pkg,
            who.user.clone(),
            manager_id,
            valid,
            crate::domain::audit::truncate_millis(now),
        );
        let tx = self.store.begin().await?;
        let mut tx = self
            .within_ask_limit(tx, who, pkg, AskKind::Request, None)
            .await?;
        tx.insert_request(&r).await.map_err(|e| match e {
            crate::store::StoreError::Conflict(_) => open_conflict(&pkg.name),
            other => other.into(),
        })?;
        self.outbox
            .record(
                &mut *tx,
                event(
                    Some(who),
                    AuditAction::RequestCreated,
                    &r,
                    now,
                    json!({
                        "package": r.package,
                        "group_id": r.group_id,
                        "duration_minutes": r.duration_minutes,
                        "justification": r.justification,
                        "ticket": r.ticket,
                        "requested_start": r.requested_start,
                        "manager_id": r.manager_id,
                    }),
                ),
                Some(&r),
            )
            .await?;
        tx.commit().await?;
        self.notify();
        tracing::info!(request = %r.id, package = %r.package, user = %r.requester.id, "request created");
        Ok(r)
    }
}

fn open_conflict(package: &str) -> AppError {
    AppError::Conflict(format!(
        "You already have an open request or an active grant for {package}."
    ))
}
