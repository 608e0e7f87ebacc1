//! Verification: walking the chain (in pages, as a store feeds it) for the first event that is
//! missing, moved, altered, unkeyed where it must be keyed, or not the one anchored; and the
//! trail against every anchor read back from outside the database, naming the one it disagrees
//! with. An anchor signed with the key records where keying began (`keyed_from`): from there on
//! an unkeyed link is refused, so a trail rewritten without the key (whole, or from the moment
//! keying began) does not verify.

use std::collections::BTreeMap;

use serde::Serialize;

use super::anchor::{Anchor, AnchorRef, SourcedAnchor};
use super::chain::{ChainKey, GENESIS_HASH, is_keyed};
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
    /// How many anchors, read back from outside the database, the trail was checked against.
    #[serde(skip_serializing_if = "is_zero")]
    pub anchors: i64,
    /// The latest event anchored among them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anchor_seq: Option<i64>,
    /// From this event on every link must be keyed: keying began there, as an anchor signed with
    /// the key records.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keyed_from: Option<i64>,
    /// The anchor the trail disagrees with, when that is what is wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bad_anchor: Option<AnchorRef>,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// The first thing found wrong.
#[derive(Debug, Clone)]
struct Bad {
    seq: i64,
    why: String,
    anchor: Option<AnchorRef>,
}

/// Walks the chain incrementally, so a store can feed it in pages.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    expected_seq: i64,
    prev_hash: String,
    events: i64,
    first_bad: Option<Bad>,
    key: Option<ChainKey>,
    keyed_seen: bool,
    first_keyed: Option<i64>,
    unkeyed: i64,
    /// The anchors to check against, by the event they anchor.
    anchors: BTreeMap<i64, Vec<SourcedAnchor>>,
    anchor_count: i64,
    /// The earliest start of keying an anchor signed with the key records, and that anchor.
    keying: Option<(i64, SourcedAnchor)>,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier::new(None, None)
    }
}

impl ChainVerifier {
    /// A verifier that checks keyed links with `key` and the chain against `anchor`.
    pub fn new(key: Option<ChainKey>, anchor: Option<Anchor>) -> ChainVerifier {
        ChainVerifier::with_anchors(
            key,
            anchor.map(|a| SourcedAnchor::new(a, "the anchor given")),
        )
    }

    /// A verifier that checks keyed links with `key` and the chain against every one of
    /// `anchors`. With the key, an anchor whose signature is not the key's is refused (an
    /// unsigned one is checked only if it anchors a plain event: one from before the key).
    pub fn with_anchors(
        key: Option<ChainKey>,
        anchors: impl IntoIterator<Item = SourcedAnchor>,
    ) -> ChainVerifier {
        let mut v = ChainVerifier {
            expected_seq: 1,
            prev_hash: GENESIS_HASH.to_string(),
            events: 0,
            first_bad: None,
            key,
            keyed_seen: false,
            first_keyed: None,
            unkeyed: 0,
            anchors: BTreeMap::new(),
            anchor_count: 0,
            keying: None,
        };
        for a in anchors {
            v.add_anchor(a);
        }
        v
    }

    fn add_anchor(&mut self, a: SourcedAnchor) {
        self.anchor_count += 1;
        let seq = a.anchor.seq;
        let signed = match (&self.key, &a.anchor.signature) {
            (Some(k), Some(_)) if a.anchor.signed_by(k) => true,
            (Some(_), Some(_)) => {
                let why = format!("the anchor at event {seq} is not signed with the audit key");
                return self.bad(seq, why, Some(&a));
            }
            (Some(_), None) if is_keyed(&a.anchor.hash) => {
                let why = format!("the anchor at event {seq} anchors a keyed event, unsigned");
                return self.bad(seq, why, Some(&a));
            }
            _ => false,
        };
        if seq < 0 || (seq == 0 && a.anchor.hash != GENESIS_HASH) {
            let why = format!("the anchor at event {seq} does not anchor this trail");
            return self.bad(seq.max(0), why, Some(&a));
        }
        if signed
            && let Some(from) = a.anchor.keyed_from
            && self.keying.as_ref().is_none_or(|(k, _)| from < *k)
        {
            self.keying = Some((from, a.clone()));
        }
        self.anchors.entry(seq).or_default().push(a);
    }

