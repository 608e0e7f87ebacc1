//! Access reviews under `/api/v1/reviews`: campaigns, their items, decisions, exports and the
//! revocations they leave.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::people::Person;

/// One review of one package for one period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReviewCampaign {
    pub id: String,
    pub package: String,
    pub package_name: String,
    /// The period reviewed: grants held from `period_start` up to `period_end`.
    #[serde(with = "super::time")]
    pub period_start: DateTime<Utc>,
    #[serde(with = "super::time")]
    pub period_end: DateTime<Utc>,
    #[serde(with = "super::time")]
    pub starts_at: DateTime<Utc>,
    /// Decisions are taken until then; undecided items then take `review_default`.
    #[serde(with = "super::time")]
    pub due_at: DateTime<Utc>,
    /// `open` or `closed`.
    pub status: String,
    #[serde(with = "super::time::option")]
    pub closed_at: Option<DateTime<Utc>>,
    /// `deciders` or `self` (each person attests for themself).
    pub review_by: String,
    /// `keep`, `remove` or `report`.
    pub review_default: String,
    /// Items the caller may decide that wait for a decision.
    pub waiting: usize,
}

/// `GET /api/v1/reviews`: the campaigns the caller may see, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReviewList {
    pub campaigns: Vec<ReviewCampaign>,
}

/// One item of a campaign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReviewItem {
    pub id: i64,
    /// `settings` (the package's settings and Conditional Access posture), `standing` (a
    /// standing member) or `person` (someone who held a grant in the period).
    pub kind: String,
    pub subject_id: Option<String>,
    pub subject_name: String,
    /// What the reviewers look at: a person's grants (times, minutes, justifications, tickets,
    /// device-code sign-ins); the settings and posture snapshot.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    /// `Approve`, `Deny` or `DontKnow`; `null` while undecided.
    pub decision: Option<String>,
    pub justification: Option<String>,
    pub reviewer: Option<Person>,
    #[serde(with = "super::time::option")]
    pub decided_at: Option<DateTime<Utc>>,
    /// Once closed: `confirmed`, `kept`, `removed`, `revoked` or `reported`.
    pub outcome: Option<String>,
    /// The outcome came from `review_default` (nobody decided, or "Don't know").
    pub by_default: bool,
    /// The caller may decide it now.
    pub may_decide: bool,
}

/// `GET /api/v1/reviews/{id}`: a campaign and the items the caller may see.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReviewDetail {
    pub campaign: ReviewCampaign,
    pub items: Vec<ReviewItem>,
    /// The caller sees the whole campaign (admins, auditors, its reviewers), not only their
    /// own self-attestation.
    pub whole: bool,
}

/// `POST /api/v1/reviews/{id}/items/{item}/decide`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"decision": "Deny", "justification": "Left the team in March"}))]
pub struct ReviewDecisionBody {
    /// `Approve`, `Deny` or `DontKnow`.
    #[serde(default)]
    #[schema(required = true)]
    pub decision: String,
    /// Why (required, at most 1000 characters).
    #[serde(default)]
    #[schema(required = true, min_length = 1, max_length = 1000)]
    pub justification: String,
}

/// A person an access review revoked for a package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReviewRevocation {
    pub package: String,
    pub user_id: String,
    pub user_name: String,
    pub campaign: String,
    pub reason: String,
    #[serde(with = "super::time")]
    pub revoked_at: DateTime<Utc>,
    #[serde(with = "super::time::option")]
    pub restored_at: Option<DateTime<Utc>>,
    pub restored_by: Option<String>,
    pub restore_reason: Option<String>,
}

/// `GET /api/v1/reviews/revocations`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RevocationList {
    pub revocations: Vec<ReviewRevocation>,
}

/// `POST /api/v1/reviews/revocations/restore`: an admin restores a revoked person.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"package": "device-code-exemption", "user_id": "0b6a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c01", "reason": "Back on the on-call rota"}))]
pub struct RestoreBody {
    #[serde(default)]
    #[schema(required = true)]
    pub package: String,
    /// The person's object id.
    #[serde(default)]
    #[schema(required = true)]
    pub user_id: String,
    /// Why (at most 500 characters).
    #[serde(default)]
    #[schema(required = true, min_length = 1, max_length = 500)]
    pub reason: String,
}
