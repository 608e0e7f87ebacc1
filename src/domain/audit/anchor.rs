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
