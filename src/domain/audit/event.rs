//! Audit events: the one about to be appended, the one as stored, and how it is sealed into the
//! chain (its canonical form and link).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::action::AuditAction;
use super::chain::{self, ChainKey};
use super::timestamps::truncate_millis;

/// An event about to be appended.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAuditEvent {
    pub at: DateTime<Utc>,
    pub actor_id: String,
    pub actor_name: String,
    pub action: AuditAction,
    pub request_id: Option<String>,
    pub subject_id: Option<String>,
    pub details: serde_json::Value,
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
}

/// An event as stored. `at` is kept to the millisecond.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEvent {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor_id: String,
    pub actor_name: String,
    pub action: String,
    pub request_id: Option<String>,
    pub subject_id: Option<String>,
    /// The details exactly as hashed (a JSON document).
    pub details: String,
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl NewAuditEvent {
    /// Seals the event as the successor of (`prev_seq`, `prev_hash`), keyed when `key` is given.
    pub fn seal(self, prev_seq: i64, prev_hash: &str, key: Option<&ChainKey>) -> AuditEvent {
        let mut e = AuditEvent {
            seq: prev_seq + 1,
            at: truncate_millis(self.at),
            actor_id: self.actor_id,
            actor_name: self.actor_name,
            action: self.action.as_str().to_string(),
            request_id: self.request_id,
            subject_id: self.subject_id,
            details: self.details.to_string(),
            client_ip: self.client_ip,
            user_agent: self.user_agent,
            prev_hash: prev_hash.to_string(),
            hash: String::new(),
        };
        e.hash = e.compute_hash(key);
        e
    }
}

impl AuditEvent {
    /// The event's link: keyed with `key`, or plain SHA-256 without one.
    pub fn compute_hash(&self, key: Option<&ChainKey>) -> String {
        chain::link(&self.prev_hash, &self.canonical(), key)
    }

    /// Whether the event's link was made with the audit key.
    pub fn is_keyed(&self) -> bool {
        chain::is_keyed(&self.hash)
    }

    fn canonical(&self) -> String {
        serde_json::json!([
            self.seq,
            self.at.timestamp_millis(),
            self.actor_id,
            self.actor_name,
            self.action,
            self.request_id,
            self.subject_id,
            self.details,
            self.client_ip,
            self.user_agent,
        ])
        .to_string()
    }

    pub fn details_json(&self) -> serde_json::Value {
        serde_json::from_str(&self.details).unwrap_or(serde_json::Value::Null)
    }
}
