//! Deadlines: later starts, expiries and approval time-outs, carried out when they come due.

use chrono::{DateTime, Duration, Utc};

use super::notify::Outbox;
use super::{Portal, lifecycle};
use crate::domain::Request;
use crate::domain::{RequestStatus, Transition};
use crate::error::AppResult;
use crate::service::policy::StartCheck;
use crate::store::{DueItem, DueKind, StoreTx};

impl Portal {
    /// Deadlines that have come due, oldest first, at most `limit`.
    pub async fn due_deadlines(&self, limit: i64) -> AppResult<Vec<DueItem>> {
        Ok(self.store.due(self.now(), limit).await?)
    }

    /// When the scheduler should look again: the earliest of the next deadline, the next access
    /// review start, reminder or due date, and the next cron sweep (a minute from now if neither is known), never in the past.
    pub async fn next_scheduler_wake(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let sweep = self.settings.scheduler.sweep.after(&now).next();
        let deadline = self.store.next_deadline().await.ok().flatten();
        // What of the reviews came due while the scheduler was busy is done at once (a review
        // that fails makes the scheduler pause a second, see `Scheduler::catch_up`).
        let review = self.next_review_at().await;
        let fallback = now + Duration::minutes(1);
        [sweep, deadline, review]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(fallback)
            .max(now)
    }

    /// Carries out one deadline (start, expiry, time-out) if it still applies.
    #[tracing::instrument(skip_all, fields(request = %item.request_id, deadline = ?item.kind))]
    pub async fn run_due(&self, item: &DueItem) -> AppResult<bool> {
        self.run_due_together(std::slice::from_ref(item))
            .await
            .map(|n| n > 0)
    }

    /// Carries out deadlines that came due together in one transaction (a mass expiry commits
    /// once, not once per grant). Returns how many still applied. When the transaction fails,
    /// nothing of it is kept: the caller retries them one by one.
    pub async fn run_due_together(&self, items: &[DueItem]) -> AppResult<usize> {
        let checks = self.check_starts(items).await;
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let mut done = Vec::new();
        for item in items {
            match checks.get(&item.request_id) {
                Some(StartCheck::HeldBack) if item.kind == DueKind::Start => continue,
                Some(StartCheck::Refused(refusal)) if item.kind == DueKind::Start => {
                    if let Some(mut r) = tx.get_request(&item.request_id).await?
                        && self.refuse_start(&mut *tx, &mut r, refusal).await?
                    {
                        done.push(r);
                    }
                    continue;
                }
                _ => {}
            }
            if let Some(r) = apply_due(&self.outbox, &mut *tx, item, now).await? {
                done.push(r);
            }
        }
        if done.is_empty() {
            return Ok(0);
        }
        tx.commit().await?;
        self.wake.worker.notify_one();
        self.wake.sender.notify_one();
        for r in &done {
            tracing::info!(request = %r.id, status = %r.status, "deadline reached");
        }
        Ok(done.len())
    }
}

/// One deadline inside `tx`: the request as it became, or `None` when the deadline no longer applies.
async fn apply_due(
    outbox: &Outbox,
    tx: &mut dyn StoreTx,
    item: &DueItem,
    now: DateTime<Utc>,
) -> AppResult<Option<Request>> {
    let Some(mut r) = tx.get_request(&item.request_id).await? else {
        return Ok(None);
    };
    match item.kind {
        DueKind::Start
            if r.status == RequestStatus::Approved && r.starts_at.is_some_and(|t| t <= now) =>
        {
            // An access review revoked its holder since the approval: it fails instead.
            if let Some(rev) = tx.revocation_in_force(&r.package, &r.requester.id).await? {
                let reason = format!(
                    "Not started: the access review of {} revoked {}'s eligibility ({}).",
                    rev.revoked_at.format("%Y-%m-%d"),
                    r.requester.name,
                    rev.reason
                );
                lifecycle::close(
                    outbox,
                    tx,
                    &mut r,
                    Transition::Fail,
                    None,
                    Some(reason),
                    now,
                )
                .await?;
                return Ok(Some(r));
            }
            r.status = r.status.apply(Transition::Start)?;
            tx.update_request(&r, now).await?;
            lifecycle::open_window(outbox, tx, &r, now).await?;
        }
        DueKind::Expire
            if r.status == RequestStatus::Active && r.ends_at.is_some_and(|t| t <= now) =>
        {
            lifecycle::close(outbox, tx, &mut r, Transition::Expire, None, None, now).await?;
        }
        DueKind::TimeOut if r.status == RequestStatus::Pending && r.timeout_at <= now => {
            let waited = now - r.created_at;
            lifecycle::close(
                outbox,
                tx,
                &mut r,
                Transition::TimeOut,
                None,
                Some(format!(
                    "No decision within {}.",
                    crate::domain::package::format_duration(waited.max(Duration::zero()))
                )),
                now,
            )
            .await?;
        }
        _ => return Ok(None),
    }
    Ok(Some(r))
}
