//! Notifications: who is told what, through which channel. Pure: the outbox stores them, the
//! sender delivers them.

use serde::{Deserialize, Serialize};

/// Where a notification goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// E-mail to people (through Microsoft Graph or SMTP).
    Email,
    /// A Microsoft Teams channel (Workflows webhook, Adaptive Card).
    Teams,
    /// A Slack channel (incoming webhook, Block Kit).
    Slack,
    /// A generic webhook (every audit event, signed per Standard Webhooks).
    Webhook,
}

impl Channel {
    pub const ALL: [Channel; 4] = [
        Channel::Email,
        Channel::Teams,
        Channel::Slack,
        Channel::Webhook,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Teams => "teams",
            Channel::Slack => "slack",
            Channel::Webhook => "webhook",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// How a notification ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationOutcome {
    /// The channel accepted it.
    Sent,
    /// Given up after its attempts, or refused for good.
    Failed,
    /// No longer applied when it came due (a reminder of an end that moved, an escalation of a
    /// request already decided).
    Skipped,
}

impl NotificationOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationOutcome::Sent => "sent",
            NotificationOutcome::Failed => "failed",
            NotificationOutcome::Skipped => "skipped",
        }
    }

    pub fn parse(s: &str) -> Option<NotificationOutcome> {
        match s {
            "sent" => Some(NotificationOutcome::Sent),
            "failed" => Some(NotificationOutcome::Failed),
            "skipped" => Some(NotificationOutcome::Skipped),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_and_outcomes_round_trip() {
        for c in Channel::ALL {
            assert_eq!(Channel::parse(c.as_str()), Some(c));
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
        assert_eq!(Channel::parse("fax"), None);
        for o in [
            NotificationOutcome::Sent,
            NotificationOutcome::Failed,
            NotificationOutcome::Skipped,
        ] {
            assert_eq!(NotificationOutcome::parse(o.as_str()), Some(o));
        }
        assert_eq!(NotificationOutcome::parse("lost"), None);
    }
}
