//! Recording what Graph answered for a batch of operations, in one transaction: each answer
//! goes to what it means: a change made (`done.rs`), a failure, or a change Graph reported but
//! reads did not show (`failed.rs`), or an answer that came after the lease ran out (`late.rs`).

use chrono::{DateTime, Utc};

use super::attempt::Attempt;
use super::claims::still_ours;
use super::late::late_answer;
use crate::error::AppResult;
use crate::graph::DirectoryError;
use crate::service::Portal;
use crate::store::{DirectoryOp, OpKind, StoreTx};

impl Portal {
    /// Records what Graph answered for each operation, all in one transaction: on success the
    /// request's membership time and an audit event summarising the attempts; on a throttled
    /// answer only another attempt; on another failure an audit event and either another attempt
    /// or, for an addition refused for good or out of attempts, the grant failed (which queues
    /// the safety removal). An answer that comes back after `worker` lost the lease is recorded
    /// as a `directory_error`, and an addition that may have landed after its grant ended is
    /// followed by a removal.
    #[tracing::instrument(skip_all, fields(ops = results.len(), worker = %worker))]
    pub async fn record_directory_attempts(
        &self,
        worker: &str,
        results: &[(DirectoryOp, Attempt)],
    ) -> AppResult<()> {
        let now = self.now();
        let mut tx = self.store.begin().await?;
        for (op, attempt) in results {
            if still_ours(&mut *tx, worker, op.id).await? {
                self.record_one(&mut *tx, op, attempt, now).await?;
            } else {
                late_answer(&self.outbox, &mut *tx, op, attempt, now).await?;
            }
        }
        tx.commit().await?;
        self.wake.scheduler.notify_one();
        self.wake.sender.notify_one();
        Ok(())
    }

    async fn record_one(
        &self,
        tx: &mut dyn StoreTx,
        op: &DirectoryOp,
        attempt: &Attempt,
        now: DateTime<Utc>,
    ) -> AppResult<()> {
        let request = tx.get_request(&op.request_id).await?;
        self.metrics
            .attempt(op.kind, &attempt.result, attempt.graph_ms);
        let disagreement;
        let e = match (&attempt.result, &attempt.read_back) {
            (Ok(change), Some(rb)) if rb.member_seen == Some(op.kind != OpKind::Add) => {
                // Graph said yes, but reads still show the opposite after a few tries: do it again.
                disagreement = DirectoryError::Transient(format!(
                    "Graph answered {change:?}, but {} reads later the member is still {}",
                    rb.reads,
                    if op.kind == OpKind::Add {
                        "missing"
                    } else {
                        "listed"
                    }
                ));
                &disagreement
            }
            (Ok(change), _) if op.kind == OpKind::RevokeSessions => {
                return self
                    .sessions_revoked(tx, op, attempt, change, request, now)
                    .await;
            }
            (Ok(change), _) => {
                return self
                    .membership_changed(tx, op, attempt, change, request, now)
                    .await;
            }
            (Err(e), _) => e,
        };
        self.op_failed(tx, op, attempt, e, request, now).await
    }
}
