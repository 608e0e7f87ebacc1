//! The directory outbox, seen from the service: claiming queued operations, and what each
//! outcome means (membership times, audit events, retries, failing a grant and its safety
//! removal, converging after a lost lease). The worker only claims, calls Graph and hands the
//! answers back here.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use super::retry::{removal_retry_delay, retry_delay};
use super::{Portal, event, lifecycle};
use crate::domain::{AuditAction, RequestStatus, Transition};
use crate::error::AppResult;
use crate::graph::{DirectoryError, MemberChange};
use crate::store::{DirectoryOp, NewDirectoryOp, OpKind, OpOutcome, RequestFilter, StoreTx};

/// What a worker learned from carrying out one operation.
pub struct Attempt {
    pub result: Result<MemberChange, DirectoryError>,
    /// How long the Graph call took.
    pub graph_ms: u64,
    /// What reading the membership back showed, when the change succeeded and was read back.
    pub read_back: Option<ReadBack>,
}

/// Reading a membership back after changing it (Graph is eventually consistent, so a few reads
/// may be needed before the change shows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadBack {
    /// Whether the last successful read showed the member; `None` when every read failed.
    pub member_seen: Option<bool>,
    /// Reads made.
    pub reads: u32,
    /// The last read's error, if it failed.
    pub error: Option<String>,
}

impl Attempt {
    /// An attempt not read back (the change failed, or the directory cannot read back).
    pub fn unverified(result: Result<MemberChange, DirectoryError>, graph_ms: u64) -> Attempt {
        Attempt {
            result,
            graph_ms,
            read_back: None,
        }
    }
}

impl Attempt {
    /// Whether Graph throttled the call (429): such an attempt never counts toward giving up and
    /// is not an audit event of its own.
    fn throttled(&self) -> bool {
        matches!(
            self.result,
            Err(DirectoryError::Throttled { status: 429, .. })
        )
    }

    /// Whether the change may have been made in the directory, whatever the answer said.
    fn may_have_taken_effect(&self) -> bool {
        match &self.result {
            Ok(_) => true,
            Err(e) => e.is_retriable(),
        }
    }
}

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
            .claim_ops(now, worker, lease, limit as i64)
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
                tx.finish_op(op.id, OpOutcome::Done, now, None).await?;
                if let Some(r) = request {
                    let details = json!({
                        "directory_op": op.id,
                        "attempts": op.attempts,
                        "throttled": op.throttled,
                        "graph_ms": attempt.graph_ms,
                    });
                    self.outbox
                        .record(
                            &mut *tx,
                            event(None, AuditAction::SessionsRevoked, &r, now, details),
                            Some(&r),
                        )
                        .await?;
                }
                tracing::info!(op = op.id, user = %op.user_id, ?change, "sign-in sessions revoked");
                return Ok(());
            }
            (Ok(change), read_back) => {
                tx.finish_op(op.id, OpOutcome::Done, now, None).await?;
                if let Some(mut r) = request {
                    let (action, due_at) = match op.kind {
                        OpKind::Add => {
                            r.added_at.get_or_insert(now);
                            (AuditAction::MembershipAdded, r.starts_at)
                        }
                        _ => {
                            r.removed_at = Some(now);
                            (AuditAction::MembershipRemoved, r.ends_at)
                        }
                    };
                    tx.update_request(&r, now).await?;
                    if let Some(due) = due_at {
                        self.metrics.lag(op.kind, (now - due).num_milliseconds());
                    }
                    let details = json!({
                        "group_id": op.group_id,
                        "directory_op": op.id,
                        "attempts": op.attempts,
                        "throttled": op.throttled,
                        "already_in_effect": matches!(change, MemberChange::AlreadyMember | MemberChange::NotMember),
                        "graph_ms": attempt.graph_ms,
                        "delay_ms": due_at.map(|d| (now - d).num_milliseconds()),
                        "verified": read_back.as_ref().is_some_and(|rb| rb.member_seen.is_some()),
                    });
                    self.outbox
                        .record(&mut *tx, event(None, action, &r, now, details), Some(&r))
                        .await?;
                    if let Some(rb) = read_back {
                        let details = json!({
                            "group_id": op.group_id,
                            "directory_op": op.id,
                            "operation": op.kind.as_str(),
                            "member_seen": rb.member_seen,
                            "reads": rb.reads,
                            "read_error": rb.error,
                        });
                        self.outbox
                            .record(
                                &mut *tx,
                                event(None, AuditAction::MembershipVerified, &r, now, details),
                                Some(&r),
                            )
                            .await?;
                    }
                    // The membership is gone: end the sessions obtained through it, if asked.
                    let revoke = op.kind == OpKind::Remove
                        && r.status != RequestStatus::Active
                        && self
                            .package(&r.package)
                            .is_some_and(|p| p.revoke_sessions_on_end);
                    if revoke {
                        let revocation = NewDirectoryOp::for_grant(&r, OpKind::RevokeSessions, now);
                        tx.enqueue_op(&revocation, now).await?;
                        self.wake.worker.notify_one();
                    }
                }
                tracing::info!(op = op.id, kind = op.kind.as_str(), group = %op.group_id, user = %op.user_id, ?change, "directory operation done");
                return Ok(());
            }
            (Err(e), _) => e,
        };
        let message = e.to_string();
        if attempt.throttled() {
            // Routine under a burst: another attempt, no audit event, no warning.
            let retry_at = now + retry_delay(e, op.throttled + 1);
            tx.retry_op(op.id, retry_at, &message, true).await?;
            tracing::debug!(op = op.id, kind = op.kind.as_str(), %retry_at, "directory operation throttled");
            return Ok(());
        }
        // Removals are never given up; additions and revocations are, when refused for good or
        // out of (unthrottled) attempts.
        let give_up = op.kind != OpKind::Remove
            && (!e.is_retriable()
                || op.counted_attempts() >= self.settings.scheduler.max_add_attempts);
        let mut details = json!({
            "group_id": op.group_id,
            "directory_op": op.id,
            "operation": op.kind.as_str(),
            "attempt": op.attempts,
            "throttled": op.throttled,
            "error": message,
        });
        if give_up {
            self.metrics.given_up(op.kind);
            tx.finish_op(op.id, OpOutcome::Failed, now, Some(&message))
                .await?;
            details["final"] = json!(true);
        } else {
            let retry_at = now
                + if op.kind == OpKind::Remove {
                    removal_retry_delay(e, op.counted_attempts())
                } else {
                    retry_delay(e, op.counted_attempts())
                };
            tx.retry_op(op.id, retry_at, &message, false).await?;
            details["retry_at"] = json!(retry_at);
        }
        tracing::warn!(op = op.id, kind = op.kind.as_str(), attempt = op.attempts, error = %message, give_up, "directory operation failed");
        if let Some(mut r) = request {
            self.outbox
                .record(
                    &mut *tx,
                    event(None, AuditAction::DirectoryError, &r, now, details),
                    Some(&r),
                )
                .await?;
            if give_up
                && op.kind == OpKind::Add
                && matches!(r.status, RequestStatus::Active | RequestStatus::Approved)
            {
                // Graph's own words stay in the audit trail (for auditors and admins) and the log.
                let reason = format!(
                    "The directory did not add the membership (directory operation {}); an administrator can see why in the audit trail.",
                    op.id
                );
                lifecycle::close(
                    &self.outbox,
                    tx,
                    &mut r,
                    Transition::Fail,
                    None,
                    Some(reason),
                    now,
                )
                .await?;
            }
        }
        Ok(())
    }
}

