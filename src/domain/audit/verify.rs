//! Verification: walking the chain (in pages, as a store feeds it) for the first event that is
//! missing, moved, altered, unkeyed after keyed events, or not the one anchored.

use serde::Serialize;

use super::anchor::Anchor;
use super::chain::{ChainKey, GENESIS_HASH};
use super::event::AuditEvent;

/// The outcome of walking the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    pub ok: bool,
    pub events: i64,
    pub first_bad_seq: Option<i64>,
    /// What is wrong, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// Events linked without the key (written before one was configured).
    #[serde(skip_serializing_if = "is_zero")]
    pub unkeyed: i64,
    /// The anchor checked against, if one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anchor_seq: Option<i64>,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// Walks the chain incrementally, so a store can feed it in pages.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    expected_seq: i64,
    prev_hash: String,
    events: i64,
    first_bad: Option<(i64, String)>,
    key: Option<ChainKey>,
    keyed_seen: bool,
    unkeyed: i64,
    anchor: Option<Anchor>,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier::new(None, None)
    }
}

impl ChainVerifier {
    /// A verifier that checks keyed links with `key` and the chain against `anchor`.
    pub fn new(key: Option<ChainKey>, anchor: Option<Anchor>) -> ChainVerifier {
        let mut v = ChainVerifier {
            expected_seq: 1,
            prev_hash: GENESIS_HASH.to_string(),
            events: 0,
            first_bad: None,
            key,
            keyed_seen: false,
            unkeyed: 0,
            anchor: None,
        };
        if let Some(a) = anchor {
            match &v.key {
                Some(k) if !a.signed_by(k) => {
                    v.first_bad = Some((
                        a.seq,
                        format!(
                            "the anchor at event {} is not signed with the audit key",
                            a.seq
                        ),
                    ))
                }
                _ => {}
            }
            v.anchor = Some(a);
        }
        v
    }

    fn bad(&mut self, seq: i64, why: String) {
        if self.first_bad.is_none() {
            self.first_bad = Some((seq, why));
        }
    }

    pub fn feed(&mut self, e: &AuditEvent) {
        self.events += 1;
        if e.seq != self.expected_seq || e.prev_hash != self.prev_hash {
            self.bad(e.seq, format!("event {} does not follow the event before it (removed, inserted or reordered events)", e.seq));
        } else if e.is_keyed() {
            self.keyed_seen = true;
            match self.key.clone() {
                Some(k) if e.compute_hash(Some(&k)) == e.hash => {}
                Some(_) => self.bad(
                    e.seq,
                    format!(
                        "event {} was altered (its keyed hash does not match)",
                        e.seq
                    ),
                ),
                None => self.bad(
                    e.seq,
                    format!(
                        "event {} is keyed, and no audit key was given to check it",
                        e.seq
                    ),
                ),
            }
        } else {
            self.unkeyed += 1;
            if self.keyed_seen {
                self.bad(
                    e.seq,
                    format!("event {} is not keyed, after keyed events", e.seq),
                );
            } else if e.compute_hash(None) != e.hash {
                self.bad(
                    e.seq,
                    format!("event {} was altered (its hash does not match)", e.seq),
                );
            }
        }
        if let Some(a) = &self.anchor
            && a.seq == e.seq
            && a.hash != e.hash
        {
            let why = format!("event {} is not the event that was anchored", e.seq);
            self.bad(e.seq, why);
        }
        self.expected_seq = e.seq + 1;
        self.prev_hash = e.hash.clone();
    }

    pub fn finish(self) -> Verification {
        self.status()
    }

