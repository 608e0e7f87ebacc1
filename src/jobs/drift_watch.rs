//! The drift check: every `[reconcile] delta_every`, on one replica at a time, asks Graph what
//! changed in each package group since the last look (the delta query, one call per group when
//! nothing changed), reads back the members the service watches, and hands what it saw to the
//! service, which judges it; then removes the members the service names. A delta link Graph no
//! longer knows is dropped and the group synchronised again from scratch.

use std::sync::Arc;

use crate::graph::Directory;
use crate::service::Portal;

pub struct DriftWatch {
    portal: Portal,
    directory: Arc<dyn Directory>,
    id: String,
}

impl DriftWatch {
    pub fn new(portal: Portal, directory: Arc<dyn Directory>) -> DriftWatch {
        DriftWatch {
            portal,
            directory,
            id: format!("drift-watch-{}", uuid::Uuid::new_v4().simple()),
        }
    }

    pub async fn run(self) {
        tracing::info!(drift_watch = %self.id, "drift check started");
        let mut next = self.portal.now();
        loop {
            self.portal.sleep_until(next).await;
            next = self.portal.now() + self.portal.delta_every();
            match self.portal.take_drift_turn(&self.id).await {
                Ok(true) => self.round().await,
                Ok(false) => tracing::trace!("another replica checks for drift"),
                Err(e) => tracing::warn!(error = %e, "taking the drift check's turn failed"),
            }
        }
    }

    /// One look at every group.
    pub async fn round(&self) {
        for group in self.portal.reconciled_groups() {
            if let Err(e) = self.group(&group).await {
                e.log();
            }
        }
        self.portal.drift_checked().await;
    }

    async fn group(&self, group: &str) -> crate::error::AppResult<()> {
        let link = self.portal.delta_link(group).await?;
        let asked_at = self.portal.now();
        let mut first = link.is_none();
        let delta = match self.directory.member_delta(group, link.as_deref()).await {
            Ok(d) => d,
            Err(e) if link.is_some() && !e.is_retriable() => {
                self.portal.delta_link_lost(group, &e).await?;
                first = false;
                match self.directory.member_delta(group, None).await {
                    Ok(d) => d,
                    Err(e) => {
                        tracing::warn!(%group, error = %e, "synchronising the group again failed");
                        return Ok(());
                    }
                }
            }
            Err(e) => {
                tracing::warn!(%group, error = %e, "asking Graph what changed in the group failed");
                return Ok(());
            }
        };
        let suspects = self.portal.members_to_check(group, &delta, first).await?;
        let mut seen = Vec::with_capacity(suspects.len());
        for s in suspects {
            match s.present {
                Some(p) => seen.push((s.user_id, p)),
                None => match self.directory.is_member(group, &s.user_id).await {
                    Ok(p) => seen.push((s.user_id, p)),
                    Err(e) => {
                        tracing::warn!(%group, user = %s.user_id, error = %e, "reading a watched member back failed")
                    }
                },
            }
        }
        for m in self.portal.judge_members(group, asked_at, &seen).await? {
            if !self.portal.stray_still(group, &m.id, asked_at).await? {
                continue;
            }
            let result = self.directory.remove_member(group, &m.id).await;
            self.portal.record_drift_removal(group, &m, result).await?;
        }
        Ok(())
    }
}
