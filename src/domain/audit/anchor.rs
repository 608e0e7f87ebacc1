//! Anchors: the head of the chain at a moment, signed with the audit key and kept outside the
//! database.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::chain::ChainKey;
use super::timestamps::timestamp;

/// The head of the chain at a moment, kept outside the database (log, file, webhook) so that a
/// later verification can tell the trail was cut or replaced. Signed with the audit key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    pub seq: i64,
    pub hash: String,
    pub at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

impl Anchor {
    pub fn new(seq: i64, hash: &str, at: DateTime<Utc>, key: Option<&ChainKey>) -> Anchor {
        let mut a = Anchor {
            seq,
            hash: hash.to_string(),
            at: timestamp(at),
            signature: None,
        };
        a.signature = key.map(|k| k.mac(&[a.payload().as_bytes()]));
        a
    }

    fn payload(&self) -> String {
        format!("jitgate-anchor-v1|{}|{}|{}", self.seq, self.hash, self.at)
    }

    /// Whether the signature is the key's (an unsigned anchor, or no key to check with: false).
    pub fn signed_by(&self, key: &ChainKey) -> bool {
        self.signature
            .as_deref()
            .is_some_and(|s| s == key.mac(&[self.payload().as_bytes()]))
    }
}
