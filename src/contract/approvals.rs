//! `GET /api/v1/approvals`: what waits for the caller's decision, as the approvals page shows it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::requests::{Extension, Request};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ApprovalQueue {
    /// Pending requests, oldest first.
    pub requests: Vec<QueuedRequest>,
    /// Extensions waiting on active grants, oldest first.
    pub extensions: Vec<QueuedExtension>,
    /// Break-glass grants (taken without approval) waiting for the caller's review, the first
    /// due first.
    #[serde(default)]
    pub break_glass: Vec<QueuedBreakGlass>,
}

/// A break-glass grant the caller may review (`POST /api/v1/requests/{id}/break-glass/review`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct QueuedBreakGlass {
    pub request: Request,
    /// The review is due by then (escalated after).
    #[serde(with = "super::time")]
    pub review_due: DateTime<Utc>,
    pub overdue: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct QueuedRequest {
    pub request: Request,
    /// The caller may decide it now (not their own, not decided by them yet).
    pub may_decide: bool,
    /// The caller made it.
    pub own: bool,
    /// The caller approved it already; more approvals are needed.
    pub already_approved: bool,
    pub approvals_required: u32,
    /// The requester's grants in the last 30 days.
    pub recent_grants: i64,
    /// The requester's device-code sign-ins in the last 30 days; `null` when the sign-in log
    /// is not read.
    pub recent_sign_ins: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct QueuedExtension {
    pub request: Request,
    pub extension: Extension,
    pub may_decide: bool,
}
