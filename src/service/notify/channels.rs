//! The service's side of the outbound channels: built once from `[notify]`, each delivery's
//! failure turned into [`Undelivered`] for the retry policy.

use std::time::Duration;

use secrecy::ExposeSecret;

use super::Undelivered;
use crate::channels::ChannelError;
use crate::channels::chat::{ChatMessage, slack_payload, teams_payload};
use crate::channels::http::Poster;
use crate::channels::smtp::{SmtpConfig, SmtpMailer, SmtpSecurity};
use crate::channels::webhook::{WebhookSecret, headers};
use crate::config::{NotifySettings, WebhookSettings};
use crate::domain::notification::Channel;

/// How long one delivery may take (connecting included), unless `[notify] timeout` says.
const TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) struct Channels {
    poster: Poster,
    smtp: Option<Result<SmtpMailer, String>>,
}

impl From<ChannelError> for Undelivered {
    fn from(e: ChannelError) -> Undelivered {
        Undelivered {
            retriable: e.retriable,
            retry_after: e
                .retry_after
                .and_then(|d| chrono::Duration::from_std(d).ok()),
            message: e.message,
        }
    }
}

impl Channels {
    pub(crate) fn new(notify: &NotifySettings) -> Channels {
        let timeout = notify.timeout.unwrap_or(TIMEOUT);
        let smtp = notify.smtp.as_ref().map(|s| {
            SmtpMailer::new(&SmtpConfig {
                host: s.host.clone(),
                port: s.port,
                security: match s.security {
                    crate::config::SmtpSecurity::StartTls => SmtpSecurity::StartTls,
                    crate::config::SmtpSecurity::Tls => SmtpSecurity::Tls,
                    crate::config::SmtpSecurity::None => SmtpSecurity::None,
                },
                username: s.username.clone(),
                password: s.password.clone(),
                from: s.from.clone(),
                timeout,
            })
        });
        Channels {
            poster: Poster::new(timeout),
            smtp,
        }
    }

    /// Sends an e-mail through the SMTP server.
    pub(super) async fn smtp(
        &self,
        subject: &str,
        body: &str,
        to: &[String],
    ) -> Result<(), Undelivered> {
        match &self.smtp {
            Some(Ok(m)) => Ok(m.send(to, subject, body).await?),
            Some(Err(e)) => Err(super::permanent(format!(
                "the SMTP settings cannot be used: {e}"
            ))),
            None => Err(super::permanent("SMTP is not configured")),
        }
    }

    /// Posts a short message to a Teams or Slack webhook.
    pub(super) async fn chat(
        &self,
        channel: Channel,
        url: &url::Url,
        title: &str,
        text: &str,
        link: Option<&str>,
    ) -> Result<(), Undelivered> {
        let m = ChatMessage { title, text, link };
        let (what, payload) = match channel {
            Channel::Teams => ("Teams webhook", teams_payload(&m)),
            _ => ("Slack webhook", slack_payload(&m)),
        };
        let body = serde_json::to_vec(&payload).unwrap_or_default();
        Ok(self.poster.post(what, url, &[], &body).await?)
    }

    /// Posts an audit event to the generic webhook, signed per Standard Webhooks.
    pub(super) async fn webhook(
        &self,
        hook: &WebhookSettings,
        msg_id: &str,
        timestamp: i64,
        payload: &[u8],
    ) -> Result<(), Undelivered> {
        let secret = WebhookSecret::parse(hook.secret.expose_secret())
            .map_err(|e| super::permanent(format!("the webhook secret cannot be used: {e}")))?;
        let h = headers(&secret, msg_id, timestamp, payload);
        Ok(self.poster.post("webhook", &hook.url, &h, payload).await?)
    }
}
