//! The scheduler's pass over access reviews: each package's first sight of its review settings
//! noted, campaigns started when due, reminders sent when they come, due campaigns closed.

use chrono::{DateTime, Duration, Utc};

use crate::domain::review::{CampaignStatus, ReviewBy, next_start, reminders};
use crate::error::AppResult;
use crate::service::Portal;

/// A campaign whose start passed longer ago than this (jitgate was not running) starts now
/// instead, so that its reviewers still have their whole `review_within`.
const LATE: Duration = Duration::hours(1);

impl Portal {
    /// Everything about access reviews that has come due: campaigns to start, reminders to send,
    /// campaigns to close. Returns how many such things were done. Called by the scheduler.
    pub async fn run_reviews(&self) -> AppResult<usize> {
        let now = self.now();
        let mut done = 0;
        let schedules = self.note_review_schedules(now).await?;
        for pkg in self.packages() {
            let Some(every) = pkg.review.every else {
                continue;
            };
            let Some(first_seen) = schedules
                .iter()
                .find(|(p, _)| *p == pkg.id)
                .map(|(_, t)| *t)
            else {
                continue;
            };
            let last = self.store.list_campaigns(Some(&pkg.id), 1).await?.pop();
            let start = next_start(first_seen, last.as_ref().map(|c| c.starts_at), every);
            if start > now {
                continue;
            }
            let start = if now - start > LATE { now } else { start };
            if self.start_campaign(pkg, start, last.as_ref(), now).await? {
                done += 1;
            }
        }
        for c in self.store.open_campaigns().await? {
            if c.due_at <= now {
                if self.close_campaign(&c.id).await? {
                    done += 1;
                }
                continue;
            }
            let due: Vec<_> = reminders(c.starts_at, c.due_at)
                .into_iter()
                .filter(|(_, at)| *at <= now)
                .collect();
            if (due.len() as i64) > c.reminders_sent
                && let Some((which, _)) = due.last()
            {
                self.remind(&c, which.as_str(), due.len() as i64).await?;
                done += 1;
            }
        }
        Ok(done)
    }

    /// The packages' first sight of their review settings, noted now for those seen first.
    async fn note_review_schedules(
        &self,
        now: DateTime<Utc>,
    ) -> AppResult<Vec<(String, DateTime<Utc>)>> {
        let mut known = self.store.review_schedules().await?;
        let new: Vec<&str> = self
            .packages()
            .iter()
            .filter(|p| p.review.every.is_some() && !known.iter().any(|(k, _)| *k == p.id))
            .map(|p| p.id.as_str())
            .collect();
        if !new.is_empty() {
            let mut tx = self.store.begin().await?;
            for p in &new {
                tx.note_review_schedule(p, now).await?;
            }
            tx.commit().await?;
            known = self.store.review_schedules().await?;
        }
        Ok(known)
    }

    /// Sends reminder `which` of open campaign `c` to those with items still waiting, and
    /// records that `sent` reminders went out.
    async fn remind(
        &self,
        c: &crate::domain::review::Campaign,
        which: &str,
        sent: i64,
    ) -> AppResult<()> {
        let items = self.store.campaign_items(&c.id).await?;
        let waiting = items.iter().filter(|i| i.decision.is_none());
        let self_attest = c.review_by == ReviewBy::SelfAttest;
        let attesters: Vec<String> = waiting
            .clone()
            .filter(|i| self_attest && i.kind == crate::domain::review::ItemKind::Person)
            .filter_map(|i| i.subject_id.clone())
            .collect();
        let reviewers_waiting = waiting
            .clone()
            .any(|i| !(self_attest && i.kind == crate::domain::review::ItemKind::Person));
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let Some(current) = tx.campaign_in_tx(&c.id).await? else {
            return Ok(());
        };
        if current.status != CampaignStatus::Open || current.reminders_sent >= sent {
            return Ok(()); // another replica did it
        }
        for n in self
            .outbox
            .review_reminder(c, which, reviewers_waiting, &attesters, now)
        {
            tx.enqueue_notification(&n, now).await?;
        }
        tx.set_reminders_sent(&c.id, sent).await?;
        tx.commit().await?;
        self.wake.sender.notify_one();
        Ok(())
    }

    /// When the scheduler should next look at reviews: the next campaign start, reminder or due
    /// date (`None` when nothing is ahead, or the store cannot say).
    pub async fn next_review_at(&self) -> Option<DateTime<Utc>> {
        let schedules = self.store.review_schedules().await.ok()?;
        let mut next: Vec<DateTime<Utc>> = Vec::new();
        for pkg in self.packages() {
            let (Some(every), Some((_, first_seen))) = (
                pkg.review.every,
                schedules.iter().find(|(p, _)| *p == pkg.id),
            ) else {
                continue;
            };
            let last = self
                .store
                .list_campaigns(Some(&pkg.id), 1)
                .await
                .ok()?
                .pop();
            next.push(next_start(*first_seen, last.map(|c| c.starts_at), every));
        }
        for c in self.store.open_campaigns().await.ok()? {
            next.push(c.due_at);
            next.extend(
                reminders(c.starts_at, c.due_at)
                    .into_iter()
                    .skip(c.reminders_sent.max(0) as usize)
                    .map(|(_, at)| at),
            );
        }
        next.into_iter().min()
    }

    /// For the demo: packages whose reviews were never scheduled count as configured `ago`, so
    /// that a first campaign whose midnight has passed starts at once.
    pub async fn backdate_review_schedules(&self, ago: Duration) -> AppResult<()> {
        let mut tx = self.store.begin().await?;
        for p in self.packages().iter().filter(|p| p.review.every.is_some()) {
            tx.note_review_schedule(&p.id, self.now() - ago).await?;
        }
        tx.commit().await?;
        self.wake.scheduler.notify_one();
        Ok(())
    }
}
