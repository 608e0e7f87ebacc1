//! The fast drift check between full reconciliations. Every `[reconcile] delta_every` (on one
//! replica at a time) the drift job asks Graph what changed in each group since the last look
//! (the delta query; its link kept per group in the database) and hands the answer here: the
//! members it names, and the members being watched (a Graph write whose outcome is unknown, or
//! drift left to the outbox while it was busy with them), are judged against the active grants.
//! A member without an active grant is recorded (`drift_detected`) and removed, unless the
//! outbox is still working on them (then they are watched and judged again next round); a
//! member of an active grant who is missing is added again through the outbox.
//!
//! Graph may carry out a write after its caller gave up, so a timed-out addition can land after
//! its grant ended and its removal found nobody to remove: the next delta names that member,
//! and they are removed within about one `delta_every`.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use super::{Portal, system_event};
use crate::config::ReconcileMode;
use crate::domain::AuditAction;
use crate::error::AppResult;
use crate::graph::{DirectoryError, DirectoryUser, MemberDelta};
use crate::store::AuditFilter;

/// The name of the drift check's turn (one replica at a time).
const TURN: &str = "drift_watch";
/// How long a member whose membership is uncertain is read back at every drift check.
pub(crate) const WATCH: Duration = Duration::minutes(2);

/// A member the drift check looks at, and whether Graph showed them in the group (`None`: not
/// known yet, to be read back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suspect {
    pub user_id: String,
    pub present: Option<bool>,
}

impl Portal {
    /// How often the drift check runs.
    pub fn delta_every(&self) -> Duration {
        self.settings.reconcile.delta_every
    }

    /// Takes the drift check's turn for `owner` (or keeps it); `false` while another replica
    /// holds it. A turn not renewed for three periods passes to another replica.
    pub async fn take_drift_turn(&self, owner: &str) -> AppResult<bool> {
        let now = self.now();
        let until = now + self.delta_every() * 3;
        Ok(self.store.take_turn(TURN, owner, now, until).await?)
    }

    /// The delta link kept for `group_id`: `None` before the first look, or after Graph forgot it.
    pub async fn delta_link(&self, group_id: &str) -> AppResult<Option<String>> {
        Ok(self
            .store
            .delta_link(&group_id.to_ascii_lowercase())
            .await?)
    }

    /// Graph refused `group_id`'s delta link (expired, or its sync state lost): it is forgotten,
    /// and the caller starts over with a full synchronisation.
    pub async fn delta_link_lost(&self, group_id: &str, error: &DirectoryError) -> AppResult<()> {
        tracing::warn!(group = %group_id, error = %error, "Graph refused the group's delta link; synchronising again");
        let now = self.now();
        Ok(self
            .store
            .set_delta_link(&group_id.to_ascii_lowercase(), None, now)
            .await?)
    }

    /// Keeps `delta`'s new link for `group_id` and names the members to judge: those the delta
    /// says changed (present or gone), and those watched (present or not as a full
    /// synchronisation lists them, else to be read back). A first look (`first`: no link was
    /// kept) names only the watched members: the full reconciliation at start judges the rest.
    pub async fn members_to_check(
        &self,
        group_id: &str,
        delta: &MemberDelta,
        first: bool,
    ) -> AppResult<Vec<Suspect>> {
        let group = group_id.to_ascii_lowercase();
        let now = self.now();
        self.store
            .set_delta_link(&group, Some(&delta.delta_link), now)
            .await?;
        self.store.end_watches(now).await?;
        let mut out: BTreeMap<String, Option<bool>> = BTreeMap::new();
        if !first {
            out.extend(delta.present.iter().map(|u| (u.clone(), Some(true))));
            out.extend(delta.gone.iter().map(|u| (u.clone(), Some(false))));
        }
        for u in self.store.watched_members(&group, now).await? {
            let known = if delta.full {
                Some(delta.present.contains(&u))
            } else {
                out.get(&u).copied().flatten()
            };
            out.insert(u, known);
        }
        Ok(out
            .into_iter()
            .map(|(user_id, present)| Suspect { user_id, present })
            .collect())
    }

