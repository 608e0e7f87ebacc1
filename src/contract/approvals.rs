//! `GET /api/v1/approvals`: what waits for the caller's decision, as the approvals page shows it.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::requests::{Extension, Request};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ApprovalQueue {
    /// Pending requests, oldest first.
    pub requests: Vec<QueuedRequest>,
    /// Extensions waiting on active grants, oldest first.
    pub extensions: Vec<QueuedExtension>,
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
