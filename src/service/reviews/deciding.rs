//! A reviewer's decision on one item of an open campaign: Approve, Deny or Don't know, with a
//! justification. Decisions may change until the due date (each one an audit event); they are
//! applied when the campaign closes.

use serde_json::json;

use super::review_event;
use crate::auth::Principal;
use crate::domain::AuditAction;
use crate::domain::review::{ReviewDecision, ReviewItem, may_review};
use crate::error::{AppError, AppResult};
use crate::service::Portal;

/// The longest justification kept.
pub const JUSTIFICATION_MAX: usize = 1000;

impl Portal {
    /// Records `who`'s decision on item `item_id` of campaign `campaign_id`. Refused through the
    /// requests API (a device-code sign-in), to anyone but the item's reviewers (the person
    /// themself in a self-attestation), to the person an item is about (otherwise), and once the
    /// campaign is due.
    #[tracing::instrument(skip_all, fields(user = %who.user.id, campaign = %campaign_id, item = item_id))]
    pub async fn decide_review_item(
        &self,
        who: &Principal,
        campaign_id: &str,
        item_id: i64,
        decision: &str,
        justification: &str,
    ) -> AppResult<ReviewItem> {
        self.require_portal_reach(who, "Deciding an access review")?;
        let decision = ReviewDecision::parse(decision).ok_or_else(|| {
            AppError::invalid_field("decision", "Choose Approve, Deny or DontKnow.")
        })?;
        let justification = justification.trim();
        if justification.is_empty() {
            return Err(AppError::invalid_field(
                "justification",
                "Say why: every review decision carries a justification.",
            ));
        }
        if justification.chars().count() > JUSTIFICATION_MAX
            || justification
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(AppError::invalid_field(
                "justification",
                format!("At most {JUSTIFICATION_MAX} characters of text."),
            ));
        }
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let not_found = || AppError::NotFound("There is no such access review item.".into());
        let c = tx
            .campaign_in_tx(campaign_id)
            .await?
            .ok_or_else(not_found)?;
        let item = tx
            .review_item(item_id)
            .await?
            .filter(|i| i.campaign_id == c.id)
            .ok_or_else(not_found)?;
        if !c.is_open_at(now) {
            return Err(AppError::Conflict(
                "This access review is closed: its decisions can no longer change.".into(),
            ));
        }
        let pkg = self.package(&c.package).ok_or_else(|| {
            AppError::Conflict(format!(
                "The package {} is no longer configured; its review takes no decisions.",
                c.package
            ))
        })?;
        may_review(
            item.kind,
            item.subject_id.as_deref(),
            &who.user.id,
            self.is_package_reviewer(who, pkg),
            c.review_by,
        )
        .map_err(|r| AppError::Forbidden(r.message().to_string()))?;
        tx.decide_review_item(item.id, decision, justification, &who.user, now)
            .await?;
        let e = review_event(
            Some(who),
            AuditAction::ReviewDecided,
            &c,
            item.subject_id.as_deref(),
            now,
            json!({
                "item": item.id,
                "kind": item.kind.as_str(),
                "subject_name": item.subject_name,
                "decision": decision.as_str(),
                "justification": justification,
                "previous_decision": item.decision.map(|d| d.as_str()),
            }),
        );
        self.outbox.record(&mut *tx, e, None).await?;
        let decided = tx.review_item(item.id).await?.ok_or_else(not_found)?;
        tx.commit().await?;
        Ok(decided)
    }
}
