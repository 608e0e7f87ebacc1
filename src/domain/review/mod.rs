//! Access reviews: recurring campaigns that recertify who may hold a package.
//!
//! A campaign per package and period lists its items — the package's settings and Conditional
//! Access posture (a snapshot the reviewers confirm), each standing member (keep or remove) and
//! each person who held a grant in the period (keep eligible or revoke) — and collects decisions
//! in Entra's vocabulary (Approve, Deny, Don't know) until its due date, when undecided items take
//! the package's `review_default` and the campaign closes.
//!
//! - (`../review_settings.rs`: a package's review settings, which `package.rs` holds);
//! - `schedule`: when campaigns start, their period, due date and reminders;
//! - `items`: campaigns, items, decisions and what closing makes of them;
//! - `reviewers`: who may decide an item.

pub mod items;
pub mod reviewers;
pub mod schedule;

pub use super::review_settings::{ReviewBy, ReviewDefault, ReviewSettings, standing_hash};
pub use items::{
    Campaign, CampaignStatus, ItemKind, Outcome, ReviewDecision, ReviewItem, outcome_at_close,
};
pub use reviewers::{ReviewerRefusal, may_review};
pub use schedule::{Reminder, first_start, next_start, reminders};
