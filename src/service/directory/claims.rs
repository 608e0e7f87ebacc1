//! Claiming queued directory operations under a lease (additions whose grant ended are skipped
//! here), keeping the leases alive, freeing them, and the worker's liveness lock.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};

use crate::domain::RequestStatus;
use crate::error::AppResult;
use crate::service::Portal;
use crate::store::{DirectoryOp, OpKind, OpOutcome, RequestFilter, StoreTx};

impl Portal {
    /// How long a claimed operation stays ours without renewal.
    pub fn directory_lease(&self) -> Duration {
        self.settings.scheduler.lease
    }

    /// Directory operations carried out at once by this process.
    pub fn directory_concurrency(&self) -> usize {
        self.settings.directory.concurrency
    }

    /// Claims up to `limit` due directory operations for `worker` under a lease (counting an
    /// attempt each), at most one per member so that each member's operations stay in order.
    /// Nothing, and [`AppError::Unavailable`], while `worker`'s lock is not held (see
    /// [`Portal::hold_worker_lock`]).
    /// Additions whose grant is no longer active are finished as skipped here and not returned.
    pub async fn claim_directory_ops(
        &self,
        worker: &str,
        limit: usize,
    ) -> AppResult<Vec<DirectoryOp>> {
        let lease = self.directory_lease();
        let now = self.now();
        let ops = self
            .store
            .claim_ops_alive(now, worker, lease, limit as i64)
            .await?;
        let active = self.active_grants_among(&ops, now).await?;
        let (wanted, skipped): (Vec<_>, Vec<_>) = ops
            .into_iter()
            .partition(|op| op.kind != OpKind::Add || active.contains(&op.request_id));
        if !skipped.is_empty() {
            let mut tx = self.store.begin().await?;
            for op in &skipped {
                if still_ours(&mut *tx, worker, op.id).await? {
                    tx.finish_op(
                        op.id,
                        OpOutcome::Skipped,
                        now,
                        Some("the grant was no longer active"),
                    )
                    .await?;
                }
            }
            tx.commit().await?;
        }
        Ok(wanted)
    }

    /// Of the requests behind `ops`' additions, those whose grant is active at `now` (one query).
    async fn active_grants_among(
        &self,
        ops: &[DirectoryOp],
        now: DateTime<Utc>,
    ) -> AppResult<HashSet<String>> {
        let ids: Vec<String> = ops
            .iter()
            .filter(|op| op.kind == OpKind::Add)
            .map(|op| op.request_id.clone())
            .collect();
        if ids.is_empty() {
            return Ok(HashSet::new());
        }
        let filter = RequestFilter {
            statuses: vec![RequestStatus::Active],
            limit: Some(ids.len() as i64),
            ids,
            without_approvals: true,
            ..RequestFilter::default()
        };
        Ok(self
            .store
            .list_requests(&filter)
            .await?
            .into_iter()
            .filter(|r| r.ends_at.is_none_or(|end| end > now))
            .map(|r| r.id)
            .collect())
    }

    /// Marks `worker` alive for as long as the guard lives (PostgreSQL: other replicas take over
    /// a dead worker's leases at once). Retried until the database answers.
    pub async fn hold_worker_lock(&self, worker: &str) -> crate::store::WorkerLock {
        loop {
            match self.store.hold_worker_lock(worker).await {
                Ok(lock) => return lock,
                Err(e) => {
                    tracing::warn!(error = %e, "marking the worker alive failed; retrying");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
            }
        }
    }

    /// Keeps `worker`'s leases alive while its calls run. Returns how many it holds.
    pub async fn renew_directory_leases(&self, worker: &str) -> AppResult<u64> {
        let until = self.now() + self.directory_lease();
        Ok(self.store.renew_leases(worker, until).await?)
    }

    /// Frees every lease at start, for a single process (SQLite) whose predecessor died holding
    /// some: the restarted worker and sender carry out the directory operations and
    /// notifications at once instead of waiting the leases out.
    pub async fn release_all_leases(&self) -> AppResult<u64> {
        Ok(self.store.release_all_leases().await?)
    }

    /// When the next queued operation becomes claimable.
    pub async fn next_directory_op_at(&self) -> Option<DateTime<Utc>> {
        self.store.next_op_at().await.ok().flatten()
    }
}

/// Whether `worker` still holds the lease on unfinished operation `op_id`.
pub(super) async fn still_ours(tx: &mut dyn StoreTx, worker: &str, op_id: i64) -> AppResult<bool> {
    Ok(tx
        .get_op(op_id)
        .await?
        .is_some_and(|o| o.done_at.is_none() && o.lease_owner.as_deref() == Some(worker)))
}
