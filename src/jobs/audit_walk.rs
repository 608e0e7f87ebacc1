//! The audit-chain walk: re-verifies the whole chain from the first event at start and every
//! [`FULL_WALK_EVERY`], against the same anchors as `GET /api/v1/audit/verify` (one verdict), so
//! the audit page can show a fresh full verification without walking the chain on a page view.
//! It also anchors the chain's head (log, `[audit] anchor_file`, `[audit] anchor_webhook`) at
//! start and every `[audit] anchor_every`: with the audit key, the anchor at start marks where
//! keying began, even on an empty trail.

use crate::service::Portal;
use crate::service::audit::FULL_WALK_EVERY;

pub struct AuditWalk {
    portal: Portal,
}

impl AuditWalk {
    pub fn new(portal: Portal) -> AuditWalk {
        AuditWalk { portal }
    }

    pub async fn run(self) {
        let mut anchored_at: Option<chrono::DateTime<chrono::Utc>> = None;
        loop {
            if let Err(e) = self.portal.walk_audit_chain().await {
                tracing::warn!(error = %e, "audit chain walk failed");
            }
            let now = self.portal.now();
            if anchored_at.is_none_or(|at| now - at >= self.portal.anchor_every()) {
                match self.portal.anchor_audit().await {
                    Ok(Some(_)) => anchored_at = Some(now),
                    // Nothing to anchor yet: tried again at the next walk.
                    Ok(None) => {}
                    Err(e) => tracing::error!(error = %e, "the audit chain could not be anchored"),
                }
            }
            tokio::time::sleep(FULL_WALK_EVERY.to_std().unwrap_or_default()).await;
        }
    }
}
