//! Drift reconciliation: the group should hold exactly the people with an active grant (and the
//! package's standing members). The reconciler job lists each group's members through Graph and
//! hands them here; what differs is recorded (`drift_detected`) and put right: a member without
//! an active grant is removed (unless `[reconcile] mode = "report"`), a grant whose member is
//! missing is added again through the outbox.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use super::{Portal, event, system_event};
use crate::config::{Every, ReconcileMode};
use crate::domain::{AuditAction, Request, RequestStatus};
use crate::error::AppResult;
use crate::graph::{DirectoryError, DirectoryUser, MemberChange};
use crate::store::{NewDirectoryOp, OpKind, RequestFilter};

/// Members the outbox changed this recently are left alone (Graph's reads may lag its writes).
const SETTLE: Duration = Duration::seconds(60);
/// The name of the reconciler's turn (one replica at a time).
const TURN: &str = "reconciler";

impl Portal {
    /// When reconciliation runs.
    pub fn reconcile_every(&self) -> &Every {
        &self.settings.reconcile.every
    }

    /// Takes the reconciler's turn for `owner` (or keeps it) for about one period; `false` while
    /// another replica holds it.
    pub async fn take_reconcile_turn(&self, owner: &str) -> AppResult<bool> {
        let now = self.now();
        let until = now + self.reconcile_every().period(now) + Duration::minutes(1);
        Ok(self.store.take_turn(TURN, owner, now, until).await?)
    }

    /// The groups to reconcile: every package's, once each.
    pub fn reconciled_groups(&self) -> Vec<String> {
        let mut groups: Vec<String> = Vec::new();
        for p in &self.settings.packages {
            if !groups.iter().any(|g| g.eq_ignore_ascii_case(&p.group_id)) {
                groups.push(p.group_id.clone());
            }
        }
        groups
    }

    /// Queues the addition of `r`'s requester, granted but missing from the group, and records
    /// the drift (with what found it, if not the full listing), in `tx`.
    pub(super) async fn add_missing_member(
        &self,
        tx: &mut dyn crate::store::StoreTx,
        group_id: &str,
        r: &Request,
        found_by: Option<&str>,
        now: DateTime<Utc>,
    ) -> AppResult<()> {
        let op = NewDirectoryOp::for_grant(r, OpKind::Add, now);
        let op_id = tx.enqueue_op(&op, now).await?;
        let mut details = json!({
            "group_id": group_id,
            "kind": "grant_without_member",
            "member_id": r.requester.id,
            "action": "add",
            "directory_op": op_id,
        });
        if let Some(by) = found_by {
            details["found_by"] = json!(by);
        }
        let e = event(None, AuditAction::DriftDetected, r, now, details);
        self.outbox.record(tx, e, Some(r)).await?;
        Ok(())
    }

    /// The standing members in force of the packages granting `group_id` (lower case): the
    /// file's, less those an access review removed while the file's list stays as it was.
    pub(super) async fn standing_members_of(&self, group_id: &str) -> AppResult<HashSet<String>> {
        let mut out = HashSet::new();
        for p in
            self.settings.packages.iter().filter(|p| {
                p.group_id.eq_ignore_ascii_case(group_id) && !p.standing_members.is_empty()
            })
        {
            out.extend(
                self.standing_in_force(p)
                    .await?
                    .into_iter()
                    .map(|m| m.to_ascii_lowercase()),
            );
        }
        Ok(out)
    }

