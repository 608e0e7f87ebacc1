//! `[notify]` as written: the mailbox e-mail is sent from through Graph, or `[notify.smtp]`; the
//! Teams and Slack webhooks; the audit webhook and its secret; the delivery timeout. All
//! optional.

use secrecy::SecretString;
use serde::Deserialize;

use super::lenient;

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub(in crate::config) struct RawNotify {
    /// The mailbox (user principal name or object id) e-mail is sent from, through Graph.
    pub(in crate::config) email_from: Option<String>,
    pub(in crate::config) smtp: Option<RawSmtp>,
    pub(in crate::config) teams_webhook: Option<String>,
    pub(in crate::config) slack_webhook: Option<String>,
    pub(in crate::config) webhook_url: Option<String>,
    /// Best from the environment (`JITGATE_NOTIFY__WEBHOOK_SECRET`).
    pub(in crate::config) webhook_secret: Option<SecretString>,
    pub(in crate::config) timeout: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(in crate::config) struct RawSmtp {
    pub(in crate::config) host: String,
    #[serde(default, deserialize_with = "lenient::opt_u16")]
    pub(in crate::config) port: Option<u16>,
    #[serde(default)]
    pub(in crate::config) security: Option<String>,
    /// `security = "none"` off loopback (an internal relay on port 25) only with this set.
    #[serde(default, deserialize_with = "lenient::bool")]
    pub(in crate::config) allow_plaintext: bool,
    #[serde(default)]
    pub(in crate::config) username: Option<String>,
    /// Best from the environment (`JITGATE_NOTIFY__SMTP__PASSWORD`).
    #[serde(default)]
    pub(in crate::config) password: Option<SecretString>,
    pub(in crate::config) from: String,
}
