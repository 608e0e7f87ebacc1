//! The audit-chain walk: re-verifies the whole chain from the first event at start and every
//! [`FULL_WALK_EVERY`], so the audit page can show a fresh full verification without walking
//! the chain on a page view.

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
        loop {
            if let Err(e) = self.portal.walk_audit_chain().await {
                tracing::warn!(error = %e, "audit chain walk failed");
            }
            tokio::time::sleep(FULL_WALK_EVERY.to_std().unwrap_or_default()).await;
        }
    }
}
