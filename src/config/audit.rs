//! `[audit]` as the portal uses it: the key of the audit trail's chain and where anchors of its
//! head go.

use chrono::Duration;

use super::{ConfigError, SecretUrl, err};
use crate::domain::audit::ChainKey;

/// The audit trail's key and where anchors of its head go.
#[derive(Debug, Clone)]
pub struct AuditSettings {
    /// Keys the chain and signs anchors (from `JITGATE_AUDIT__KEY` only).
    pub key: Option<ChainKey>,
    /// How often the head is anchored.
    pub anchor_every: Duration,
    /// Anchors are appended to this file (one JSON object a line), when set.
    pub anchor_file: Option<std::path::PathBuf>,
    /// Anchors are POSTed to this URL as JSON, when set. A credential (its path may hold a
    /// token): shown only as its host.
    pub anchor_webhook: Option<SecretUrl>,
}

impl AuditSettings {
    /// Keys the chain with `secret` (checked as `JITGATE_AUDIT__KEY` is).
    pub fn set_key(&mut self, secret: &str) -> Result<(), ConfigError> {
        self.key = Some(chain_key(secret, "")?);
        Ok(())
    }
}

/// The chain key `secret` makes; refused, naming `audit.key` (and adding `hint` to the message),
/// when it is shorter than [`ChainKey::MIN_LEN`].
pub(super) fn chain_key(secret: &str, hint: &str) -> Result<ChainKey, ConfigError> {
    if secret.len() < ChainKey::MIN_LEN {
        return Err(err(
            "audit.key",
            format!("must be at least {} characters{hint}", ChainKey::MIN_LEN),
        ));
    }
    Ok(ChainKey::new(secret.as_bytes()))
}