    /// Judges members whose presence in `group_id` is known (`seen`: id and whether Graph showed
    /// them when asked, at or after `asked_at`): records what differs from the grants, queues
    /// the re-additions, and watches the members the outbox is busy with (an operation
    /// unfinished, or finished since `asked_at`: Graph's answer may predate it). Returns the
    /// members to remove (none in report mode).
    pub async fn judge_members(
        &self,
        group_id: &str,
        asked_at: DateTime<Utc>,
        seen: &[(String, bool)],
    ) -> AppResult<Vec<DirectoryUser>> {
        if seen.is_empty() {
            return Ok(Vec::new());
        }
        let group = group_id.to_ascii_lowercase();
        let now = self.now();
        let mode = self.settings.reconcile.mode;
        // The grants first, then what the outbox is busy with: a grant that ends in between
        // queues its removal in the same transaction, so it is seen busy. (The other order
        // could miss both, and remove the member a second time beside the worker.)
        let grants = self.active_grants_in(group_id).await?;
        let busy: Vec<String> = self
            .store
            .members_in_flux(group_id, asked_at)
            .await?
            .into_iter()
            .map(|u| u.to_ascii_lowercase())
            .collect();
        let mut tx = self.store.begin().await?;
        // Drift the reconciler (or the last round) recorded since: being put right already.
        let recent = self
            .drift_recorded_since(asked_at - self.delta_every())
            .await?;
        let (mut strays, mut missing) = (Vec::new(), 0);
        let standing = self.standing_members_of(group_id).await?;
        for (user, present) in seen {
            let user = user.to_ascii_lowercase();
            if standing.contains(&user) {
                continue;
            }
            if busy.contains(&user) || recent.contains(&user) {
                // The outbox (or the reconciler) is working on them: look again next round.
                tx.watch_member(&group, &user, now + WATCH, "being put right")
                    .await?;
                continue;
            }
            match (grants.get(&user), present) {
                (None, true) => {
                    let details = json!({
                        "group_id": group_id,
                        "kind": "member_without_grant",
                        "member_id": user,
                        "found_by": "delta",
                        "action": match mode { ReconcileMode::Remove => "remove", ReconcileMode::Report => "report" },
                    });
                    let e = system_event(AuditAction::DriftDetected, &user, now, details);
                    self.outbox.record(&mut *tx, e, None).await?;
                    if mode == ReconcileMode::Remove {
                        // Read back after the removal, until the watch ends.
                        tx.watch_member(&group, &user, now + WATCH, "drift removed")
                            .await?;
                        strays.push(DirectoryUser {
                            id: user.clone(),
                            display_name: None,
                            user_principal_name: None,
                            mail: None,
                            odata_type: None,
                        });
                    }
                }
                (Some(r), false) if r.added_at.is_some() && super::reconcile::runs_at(r, now) => {
                    self.add_missing_member(&mut *tx, group_id, r, Some("delta"), now)
                        .await?;
                    missing += 1;
                }
                _ => {}
            }
        }
        tx.commit().await?;
        if !strays.is_empty() || missing > 0 {
            self.wake.sender.notify_one();
            self.metrics
                .drift_found("member_without_grant", strays.len());
            self.metrics.drift_found("grant_without_member", missing);
            tracing::warn!(group = %group_id, strays = strays.len(), missing, "drift found by the delta check");
        }
        if missing > 0 {
            self.wake.worker.notify_one();
        }
        Ok(strays)
    }

    /// Whether `member` should still be removed from `group_id` now: no active grant has
    /// appeared and no directory operation for them is under way or finished since `asked_at`.
    pub async fn stray_still(
        &self,
        group_id: &str,
        member: &str,
        asked_at: DateTime<Utc>,
    ) -> AppResult<bool> {
        let id = member.to_ascii_lowercase();
        let grants = self.active_grants_in(group_id).await?;
        let busy = self
            .store
            .members_in_flux(group_id, asked_at)
            .await?
            .iter()
            .any(|u| u.eq_ignore_ascii_case(&id));
        Ok(!grants.contains_key(&id) && !busy)
    }

    /// The members (lower-case ids) about whom drift was recorded at or after `since`.
    pub(super) async fn drift_recorded_since(
        &self,
        since: DateTime<Utc>,
    ) -> AppResult<HashSet<String>> {
        let filter = AuditFilter {
            action: Some(AuditAction::DriftDetected.as_str().to_owned()),
            since: Some(since),
            limit: Some(10_000),
            ..AuditFilter::default()
        };
        Ok(self
            .store
            .list_events(&filter)
            .await?
            .into_iter()
            .filter_map(|e| e.subject_id.map(|s| s.to_ascii_lowercase()))
            .collect())
    }

    /// A drift check ended (all groups looked at, or some failed).
    pub async fn drift_checked(&self) {
        self.heartbeat(TURN).await;
    }
}
