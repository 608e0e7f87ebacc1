//! The directory outbox, seen from the service: claiming queued operations, and what each
//! outcome means (membership times, audit events, retries, failing a grant and its safety
//! removal). The worker only claims, calls Graph and hands the answer back here.

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use serde_json::json;

use super::{Portal, event, lifecycle};
use crate::domain::{AuditAction, RequestStatus, Transition};
use crate::error::AppResult;
use crate::graph::{DirectoryError, MemberChange};
use crate::store::{DirectoryOp, OpKind, OpOutcome, StoreTx};

/// The longest wait between attempts when Graph gives no Retry-After.
pub const MAX_BACKOFF: Duration = Duration::minutes(15);

/// What a worker learned from carrying out one operation.
pub struct Attempt {
    pub result: Result<MemberChange, DirectoryError>,
    /// How long the Graph call took.
    pub graph_ms: u64,
}

impl Portal {
    /// Claims the next due directory operation for `worker` under a lease (counting an attempt),
    /// keeping each member's operations in order.
    pub async fn claim_directory_op(&self, worker: &str) -> AppResult<Option<DirectoryOp>> {
        let lease = self.settings.scheduler.lease;
        Ok(self.store.claim_op(self.now(), worker, lease).await?)
    }

    /// When the next queued operation becomes claimable.
    pub async fn next_directory_op_at(&self) -> Option<DateTime<Utc>> {
        self.store.next_op_at().await.ok().flatten()
    }

