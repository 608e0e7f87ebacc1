//! The tamper-evident audit trail: events chained by SHA-256.
//!
//! `hash = SHA-256(prev_hash ‖ canonical JSON of the event's fields)`, hex encoded. The first event's
//! `prev_hash` is 64 zeros. Changing, removing or reordering any stored event breaks every later link.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    RequestCreated,
    RequestApproved,
    RequestDenied,
    RequestCancelled,
    RequestTimedOut,
    GrantActivated,
    MembershipAdded,
    MembershipRemoved,
    GrantExpired,
    GrantEnded,
    GrantRevoked,
    GrantFailed,
    DirectoryError,
    DriftDetected,
    MembershipVerified,
    DriftRemoved,
    SessionsRevoked,
}

impl AuditAction {
    pub const ALL: [AuditAction; 17] = [
        AuditAction::RequestCreated,
        AuditAction::RequestApproved,
        AuditAction::RequestDenied,
        AuditAction::RequestCancelled,
        AuditAction::RequestTimedOut,
        AuditAction::GrantActivated,
        AuditAction::MembershipAdded,
        AuditAction::MembershipRemoved,
        AuditAction::GrantExpired,
        AuditAction::GrantEnded,
        AuditAction::GrantRevoked,
        AuditAction::GrantFailed,
        AuditAction::DirectoryError,
        AuditAction::DriftDetected,
        AuditAction::MembershipVerified,
        AuditAction::DriftRemoved,
        AuditAction::SessionsRevoked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::RequestCreated => "request_created",
            AuditAction::RequestApproved => "request_approved",
            AuditAction::RequestDenied => "request_denied",
            AuditAction::RequestCancelled => "request_cancelled",
            AuditAction::RequestTimedOut => "request_timed_out",
            AuditAction::GrantActivated => "grant_activated",
            AuditAction::MembershipAdded => "membership_added",
            AuditAction::MembershipRemoved => "membership_removed",
            AuditAction::GrantExpired => "grant_expired",
            AuditAction::GrantEnded => "grant_ended",
            AuditAction::GrantRevoked => "grant_revoked",
            AuditAction::GrantFailed => "grant_failed",
            AuditAction::DirectoryError => "directory_error",
            AuditAction::DriftDetected => "drift_detected",
            AuditAction::MembershipVerified => "membership_verified",
            AuditAction::DriftRemoved => "drift_removed",
            AuditAction::SessionsRevoked => "sessions_revoked",
        }
    }

    pub fn parse(s: &str) -> Option<AuditAction> {
        AuditAction::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

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
    /// Seals the event as the successor of (`prev_seq`, `prev_hash`).
    pub fn seal(self, prev_seq: i64, prev_hash: &str) -> AuditEvent {
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
        e.hash = e.compute_hash();
        e
    }
}

pub fn truncate_millis(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t.timestamp_millis()).expect("in range")
}

/// An instant as jitgate writes it everywhere: RFC 3339, UTC, milliseconds (`2026-11-22T09:00:00.000Z`).
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl AuditEvent {
    pub fn compute_hash(&self) -> String {
        let canonical = serde_json::json!([
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
        ]);
        let mut h = Sha256::new();
        h.update(self.prev_hash.as_bytes());
        h.update(canonical.to_string().as_bytes());
        hex::encode(h.finalize())
    }

    pub fn details_json(&self) -> serde_json::Value {
        serde_json::from_str(&self.details).unwrap_or(serde_json::Value::Null)
    }
}

/// The outcome of walking the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    pub ok: bool,
    pub events: i64,
    pub first_bad_seq: Option<i64>,
}

/// Walks the chain incrementally, so a store can feed it in pages.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    expected_seq: i64,
    prev_hash: String,
    events: i64,
    first_bad: Option<i64>,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            expected_seq: 1,
            prev_hash: GENESIS_HASH.to_string(),
            events: 0,
            first_bad: None,
        }
    }
}

