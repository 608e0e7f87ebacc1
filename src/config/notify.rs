//! `[notify]` as the senders use it: e-mail through Graph or an SMTP server, the chat webhooks
//! (the portal's own and each package's), and the webhook every audit event goes to.

use std::collections::HashMap;

use secrecy::SecretString;
use url::Url;

/// Who is told what happened, and how.
#[derive(Debug, Clone, Default)]
pub struct NotifySettings {
    /// E-mail through Microsoft Graph from this mailbox (needs `Mail.Send`); none when unset.
    pub email_from: Option<String>,
    /// How long one delivery through SMTP or a webhook may take (10 s when unset).
    pub timeout: Option<std::time::Duration>,
    /// E-mail through an SMTP server instead of Graph.
    pub smtp: Option<SmtpSettings>,
    /// A Microsoft Teams Workflows webhook: admin alerts, and packages without one of their own.
    pub teams_webhook: Option<SecretUrl>,
    /// A Slack incoming webhook: admin alerts, and packages without one of their own.
    pub slack_webhook: Option<SecretUrl>,
    /// Packages' own Teams webhooks, by package id.
    pub package_teams: HashMap<String, SecretUrl>,
    /// Packages' own Slack webhooks, by package id.
    pub package_slack: HashMap<String, SecretUrl>,
    /// Every audit event is POSTed here, signed per Standard Webhooks.
    pub webhook: Option<WebhookSettings>,
}

impl NotifySettings {
    /// Whether e-mail is configured (through Graph or SMTP).
    pub fn email(&self) -> bool {
        self.email_from.is_some() || self.smtp.is_some()
    }

    /// What is allowed but weakens the portal's protection, one sentence each: mail to an SMTP
    /// relay off loopback without encryption.
    pub fn warnings(&self) -> Vec<String> {
        match &self.smtp {
            Some(s) if s.allow_plaintext => vec![format!(
                "e-mail to the SMTP relay {}:{} is unencrypted ([notify.smtp] security = \"none\", allow_plaintext = true): anyone on the network path can read it",
                s.host, s.port
            )],
            _ => Vec::new(),
        }
    }
}

/// A URL that is itself a credential (chat webhooks): shown only as its host.
#[derive(Clone, PartialEq)]
pub struct SecretUrl(pub Url);

impl std::fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}://{}/…",
            self.0.scheme(),
            self.0.host_str().unwrap_or("")
        )
    }
}

/// An SMTP server e-mail is sent through.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    /// `starttls` (default), `tls` (implicit TLS, port 465) or `none` (on loopback, or off it
    /// with `allow_plaintext`).
    pub security: SmtpSecurity,
    /// `security = "none"` to a relay off loopback, said to be meant: warned of at start and
    /// by `jitgate check`. False on loopback, where nothing crosses the network.
    pub allow_plaintext: bool,
    pub username: Option<String>,
    pub password: Option<SecretString>,
    /// The sender address.
    pub from: String,
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    StartTls,
    Tls,
    None,
}

/// The generic webhook every audit event goes to.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    pub url: Url,
    /// The Standard Webhooks secret (`whsec_…`), from `JITGATE_NOTIFY__WEBHOOK_SECRET`.
    pub secret: SecretString,
}
