//! Break-glass: one use and its review, and the review's body (a package's settings for it
//! are with the package, in `people.rs`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::people::Person;

/// What a reviewer found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BreakGlassVerdict {
    Justified,
    NotJustified,
}

/// A review of a break-glass grant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BreakGlassReview {
    pub reviewer: Person,
    pub verdict: BreakGlassVerdict,
    pub comment: String,
    #[serde(with = "super::time")]
    pub at: DateTime<Utc>,
}

/// One use of break-glass (a grant taken without approval) and its review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BreakGlassUse {
    pub request_id: String,
    pub package: String,
    pub requester_id: String,
    #[serde(with = "super::time")]
    pub used_at: DateTime<Utc>,
    /// An approver must review it by then (escalated after).
    #[serde(with = "super::time")]
    pub review_due: DateTime<Utc>,
    /// The review, once made.
    pub review: Option<BreakGlassReview>,
}

/// `POST /api/v1/requests/{id}/break-glass/review`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"verdict": "justified", "comment": "INC0012345: the payment queue was down"}))]
pub struct BreakGlassReviewBody {
    pub verdict: BreakGlassVerdict,
    /// Why: required (at least 3 visible characters), one or more lines.
    #[serde(default)]
    #[schema(required = true, min_length = 3, max_length = 1000)]
    pub comment: String,
}
