//! The reconciler: every `[reconcile] every`, on one replica at a time, lists each package
//! group's members through Graph (all pages) and hands them to the service, which records drift
//! and decides what to put right; then removes the members the service names.

use std::sync::Arc;

use crate::graph::Directory;
use crate::service::Portal;

pub struct Reconciler {
    portal: Portal,
    directory: Arc<dyn Directory>,
    id: String,
}

impl Reconciler {
    pub fn new(portal: Portal, directory: Arc<dyn Directory>) -> Reconciler {
        Reconciler {
            portal,
            directory,
            id: format!("reconciler-{}", uuid::Uuid::new_v4().simple()),
        }
    }

    pub async fn run(self) {
        tracing::info!(reconciler = %self.id, "reconciler started");
        let mut last = None;
        loop {
            let now = self.portal.now();
            let next = self.portal.reconcile_every().next_after(last, now);
            self.portal.sleep_until(next).await;
            last = Some(self.portal.now());
            match self.portal.take_reconcile_turn(&self.id).await {
                Ok(true) => self.round().await,
                Ok(false) => tracing::debug!("another replica reconciles"),
                Err(e) => tracing::warn!(error = %e, "taking the reconciler's turn failed"),
            }
        }
    }

    /// One reconciliation of every group.
    pub async fn round(&self) {
        for group in self.portal.reconciled_groups() {
            let listed_at = self.portal.now();
            let members = match self.directory.list_members(&group).await {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(%group, error = %e, "listing the group for reconciliation failed");
                    continue;
                }
            };
            let strays = match self
                .portal
                .reconcile_group(&group, listed_at, &members)
                .await
            {
                Ok(s) => s,
                Err(e) => {
                    e.log();
                    continue;
                }
            };
            for m in strays {
                match self.portal.drift_still_applies(&group, &m.id).await {
                    Ok(true) => {}
                    Ok(false) => continue,
                    Err(e) => {
                        e.log();
                        continue;
                    }
                }
                let result = self.directory.remove_member(&group, &m.id).await;
                if let Err(e) = self.portal.record_drift_removal(&group, &m, result).await {
                    e.log();
                }
            }
        }
        self.portal.reconciled().await;
        if let Err(e) = self.portal.check_credential_expiry().await {
            e.log();
        }
    }
}
