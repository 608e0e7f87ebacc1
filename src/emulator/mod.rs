//! A built-in, emulated Microsoft Entra ID tenant: OpenID Connect discovery and JWKS, an
//! authorize page where a demo user is picked, the token endpoint (authorization code + PKCE,
//! client credentials, refresh tokens and the device code flow with its device-login page and
//! Conditional Access), the sign-in log and the Microsoft Graph endpoints jitgate uses.
//!
//! It only runs in `jitgate demo` and in tests, on a loopback listener it is handed. It
//! behaves like Entra on the wire (status codes, error bodies, paging, throttling), see
//! `entra-graph-wire.md`, and lets tests inject faults and inspect the Graph traffic.
//!
//! This file is the front door: the public API (re-exported from the files that define it) and
//! the router. Behind it, two halves that never import each other:
//!
//! - `identity/`: the identity platform (`login.microsoftonline.com`): discovery and JWKS, the
//!   authorize page, the token endpoint and its grants, the device code flow with its
//!   device-login page, public clients and refresh tokens, Conditional Access, token errors
//!   and the look of its pages;
//! - `graph/`: Microsoft Graph (`/v1.0/…`, `/beta/…` and `$batch`): users, groups and their
//!   members, applications and service principals, directory roles and PIM eligibility,
//!   Conditional Access policies, the sign-in log, with Graph's authentication, errors, paging, throttling and injected faults.
//!
//! Both stand on the tenant itself, in files of their own: `tenant` (the [`Emulator`] handle,
//! starting and stopping it, what every handler reads of it), `state` (the state behind its
//! lock, and the state file), `directory` (users, groups, memberships, roles and ids as the
//! handlers read them), `directory_roles` (the built-in directory roles, who holds which
//! actively or eligible through PIM, and the role-assignable groups), `grants` (what the identity platform handed out: sign-in pages, codes,
//! device codes, refresh tokens), `config`, `faults`, `records` (the Graph calls and mail
//! logged), `registrations` (what was created through Graph: app registrations, service
//! principals, groups, app role assignments, policies), `controls` (what tests and the demo do to the running tenant and read back),
//! `sign_in_log` (the sign-ins the identity platform records, which Graph's log serves, and the
//! quirks a test may have one served with),
//! `minted_tokens` (tokens a test signs directly), `conditions` (Graph's latency, write budget,
//! read lag and chaos), `late_writes` (membership writes a test holds to land after their caller
//! gave up) and `landings` (holding and landing them), `change_tracking` (what `/groups/delta`
//! remembers behind its tokens), `keys`, `wire` (wire-format helpers), `demo` (the demo tenant) and
//! `mailbox` (the demo's mailbox page).

mod change_tracking;
mod conditions;
mod config;
mod controls;
pub mod demo;
mod directory;
mod directory_roles;
mod faults;
mod grants;
mod graph;
mod identity;
mod keys;
mod landings;
mod late_writes;
mod mailbox;
mod minted_tokens;
mod records;
mod registrations;
mod sign_in_log;
mod state;
mod tenant;
mod wire;

pub use config::{
    DemoGroup, DemoUser, EmulatorConfig, FederatedCredential, PasswordCredential, RoleGrant,
};
pub use controls::RoleGiven;
pub use faults::{Chaos, Fault, NotMemberStyle};
pub use identity::DeviceLogin;
pub use late_writes::{LandedWrite, Landing, LateWrite};
pub use minted_tokens::TokenSpec;
pub use records::{GraphCall, SentMail};
pub use sign_in_log::{SignIn, SignInQuirk};
pub use tenant::Emulator;

pub use directory::service_principal_id;
pub(crate) use state::set_membership;

use axum::Router;
use axum::routing::{any, get};

/// Audience of Microsoft Graph tokens (application id form).
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
/// Audience of Microsoft Graph tokens (URI form, used in app-only tokens).
pub const GRAPH_RESOURCE: &str = "https://graph.microsoft.com";

/// The tenant's routes: the identity platform, the demo's mailbox, and Microsoft Graph.
fn router(emu: Emulator) -> Router {
    Router::new()
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(identity::discovery),
        )
        .route("/{tenant}/discovery/v2.0/keys", get(identity::jwks))
        .route(
            "/{tenant}/oauth2/v2.0/authorize",
            get(identity::authorize_page).post(identity::authorize_submit),
        )
        .route("/{tenant}/oauth2/v2.0/token", any(identity::token))
        .route(
            "/{tenant}/oauth2/v2.0/devicecode",
            any(identity::device_code),
        )
        .route(
            "/{tenant}/oauth2/deviceauth",
            get(identity::device_page).post(identity::device_page_submit),
        )
        .route(
            "/metadata/identity/oauth2/token",
            get(identity::managed_identity_token),
        )
        .route("/mailbox", get(mailbox::page))
        .route("/v1.0/$batch", any(graph::batch::handle))
        .route("/v1.0/{*rest}", any(graph::entry::handle))
        .route("/beta/{*rest}", any(graph::entry::handle))
        .with_state(emu)
}
