//! Requests, their decisions, extensions and device-code sign-ins.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::people::Person;

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pending,
    Approved,
    Active,
    Denied,
    Cancelled,
    Expired,
    Ended,
    Revoked,
    TimedOut,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Approved => "approved",
            Status::Active => "active",
            Status::Denied => "denied",
            Status::Cancelled => "cancelled",
            Status::Expired => "expired",
            Status::Ended => "ended",
            Status::Revoked => "revoked",
            Status::TimedOut => "timed_out",
            Status::Failed => "failed",
        }
    }

    /// Nothing more will happen to a request in this state.
    pub fn is_final(self) -> bool {
        !matches!(self, Status::Pending | Status::Approved | Status::Active)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One request (a grant, once approved).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Request {
    /// A GUID.
    pub id: String,
    /// The package's id.
    pub package: String,
    /// The Entra group the package grants.
    pub group_id: String,
    /// Who would hold (or holds) the access.
    pub requester: Person,
    /// Who asked, when someone asked on the requester's behalf (an approver, an admin or a
    /// holder of the `requester_on_behalf` role); absent when the requester asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asked_by: Option<Person>,
    pub status: Status,
    pub duration_minutes: i64,
    pub justification: String,
    pub ticket: Option<String>,
    /// The ticket's link (http or https), as the package's ticket system gave it.
    #[serde(default)]
    pub ticket_url: Option<String>,
    #[serde(with = "super::time")]
    pub created_at: DateTime<Utc>,
    /// The later start asked for, if any.
    #[serde(with = "super::time::option")]
    pub requested_start: Option<DateTime<Utc>>,
    /// An undecided request times out at this time.
    #[serde(with = "super::time")]
    pub timeout_at: DateTime<Utc>,
    /// When access starts (or started).
    #[serde(with = "super::time::option")]
    pub starts_at: Option<DateTime<Utc>>,
    /// When access ends (or ended).
    #[serde(with = "super::time::option")]
    pub ends_at: Option<DateTime<Utc>>,
    #[serde(with = "super::time::option")]
    pub decided_at: Option<DateTime<Utc>>,
    /// Why it closed (a denial's or an end's reason, a directory failure).
    pub close_reason: Option<String>,
    pub approvals: Vec<Approval>,
    pub membership: Membership,
    /// Taken with break-glass: at once, without approval (its approver of record is
    /// `break-glass`); see `GET /api/v1/requests/{id}/break-glass` for its review.
    #[serde(default)]
    pub emergency: bool,
}

/// An approver's decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Approval {
    pub approver: Person,
    pub decision: Verdict,
    pub comment: Option<String>,
    #[serde(with = "super::time")]
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Approved,
    Denied,
}

/// When the requester was put in the group and taken out, as the directory confirmed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Membership {
    #[serde(with = "super::time::option")]
    pub added_at: Option<DateTime<Utc>>,
    #[serde(with = "super::time::option")]
    pub removed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RequestList {
    pub requests: Vec<Request>,
}

/// `GET /api/v1/requests`: every filter optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RequestQuery {
    /// One status or several, comma-separated (`pending,approved`); empty means any.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(
        pattern = r"^\s*(pending|approved|active|denied|cancelled|expired|ended|revoked|timed_out|failed)?\s*(,\s*(pending|approved|active|denied|cancelled|expired|ended|revoked|timed_out|failed)?\s*)*$"
    )]
    pub status: Option<String>,
    /// A package id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// Only the caller's own requests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mine: Option<bool>,
    /// Only the requests the caller asked for on others' behalf.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asked_by_me: Option<bool>,
    /// 1 to 1000 (default 100), newest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// How many to skip (default 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// `POST /api/v1/requests`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "package": "device-code-exemption",
    "duration_minutes": 120,
    "justification": "Signing in the Azure CLI on the build container",
    "ticket": "CHG-1042"
}))]
pub struct NewRequest {
    /// The package's id.
    pub package: String,
    /// Within the package's limits; its default when left out.
    #[serde(
        default,
        deserialize_with = "super::rules::whole::option::deserialize",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(minimum = 1)]
    pub duration_minutes: Option<i64>,
    /// Why, in at least 10 visible characters; no control characters but line breaks and tabs.
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub justification: String,
    /// Required where the package asks for a ticket or change number; one line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 100)]
    pub ticket: Option<String>,
    /// A later start (RFC 3339), within the package's `max_start_delay`.
    #[serde(
        default,
        with = "super::time::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub starts_at: Option<DateTime<Utc>>,
    /// Break-glass ("emergency, no approval"), where the package allows it: granted at once
    /// for at most its `break_glass.max_minutes`, told to every admin and approver, and
    /// reviewed afterwards. Refused with a token for the requests API.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub emergency: bool,
    /// Ask on others' behalf (approvers, admins and holders of the `requester_on_behalf` app
    /// role; never with a requests-API token): one request for each person or device account
    /// named here, by user principal name or object id (1 to 20), each checked against the
    /// package's rules as the one who would hold the grant. The answer is then 200 with one
    /// result per person ([`OnBehalfResults`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 20)]
    pub on_behalf_of: Vec<String>,
}