    /// Records what is wrong at `seq` (the first thing found is kept), naming `anchor` if it
    /// is the one the trail disagrees with.
    fn bad(&mut self, seq: i64, why: String, anchor: Option<&SourcedAnchor>) {
        if self.first_bad.is_none() {
            self.first_bad = Some(Bad {
                seq,
                why: match anchor {
                    Some(a) => format!("{why} ({})", a.describe()),
                    None => why,
                },
                anchor: anchor.map(SourcedAnchor::reference),
            });
        }
    }

    pub fn feed(&mut self, e: &AuditEvent) {
        self.events += 1;
        if e.seq != self.expected_seq || e.prev_hash != self.prev_hash {
            self.bad(e.seq, format!("event {} does not follow the event before it (removed, inserted or reordered events)", e.seq), None);
        } else if e.is_keyed() {
            self.keyed_seen = true;
            self.first_keyed.get_or_insert(e.seq);
            match self.key.clone() {
                Some(k) if e.compute_hash(Some(&k)) == e.hash => {}
                Some(_) => self.bad(
                    e.seq,
                    format!(
                        "event {} was altered (its keyed hash does not match)",
                        e.seq
                    ),
                    None,
                ),
                None => self.bad(
                    e.seq,
                    format!(
                        "event {} is keyed, and no audit key was given to check it",
                        e.seq
                    ),
                    None,
                ),
            }
        } else {
            self.unkeyed += 1;
            if self.keyed_seen {
                let why = format!("event {} is not keyed, after keyed events", e.seq);
                self.bad(e.seq, why, None);
            } else if let Some((from, a)) = self.keying.clone()
                && e.seq >= from
            {
                let why = format!(
                    "event {} is not keyed, but keying began at event {from}: every event from there on must be",
                    e.seq
                );
                self.bad(e.seq, why, Some(&a));
            } else if e.compute_hash(None) != e.hash {
                let why = format!("event {} was altered (its hash does not match)", e.seq);
                self.bad(e.seq, why, None);
            }
        }
        let disagrees = self
            .anchors
            .get(&e.seq)
            .and_then(|list| list.iter().find(|a| a.anchor.hash != e.hash))
            .cloned();
        if let Some(a) = disagrees {
            let why = format!("event {} is not the event that was anchored", e.seq);
            self.bad(e.seq, why, Some(&a));
        }
        // A broken store may hold any number: the last one possible is a finding, not a panic.
        self.expected_seq = e.seq.saturating_add(1);
        self.prev_hash = e.hash.clone();
    }

    pub fn finish(self) -> Verification {
        self.status()
    }

