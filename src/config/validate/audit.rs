//! `[audit]`: the key the audit chain is kept with (from the environment only), and how often
//! and where anchors of its head go.

use chrono::Duration;
use secrecy::ExposeSecret;

use super::{duration, http_url, non_empty};
use crate::config::file::RawAudit;
use crate::config::{AuditSettings, ConfigError, err};
use crate::domain::audit::ChainKey;

pub(super) fn check(raw: &RawAudit) -> Result<AuditSettings, ConfigError> {
    Ok(AuditSettings {
        key: match &raw.key {
            None => None,
            Some(k) if k.expose_secret().len() < ChainKey::MIN_LEN => {
                return Err(err(
                    "audit.key",
                    format!(
                        "must be at least {} characters (for example: openssl rand -base64 48)",
                        ChainKey::MIN_LEN
                    ),
                ));
            }
            Some(k) => Some(ChainKey::new(k.expose_secret().as_bytes())),
        },
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
            .map(|u| http_url("audit.anchor_webhook", u))
            .transpose()?,
    })
}