    /// Whether `op` should still be carried out. An addition whose grant is no longer active is
    /// not: it is finished as skipped here.
    pub async fn directory_op_needed(&self, worker: &str, op: &DirectoryOp) -> AppResult<bool> {
        if op.kind != OpKind::Add {
            return Ok(true);
        }
        let r = self.store.get_request(&op.request_id).await?;
        let now = self.now();
        let wanted = r.is_some_and(|r| {
            r.status == RequestStatus::Active && r.ends_at.is_none_or(|end| end > now)
        });
        if wanted {
            return Ok(true);
        }
        let mut tx = self.store.begin().await?;
        if still_ours(&mut *tx, worker, op.id).await? {
            tx.finish_op(
                op.id,
                OpOutcome::Skipped,
                now,
                Some("the grant was no longer active"),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(false)
    }

    /// Records what Graph answered for `op`: on success the request's membership time and an
    /// audit event; on failure an audit event and either another attempt or, for an addition
    /// refused for good or out of attempts, the grant failed (which queues the safety removal).
    /// Nothing is recorded when `worker` no longer holds the operation's lease.
    #[tracing::instrument(skip_all, fields(op = op.id, kind = op.kind.as_str(), worker = %worker))]
    pub async fn record_directory_attempt(
        &self,
        worker: &str,
        op: &DirectoryOp,
        attempt: Attempt,
    ) -> AppResult<()> {
        let now = self.now();
        let mut tx = self.store.begin().await?;
        if !still_ours(&mut *tx, worker, op.id).await? {
            tracing::warn!(
                op = op.id,
                "lease lost while calling Graph; another worker carries on"
            );
            return Ok(());
        }
        let request = tx.get_request(&op.request_id).await?;
        match attempt.result {
            Ok(change) => {
                tx.finish_op(op.id, OpOutcome::Done, now, None).await?;
                if let Some(mut r) = request {
                    let (action, due_at) = match op.kind {
                        OpKind::Add => {
                            r.added_at.get_or_insert(now);
                            (AuditAction::MembershipAdded, r.starts_at)
                        }
                        OpKind::Remove => {
                            r.removed_at = Some(now);
                            (AuditAction::MembershipRemoved, r.ends_at)
                        }
                    };
                    tx.update_request(&r, now).await?;
                    let details = json!({
                        "group_id": op.group_id,
                        "directory_op": op.id,
                        "attempts": op.attempts,
                        "already_in_effect": matches!(change, MemberChange::AlreadyMember | MemberChange::NotMember),
                        "graph_ms": attempt.graph_ms,
                        "delay_ms": due_at.map(|d| (now - d).num_milliseconds()),
                    });
                    tx.append_event(event(None, action, &r, now, details))
                        .await?;
                }
                tracing::info!(op = op.id, kind = op.kind.as_str(), group = %op.group_id, user = %op.user_id, ?change, "directory operation done");
            }
            Err(e) => {
                let message = e.to_string();
                let give_up = op.kind == OpKind::Add
                    && (!e.is_retriable()
                        || op.attempts >= self.settings.scheduler.max_add_attempts);
                let mut details = json!({
                    "group_id": op.group_id,
                    "directory_op": op.id,
                    "operation": op.kind.as_str(),
                    "attempt": op.attempts,
                    "error": message,
                });
                if give_up {
                    tx.finish_op(op.id, OpOutcome::Failed, now, Some(&message))
                        .await?;
                    details["final"] = json!(true);
                } else {
                    let retry_at = now + retry_delay(&e, op.attempts);
                    tx.retry_op(op.id, retry_at, &message).await?;
                    details["retry_at"] = json!(retry_at);
                }
                tracing::warn!(op = op.id, kind = op.kind.as_str(), attempt = op.attempts, error = %message, give_up, "directory operation failed");
                if let Some(mut r) = request {
                    tx.append_event(event(None, AuditAction::DirectoryError, &r, now, details))
                        .await?;
                    if give_up
                        && matches!(r.status, RequestStatus::Active | RequestStatus::Approved)
                    {
                        let reason = format!("The directory did not add the membership: {message}");
                        lifecycle::close(
                            &mut *tx,
                            &mut r,
                            Transition::Fail,
                            None,
                            Some(reason),
                            now,
                        )
                        .await?;
                    }
                }
            }
        }
        tx.commit().await?;
        self.wake.scheduler.notify_one();
        Ok(())
    }
}

async fn still_ours(tx: &mut dyn StoreTx, worker: &str, op_id: i64) -> AppResult<bool> {
    Ok(tx
        .get_op(op_id)
        .await?
        .is_some_and(|o| o.done_at.is_none() && o.lease_owner.as_deref() == Some(worker)))
}

/// Graph's Retry-After when it gave one, else exponential backoff with jitter.
pub fn retry_delay(e: &DirectoryError, attempts: i64) -> Duration {
    if let Some(after) = e.retry_after() {
        return Duration::from_std(after)
            .unwrap_or(MAX_BACKOFF)
            .min(Duration::hours(1));
    }
    backoff(attempts)
}

pub fn backoff(attempts: i64) -> Duration {
    let exp = attempts.clamp(1, 20) - 1;
    let base = Duration::seconds(2)
        .num_milliseconds()
        .saturating_mul(1 << exp);
    let capped = base.min(MAX_BACKOFF.num_milliseconds());
    let jitter = rand::thread_rng().gen_range(0.8..1.2);
    Duration::milliseconds((capped as f64 * jitter) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_wins_and_fractions_count() {
        let e = DirectoryError::Throttled {
            status: 429,
            retry_after: Some(std::time::Duration::from_millis(2128)),
            message: "Please retry again later.".into(),
        };
        assert_eq!(retry_delay(&e, 1), Duration::milliseconds(2128));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let b1 = backoff(1).num_milliseconds();
        assert!((1600..=2400).contains(&b1), "{b1}");
        let b4 = backoff(4).num_milliseconds();
        assert!((12_800..=19_200).contains(&b4), "{b4}");
        let far = backoff(30).num_milliseconds();
        assert!(
            far <= (MAX_BACKOFF.num_milliseconds() as f64 * 1.2) as i64
                && far >= (MAX_BACKOFF.num_milliseconds() as f64 * 0.8) as i64
        );
        let e = DirectoryError::Transient("connection reset".into());
        assert!(retry_delay(&e, 2) > Duration::seconds(3));
    }
}
