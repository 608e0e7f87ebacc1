//! Use cases on requests, one file for each thing done to them:
//!
//! - `asking.rs`: a new request (create), for oneself or for someone else;
//! - `on_behalf.rs`: asking on others' behalf, one request per person named;
//! - `deciding.rs`: an approver's approval or denial ([`DecisionInput`]);
//! - `ending.rs`: cancelling a request, ending or revoking a grant;
//! - `reading.rs`: looking one up, its timeline, listings and the decision queue
//!   ([`ListQuery`]);
//! - `list_cache.rs`: request lists as last read, kept until this process commits a write;
//! - `starting.rs`: what a change starts with: the write transaction on the request, its
//!   package still configured, and the start of a decision (`Deciding`), which
//!   `service/extensions.rs` shares for deciding on an extension.
//!
//! Imports run one way: `on_behalf.rs` uses `asking.rs`; `deciding.rs` and `reading.rs` use `starting.rs`, which uses none of
//! its siblings; `extensions.rs` uses the decision start from here, and nothing here uses it.

mod asking;
mod deciding;
mod ending;
mod list_cache;
mod on_behalf;
mod reading;
mod starting;

pub use asking::OnBehalf;
pub use deciding::DecisionInput;
pub(super) use list_cache::ListCache;
pub use on_behalf::{MAX_ON_BEHALF, OnBehalfOutcome};
pub use reading::ListQuery;
pub(super) use starting::Deciding;
