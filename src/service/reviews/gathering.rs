//! A new campaign: what it asks about, gathered before its transaction (the store's reads and
//! the directory's), then the campaign, its items and its audit event committed together.
//!
//! - the package's settings and Conditional Access posture, as `jitgate check` sees them: a
//!   snapshot the reviewers confirm;
//! - each standing member in force (the file's, less those a review removed);
//! - each person who held a grant in the period, with their grants (times, hours,
//!   justifications, tickets) and the device-code sign-ins seen during them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::review_event;
use crate::domain::package::format_duration;
use crate::domain::package_rules::rules_in_words;
use crate::domain::review::{Campaign, CampaignStatus, ItemKind, ReviewBy};
use crate::domain::{AuditAction, Package};
use crate::error::AppResult;
use crate::graph::posture::device_code_posture;
use crate::service::Portal;
use crate::store::{NewReviewItem, StoreError};

/// At most this many device-code sign-ins are listed per grant (all are counted).
const SIGN_INS_LISTED: usize = 20;

impl Portal {
    /// Starts `pkg`'s campaign at `start` (after `last`, if any). `false` when another replica
    /// started it first.
    pub(super) async fn start_campaign(
        &self,
        pkg: &Package,
        start: DateTime<Utc>,
        last: Option<&Campaign>,
        now: DateTime<Utc>,
    ) -> AppResult<bool> {
        let every = pkg.review.every.unwrap_or(chrono::Duration::days(365));
        let c = Campaign {
            id: uuid::Uuid::new_v4().hyphenated().to_string(),
            package: pkg.id.clone(),
            package_name: pkg.name.clone(),
            period_start: last.map(|l| l.starts_at).unwrap_or(start - every),
            period_end: start,
            starts_at: start,
            due_at: start + pkg.review.within,
            status: CampaignStatus::Open,
            closed_at: None,
            review_by: pkg.review.by,
            review_default: pkg.review.default,
            reminders_sent: 0,
        };
        let mut items = vec![self.settings_item(pkg, &c).await];
        items.extend(self.standing_items(pkg, &c).await?);
        items.extend(self.person_items(pkg, &c).await?);
        let attesters: Vec<&str> = items
            .iter()
            .filter(|i| c.review_by == ReviewBy::SelfAttest && i.kind == ItemKind::Person)
            .filter_map(|i| i.subject_id.as_deref())
            .collect();
        let mut tx = self.store.begin().await?;
        match tx.insert_campaign(&c).await {
            Err(StoreError::Conflict(_)) => return Ok(false),
            other => other?,
        }
        for item in &items {
            tx.insert_review_item(item).await?;
        }
        let count = |k: ItemKind| items.iter().filter(|i| i.kind == k).count();
        let e = review_event(
            None,
            AuditAction::ReviewStarted,
            &c,
            None,
            now,
            json!({
                "package_name": c.package_name,
                "period_start": c.period_start,
                "period_end": c.period_end,
                "due_at": c.due_at,
                "review_by": c.review_by.as_str(),
                "review_default": c.review_default.as_str(),
                "items": items.len(),
                "standing_members": count(ItemKind::Standing),
                "people": count(ItemKind::Person),
                "attesters": attesters,
            }),
        );
        self.outbox.record(&mut *tx, e, None).await?;
        tx.commit().await?;
        self.wake.sender.notify_one();
        tracing::info!(campaign = %c.id, package = %c.package, items = items.len(), "access review started");
        Ok(true)
    }

