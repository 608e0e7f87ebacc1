//! Taking a package with break-glass: at once, without approval, after every rule of the
//! package and break-glass's own.

use serde_json::{Value, json};

use crate::domain::break_glass::{BreakGlassUse, approval_of_record};
use crate::domain::limits::AskKind;
use crate::domain::policy::{Refusal, Rule};
use crate::domain::{AuditAction, Request};
use crate::error::{AppError, AppResult};
use crate::service::policy::{Ask, Taking};
use crate::service::{Portal, event, lifecycle};

impl Portal {
    /// The rules only break-glass has that need no transaction: never through a token for the
    /// requests API (which a device-code sign-in, and so a phished one, can hold: it must not
    /// grant itself the exemption without a person), and the person in one of the package's
    /// `break_glass_groups` (transitively, read now; a reading that fails decides nothing).
    /// What the audit trail should know comes back as notes.
    pub(in crate::service) async fn check_break_glass(&self, ask: &Ask<'_>) -> AppResult<Value> {
        let Some(bg) = &ask.pkg.break_glass else {
            return Ok(json!({}));
        };
        if ask.actor.is_some_and(|a| a.requests_only()) {
            let refusal = Refusal::new(
                Rule::BreakGlass,
                "Break-glass needs a sign-in to jitgate itself: this token is for the jitgate requests API, which device-code sign-ins reach, and cannot take access without approval. Sign in with a browser (`jitgate login` without --device-code), or ask for it the usual way.",
                json!({}),
            );
            return Err(self.refuse(ask, refusal).await);
        }
        let among = self
            .directory
            .member_groups_among(&ask.requester.id, &bg.groups)
            .await
            .map_err(|e| {
                tracing::warn!(user = %ask.requester.id, error = %e, "could not read break-glass groups");
                AppError::Unavailable(format!(
                    "Whether you may use break-glass for {} cannot be checked at the moment (the directory did not answer). Try again in a minute.",
                    ask.pkg.name
                ))
            })?;
        if among.is_empty() {
            let refusal = Refusal::new(
                Rule::BreakGlassGroups,
                format!(
                    "You are not in any of the groups whose members may take {} without approval (break-glass). Ask for it the usual way: an approver decides.",
                    ask.pkg.name
                ),
                json!({"break_glass_groups": bg.groups}),
            );
            return Err(self.refuse(ask, refusal).await);
        }
        Ok(json!({"break_glass_groups": among}))
    }

    /// Grants `r` (checked against every rule for asking) at once with break-glass: in one
    /// transaction the person's uses in the window and the package's quotas are counted, the
    /// request is recorded as approved by nobody (`break-glass`), the membership addition is
    /// queued, and the use is recorded with its review due, its alerts with it.
    pub(in crate::service) async fn take_break_glass(
        &self,
        ask: &Ask<'_>,
        mut r: Request,
        created: Value,
    ) -> AppResult<Request> {
        let (pkg, who) = (ask.pkg, ask.actor.expect("a person breaks the glass"));
        let bg = pkg.break_glass.as_ref().ok_or_else(|| {
            AppError::invalid_field("emergency", "This package does not allow break-glass.")
        })?;
        let now = self.now();
        let tx = self.store.begin().await?;
        let mut tx = self
            .within_ask_limit(tx, who, &who.user, pkg, AskKind::Request, None)
            .await?;
        let uses = tx
            .break_glass_since(&who.user.id, &pkg.id, now - bg.per_user.window)
            .await?;
        let start = now;
        let end = now + chrono::Duration::minutes(r.duration_minutes);
        let refusal = match bg.per_user.check(&uses, now) {
            Err(refusal) => Some(refusal),
            Ok(()) => {
                self.quota_refusal(&mut *tx, ask, Taking::Grant { start, end })
                    .await?
            }
        };
        if let Some(refusal) = refusal {
            self.record_refusal(&mut *tx, ask, &refusal).await?;
            tx.commit().await?;
            return Err(AppError::refused(refusal));
        }
        let review_due = now + bg.review_within;
        let approval = approval_of_record(now, review_due);
        r.approve_by_rule(approval.clone(), now)?;
        tx.insert_request(&r).await.map_err(|e| match e {
            crate::store::StoreError::Conflict(_) => AppError::Conflict(format!(
                "You already have an open request or an active grant for {}.",
                pkg.name
            )),
            other => other.into(),
        })?;
        tx.insert_approval(&r.id, &approval).await?;
        let used = BreakGlassUse {
            request_id: r.id.clone(),
            package: pkg.id.clone(),
            requester_id: r.requester.id.clone(),
            used_at: now,
            review_due,
            review: None,
        };
        tx.insert_break_glass(&used).await?;
        self.outbox
            .record(
                &mut *tx,
                event(Some(who), AuditAction::RequestCreated, &r, now, created),
                Some(&r),
            )
            .await?;
        let mut approved = event(
            None,
            AuditAction::RequestApproved,
            &r,
            now,
            json!({
                "comment": approval.comment,
                "break_glass": true,
                "duration_minutes": r.duration_minutes,
                "starts_at": r.starts_at,
                "ends_at": r.ends_at,
                "review_due": review_due,
            }),
        );
        approved.actor_id = approval.approver.id.clone();
        approved.actor_name = approval.approver.name.clone();
        self.outbox.record(&mut *tx, approved, Some(&r)).await?;
        let e = event(
            Some(who),
            AuditAction::BreakGlassUsed,
            &r,
            now,
            json!({
                "package": pkg.id,
                "duration_minutes": r.duration_minutes,
                "justification": r.justification,
                "ticket": r.ticket,
                "ends_at": r.ends_at,
                "review_due": review_due,
                "uses_in_window": uses.len() + 1,
                "per_user": bg.per_user.describe(),
            }),
        );
        self.outbox.record(&mut *tx, e, Some(&r)).await?;
        lifecycle::open_window(&self.outbox, &mut *tx, &r, now).await?;
        tx.commit().await?;
        self.notify();
        tracing::warn!(request = %r.id, package = %pkg.id, user = %r.requester.id, "break-glass: access taken without approval");
        Ok(r)
    }
}
