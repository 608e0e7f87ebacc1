//! The audit chain reader: `ChainVerifier` walking a trail (as the store feeds it, page by
//! page) against anchors read back from anchor file lines.
//!
//! Input (structured): events to append (some keyed), one change to make to the stored trail,
//! anchor lines as written and as found in a file, and raw events as a broken store could hold.
//! Checked: nothing panics, whatever the events and anchors; an intact trail verifies, with and
//! without its anchors; a trail changed in any way the chain covers does not.

#![no_main]

use chrono::{TimeZone, Utc};
use jitgate::domain::audit::{
    Anchor, AuditAction, AuditEvent, ChainKey, ChainVerifier, GENESIS_HASH, NewAuditEvent,
};
use jitgate::service::audit::read_anchor_lines;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Ev {
    millis: u32,
    actor: String,
    name: String,
    request: Option<String>,
    detail: String,
    ip: Option<String>,
    keyed: bool,
}

#[derive(Arbitrary, Debug)]
enum Change {
    None,
    Actor(usize, String),
    Details(usize, String),
    At(usize, i64),
    Seq(usize, i64),
    Hash(usize, String),
    PrevHash(usize, String),
    Remove(usize),
    Swap(usize, usize),
    Truncate(usize),
    /// The rewrite a database owner without the key can make: every event re-linked unkeyed.
    RewriteUnkeyed,
}

#[derive(Arbitrary, Debug)]
struct RawEvent {
    seq: i64,
    millis: i64,
    hash: String,
    prev_hash: String,
    details: String,
}

#[derive(Arbitrary, Debug)]
struct Input {
    events: Vec<Ev>,
    change: Change,
    anchor_at: Option<usize>,
    anchor_lines: String,
    raw: Vec<RawEvent>,
    page: u8,
}

const KEY: &[u8] = b"an audit key of at least thirty-two bytes, for fuzzing";

fn seal(out: &mut Vec<AuditEvent>, e: &Ev, key: Option<&ChainKey>) {
    let (seq, prev) = out
        .last()
        .map(|e| (e.seq, e.hash.clone()))
        .unwrap_or((0, GENESIS_HASH.to_string()));
    let new = NewAuditEvent {
        at: Utc.timestamp_millis_opt(1_700_000_000_000 + i64::from(e.millis)).unwrap(),
        actor_id: e.actor.clone(),
        actor_name: e.name.clone(),
        action: AuditAction::RequestCreated,
        request_id: e.request.clone(),
        subject_id: None,
        details: serde_json::json!({ "d": e.detail }),
        client_ip: e.ip.clone(),
        user_agent: None,
    };
    out.push(new.seal(seq, &prev, key));
}

/// Whether an anchor lies past a trail cut to `len` events.
fn cut(anchors: &[jitgate::domain::audit::SourcedAnchor], len: usize) -> bool {
    anchors.iter().any(|a| a.anchor.seq > len as i64)
}

fn walk(
    events: &[AuditEvent],
    key: &ChainKey,
    anchors: Vec<jitgate::domain::audit::SourcedAnchor>,
    page: usize,
) -> jitgate::domain::audit::Verification {
    let mut v = ChainVerifier::with_anchors(Some(key.clone()), anchors);
    for chunk in events.chunks(page.max(1)) {
        for e in chunk {
            v.feed(e);
        }
        let _ = v.status();
    }
    let _ = (v.last_seq(), v.last_hash().len(), v.keyed_from());
    v.finish()
}

fuzz_target!(|input: Input| {
    let key = ChainKey::new(KEY);
    let page = usize::from(input.page % 8) + 1;

    // Keying begins at the first keyed event, and never stops.
    let mut trail = Vec::new();
    let mut keyed = false;
    for e in input.events.iter().take(64) {
        keyed |= e.keyed;
        seal(&mut trail, e, keyed.then_some(&key));
    }
    let intact = trail.clone();

    // An anchor of the head at some point, with where keying began, written and read back.
    let mut anchors = Vec::new();
    if let Some(i) = input.anchor_at
        && !trail.is_empty()
    {
        let i = i % trail.len();
        let keyed_from = trail.iter().position(|e| e.is_keyed()).map(|p| p as i64 + 1);
        let a = Anchor::new(
            trail[i].seq,
            &trail[i].hash,
            Utc.timestamp_millis_opt(1_800_000_000_000).unwrap(),
            keyed_from.or(Some(trail.len() as i64 + 1)),
            Some(&key),
        );
        let line = serde_json::to_string(&a).unwrap();
        anchors = read_anchor_lines(&line, "fuzz").unwrap();
    }
    let v = walk(&trail, &key, anchors.clone(), page);
    assert!(v.ok, "an intact trail fails: {v:?}");
    assert_eq!(v.events, trail.len() as i64);

    let n = trail.len();
    let at = |i: usize| if n == 0 { 0 } else { i % n };
    match &input.change {
        Change::None => {}
        Change::Actor(i, s) if n > 0 => trail[at(*i)].actor_id = s.clone(),
        Change::Details(i, s) if n > 0 => trail[at(*i)].details = s.clone(),
        Change::At(i, ms) if n > 0 => {
            if let Some(t) = Utc.timestamp_millis_opt(*ms).single() {
                trail[at(*i)].at = t;
            }
        }
        Change::Seq(i, s) if n > 0 => trail[at(*i)].seq = *s,
        Change::Hash(i, h) if n > 0 => trail[at(*i)].hash = h.clone(),
        Change::PrevHash(i, h) if n > 0 => trail[at(*i)].prev_hash = h.clone(),
        Change::Remove(i) if n > 0 => {
            trail.remove(at(*i));
        }
        Change::Swap(i, j) if n > 0 => trail.swap(at(*i), at(*j)),
        Change::Truncate(k) if n > 0 => trail.truncate(at(*k)),
        Change::RewriteUnkeyed => {
            let mut rewritten = Vec::new();
            for e in &input.events[..n] {
                seal(&mut rewritten, e, None);
            }
            trail = rewritten;
        }
        _ => {}
    }
    let v = walk(&trail, &key, anchors.clone(), page);
    let changed = trail != intact;
    // Cutting the tail shows only against an anchor past the cut; rewriting unkeyed shows
    // only where keyed events were (or an anchor says keying began).
    let must_fail = changed
        && match &input.change {
            Change::Truncate(_) => cut(&anchors, trail.len()),
            Change::Remove(i) if at(*i) == n - 1 => cut(&anchors, trail.len()),
            Change::RewriteUnkeyed => !anchors.is_empty(),
            _ => true,
        };
    if must_fail {
        assert!(!v.ok, "{:?} went unnoticed", input.change);
    }

    // Anchor lines as found in a file, and events as a broken store could hold them: whatever
    // they are, verification answers.
    if let Ok(found) = read_anchor_lines(&input.anchor_lines, "fuzz") {
        let _ = walk(&intact, &key, found, page);
    }
    let raw: Vec<AuditEvent> = input
        .raw
        .iter()
        .take(32)
        .map(|r| AuditEvent {
            seq: r.seq,
            at: Utc.timestamp_millis_opt(r.millis).single().unwrap_or_default(),
            actor_id: String::new(),
            actor_name: String::new(),
            action: "request_created".into(),
            request_id: None,
            subject_id: None,
            details: r.details.clone(),
            client_ip: None,
            user_agent: None,
            prev_hash: r.prev_hash.clone(),
            hash: r.hash.clone(),
        })
        .collect();
    let _ = walk(&raw, &key, anchors, page);
    let _ = jitgate::domain::audit::verify_chain(&raw);
});
