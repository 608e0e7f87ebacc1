//! The tamper-evident audit trail: events chained by a keyed hash, and anchors of its head.
//!
//! With the audit key (`[audit] key`, kept outside the database):
//! `hash = "h1:" ‖ hex(HMAC-SHA-256(key, prev_hash ‖ canonical JSON of the event's fields))`.
//! Without it (the demo, or events written before a key was configured):
//! `hash = hex(SHA-256(prev_hash ‖ canonical JSON))`. The first event's `prev_hash` is 64 zeros.
//! Changing, removing or reordering any stored event breaks every later link; without the key
//! nobody can compute a link, so a database owner cannot rewrite history and recompute the rest.
//! An [`Anchor`] (the head's `(seq, hash, time)` and where keying began, signed with the key)
//! kept outside the database makes cutting the tail, replacing the whole trail, or rewriting it
//! without the key from the moment keying began, show.
//!
//! The folder, by what each file holds: `action.rs` what an event records happened;
//! `event.rs` the events, new and stored, and how one is sealed; `chain.rs` the audit key, the
//! genesis hash and the link; `anchor.rs` the signed anchors of the head, and anchors as read back; `verify.rs` the walk
//! that checks the chain; `timestamps.rs` instants to the millisecond, as the trail keeps them.

mod action;
mod anchor;
mod chain;
mod event;
mod timestamps;
mod verify;

pub use action::AuditAction;
pub use anchor::{Anchor, AnchorRef, SourcedAnchor};
pub use chain::{ChainKey, GENESIS_HASH};
pub use event::{AuditEvent, NewAuditEvent};
pub use timestamps::{timestamp, truncate_millis};
pub use verify::{ChainVerifier, Verification, verify_chain};