/// An answer that arrived after the lease ran out (another worker may have carried the
/// operation on meanwhile). It is recorded, and an addition that may have landed while the user
/// no longer has an active grant for the group is followed by a removal, so the group converges.
async fn late_answer(
    outbox: &super::notify::Outbox,
    tx: &mut dyn StoreTx,
    op: &DirectoryOp,
    attempt: &Attempt,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let outcome = match &attempt.result {
        Ok(change) => format!("{change:?}"),
        Err(e) => e.to_string(),
    };
    let mut details = json!({
        "group_id": op.group_id,
        "directory_op": op.id,
        "operation": op.kind.as_str(),
        "attempt": op.attempts,
        "error": format!("the lease ran out while Graph was called; its late answer: {outcome}"),
        "lease_lost": true,
    });
    if op.kind == OpKind::Add && attempt.may_have_taken_effect() {
        let active = tx
            .count_other_active_grants(&op.user_id, &op.group_id, "")
            .await?;
        if active == 0 {
            let removal = NewDirectoryOp {
                request_id: op.request_id.clone(),
                kind: OpKind::Remove,
                group_id: op.group_id.clone(),
                user_id: op.user_id.clone(),
                not_before: now,
            };
            details["follow_up_op"] = json!(tx.enqueue_op(&removal, now).await?);
        }
    }
    tracing::warn!(op = op.id, kind = op.kind.as_str(), %outcome, "lease lost while calling Graph; answer recorded");
    if let Some(r) = tx.get_request(&op.request_id).await? {
        outbox
            .record(
                tx,
                event(None, AuditAction::DirectoryError, &r, now, details),
                Some(&r),
            )
            .await?;
    }
    Ok(())
}

async fn still_ours(tx: &mut dyn StoreTx, worker: &str, op_id: i64) -> AppResult<bool> {
    Ok(tx
        .get_op(op_id)
        .await?
        .is_some_and(|o| o.done_at.is_none() && o.lease_owner.as_deref() == Some(worker)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_429_is_a_throttled_attempt() {
        let attempt = |status| {
            Attempt::unverified(
                Err(DirectoryError::Throttled {
                    status,
                    retry_after: None,
                    message: String::new(),
                }),
                1,
            )
        };
        assert!(attempt(429).throttled());
        assert!(!attempt(503).throttled());
        let timed_out = Attempt::unverified(
            Err(DirectoryError::Transient("no answer within 10s".into())),
            10_000,
        );
        assert!(!timed_out.throttled() && timed_out.may_have_taken_effect());
        let refused = Attempt::unverified(
            Err(DirectoryError::Rejected {
                status: 403,
                code: "Authorization_RequestDenied".into(),
                message: String::new(),
            }),
            1,
        );
        assert!(!refused.may_have_taken_effect());
    }
}
