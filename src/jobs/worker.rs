//! The directory worker: claims queued directory operations, carries them out against Microsoft
//! Graph and hands each answer to the service, which decides what it means.
//!
//! An operation is claimed under a lease. A crash anywhere leaves it claimable again once the
//! lease runs out; re-running it is safe because Graph's "already a member" and "not a member"
//! answers count as success.

use std::sync::Arc;

use chrono::Duration;

use crate::error::AppResult;
use crate::graph::Directory;
use crate::service::Portal;
use crate::service::directory::Attempt;
use crate::store::{DirectoryOp, OpKind};

/// How often an idle worker looks around anyway (and refreshes its heartbeat).
pub const IDLE_WAKE: Duration = Duration::seconds(15);

pub struct Worker {
    portal: Portal,
    directory: Arc<dyn Directory>,
    id: String,
}

impl Worker {
    pub fn new(portal: Portal, directory: Arc<dyn Directory>) -> Worker {
        Worker {
            portal,
            directory,
            id: format!("worker-{}", uuid::Uuid::new_v4().simple()),
        }
    }

    pub async fn run(self) {
        tracing::info!(worker = %self.id, "directory worker started");
        loop {
            self.portal.heartbeat("worker").await;
            let mut failed = false;
            loop {
                match self.step().await {
                    Ok(true) => continue,
                    Ok(false) => break,
                    Err(e) => {
                        e.log();
                        tracing::error!(error = %e, "directory worker step failed");
                        failed = true;
                        break;
                    }
                }
            }
            if failed {
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
            let now = self.portal.now();
            let next = self.portal.next_directory_op_at().await;
            let wake_at = next.map_or(now + IDLE_WAKE, |n| n.min(now + IDLE_WAKE));
            tokio::select! {
                _ = self.portal.sleep_until(wake_at) => {}
                _ = self.portal.wake.worker.notified() => {}
            }
        }
    }

    /// Claims and carries out one operation. `Ok(false)` when nothing is due.
    pub async fn step(&self) -> AppResult<bool> {
        let Some(op) = self.portal.claim_directory_op(&self.id).await? else {
            return Ok(false);
        };
        if self.portal.directory_op_needed(&self.id, &op).await? {
            let attempt = self.call(&op).await;
            self.portal
                .record_directory_attempt(&self.id, &op, attempt)
                .await?;
        }
        Ok(true)
    }

    async fn call(&self, op: &DirectoryOp) -> Attempt {
        let started = std::time::Instant::now();
        let result = match op.kind {
            OpKind::Add => self.directory.add_member(&op.group_id, &op.user_id).await,
            OpKind::Remove => {
                self.directory
                    .remove_member(&op.group_id, &op.user_id)
                    .await
            }
        };
        Attempt {
            result,
            graph_ms: started.elapsed().as_millis() as u64,
        }
    }
}
