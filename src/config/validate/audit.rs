//! `[audit]`: the key the audit chain is kept with (from the environment only), and how often
//! and where anchors of its head go.

use chrono::Duration;
use secrecy::ExposeSecret;

use super::{duration, non_empty, secret_url};
use crate::config::audit::chain_key;
use crate::config::file::RawAudit;
use crate::config::{AuditSettings, ConfigError, err};

pub(super) fn check(raw: &RawAudit) -> Result<AuditSettings, ConfigError> {
    Ok(AuditSettings {
        key: raw
            .key
            .as_ref()
            .map(|k| chain_key(k.expose_secret(), " (for example: openssl rand -base64 48)"))
            .transpose()?,
        anchor_every: match duration("audit.anchor_every", &raw.anchor_every)? {
            d if d < Duration::minutes(1) => {
                return Err(err("audit.anchor_every", "must be at least 1m"));
            }
            d => d,
        },
        anchor_file: raw
            .anchor_file
            .as_deref()
            .map(|f| non_empty("audit.anchor_file", f).map(std::path::PathBuf::from))
            .transpose()?,
        anchor_webhook: raw
            .anchor_webhook
            .as_deref()
            // Its path or query may hold a token: errors never repeat it.
            .map(|u| secret_url("audit.anchor_webhook", u))
            .transpose()?,
    })
}
