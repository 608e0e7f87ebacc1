//! A due campaign closed: every item's outcome (its decision, or `review_default`), applied in
//! the same transaction — a standing member removed from the standing members (an override) and
//! from the group (through the directory outbox), a person revoked — each an audit event, and
//! the close itself one more, which tells the reviewers and the admins.

use serde_json::json;

use super::review_event;
use crate::domain::AuditAction;
use crate::domain::review::{
    CampaignStatus, ItemKind, Outcome, ReviewItem, outcome_at_close, standing_hash,
};
use crate::error::AppResult;
use crate::service::Portal;
use crate::store::{NewDirectoryOp, OpKind, Revocation, StandingOverride, StoreTx};

impl Portal {
    /// Closes campaign `id` and applies its results; `false` when it was closed already.
    pub(super) async fn close_campaign(&self, id: &str) -> AppResult<bool> {
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let Some(c) = tx.campaign_in_tx(id).await? else {
            return Ok(false);
        };
        if c.status != CampaignStatus::Open {
            return Ok(false);
        }
        let pkg = self.package(&c.package).cloned();
        let items = tx.items_in_tx(&c.id).await?;
        let mut counts = std::collections::BTreeMap::<&str, i64>::new();
        let mut undecided = 0;
        let mut ops = 0;
        for item in &items {
            let (outcome, by_default) =
                outcome_at_close(item.kind, item.decision, c.review_default);
            if item.decision.is_none() {
                undecided += 1;
            }
            *counts.entry(outcome.as_str()).or_default() += 1;
            tx.set_item_outcome(item.id, outcome, by_default).await?;
            let reason = reason(item, by_default, c.review_default.as_str());
            let mut details = json!({
                "item": item.id,
                "kind": item.kind.as_str(),
                "subject_name": item.subject_name,
                "decision": item.decision.map(|d| d.as_str()),
                "outcome": outcome.as_str(),
                "by_default": by_default,
                "reason": reason,
            });
            match (outcome, item.kind, &pkg, item.subject_id.as_deref()) {
                (Outcome::Removed, ItemKind::Standing, Some(pkg), Some(member)) => {
                    tx.put_standing_override(&StandingOverride {
                        package: pkg.id.clone(),
                        member_id: member.to_ascii_lowercase(),
                        member_name: item.subject_name.clone(),
                        file_hash: standing_hash(&pkg.standing_members),
                        campaign_id: c.id.clone(),
                        reason: reason.clone(),
                        at: now,
                    })
                    .await?;
                    let op = tx
                        .enqueue_op(
                            &NewDirectoryOp {
                                request_id: format!("review:{}:{}", c.id, item.id),
                                kind: OpKind::Remove,
                                group_id: pkg.group_id.clone(),
                                user_id: member.to_string(),
                                not_before: now,
                            },
                            now,
                        )
                        .await?;
                    details["directory_op"] = json!(op);
                    details["group_id"] = json!(pkg.group_id);
                    ops += 1;
                }
                (Outcome::Revoked, ItemKind::Person, Some(_), Some(person)) => {
                    tx.put_revocation(&Revocation {
                        package: c.package.clone(),
                        user_id: person.to_ascii_lowercase(),
                        user_name: item.subject_name.clone(),
                        campaign_id: c.id.clone(),
                        reason: reason.clone(),
                        revoked_at: now,
                        restored_at: None,
                        restored_by: None,
                        restore_reason: None,
                    })
                    .await?;
                }
                (Outcome::Removed | Outcome::Revoked, _, None, _) => {
                    details["not_applied"] =
                        json!("the package is no longer configured: nothing was changed");
                }
                _ => {}
            }
            let e = review_event(
                None,
                AuditAction::ReviewApplied,
                &c,
                item.subject_id.as_deref(),
                now,
                details,
            );
            self.outbox
                .record(&mut *tx as &mut dyn StoreTx, e, None)
                .await?;
        }
        tx.close_campaign(&c.id, now).await?;
        let n = |k: &str| counts.get(k).copied().unwrap_or(0);
        let e = review_event(
            None,
            AuditAction::ReviewClosed,
            &c,
            None,
            now,
            json!({
                "package_name": c.package_name,
                "items": items.len(),
                "confirmed": n("confirmed"),
                "kept": n("kept"),
                "removed": n("removed"),
                "revoked": n("revoked"),
                "reported": n("reported"),
                "undecided": undecided,
            }),
        );
        self.outbox.record(&mut *tx, e, None).await?;
        tx.commit().await?;
        if ops > 0 {
            self.wake.worker.notify_one();
        }
        self.wake.sender.notify_one();
        tracing::info!(campaign = %c.id, package = %c.package, "access review closed");
        Ok(true)
    }
}

/// Why an item came out as it did, in words (kept with overrides and revocations).
fn reason(item: &ReviewItem, by_default: bool, default: &str) -> String {
    match (&item.reviewer, &item.justification, by_default) {
        (Some(by), Some(why), false) => format!(
            "{} by {} in the access review: {why}",
            item.decision.map(|d| d.label()).unwrap_or(""),
            by.name
        ),
        (_, _, true) => match item.decision {
            Some(d) => format!(
                "{} in the access review; review_default = \"{default}\" applied",
                d.label()
            ),
            None => {
                format!("No decision in the access review; review_default = \"{default}\" applied")
            }
        },
        _ => "Decided in the access review".to_string(),
    }
}