    pub fn status(&self) -> Verification {
        let mut first_bad = self.first_bad.clone();
        if let Some(a) = &self.anchor
            && first_bad.is_none()
            && a.seq > self.last_seq()
        {
            first_bad = Some((
                self.last_seq() + 1,
                format!(
                    "the trail ends at event {}, but event {} was anchored: events were cut",
                    self.last_seq(),
                    a.seq
                ),
            ));
        }
        Verification {
            ok: first_bad.is_none(),
            events: self.events,
            first_bad_seq: first_bad.as_ref().map(|b| b.0),
            problem: first_bad.map(|b| b.1),
            unkeyed: self.unkeyed,
            anchor_seq: self.anchor.as_ref().map(|a| a.seq),
        }
    }

    /// The sequence number of the last event fed.
    pub fn last_seq(&self) -> i64 {
        self.expected_seq - 1
    }

    /// The hash of the last event fed (the genesis hash before any).
    pub fn last_hash(&self) -> &str {
        &self.prev_hash
    }
}

pub fn verify_chain<'a>(events: impl IntoIterator<Item = &'a AuditEvent>) -> Verification {
    let mut v = ChainVerifier::default();
    for e in events {
        v.feed(e);
    }
    v.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::audit::{AuditAction, NewAuditEvent};
    use chrono::{TimeZone, Utc};

    fn event(i: i64) -> NewAuditEvent {
        NewAuditEvent {
            at: Utc.timestamp_millis_opt(1_700_000_000_123 + i).unwrap(),
            actor_id: "u1".into(),
            actor_name: "Dana".into(),
            action: AuditAction::RequestCreated,
            request_id: Some(format!("r{i}")),
            subject_id: Some("u1".into()),
            details: serde_json::json!({"i": i}),
            client_ip: Some("127.0.0.1".into()),
            user_agent: None,
        }
    }

    /// Appends events `from..to` to `out`, each linked to the last, keyed with `key`.
    fn extend(out: &mut Vec<AuditEvent>, from: i64, to: i64, key: Option<&ChainKey>) {
        for i in from..to {
            let (seq, prev) = out
                .last()
                .map(|e| (e.seq, e.hash.clone()))
                .unwrap_or((0, GENESIS_HASH.into()));
            out.push(event(i).seal(seq, &prev, key));
        }
    }

    fn chain(n: i64) -> Vec<AuditEvent> {
        let mut out = Vec::new();
        extend(&mut out, 0, n, None);
        out
    }

    #[test]
    fn an_intact_chain_verifies() {
        let c = chain(5);
        assert_eq!(c[0].prev_hash, GENESIS_HASH);
        assert_eq!(c[4].seq, 5);
        assert_eq!(
            verify_chain(&c),
            Verification {
                ok: true,
                events: 5,
                first_bad_seq: None,
                problem: None,
                unkeyed: 5,
                anchor_seq: None,
            }
        );
        assert_eq!(
            verify_chain(&[]),
            Verification {
                ok: true,
                events: 0,
                first_bad_seq: None,
                problem: None,
                unkeyed: 0,
                anchor_seq: None,
            }
        );
    }

    #[test]
    fn any_edit_is_found_at_its_seq() {
        let fields: Vec<fn(&mut AuditEvent)> = vec![
            |e| e.actor_id = "mallory".into(),
            |e| e.details = r#"{"i":99}"#.into(),
            |e| e.at += chrono::Duration::milliseconds(1),
            |e| e.action = "request_denied".into(),
            |e| e.request_id = None,
            |e| e.client_ip = Some("10.0.0.1".into()),
        ];
        for edit in fields {
            let mut c = chain(5);
            edit(&mut c[2]);
            assert_eq!(verify_chain(&c).first_bad_seq, Some(3));
        }
    }

    #[test]
    fn deletion_and_reordering_are_found() {
        let mut c = chain(5);
        c.remove(1);
        assert_eq!(verify_chain(&c).first_bad_seq, Some(3));
        let mut c = chain(5);
        c.swap(3, 4);
        assert_eq!(verify_chain(&c).first_bad_seq, Some(5));
    }

    #[test]
    fn a_rehashed_edit_still_breaks_the_next_link() {
        let mut c = chain(4);
        c[1].actor_id = "mallory".into();
        c[1].hash = c[1].compute_hash(None);
        assert_eq!(verify_chain(&c).first_bad_seq, Some(3));
    }

    fn keyed_chain(n: i64, key: &ChainKey) -> Vec<AuditEvent> {
        let mut out = Vec::new();
        extend(&mut out, 0, n, Some(key));
        out
    }

    fn verify_with(
        c: &[AuditEvent],
        key: Option<&ChainKey>,
        anchor: Option<Anchor>,
    ) -> Verification {
        let mut v = ChainVerifier::new(key.cloned(), anchor);
        for e in c {
            v.feed(e);
        }
        v.finish()
    }

    #[test]
    fn without_the_key_nobody_can_rewrite_and_relink() {
        let key = ChainKey::new(&[7u8; 32]);
        let c = keyed_chain(5, &key);
        assert!(c.iter().all(AuditEvent::is_keyed));
        let v = verify_with(&c, Some(&key), None);
        assert!(v.ok && v.unkeyed == 0, "{v:?}");
        // A database owner rewrites event 2 and recomputes every later link, as plain SHA-256
        // (or with a guessed key): found at the first rewritten event.
        for forged_key in [None, Some(ChainKey::new(&[8u8; 32]))] {
            let mut forged = c.clone();
            forged[1].actor_id = "mallory".into();
            for i in 1..forged.len() {
                forged[i].prev_hash = forged[i - 1].hash.clone();
                forged[i].hash = forged[i].compute_hash(forged_key.as_ref());
            }
            let v = verify_with(&forged, Some(&key), None);
            assert_eq!(v.first_bad_seq, Some(2), "{v:?}");
        }
        // Keyed events cannot be checked without the key: not reported as intact.
        let v = verify_with(&c, None, None);
        assert!(!v.ok && v.problem.unwrap().contains("no audit key"));
        // Unkeyed events from before the key was configured are counted, and accepted only first.
        let mut mixed = chain(2);
        extend(&mut mixed, 2, 4, Some(&key));
        let v = verify_with(&mixed, Some(&key), None);
        assert!(v.ok && v.unkeyed == 2, "{v:?}");
        let mut late = mixed.clone();
        late[3].hash = late[3].compute_hash(None);
        assert_eq!(verify_with(&late, Some(&key), None).first_bad_seq, Some(4));
    }

    #[test]
    fn anchors_show_a_cut_tail_or_a_replaced_trail() {
        let key = ChainKey::new(&[7u8; 32]);
        let c = keyed_chain(6, &key);
        let at = Utc.timestamp_millis_opt(1_700_000_100_000).unwrap();
        let anchor = Anchor::new(5, &c[4].hash, at, Some(&key));
        assert!(anchor.signed_by(&key));
        assert!(!anchor.signed_by(&ChainKey::new(&[8u8; 32])));
        let v = verify_with(&c, Some(&key), Some(anchor.clone()));
        assert!(v.ok && v.anchor_seq == Some(5), "{v:?}");
        // The last two events cut: the chain itself is intact, the anchor is not reached.
        let v = verify_with(&c[..4], Some(&key), Some(anchor.clone()));
        assert_eq!(v.first_bad_seq, Some(5));
        assert!(v.problem.unwrap().contains("cut"));
        // The whole trail replaced by another, intact, plain one of the same length.
        let other = chain(6);
        let v = verify_with(&other, Some(&key), Some(anchor.clone()));
        assert!(!v.ok);
        let v = verify_with(&other, None, Some(anchor.clone()));
        assert_eq!(v.first_bad_seq, Some(5), "even without the key");
        // A forged anchor is refused.
        let mut forged = anchor;
        forged.seq = 2;
        forged.hash = c[1].hash.clone();
        let v = verify_with(&c, Some(&key), Some(forged));
        assert!(!v.ok && v.problem.unwrap().contains("not signed"));
    }
}