    /// The package's settings and posture, as `jitgate check` sees them.
    async fn settings_item(&self, pkg: &Package, c: &Campaign) -> NewReviewItem {
        let posture = match self.directory.list_conditional_access_policies().await {
            Ok(policies) => {
                let p = device_code_posture(&policies, &pkg.group_id);
                json!({"ok": p.ok, "detail": p.detail})
            }
            Err(e) => {
                json!({"ok": false, "detail": format!("The Conditional Access policies could not be read: {e}")})
            }
        };
        let standing = self.standing_in_force(pkg).await.unwrap_or_default();
        let rules: Vec<Value> = rules_in_words(pkg)
            .into_iter()
            .map(|(rule, text)| json!({"rule": rule, "text": text}))
            .collect();
        let d = |v: chrono::Duration| format_duration(v);
        NewReviewItem {
            campaign_id: c.id.clone(),
            kind: ItemKind::Settings,
            subject_id: None,
            subject_name: pkg.name.clone(),
            details: json!({
                "settings": {
                    "group_id": pkg.group_id,
                    "min_duration": d(pkg.min_duration),
                    "default_duration": d(pkg.default_duration),
                    "max_duration": d(pkg.max_duration),
                    "approvals_required": pkg.approvals_required,
                    "approver_role_applies": pkg.approver_role_applies,
                    "approver_groups": pkg.approver_groups,
                    "manager_may_approve": pkg.manager_may_approve,
                    "requester_role": pkg.requester_role,
                    "ticket_required": pkg.ticket_required,
                    "deny_privileged": pkg.deny_privileged,
                    "auto_approve": pkg.auto_approve.iter().map(|r| r.name.clone()).collect::<Vec<_>>(),
                    "standing_members": standing,
                    "reviewers": pkg.review.reviewers,
                    "review_every": pkg.review.every.map(d),
                    "review_by": pkg.review.by.as_str(),
                    "review_default": pkg.review.default.as_str(),
                },
                "rules": rules,
                "posture": posture,
            }),
        }
    }

    /// Each standing member in force, named as the directory has them.
    async fn standing_items(&self, pkg: &Package, c: &Campaign) -> AppResult<Vec<NewReviewItem>> {
        let mut out = Vec::new();
        for m in self.standing_in_force(pkg).await? {
            let user = self.directory.get_user(&m).await.ok().flatten();
            let name = user
                .as_ref()
                .and_then(|u| u.display_name.clone())
                .unwrap_or_else(|| m.clone());
            out.push(NewReviewItem {
                campaign_id: c.id.clone(),
                kind: ItemKind::Standing,
                subject_id: Some(m.clone()),
                subject_name: name,
                details: json!({
                    "username": user.as_ref().and_then(|u| u.user_principal_name.clone()),
                    "found_in_directory": user.is_some(),
                }),
            });
        }
        Ok(out)
    }

    /// Each person who held a grant of `pkg` in the campaign's period, with their grants.
    async fn person_items(&self, pkg: &Package, c: &Campaign) -> AppResult<Vec<NewReviewItem>> {
        let grants = self
            .store
            .grants_in_period(&pkg.id, c.period_start, c.period_end)
            .await?;
        let mut people: BTreeMap<String, (String, String, Vec<Value>, i64, i64)> = BTreeMap::new();
        for r in &grants {
            let sign_ins = self.store.sign_ins_for(&r.id).await?;
            let start = r.starts_at.unwrap_or(r.created_at);
            let end = r.ends_at.or(r.removed_at).unwrap_or(c.period_end);
            let minutes = (end - start).num_minutes().max(0);
            let entry = people
                .entry(r.requester.id.to_ascii_lowercase())
                .or_insert_with(|| {
                    (
                        r.requester.name.clone(),
                        r.requester.username.clone(),
                        Vec::new(),
                        0,
                        0,
                    )
                });
            entry.3 += minutes;
            entry.4 += sign_ins.len() as i64;
            entry.2.push(json!({
                "request_id": r.id,
                "starts_at": start,
                "ends_at": end,
                "minutes": minutes,
                "justification": r.justification,
                "ticket": r.ticket,
                "sign_ins": sign_ins.len(),
                "sign_in_list": sign_ins.iter().take(SIGN_INS_LISTED).map(|s| json!({
                    "at": s.at,
                    "app": s.app_name,
                    "ip_address": s.ip_address,
                    "result": s.result(),
                })).collect::<Vec<_>>(),
            }));
        }
        Ok(people
            .into_iter()
            .map(
                |(id, (name, username, grants, minutes, sign_ins))| NewReviewItem {
                    campaign_id: c.id.clone(),
                    kind: ItemKind::Person,
                    subject_id: Some(id),
                    subject_name: name,
                    details: json!({
                        "username": username,
                        "grants": grants,
                        "total_minutes": minutes,
                        "total": format_duration(chrono::Duration::minutes(minutes)),
                        "sign_ins": sign_ins,
                    }),
                },
            )
            .collect())
    }
}
