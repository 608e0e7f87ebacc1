//! The API's JSON shapes.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use crate::domain::{AuditEvent, Decision, Request};

pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn ts_opt(t: Option<DateTime<Utc>>) -> Value {
    t.map_or(Value::Null, |t| Value::String(ts(t)))
}

pub fn request(r: &Request) -> Value {
    json!({
        "id": r.id,
        "package": r.package,
        "group_id": r.group_id,
        "requester": r.requester,
        "status": r.status,
        "duration_minutes": r.duration_minutes,
        "justification": r.justification,
        "ticket": r.ticket,
        "created_at": ts(r.created_at),
        "requested_start": ts_opt(r.requested_start),
        "timeout_at": ts(r.timeout_at),
        "starts_at": ts_opt(r.starts_at),
        "ends_at": ts_opt(r.ends_at),
        "decided_at": ts_opt(r.decided_at),
        "close_reason": r.close_reason,
        "approvals": r.approvals.iter().map(|a| json!({
            "approver": a.approver,
            "decision": match a.decision { Decision::Approve => "approved", Decision::Deny => "denied" },
            "comment": a.comment,
            "at": ts(a.at),
        })).collect::<Vec<_>>(),
        "membership": {"added_at": ts_opt(r.added_at), "removed_at": ts_opt(r.removed_at)},
    })
}

#[derive(Serialize)]
pub struct EventView<'a> {
    pub seq: i64,
    pub at: String,
    pub actor: Value,
    pub action: &'a str,
    pub request_id: &'a Option<String>,
    pub subject: &'a Option<String>,
    pub details: Value,
    pub client_ip: &'a Option<String>,
    pub user_agent: &'a Option<String>,
    pub prev_hash: &'a str,
    pub hash: &'a str,
}

pub fn event(e: &AuditEvent) -> EventView<'_> {
    EventView {
        seq: e.seq,
        at: ts(e.at),
        actor: json!({"id": e.actor_id, "name": e.actor_name}),
        action: &e.action,
        request_id: &e.request_id,
        subject: &e.subject_id,
        details: e.details_json(),
        client_ip: &e.client_ip,
        user_agent: &e.user_agent,
        prev_hash: &e.prev_hash,
        hash: &e.hash,
    }
}
