//! The error body every `/api/v1` failure answers with.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `{"error": {"code", "message", "fields"?}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"error": {
    "code": "invalid_request",
    "message": "The duration must be between 15 minutes and 4 hours.",
    "fields": [{"field": "duration_minutes", "message": "The duration must be between 15 minutes and 4 hours."}]
}}))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// `invalid_request` (422), `bad_request` (400), `unauthorized` (401),
    /// `insufficient_claims` (401, a step-up: sign in again with the claims request of the
    /// `WWW-Authenticate` challenge), `forbidden` (403),
    /// `not_found` (404), `conflict` (409), `too_large` (413), `unavailable` (503),
    /// `internal_error` (500).
    pub code: String,
    /// A sentence a person understands.
    pub message: String,
    /// For invalid input: each problem against its field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldProblem>,
    /// When a package rule refused: its configuration key (`eligible_groups`,
    /// `trusted_networks`, `deny_privileged`, `auth_context`, `ticket_pattern`,
    /// `ticket_validator`, `max_active`, `max_hours_per_user`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}