impl ChainVerifier {
    pub fn feed(&mut self, e: &AuditEvent) {
        self.events += 1;
        if self.first_bad.is_none()
            && (e.seq != self.expected_seq
                || e.prev_hash != self.prev_hash
                || e.compute_hash() != e.hash)
        {
            self.first_bad = Some(e.seq);
        }
        self.expected_seq = e.seq + 1;
        self.prev_hash = e.hash.clone();
    }

    pub fn finish(self) -> Verification {
        self.status()
    }

    pub fn status(&self) -> Verification {
        Verification {
            ok: self.first_bad.is_none(),
            events: self.events,
            first_bad_seq: self.first_bad,
        }
    }

    /// The sequence number of the last event fed.
    pub fn last_seq(&self) -> i64 {
        self.expected_seq - 1
    }
}

pub fn verify_chain<'a>(events: impl IntoIterator<Item = &'a AuditEvent>) -> Verification {
    let mut v = ChainVerifier::default();
    for e in events {
        v.feed(e);
    }
    v.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn event(i: i64) -> NewAuditEvent {
        NewAuditEvent {
            at: Utc.timestamp_millis_opt(1_700_000_000_123 + i).unwrap(),
            actor_id: "u1".into(),
            actor_name: "Dana".into(),
            action: AuditAction::RequestCreated,
            request_id: Some(format!("r{i}")),
            subject_id: Some("u1".into()),
            details: serde_json::json!({"i": i}),
            client_ip: Some("127.0.0.1".into()),
            user_agent: None,
        }
    }

    fn chain(n: i64) -> Vec<AuditEvent> {
        let mut out: Vec<AuditEvent> = Vec::new();
        for i in 0..n {
            let (seq, prev) = out
                .last()
                .map(|e| (e.seq, e.hash.clone()))
                .unwrap_or((0, GENESIS_HASH.into()));
            out.push(event(i).seal(seq, &prev));
        }
        out
    }

    #[test]
    fn an_intact_chain_verifies() {
        let c = chain(5);
        assert_eq!(c[0].prev_hash, GENESIS_HASH);
        assert_eq!(c[4].seq, 5);
        assert_eq!(
            verify_chain(&c),
            Verification {
                ok: true,
                events: 5,
                first_bad_seq: None
            }
        );
        assert_eq!(
            verify_chain(&[]),
            Verification {
                ok: true,
                events: 0,
                first_bad_seq: None
            }
        );
    }

    #[test]
    fn any_edit_is_found_at_its_seq() {
        let fields: Vec<fn(&mut AuditEvent)> = vec![
            |e| e.actor_id = "mallory".into(),
            |e| e.details = r#"{"i":99}"#.into(),
            |e| e.at += chrono::Duration::milliseconds(1),
            |e| e.action = "request_denied".into(),
            |e| e.request_id = None,
            |e| e.client_ip = Some("10.0.0.1".into()),
        ];
        for edit in fields {
            let mut c = chain(5);
            edit(&mut c[2]);
            assert_eq!(verify_chain(&c).first_bad_seq, Some(3));
        }
    }

    #[test]
    fn deletion_and_reordering_are_found() {
        let mut c = chain(5);
        c.remove(1);
        assert_eq!(verify_chain(&c).first_bad_seq, Some(3));
        let mut c = chain(5);
        c.swap(3, 4);
        assert_eq!(verify_chain(&c).first_bad_seq, Some(5));
    }

    #[test]
    fn a_rehashed_edit_still_breaks_the_next_link() {
        let mut c = chain(4);
        c[1].actor_id = "mallory".into();
        c[1].hash = c[1].compute_hash();
        assert_eq!(verify_chain(&c).first_bad_seq, Some(3));
    }

    #[test]
    fn actions_round_trip() {
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::parse(a.as_str()), Some(a));
            assert_eq!(serde_json::to_value(a).unwrap(), a.as_str());
        }
        assert_eq!(AuditAction::parse("nope"), None);
    }
}
