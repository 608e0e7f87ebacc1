//! Microsoft Graph as the emulator serves it: `/v1.0/...` (and the same under `/beta/...`) with
//! Graph's authentication, authorization, error bodies, paging and injectable faults. One file
//! per job, imports running down this list:
//!
//! - `batch.rs`: `POST /v1.0/$batch`, each request of the batch answered through the entry.
//! - `entry.rs`: the entry of every request: Graph's headers, the tenant's latency, injected
//!   faults and chaos, the write budget (throttling) and the call list.
//! - `routes.rs`: the route table from method and path to the endpoint, after authentication.
//! - The endpoints: `members.rs` (add, remove and list group members), `groups.rs` (get, find and create a group),
//!   `delta.rs` (`/groups/delta`: members added and removed since a delta link),
//!   `users.rs` (get a user or a manager; user properties and `$select`), `user_search.rs`
//!   (`GET /users` with `$search`, an advanced query), `member_of.rs` (a
//!   user's groups and active directory roles, `transitiveMemberOf`), `role_eligibility.rs`
//!   (PIM's role eligibility schedule instances), `user_actions.rs`
//!   (`checkMemberGroups`, `revokeSignInSessions`, `sendMail`), `applications.rs` (the service
//!   principal and its app role assignments), `app_registrations.rs` (app registrations and
//!   service principals created through Graph, as `jitgate setup` makes them), `assignments.rs`
//!   (their app role assignments: app roles and consented application permissions),
//!   `policies.rs` (Conditional Access policies, read, created and changed) and
//!   `sign_ins.rs` (the sign-in log) with `sign_in_filter.rs` (its `$filter` parser).
//! - `caller.rs`: the caller from its bearer token, and the permission lists endpoints share.
//! - `query.rs`: query parameters, the `$top` page size and the expired `$skiptoken` answer.
//! - `errors.rs`: Graph's error answers (401, 403, 400, 404).
//!
//! Graph takes the tenant (`Emulator`, its state, the `SignIn` log record, `wire.rs`) from the
//! emulator's top level and never from the identity platform.

// Helpers return the finished error response as `Err`; boxing it would only add noise.
#![allow(clippy::result_large_err)]

mod app_registrations;
mod applications;
mod assignments;
pub(super) mod batch;
mod caller;
mod delta;
pub(super) mod entry;
mod errors;
mod groups;
mod member_of;
mod members;
mod policies;
mod query;
mod role_eligibility;
mod routes;
mod sign_in_filter;
mod sign_ins;
mod user_actions;
mod user_search;
mod users;
