//! The notification outbox's rows.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::notification::{Channel, NotificationOutcome};

/// A notification to queue, in the transaction of the change it tells of.
#[derive(Debug, Clone, PartialEq)]
pub struct NewNotification {
    /// Queued once per key: a second notification with the same key is not queued.
    pub dedupe_key: String,
    /// What happened (an audit action, or `reminder`, `escalation`).
    pub event: String,
    pub request_id: Option<String>,
    pub channel: Channel,
    /// Who is to hear it, as JSON the sender resolves (people, approvers, admins, a channel).
    pub audience: serde_json::Value,
    pub subject: String,
    pub body: String,
    pub not_before: DateTime<Utc>,
    /// E-mails with the same key (the deciders' e-mails about one person) go out at most once
    /// a minute; those held back meanwhile go together, as one digest.
    pub pace_key: Option<String>,
}

/// A queued notification.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notification {
    pub id: i64,
    pub dedupe_key: String,
    pub event: String,
    pub request_id: Option<String>,
    pub channel: Channel,
    pub audience: serde_json::Value,
    pub subject: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub not_before: DateTime<Utc>,
    /// Attempts started so far, counting the one under way.
    pub attempts: i64,
    pub last_error: Option<String>,
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
    pub done_at: Option<DateTime<Utc>>,
    pub outcome: Option<NotificationOutcome>,
    pub pace_key: Option<String>,
}
