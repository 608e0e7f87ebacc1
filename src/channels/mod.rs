//! Outbound clients for the notification channels other than Graph e-mail: chat webhooks
//! (Microsoft Teams Workflows, Slack), signed generic webhooks (Standard Webhooks) and SMTP.
//!
//! Nothing here decides who is told what: the service layer builds the messages and calls these
//! clients. Every failure is a [`ChannelError`] that says whether trying again may help. Its
//! message never holds a webhook URL (they carry a secret) nor a password.

pub mod chat;
pub mod http;
pub mod smtp;
pub mod webhook;

use std::time::Duration;

pub use chat::{ChatMessage, slack_payload, teams_payload};
pub use http::Poster;
pub use smtp::{SmtpConfig, SmtpMailer, SmtpSecurity};
pub use webhook::WebhookSecret;

/// A notification that could not be delivered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ChannelError {
    /// What went wrong, safe to log and to show to administrators.
    pub message: String,
    /// Whether the same notification may get through later (throttling, outages, timeouts).
    pub retriable: bool,
    /// How long the other side asked us to wait before trying again, when it said.
    pub retry_after: Option<Duration>,
}

impl ChannelError {
    /// A failure that may go away: try again later.
    pub fn transient(message: impl Into<String>) -> ChannelError {
        ChannelError {
            message: message.into(),
            retriable: true,
            retry_after: None,
        }
    }

    /// A failure that will not go away by itself: do not try again.
    pub fn permanent(message: impl Into<String>) -> ChannelError {
        ChannelError {
            message: message.into(),
            retriable: false,
            retry_after: None,
        }
    }

    /// The same error, asking to wait `wait` before the next attempt.
    pub fn with_retry_after(mut self, wait: Option<Duration>) -> ChannelError {
        self.retry_after = wait;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_set_the_retry_flag() {
        let e = ChannelError::transient("down");
        assert!(e.retriable);
        assert_eq!(e.retry_after, None);
        assert_eq!(e.to_string(), "down");
        let e = ChannelError::permanent("gone");
        assert!(!e.retriable);
        let e = ChannelError::transient("busy").with_retry_after(Some(Duration::from_secs(3)));
        assert_eq!(e.retry_after, Some(Duration::from_secs(3)));
    }
}
