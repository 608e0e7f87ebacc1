//! Instants as the audit trail keeps and writes them: to the millisecond.

use chrono::{DateTime, Utc};

/// `t` without what is below the millisecond (what the trail stores and hashes).
pub fn truncate_millis(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t.timestamp_millis()).expect("in range")
}

/// An instant as jitgate writes it everywhere: RFC 3339, UTC, milliseconds (`2026-11-22T09:00:00.000Z`).
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
