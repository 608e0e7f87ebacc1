//! A package's per-person limits on asking (`max_requests_per_hour`,
//! `max_extensions_per_hour`): checked in the serialized write transaction that would add the
//! ask, so that two replicas (or two tabs) asking at once cannot both slip under the limit.
//! A refusal answers 429 with `Retry-After`, is counted in `jitgate_asks_refused_total`, and is
//! recorded in the audit trail (`request_refused`) at most once an hour per person and
//! package, so that a flood of asks does not flood the trail. Cancelling is never limited:
//! refusing a cancel would only keep access longer.

use serde_json::json;

use super::{Portal, VIA_REQUESTS_API};
use crate::auth::Principal;
use crate::domain::limits::{self, AskKind, OverLimit};
use crate::domain::{AuditAction, NewAuditEvent, Package, Request, UserRef};
use crate::error::{AppError, AppResult};
use crate::store::StoreTx;

impl Portal {
    /// Hands `tx` back when `who` may ask for `pkg` once more now for `requester` (themself,
    /// or the person they ask on behalf of: the asks are counted per person who would hold the
    /// grant) (a request, or an extension of grant `r`); otherwise records the refusal (once an
    /// hour per person and package), commits it and answers 429.
    pub(in crate::service) async fn within_ask_limit(
        &self,
        mut tx: Box<dyn StoreTx>,
        who: &Principal,
        requester: &UserRef,
        pkg: &Package,
        kind: AskKind,
        r: Option<&Request>,
    ) -> AppResult<Box<dyn StoreTx>> {
        let now = self.now();
        let limit = match kind {
            AskKind::Request => pkg.max_requests_per_hour,
            AskKind::Extension => pkg.max_extensions_per_hour,
        };
        let asked = tx
            .asks_since(kind, &requester.id, &pkg.id, now - limits::window())
            .await?;
        let Err(over) = limits::check(kind, &asked, limit, now) else {
            return Ok(tx);
        };
        self.metrics.ask_refused(kind);
        let message = if who.user.id == requester.id {
            over.sentence(&pkg.name)
        } else {
            over.sentence_about(&pkg.name, &requester.name)
        };
        let recorded = tx
            .refused_packages_since(&requester.id, now - limits::window())
            .await?;
        if recorded.contains(&pkg.id) {
            drop(tx);
        } else {
            let e = refused_event(who, requester, pkg, &over, r, now);
            self.outbox.record(&mut *tx, e, r).await?;
            tx.commit().await?;
        }
        tracing::warn!(user = %who.user.id, package = %pkg.id, kind = kind.as_str(), counted = over.counted, "asked too often; refused");
        Err(AppError::TooManyRequests {
            message,
            retry_after_secs: over.retry_after_secs,
        })
    }
}

/// `request_refused`: who asked too often for what, the limit, and until when.
fn refused_event(
    who: &Principal,
    requester: &UserRef,
    pkg: &Package,
    over: &OverLimit,
    r: Option<&Request>,
    now: chrono::DateTime<chrono::Utc>,
) -> NewAuditEvent {
    let mut details = json!({
        "package": pkg.id,
        "kind": over.kind.as_str(),
        "limit": over.limit,
        "counted": over.counted,
        "window": "1h",
        "until": over.until,
        "retry_after_seconds": over.retry_after_secs,
    });
    if who.user.id != requester.id {
        details["on_behalf_of"] = json!(requester.id);
    }
    if who.requests_only() {
        details["via"] = json!(VIA_REQUESTS_API);
        if let Some(ip) = &who.client_ip {
            details["from_ip"] = json!(ip);
        }
    }
    NewAuditEvent {
        at: now,
        actor_id: who.user.id.clone(),
        actor_name: who.user.name.clone(),
        action: AuditAction::RequestRefused,
        request_id: r.map(|r| r.id.clone()),
        subject_id: Some(requester.id.clone()),
        details,
        client_ip: who.client_ip.clone(),
        user_agent: who.user_agent.clone(),
    }
}