    pub fn status(&self) -> Verification {
        let mut first_bad = self.first_bad.clone();
        let last = self.last_seq();
        if first_bad.is_none()
            && let Some((&seq, list)) = self.anchors.last_key_value()
            && seq > last
        {
            let a = &list[0];
            first_bad = Some(Bad {
                seq: last.saturating_add(1),
                why: format!(
                    "the trail ends at event {last}, but event {seq} was anchored: events were cut ({})",
                    a.describe()
                ),
                anchor: Some(a.reference()),
            });
        }
        Verification {
            ok: first_bad.is_none(),
            events: self.events,
            first_bad_seq: first_bad.as_ref().map(|b| b.seq),
            unkeyed: self.unkeyed,
            anchors: self.anchor_count,
            anchor_seq: self.anchors.last_key_value().map(|(seq, _)| *seq),
            keyed_from: self.keying.as_ref().map(|(k, _)| *k),
            bad_anchor: first_bad.as_ref().and_then(|b| b.anchor.clone()),
            problem: first_bad.map(|b| b.why),
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

    /// Where keying began, for an anchor of the head made with the key now: the first keyed
    /// event (or an earlier start an anchor records), else the next event.
    pub fn keyed_from(&self) -> i64 {
        self.first_keyed
            .into_iter()
            .chain(self.keying.as_ref().map(|(k, _)| *k))
            .min()
            .unwrap_or(self.last_seq().saturating_add(1))
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
    use crate::domain::audit::{AuditAction, NewAuditEvent, timestamp};
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
                anchors: 0,
                anchor_seq: None,
                keyed_from: None,
                bad_anchor: None,
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
                anchors: 0,
                anchor_seq: None,
                keyed_from: None,
                bad_anchor: None,
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

    fn from_file(a: &Anchor, line: usize) -> SourcedAnchor {
        SourcedAnchor::new(a.clone(), format!("anchors.jsonl, line {line}"))
    }

    fn verify_anchored(
        c: &[AuditEvent],
        key: &ChainKey,
        anchors: Vec<SourcedAnchor>,
    ) -> Verification {
        let mut v = ChainVerifier::with_anchors(Some(key.clone()), anchors);
        for e in c {
            v.feed(e);
        }
        v.finish()
    }

    /// Events `from_seq` on relinked as plain SHA-256, as a database owner without the key can.
    fn relink_plain(c: &mut [AuditEvent], from_seq: i64) {
        for i in 0..c.len() {
            if c[i].seq >= from_seq {
                c[i].prev_hash = if i == 0 {
                    GENESIS_HASH.into()
                } else {
                    c[i - 1].hash.clone()
                };
                c[i].hash = c[i].compute_hash(None);
            }
        }
    }

    /// Issue 19, item 3: with the key, the moment keying began is anchored; a trail rewritten
    /// without the key from that moment on (the whole of it, or its keyed part) is refused,
    /// naming the anchor.
    #[test]
    fn an_unkeyed_rewrite_after_keying_began_is_refused() {
        let key = ChainKey::new(&[7u8; 32]);
        let at = Utc.timestamp_millis_opt(1_700_000_100_000).unwrap();
        // Keying began before the first event: the anchor of the empty trail says so.
        let start = Anchor::new(0, GENESIS_HASH, at, Some(1), Some(&key));
        let c = keyed_chain(4, &key);
        let v = verify_anchored(&c, &key, vec![from_file(&start, 1)]);
        assert!(v.ok && v.keyed_from == Some(1) && v.anchors == 1, "{v:?}");
        // The whole trail rewritten without the key: intact in itself, refused.
        let mut whole = c.clone();
        whole[1].actor_id = "mallory".into();
        relink_plain(&mut whole, 1);
        assert!(
            verify_with(&whole, Some(&key), None).ok,
            "no anchor: nothing tells"
        );
        let v = verify_anchored(&whole, &key, vec![from_file(&start, 1)]);
        assert_eq!(v.first_bad_seq, Some(1), "{v:?}");
        assert_eq!(
            v.bad_anchor,
            Some(AnchorRef {
                seq: 0,
                at: start.at.clone(),
                from: "anchors.jsonl, line 1".into()
            })
        );
        let problem = v.problem.unwrap();
        assert!(
            problem.contains("not keyed") && problem.contains("anchors.jsonl, line 1"),
            "{problem}"
        );

        // A key configured on a trail of two plain events: the anchor made then records that
        // keying begins with event 3; the keyed part rewritten without the key is refused.
        let mut mixed = chain(2);
        let then = Anchor::new(2, &mixed[1].hash, at, Some(3), Some(&key));
        extend(&mut mixed, 2, 4, Some(&key));
        let v = verify_anchored(&mixed, &key, vec![from_file(&then, 1)]);
        assert!(v.ok && v.unkeyed == 2 && v.keyed_from == Some(3), "{v:?}");
        let mut downgraded = mixed.clone();
        relink_plain(&mut downgraded, 3);
        assert!(
            verify_with(&downgraded, Some(&key), None).ok,
            "no anchor: nothing tells"
        );
        let v = verify_anchored(&downgraded, &key, vec![from_file(&then, 1)]);
        assert_eq!(v.first_bad_seq, Some(3), "{v:?}");
        assert_eq!(v.bad_anchor.unwrap().seq, 2);
        // From the last keyed event only: the keyed event before it shows it, as before.
        let mut late = mixed.clone();
        relink_plain(&mut late, 4);
        let v = verify_anchored(&late, &key, vec![from_file(&then, 1)]);
        assert_eq!(v.first_bad_seq, Some(4), "{v:?}");

        // Where keying began is signed: it can be neither removed nor moved.
        for forged in [None, Some(5)] {
            let mut f = then.clone();
            f.keyed_from = forged;
            let v = verify_anchored(&downgraded, &key, vec![from_file(&f, 1)]);
            let problem = v.problem.as_deref().unwrap_or_default();
            assert!(!v.ok && problem.contains("not signed"), "{v:?}");
        }
        // Unsigned anchors (from before the key) are checked, but record no keying; an unsigned
        // anchor of a keyed event is refused.
        let plain_anchor = Anchor::new(2, &mixed[1].hash, at, None, None);
        let v = verify_anchored(&mixed, &key, vec![from_file(&plain_anchor, 1)]);
        assert!(v.ok && v.keyed_from.is_none(), "{v:?}");
        let unsigned_keyed = Anchor::new(4, &mixed[3].hash, at, None, None);
        assert!(!verify_anchored(&mixed, &key, vec![from_file(&unsigned_keyed, 1)]).ok);
        // An anchor of the empty trail anchors nothing else.
        let wrong = Anchor::new(0, &mixed[0].hash, at, Some(1), Some(&key));
        assert!(!verify_anchored(&mixed, &key, vec![from_file(&wrong, 1)]).ok);
    }

    /// Issue 19, item 3: every anchor read back is checked, and the one the trail disagrees
    /// with is named: its event, when it was made, where it was read.
    #[test]
    fn the_anchor_that_disagrees_is_named() {
        let key = ChainKey::new(&[7u8; 32]);
        let c = keyed_chain(6, &key);
        let at = |ms: i64| timestamp(Utc.timestamp_millis_opt(1_700_000_100_000 + ms).unwrap());
        let a3 = Anchor::new(
            3,
            &c[2].hash,
            Utc.timestamp_millis_opt(1_700_000_100_000).unwrap(),
            Some(1),
            Some(&key),
        );
        let a5 = Anchor::new(
            5,
            &c[4].hash,
            Utc.timestamp_millis_opt(1_700_000_100_500).unwrap(),
            Some(1),
            Some(&key),
        );
        let anchors = || {
            vec![
                from_file(&a3, 1),
                SourcedAnchor::new(a5.clone(), "the last anchor this portal sent"),
            ]
        };
        let v = verify_anchored(&c, &key, anchors());
        assert!(v.ok && v.anchors == 2 && v.anchor_seq == Some(5), "{v:?}");
        // An older trail restored, and the portal went on from it: event 4 on differ.
        let mut replayed = c[..3].to_vec();
        extend(&mut replayed, 10, 13, Some(&key));
        let v = verify_anchored(&replayed, &key, anchors());
        assert_eq!(v.first_bad_seq, Some(5), "{v:?}");
        assert_eq!(
            v.bad_anchor,
            Some(AnchorRef {
                seq: 5,
                at: at(500),
                from: "the last anchor this portal sent".into()
            })
        );
        let problem = v.problem.unwrap();
        assert!(
            problem.contains("not the event that was anchored")
                && problem.contains(&at(500))
                && problem.contains("the last anchor this portal sent"),
            "{problem}"
        );
        // Cut after event 4: the anchor of event 5 is named.
        let v = verify_anchored(&c[..4], &key, anchors());
        assert_eq!(v.first_bad_seq, Some(5), "{v:?}");
        assert!(v.problem.unwrap().contains("cut"));
        assert_eq!(v.bad_anchor.unwrap().seq, 5);
        // Event 3 changed in one of two copies of the anchors: the first one read that
        // disagrees is named.
        let mut other = a3.clone();
        other.hash = c[1].hash.clone();
        let v = verify_anchored(&c, &key, vec![from_file(&a3, 1), from_file(&other, 2)]);
        assert!(!v.ok);
        assert_eq!(v.bad_anchor.unwrap().from, "anchors.jsonl, line 2");
    }

    #[test]
    fn anchors_show_a_cut_tail_or_a_replaced_trail() {
        let key = ChainKey::new(&[7u8; 32]);
        let c = keyed_chain(6, &key);
        let at = Utc.timestamp_millis_opt(1_700_000_100_000).unwrap();
        let anchor = Anchor::new(5, &c[4].hash, at, None, Some(&key));
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

    /// Found writing the `audit_chain` fuzz target: an event numbered i64::MAX (a broken
    /// or forged store) made the walk overflow working out the next number (a panic), and an
    /// anchor there made the verdict overflow too.
    #[test]
    fn the_last_possible_number_is_a_finding_not_a_panic() {
        let mut c = chain(2);
        c[1].seq = i64::MAX;
        let v = verify_chain(&c);
        assert!(!v.ok);
        assert_eq!(v.first_bad_seq, Some(i64::MAX));
        let mut after = chain(3);
        after[1].seq = i64::MAX;
        assert!(!verify_chain(&after).ok);
        let mut v = ChainVerifier::new(None, None);
        v.feed(&c[1]);
        let _ = (v.last_seq(), v.keyed_from(), v.status());
    }

    mod properties {
        use proptest::prelude::*;

        use super::{ChainKey, ChainVerifier, extend};
        use crate::domain::audit::{Anchor, AuditEvent};
        use chrono::{TimeZone, Utc};

        /// One change to a stored trail.
        #[derive(Debug, Clone)]
        enum Change {
            Actor(usize),
            Details(usize),
            At(usize),
            Seq(usize, i64),
            Hash(usize),
            Remove(usize),
            Swap(usize, usize),
            RewriteUnkeyed,
        }

        fn change() -> impl Strategy<Value = Change> {
            prop_oneof![
                any::<usize>().prop_map(Change::Actor),
                any::<usize>().prop_map(Change::Details),
                any::<usize>().prop_map(Change::At),
                (any::<usize>(), any::<i64>()).prop_map(|(i, s)| Change::Seq(i, s)),
                any::<usize>().prop_map(Change::Hash),
                any::<usize>().prop_map(Change::Remove),
                (any::<usize>(), any::<usize>()).prop_map(|(i, j)| Change::Swap(i, j)),
                Just(Change::RewriteUnkeyed),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(128))]

            /// What the `audit_chain` fuzz target checks: an intact trail (keyed from some
            /// event on, anchored at its head) verifies, and any change the chain covers shows.
            #[test]
            fn any_change_to_an_anchored_trail_shows(
                plain in 0i64..4,
                keyed in 0i64..6,
                change in change(),
            ) {
                let key = ChainKey::new(b"an audit key of at least thirty-two bytes");
                let mut trail = Vec::new();
                extend(&mut trail, 0, plain, None);
                extend(&mut trail, plain, plain + keyed, Some(&key));
                prop_assume!(!trail.is_empty());
                let head = trail.last().unwrap();
                let anchor = Anchor::new(
                    head.seq,
                    &head.hash,
                    Utc.timestamp_millis_opt(1_800_000_000_000).unwrap(),
                    Some(plain + 1),
                    Some(&key),
                );
                let walk = |t: &[AuditEvent]| {
                    let mut v = ChainVerifier::new(Some(key.clone()), Some(anchor.clone()));
                    t.iter().for_each(|e| v.feed(e));
                    v.finish()
                };
                prop_assert!(walk(&trail).ok);
                let intact = trail.clone();
                let n = trail.len();
                match change {
                    Change::Actor(i) => trail[i % n].actor_id.push('x'),
                    Change::Details(i) => trail[i % n].details.push(' '),
                    Change::At(i) => trail[i % n].at += chrono::Duration::milliseconds(1),
                    Change::Seq(i, s) => trail[i % n].seq = s,
                    Change::Hash(i) => trail[i % n].hash.push('0'),
                    Change::Remove(i) => { trail.remove(i % n); }
                    Change::Swap(i, j) => trail.swap(i % n, j % n),
                    Change::RewriteUnkeyed => {
                        trail.clear();
                        extend(&mut trail, 0, plain + keyed, None);
                    }
                }
                if trail != intact {
                    let v = walk(&trail);
                    prop_assert!(!v.ok, "{:?} went unnoticed", change);
                }
            }

            /// Whatever numbers and hashes a broken store holds, verification answers.
            #[test]
            fn any_stored_events_are_answered(
                events in proptest::collection::vec((any::<i64>(), "\\PC{0,8}", "(h1:)?[0-9a-f]{0,8}"), 0..6),
            ) {
                let mut trail = Vec::new();
                extend(&mut trail, 0, events.len() as i64, None);
                for (e, (seq, prev, hash)) in trail.iter_mut().zip(&events) {
                    e.seq = *seq;
                    e.prev_hash = prev.clone();
                    e.hash = hash.clone();
                }
                let mut v = ChainVerifier::new(None, None);
                trail.iter().for_each(|e| v.feed(e));
                let _ = (v.last_seq(), v.keyed_from(), v.status());
            }
        }
    }
}
