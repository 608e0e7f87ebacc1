//! The rows access reviews keep, and their conversion to domain types (see
//! [`crate::store::ReviewStore`]).

use crate::domain::UserRef;
use crate::domain::review::{
    Campaign, CampaignStatus, ItemKind, Outcome, ReviewBy, ReviewDecision, ReviewDefault,
    ReviewItem,
};
use crate::store::{Revocation, StandingOverride, StoreError, from_ms};

pub(super) const CAMPAIGN_COLS: &str = "id, package, package_name, period_start, period_end, starts_at, due_at, \
     status, closed_at, review_by, review_default, reminders_sent";
pub(super) const ITEM_COLS: &str = "id, campaign_id, kind, subject_id, subject_name, details, decision, justification, \
     reviewer_id, reviewer_name, reviewer_username, decided_at, outcome, by_default";
pub(super) const OVERRIDE_COLS: &str =
    "package, member_id, member_name, file_hash, campaign_id, reason, at";
pub(super) const REVOCATION_COLS: &str = "package, user_id, user_name, campaign_id, reason, revoked_at, restored_at, \
     restored_by, restore_reason";

fn corrupt(what: &str, v: &str) -> StoreError {
    StoreError::Corrupt(format!("unknown {what} '{v}'"))
}

#[derive(sqlx::FromRow)]
pub(super) struct CampaignRow {
    id: String,
    package: String,
    package_name: String,
    period_start: i64,
    period_end: i64,
    starts_at: i64,
    due_at: i64,
    status: String,
    closed_at: Option<i64>,
    review_by: String,
    review_default: String,
    reminders_sent: i64,
}

impl CampaignRow {
    pub(super) fn into_campaign(self) -> Result<Campaign, StoreError> {
        Ok(Campaign {
            status: CampaignStatus::parse(&self.status)
                .ok_or_else(|| corrupt("campaign status", &self.status))?,
            review_by: ReviewBy::parse(&self.review_by)
                .ok_or_else(|| corrupt("review_by", &self.review_by))?,
            review_default: ReviewDefault::parse(&self.review_default)
                .ok_or_else(|| corrupt("review_default", &self.review_default))?,
            id: self.id,
            package: self.package,
            package_name: self.package_name,
            period_start: from_ms(self.period_start),
            period_end: from_ms(self.period_end),
            starts_at: from_ms(self.starts_at),
            due_at: from_ms(self.due_at),
            closed_at: self.closed_at.map(from_ms),
            reminders_sent: self.reminders_sent,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct ItemRow {
    id: i64,
    campaign_id: String,
    kind: String,
    subject_id: Option<String>,
    subject_name: String,
    details: String,
    decision: Option<String>,
    justification: Option<String>,
    reviewer_id: Option<String>,
    reviewer_name: Option<String>,
    reviewer_username: Option<String>,
    decided_at: Option<i64>,
    outcome: Option<String>,
    by_default: i64,
}

impl ItemRow {
    pub(super) fn into_item(self) -> Result<ReviewItem, StoreError> {
        let decision = match self.decision.as_deref() {
            None => None,
            Some(d) => Some(ReviewDecision::parse(d).ok_or_else(|| corrupt("decision", d))?),
        };
        let outcome = match self.outcome.as_deref() {
            None => None,
            Some(o) => Some(Outcome::parse(o).ok_or_else(|| corrupt("outcome", o))?),
        };
        let reviewer = match (self.reviewer_id, self.reviewer_name, self.reviewer_username) {
            (Some(id), Some(name), Some(username)) => Some(UserRef { id, name, username }),
            _ => None,
        };
        Ok(ReviewItem {
            id: self.id,
            kind: ItemKind::parse(&self.kind).ok_or_else(|| corrupt("item kind", &self.kind))?,
            campaign_id: self.campaign_id,
            subject_id: self.subject_id,
            subject_name: self.subject_name,
            details: serde_json::from_str(&self.details)
                .map_err(|e| StoreError::Corrupt(format!("review item details: {e}")))?,
            decision,
            justification: self.justification,
            reviewer,
            decided_at: self.decided_at.map(from_ms),
            outcome,
            by_default: self.by_default != 0,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct OverrideRow {
    package: String,
    member_id: String,
    member_name: String,
    file_hash: String,
    campaign_id: String,
    reason: String,
    at: i64,
}

impl From<OverrideRow> for StandingOverride {
    fn from(r: OverrideRow) -> StandingOverride {
        StandingOverride {
            package: r.package,
            member_id: r.member_id,
            member_name: r.member_name,
            file_hash: r.file_hash,
            campaign_id: r.campaign_id,
            reason: r.reason,
            at: from_ms(r.at),
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct RevocationRow {
    package: String,
    user_id: String,
    user_name: String,
    campaign_id: String,
    reason: String,
    revoked_at: i64,
    restored_at: Option<i64>,
    restored_by: Option<String>,
    restore_reason: Option<String>,
}

impl From<RevocationRow> for Revocation {
    fn from(r: RevocationRow) -> Revocation {
        Revocation {
            package: r.package,
            user_id: r.user_id,
            user_name: r.user_name,
            campaign_id: r.campaign_id,
            reason: r.reason,
            revoked_at: from_ms(r.revoked_at),
            restored_at: r.restored_at.map(from_ms),
            restored_by: r.restored_by,
            restore_reason: r.restore_reason,
        }
    }
}
