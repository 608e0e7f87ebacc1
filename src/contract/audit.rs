//! The audit trail: its events (the API's view and the JSON Lines export alike) and the chain's
//! verification.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Who acted: a person's object id and name, or `system`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Actor {
    pub id: String,
    pub name: String,
}

/// One audit event, as chained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditEvent {
    pub seq: i64,
    #[serde(with = "super::time")]
    pub at: DateTime<Utc>,
    pub actor: Actor,
    /// `request_created`, `request_approved`, `membership_added`, `grant_expired`, …
    pub action: String,
    pub request_id: Option<String>,
    /// The person whose access the event concerns.
    pub subject: Option<String>,
    /// The action's particulars (a JSON object).
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EventList {
    /// Newest first.
    pub events: Vec<AuditEvent>,
    /// Pass as `cursor` for the next (older) page; `null` on the last page.
    pub next_cursor: Option<i64>,
}

/// `GET /api/v1/audit` (and the audit page): every filter optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// A request's id.
    pub request: Option<String>,
    /// A person (actor or subject): object id, name or user name.
    pub person: Option<String>,
    /// A package's id.
    pub package: Option<String>,
    /// The actor's object id (or `system`).
    pub actor: Option<String>,
    /// The subject's object id.
    pub subject: Option<String>,
    /// One action, e.g. `membership_added` (the document lists them all).
    pub action: Option<String>,
    /// Events at or after this RFC 3339 time.
    #[param(format = DateTime)]
    pub since: Option<String>,
    /// Events before this RFC 3339 time.
    #[param(format = DateTime)]
    pub until: Option<String>,
    /// 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<i64>,
    /// `json` (default), `csv` or `jsonl` (an export, as a download).
    #[param(pattern = "^(json|csv|jsonl)$")]
    pub format: Option<String>,
}

/// The outcome of walking the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Verification {
    pub ok: bool,
    pub events: i64,
    pub first_bad_seq: Option<i64>,
    /// What is wrong, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// Events linked without the audit key (written before one was configured).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unkeyed: i64,
    /// How many anchors, read back from outside the database (the anchor file, the last anchor
    /// the portal sent), the trail was checked against.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub anchors: i64,
    /// The latest event anchored among them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor_seq: Option<i64>,
    /// From this event on every link must be keyed: keying began there, as an anchor signed
    /// with the audit key records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyed_from: Option<i64>,
    /// The anchor the trail disagrees with, when that is what is wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bad_anchor: Option<AnchorRef>,
}

/// An anchor named in a verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AnchorRef {
    /// The event it anchors (0: the trail was empty).
    pub seq: i64,
    /// When it was made (RFC 3339).
    pub at: String,
    /// Where it was read: the anchor file and its line, or the last anchor the portal sent.
    pub from: String,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}
