//! Break-glass: a package's emergency access without approval, and its review afterwards.
//!
//! - `taking.rs`: the rules only break-glass has, checked before any write transaction (never
//!   through the requests API; the person in one of `break_glass_groups`), and the grant itself,
//!   in one transaction with its directory addition and its alerts, after `break_glass_per_user`
//!   and the package's quotas are counted;
//! - `review.rs`: an approver's review ("justified" or "not justified", with a comment), and
//!   the reads of a use and of those still waiting for a review.
//!
//! Asking (`requests/asking.rs`) hands an emergency ask here once every rule for asking has
//! let it through; the notifications (the alert, reminders, the escalation, a "not justified"
//! told to the manager) are planned in `notify/plan/break_glass.rs`.

mod review;
mod taking;

pub use review::BreakGlassEntry;