    /// Compares `members` (Graph's list of `group_id`, taken at `listed_at`) with the active
    /// grants, records what differs and queues the re-additions. Returns the members to remove
    /// (none in report mode).
    #[tracing::instrument(skip_all, fields(group = %group_id, members = members.len()))]
    pub async fn reconcile_group(
        &self,
        group_id: &str,
        listed_at: DateTime<Utc>,
        members: &[DirectoryUser],
    ) -> AppResult<Vec<DirectoryUser>> {
        let mode = self.settings.reconcile.mode;
        // The grants before what is in flux (see `judge_members`).
        let grants = self.active_grants_in(group_id).await?;
        let in_flux: HashSet<String> = self
            .store
            .members_in_flux(group_id, listed_at - SETTLE)
            .await?
            .into_iter()
            .map(|u| u.to_ascii_lowercase())
            .collect();
        let listed: HashSet<String> = members.iter().map(|m| m.id.to_ascii_lowercase()).collect();
        let standing = self.standing_members_of(group_id).await?;
        let now = self.now();

        let strays: Vec<&DirectoryUser> = members
            .iter()
            .filter(|m| {
                let id = m.id.to_ascii_lowercase();
                !grants.contains_key(&id) && !in_flux.contains(&id) && !standing.contains(&id)
            })
            .collect();
        let missing: Vec<&Request> = grants
            .iter()
            .filter(|(id, r)| {
                r.added_at.is_some()
                    && runs_at(r, now)
                    && !listed.contains(*id)
                    && !in_flux.contains(*id)
            })
            .map(|(_, r)| r)
            .collect();
        if strays.is_empty() && missing.is_empty() {
            return Ok(Vec::new());
        }

        let mut tx = self.store.begin().await?;
        // The drift check may have found (and put right) the same drift meanwhile.
        let recent = self.drift_recorded_since(listed_at - SETTLE).await?;
        let strays: Vec<&DirectoryUser> = strays
            .into_iter()
            .filter(|m| !recent.contains(&m.id.to_ascii_lowercase()))
            .collect();
        let missing: Vec<&Request> = missing
            .into_iter()
            .filter(|r| !recent.contains(&r.requester.id.to_ascii_lowercase()))
            .collect();
        if strays.is_empty() && missing.is_empty() {
            return Ok(Vec::new());
        }
        for m in &strays {
            let details = json!({
                "group_id": group_id,
                "kind": "member_without_grant",
                "member_id": m.id,
                "member_name": m.display_name,
                "member_upn": m.user_principal_name,
                "member_type": m.odata_type,
                "action": match mode { ReconcileMode::Remove => "remove", ReconcileMode::Report => "report" },
            });
            self.outbox
                .record(
                    &mut *tx,
                    system_event(AuditAction::DriftDetected, &m.id, now, details),
                    None,
                )
                .await?;
        }
        for r in &missing {
            self.add_missing_member(&mut *tx, group_id, r, None, now)
                .await?;
        }
        tx.commit().await?;
        self.wake.sender.notify_one();
        self.metrics
            .drift_found("member_without_grant", strays.len());
        self.metrics
            .drift_found("grant_without_member", missing.len());
        if !missing.is_empty() {
            self.wake.worker.notify_one();
        }
        tracing::warn!(
            strays = strays.len(),
            missing = missing.len(),
            ?mode,
            "drift found"
        );
        Ok(match mode {
            ReconcileMode::Remove => strays.into_iter().cloned().collect(),
            ReconcileMode::Report => Vec::new(),
        })
    }

    /// Whether `member` should still be removed from `group_id` (no active grant has appeared
    /// and the outbox is not busy with them since the list was taken).
    pub async fn drift_still_applies(&self, group_id: &str, member: &str) -> AppResult<bool> {
        let id = member.to_ascii_lowercase();
        let grants = self.active_grants_in(group_id).await?;
        let busy = self
            .store
            .members_in_flux(group_id, self.now() - SETTLE)
            .await?
            .iter()
            .any(|u| u.eq_ignore_ascii_case(&id));
        Ok(!grants.contains_key(&id) && !busy)
    }

    /// Records the removal of a member without a grant (`drift_removed`), or its failure (the
    /// next reconciliation tries again).
    pub async fn record_drift_removal(
        &self,
        group_id: &str,
        member: &DirectoryUser,
        result: Result<MemberChange, DirectoryError>,
    ) -> AppResult<()> {
        let now = self.now();
        self.metrics.drift_removed(result.is_ok());
        let (action, details) = match &result {
            Ok(change) => (
                AuditAction::DriftRemoved,
                json!({
                    "group_id": group_id,
                    "member_id": member.id,
                    "member_name": member.display_name,
                    "already_in_effect": *change == MemberChange::NotMember,
                }),
            ),
            Err(e) => (
                AuditAction::DirectoryError,
                json!({
                    "group_id": group_id,
                    "member_id": member.id,
                    "operation": "remove",
                    "drift": true,
                    "error": format!("{e}; the next reconciliation tries again"),
                }),
            ),
        };
        let mut tx = self.store.begin().await?;
        self.outbox
            .record(
                &mut *tx,
                system_event(action, &member.id, now, details),
                None,
            )
            .await?;
        tx.commit().await?;
        self.wake.sender.notify_one();
        Ok(())
    }

    /// A reconciliation round ended (all groups looked at, or some failed).
    pub async fn reconciled(&self) {
        self.heartbeat(TURN).await;
    }

    /// Active grants for `group_id` by requester (lower-case object id), those past their end
    /// included: until the scheduler expires them (and queues the removal in the same
    /// transaction) their members are the scheduler's to remove, not drift. Only a grant still
    /// running (`runs_at`) is a reason to add a missing member back.
    pub(super) async fn active_grants_in(
        &self,
        group_id: &str,
    ) -> AppResult<HashMap<String, Request>> {
        let now = self.now();
        let mut out = HashMap::new();
        for p in self
            .settings
            .packages
            .iter()
            .filter(|p| p.group_id.eq_ignore_ascii_case(group_id))
        {
            let filter = RequestFilter {
                statuses: vec![RequestStatus::Active],
                package: Some(p.id.clone()),
                without_approvals: true,
                limit: Some(10_000),
                ..RequestFilter::default()
            };
            for r in self.store.list_requests(&filter).await? {
                let key = r.requester.id.to_ascii_lowercase();
                // Of several, the one running longest.
                if out
                    .get(&key)
                    .is_none_or(|o: &Request| o.ends_at < r.ends_at || !runs_at(o, now))
                {
                    out.insert(key, r);
                }
            }
        }
        Ok(out)
    }
}

/// Whether active grant `r` still runs at `now` (has not passed its end).
pub(super) fn runs_at(r: &Request, now: DateTime<Utc>) -> bool {
    r.ends_at.is_none_or(|end| end > now)
}
