//! The outbox worker: carries queued directory operations out against Microsoft Graph.
//!
//! An operation is claimed under a lease, executed, and its result committed with the request's
//! membership times and an audit event. A crash anywhere leaves the operation claimable again once
//! its lease runs out; re-running it is safe because Graph's "already a member" and "not a member"
//! answers count as success.

use chrono::Duration;
use rand::Rng;
use serde_json::json;

use crate::domain::{AuditAction, RequestStatus, Transition};
use crate::error::AppResult;
use crate::graph::{DirectoryError, MemberChange};
use crate::service::{Portal, event};
use crate::store::{DirectoryOp, OpKind, OpOutcome};

/// The longest wait between attempts when Graph gives no Retry-After.
pub const MAX_BACKOFF: Duration = Duration::minutes(15);
/// How often an idle worker looks around anyway (and refreshes its heartbeat).
pub const IDLE_WAKE: Duration = Duration::seconds(15);

pub struct Worker {
    portal: Portal,
    id: String,
}

impl Worker {
    pub fn new(portal: Portal) -> Worker {
        Worker {
            portal,
            id: format!("worker-{}", uuid::Uuid::new_v4().simple()),
        }
    }

    pub async fn run(self) {
        tracing::info!(worker = %self.id, "directory worker started");
        loop {
            let now = self.portal.now();
            if let Err(e) = self.portal.store.heartbeat("worker", now).await {
                tracing::warn!(error = %e, "worker heartbeat failed");
            }
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
            let next = self.portal.store.next_op_at().await.ok().flatten();
            let wake_at = next.map_or(now + IDLE_WAKE, |n| n.min(now + IDLE_WAKE));
            tokio::select! {
                _ = self.portal.clock.sleep_until(wake_at) => {}
                _ = self.portal.wake.worker.notified() => {}
            }
        }
    }

    /// Claims and carries out one operation. `Ok(false)` when nothing is due.
    pub async fn step(&self) -> AppResult<bool> {
        let now = self.portal.now();
        let lease = self.portal.settings.scheduler.lease;
        let Some(op) = self.portal.store.claim_op(now, &self.id, lease).await? else {
            return Ok(false);
        };
        self.execute(op).await?;
        Ok(true)
    }

    async fn execute(&self, op: DirectoryOp) -> AppResult<()> {
        let p = &self.portal;
        if op.kind == OpKind::Add {
            let r = p.store.get_request(&op.request_id).await?;
            let still_wanted = r.is_some_and(|r| {
                r.status == RequestStatus::Active && r.ends_at.is_none_or(|end| end > p.now())
            });
            if !still_wanted {
                let mut tx = p.store.begin().await?;
                if self.still_ours(&mut *tx, op.id).await? {
                    tx.finish_op(
                        op.id,
                        OpOutcome::Skipped,
                        p.now(),
                        Some("the grant was no longer active"),
                    )
                    .await?;
                }
                tx.commit().await?;
                return Ok(());
            }
        }

        let started = std::time::Instant::now();
        let result = match op.kind {
            OpKind::Add => p.directory.add_member(&op.group_id, &op.user_id).await,
            OpKind::Remove => p.directory.remove_member(&op.group_id, &op.user_id).await,
        };
        let took_ms = started.elapsed().as_millis() as u64;
        let now = p.now();

        let mut tx = p.store.begin().await?;
        if !self.still_ours(&mut *tx, op.id).await? {
            tracing::warn!(
                op = op.id,
                "lease lost while calling Graph; another worker carries on"
            );
            return Ok(());
        }
        let request = tx.get_request(&op.request_id).await?;
        match result {
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
                        "graph_ms": took_ms,
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
                    && (!e.is_retriable() || op.attempts >= p.settings.scheduler.max_add_attempts);
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
                        crate::service::lifecycle::close(
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
        p.wake.scheduler.notify_one();
        Ok(())
    }

    async fn still_ours(&self, tx: &mut dyn crate::store::StoreTx, op_id: i64) -> AppResult<bool> {
        Ok(tx.get_op(op_id).await?.is_some_and(|o| {
            o.done_at.is_none() && o.lease_owner.as_deref() == Some(self.id.as_str())
        }))
    }
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
