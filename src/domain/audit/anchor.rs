//! Anchors: the head of the chain at a moment, signed with the audit key and kept outside the
//! database; and an anchor as read back, with where it came from.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::chain::ChainKey;
use super::timestamps::timestamp;

/// The head of the chain at a moment, kept outside the database (log, file, webhook) so that a
/// later verification can tell the trail was cut, replaced, or rewritten without the key.
/// Signed with the audit key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    /// The event anchored (0: the trail was empty).
    pub seq: i64,
    pub hash: String,
    pub at: String,
    /// From this event on, every link is keyed: the first keyed event, or the next event when
    /// none was keyed yet (the moment keying began). On anchors made with the audit key, and
    /// signed with them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyed_from: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

impl Anchor {
    pub fn new(
        seq: i64,
        hash: &str,
        at: DateTime<Utc>,
        keyed_from: Option<i64>,
        key: Option<&ChainKey>,
    ) -> Anchor {
        let mut a = Anchor {
            seq,
            hash: hash.to_string(),
            at: timestamp(at),
            keyed_from,
            signature: None,
        };
        a.signature = key.map(|k| k.mac(&[a.payload().as_bytes()]));
        a
    }

    /// What is signed. Anchors that record where keying began sign that too (version 2), so it
    /// can be neither removed nor moved.
    fn payload(&self) -> String {
        match self.keyed_from {
            None => format!("jitgate-anchor-v1|{}|{}|{}", self.seq, self.hash, self.at),
            Some(k) => format!(
                "jitgate-anchor-v2|{}|{}|{}|{k}",
                self.seq, self.hash, self.at
            ),
        }
    }

    /// Whether the signature is the key's (an unsigned anchor, or no key to check with: false).
    pub fn signed_by(&self, key: &ChainKey) -> bool {
        self.signature
            .as_deref()
            .is_some_and(|s| s == key.mac(&[self.payload().as_bytes()]))
    }
}

/// An anchor read back from outside the database, with where it was read (to name it when the
/// trail disagrees with it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcedAnchor {
    pub anchor: Anchor,
    /// Where it was read: a file and its line, or the portal's memory of what it sent.
    pub from: String,
}

impl SourcedAnchor {
    pub fn new(anchor: Anchor, from: impl Into<String>) -> SourcedAnchor {
        SourcedAnchor {
            anchor,
            from: from.into(),
        }
    }

    /// Which anchor it is, for a verdict.
    pub fn reference(&self) -> AnchorRef {
        AnchorRef {
            seq: self.anchor.seq,
            at: self.anchor.at.clone(),
            from: self.from.clone(),
        }
    }

    /// "the anchor of event 5 made 2026-…Z, from …", for a problem's words.
    pub fn describe(&self) -> String {
        format!(
            "the anchor of event {} made {}, from {}",
            self.anchor.seq, self.anchor.at, self.from
        )
    }
}

/// An anchor named in a verdict: the event it anchors, when it was made, and where it was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnchorRef {
    pub seq: i64,
    pub at: String,
    pub from: String,
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// What the `webhook` fuzz target checks of anchors: one written as a line reads back
        /// equal, verifies with its key and with no other, and stops verifying when a field it
        /// signs changes.
        #[test]
        fn anchors_read_back_and_verify(
            seq in any::<i64>(),
            hash in "\\PC{0,70}",
            millis in 0i64..8_000_000_000_000,
            keyed_from in proptest::option::of(any::<i64>()),
            key in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let key = ChainKey::new(&key);
            let at = Utc.timestamp_millis_opt(millis).unwrap();
            let a = Anchor::new(seq, &hash, at, keyed_from, Some(&key));
            let line = serde_json::to_string(&a).unwrap();
            prop_assert!(!line.contains('\n'));
            let back: Anchor = serde_json::from_str(&line).unwrap();
            prop_assert_eq!(&back, &a);
            prop_assert!(back.signed_by(&key));
            prop_assert!(!back.signed_by(&ChainKey::new(b"another key")));
            let mut changed = back.clone();
            changed.seq = changed.seq.wrapping_add(1);
            prop_assert!(!changed.signed_by(&key));
            let mut changed = back.clone();
            changed.hash.push('0');
            prop_assert!(!changed.signed_by(&key));
            let mut changed = back.clone();
            changed.keyed_from = Some(changed.keyed_from.map_or(1, |k| k.wrapping_add(1)));
            prop_assert!(!changed.signed_by(&key));
            let mut changed = back;
            changed.keyed_from = None;
            prop_assert_eq!(changed.signed_by(&key), keyed_from.is_none());
        }
    }
}
