//! What the reads take and give back beyond domain types: which requests and audit events to
//! list, grant counts per requester, and the deadlines that have come due.

use chrono::{DateTime, Utc};

use crate::domain::RequestStatus;

/// Which requests to list. Empty fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    pub statuses: Vec<RequestStatus>,
    pub package: Option<String>,
    pub requester_id: Option<String>,
    /// Requests this user asked for on someone else's behalf.
    pub asked_by_id: Option<String>,
    /// Requests this user made (or asked for on someone's behalf) or may decide as the requester's manager.
    pub involving: Option<String>,
    /// Only these requests (empty: no filter).
    pub ids: Vec<String>,
    /// Leave the approvals out (lighter, for summaries).
    pub without_approvals: bool,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// Which audit events to list, newest first. `before_seq` is the paging cursor.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub request_id: Option<String>,
    /// Events by or about this person (object id, or the actor's display name).
    pub person: Option<String>,
    /// Events of requests for this package.
    pub package: Option<String>,
    pub actor_id: Option<String>,
    pub subject_id: Option<String>,
    pub action: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub before_seq: Option<i64>,
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantCount {
    pub requester_id: String,
    pub grants: i64,
    pub last_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueKind {
    /// An approved grant whose start time has come.
    Start,
    /// An active grant whose end time has come.
    Expire,
    /// A pending request nobody decided in time.
    TimeOut,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueItem {
    pub request_id: String,
    pub kind: DueKind,
    pub at: DateTime<Utc>,
}
