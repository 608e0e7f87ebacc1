//! The link between events: the audit key, the genesis hash, and the keyed (`h1:` HMAC-SHA-256)
//! or plain (SHA-256) hash of an event's predecessor and canonical form.

use std::sync::Arc;

use hmac::Mac;
use sha2::{Digest, Sha256};

type HmacSha256 = hmac::Hmac<Sha256>;

/// The prefix of keyed hashes.
const KEYED: &str = "h1:";

/// The secret that keys the chain and signs anchors. Never stored in the database, never logged.
#[derive(Clone)]
pub struct ChainKey(Arc<[u8]>);

impl std::fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChainKey(..)")
    }
}

impl ChainKey {
    /// The shortest key accepted, in bytes.
    pub const MIN_LEN: usize = 32;

    pub fn new(secret: &[u8]) -> ChainKey {
        ChainKey(Arc::from(secret))
    }

    pub(super) fn mac(&self, parts: &[&[u8]]) -> String {
        let mut m = HmacSha256::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        for p in parts {
            m.update(p);
        }
        hex::encode(m.finalize().into_bytes())
    }
}

pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The link of an event whose predecessor's hash is `prev_hash` and whose canonical form is
/// `canonical`: keyed with `key`, or plain SHA-256 without one.
pub(super) fn link(prev_hash: &str, canonical: &str, key: Option<&ChainKey>) -> String {
    match key {
        Some(k) => format!(
            "{KEYED}{}",
            k.mac(&[prev_hash.as_bytes(), canonical.as_bytes()])
        ),
        None => {
            let mut h = Sha256::new();
            h.update(prev_hash.as_bytes());
            h.update(canonical.as_bytes());
            hex::encode(h.finalize())
        }
    }
}

/// Whether `hash` was made with the audit key.
pub(super) fn is_keyed(hash: &str) -> bool {
    hash.starts_with(KEYED)
}