/// `POST /api/v1/requests` with `on_behalf_of`: what became of each person named, in the order
/// named. Each is asked for on their own: one refused leaves the others' requests standing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OnBehalfResults {
    pub results: Vec<OnBehalfResult>,
}

/// One person named in `on_behalf_of`: their request, or why none was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OnBehalfResult {
    /// The person as named.
    pub on_behalf_of: String,
    /// The status a request for this person alone would have had: 201 created; 403 (not
    /// eligible, a package rule such as `deny_privileged`, a disabled account), 404 (no such
    /// account), 409 (an open request or grant already), 422, 429, 503.
    pub status: u16,
    /// The request made (pending: a person decides requests asked on others' behalf).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<Request>,
    /// Why no request was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<super::ErrorDetail>,
}

/// `POST /api/v1/requests/{id}/approve`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"comment": "Fine for the release window", "duration_minutes": 60}))]
pub struct ApproveBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 1000)]
    pub comment: Option<String>,
    /// Grant less than asked (never more), down to the package's minimum.
    #[serde(
        default,
        deserialize_with = "super::rules::whole::option::deserialize",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(minimum = 1)]
    pub duration_minutes: Option<i64>,
}

/// `POST /api/v1/requests/{id}/deny` and `/extension/deny`: a reason is required.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"comment": "Use the pipeline's managed identity instead"}))]
pub struct DenyBody {
    /// Why not: something other than white space (left out or blank is refused with 422).
    #[serde(default)]
    #[schema(required = true, min_length = 1, max_length = 1000)]
    pub comment: String,
}

/// A body with nothing in it (`{}`, or no body at all).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({}))]
pub struct Empty {}

/// `POST /api/v1/requests/{id}/end`: the requester ends their own grant early.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "The deployment is done"}))]
pub struct EndBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 1000)]
    pub reason: Option<String>,
}

/// `POST /api/v1/requests/{id}/revoke`: an admin ends someone's grant, with a reason.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "The laptop was reported stolen"}))]
pub struct RevokeBody {
    /// Why: something other than white space (left out or blank is refused with 422).
    #[serde(default)]
    #[schema(required = true, min_length = 1, max_length = 1000)]
    pub reason: String,
}

/// The shortest extension one may ask for, in minutes (the portal refuses less).
pub const EXTENSION_MIN_MINUTES: i64 = 5;

/// `POST /api/v1/requests/{id}/extend`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"minutes": 30, "justification": "The database migration is still running"}))]
pub struct ExtendBody {
    /// How many more minutes: at least 5 minutes (`EXTENSION_MIN_MINUTES`; less is refused
    /// with 422), and the total from the grant's start stays within the package's limit.
    #[serde(deserialize_with = "super::rules::whole::deserialize")]
    #[schema(minimum = 5)]
    pub minutes: i64,
    #[schema(max_length = 1000)]
    pub justification: String,
}

/// `POST /api/v1/requests/{id}/extension/approve` (a denial takes a `DenyBody`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"comment": "Checked against the change calendar"}))]
pub struct ExtensionDecisionBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 1000)]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExtensionStatus {
    Pending,
    Approved,
    Denied,
    /// The grant ended before the extension was decided.
    Lapsed,
}

/// More time asked for an active grant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Extension {
    pub id: String,
    pub request_id: String,
    pub minutes: i64,
    pub justification: String,
    pub status: ExtensionStatus,
    #[serde(with = "super::time")]
    pub requested_at: DateTime<Utc>,
    /// The grant's end when it was asked for.
    #[serde(with = "super::time")]
    pub ends_before: DateTime<Utc>,
    /// The end it moved to, once approved.
    #[serde(with = "super::time::option")]
    pub ends_after: Option<DateTime<Utc>>,
    #[serde(with = "super::time::option")]
    pub decided_at: Option<DateTime<Utc>>,
    pub approvals: Vec<Approval>,
}

/// The grant and the extension asked or decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Extended {
    pub request: Request,
    pub extension: Extension,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ExtensionList {
    pub extensions: Vec<Extension>,
}

/// A device-code sign-in read from Entra's sign-in log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SignIn {
    /// The sign-in log entry's id.
    pub id: String,
    #[serde(with = "super::time")]
    pub at: DateTime<Utc>,
    pub user_id: String,
    pub user_principal_name: String,
    /// The application signed in to (its client id) and its name.
    pub app_id: String,
    pub app_name: String,
    pub ip_address: String,
    /// `success`, `failure` or `notApplied`, as Entra reports it.
    pub conditional_access: String,
    /// 0 when signed in; 53003 when Conditional Access blocked it.
    pub error_code: i64,
    pub failure_reason: Option<String>,
    /// The grant whose window it fell in.
    pub request_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SignInList {
    pub sign_ins: Vec<SignIn>,
}
