//! People a review revoked: refused when they ask for the package again (and at each approval
//! of a request they asked before), until an admin restores them with a reason.

use serde_json::json;

use crate::auth::Principal;
use crate::domain::{AuditAction, NewAuditEvent, Package, Role};
use crate::error::{AppError, AppResult};
use crate::service::Portal;
use crate::store::{Revocation, StoreTx};

impl Portal {
    /// Refuses `user_id` for `pkg` while a review's revocation is in force, naming the review
    /// and its reason.
    pub(crate) async fn refuse_if_revoked(
        &self,
        tx: &mut dyn StoreTx,
        pkg: &Package,
        user_id: &str,
        whose: &str,
    ) -> AppResult<()> {
        if let Some(r) = tx.revocation_in_force(&pkg.id, user_id).await? {
            return Err(AppError::Forbidden(format!(
                "The access review of {} on {} revoked {whose} eligibility for it ({}); an admin must restore it before {} can be granted again.",
                pkg.name,
                r.revoked_at.format("%Y-%m-%d"),
                r.reason,
                pkg.name,
            )));
        }
        Ok(())
    }

    /// Revocations by reviews, newest first (those in force only when `in_force`): for admins
    /// and auditors.
    pub async fn review_revocations(
        &self,
        who: &Principal,
        in_force: bool,
    ) -> AppResult<Vec<Revocation>> {
        self.require_any(
            who,
            &[Role::Admin, Role::Auditor],
            "Revocations by access reviews",
        )?;
        Ok(self.store.revocations(None, in_force).await?)
    }

    /// Ends a review's revocation of `user_id` for `package` (admins, with a reason).
    pub async fn restore_eligibility(
        &self,
        who: &Principal,
        package: &str,
        user_id: &str,
        reason: &str,
    ) -> AppResult<()> {
        self.require_any(who, &[Role::Admin], "Restoring a revoked person")?;
        let reason = reason.trim();
        if reason.is_empty()
            || reason.chars().count() > 500
            || reason
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(AppError::invalid_field(
                "reason",
                "Say why, in at most 500 characters.",
            ));
        }
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let Some(r) = tx.revocation_in_force(package, user_id).await? else {
            return Err(AppError::NotFound(
                "No revocation by an access review is in force for this person and package.".into(),
            ));
        };
        tx.restore_revocation(package, user_id, &who.user.id, reason, now)
            .await?;
        let e = NewAuditEvent {
            at: now,
            actor_id: who.user.id.clone(),
            actor_name: who.user.name.clone(),
            action: AuditAction::ReviewRestored,
            request_id: None,
            subject_id: Some(r.user_id.clone()),
            details: json!({
                "package": r.package,
                "campaign": r.campaign_id,
                "user_name": r.user_name,
                "revoked_at": r.revoked_at,
                "revocation_reason": r.reason,
                "reason": reason,
            }),
            client_ip: who.client_ip.clone(),
            user_agent: who.user_agent.clone(),
        };
        self.outbox.record(&mut *tx, e, None).await?;
        tx.commit().await?;
        Ok(())
    }
}
