//! `jitgate setup` as a plan: what the tenant should hold for jitgate (the app registration, its
//! service principal, the command-line client, the exclusion group, the Graph permissions, the
//! admin's role, the report-only device-code policy) against what Graph shows of it, turned into
//! the Graph writes that close the difference, and nothing when there is none. Pure: the caller
//! reads, hands the objects found here, and makes (or, for `--dry-run`, prints) the calls.
//!
//! - `desired`: what a registration for one public URL consists of, and the stable ids of its
//!   app roles and scope;
//! - `calls`: one Graph call, and the request bodies compared field by field;
//! - `credentials`: the certificate or federated identity credential, added, never removed;
//! - `plan`: for each object, the call that creates it or changes only what differs;
//! - `toml`: the `jitgate.toml` setup writes.

mod calls;
mod credentials;
mod desired;
mod plan;
mod toml;

pub use calls::{Call, Method};
pub use credentials::federated_call;
pub use desired::{
    Certificate, Desired, Federated, GRAPH_APP_ID, GRAPH_PERMISSIONS, SETUP_SCOPES, stable_id,
};
pub use plan::{
    admin_role_call, application_call, cli_client_call, graph_permission_calls, group_call,
    policy_call, service_principal_call,
};
pub use toml::{Written, config_toml};

#[cfg(test)]
mod tests;
