//! `[audit]` as written: how often and where anchors of the chain's head go. The key is read
//! from the environment only (the file is refused when it holds one).

use secrecy::SecretString;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(in crate::config) struct RawAudit {
    /// Only from the environment (`JITGATE_AUDIT__KEY`); refused in the file.
    pub(in crate::config) key: Option<SecretString>,
    pub(in crate::config) anchor_every: String,
    pub(in crate::config) anchor_file: Option<String>,
    pub(in crate::config) anchor_webhook: Option<String>,
}

impl Default for RawAudit {
    fn default() -> Self {
        RawAudit {
            key: None,
            anchor_every: "1h".into(),
            anchor_file: None,
            anchor_webhook: None,
        }
    }
}
