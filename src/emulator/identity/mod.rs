//! The identity platform of the emulated tenant (what `login.microsoftonline.com` serves), one
//! file per job:
//!
//! - the endpoints: `discovery` (OpenID Connect discovery and JWKS),
//!   `authorize` (the sign-in page where a demo user is picked, and its POST), `token` (the
//!   token endpoint, which picks the client and the grant), one file per grant
//!   (`authorization_code`, `client_credentials`, `refresh`, `device_code_grant`), and the
//!   device code flow's `device_authorization` endpoint and `device_page` (the device-login
//!   page);
//! - what they share, below them: `authorize_request` (checking an authorize request),
//!   `claims` (the `claims` request parameter: authentication contexts asked for, the MFA
//!   step that satisfies them),
//!   `device_login` (completing a device login and logging the sign-in), `user_codes`,
//!   `user_tokens` (the ID, access and refresh tokens of a user sign-in),
//!   `conditional_access` (the policy that blocks the device code flow), `resources` (which
//!   resource a scope names, which app a client is), `clients` (confidential and public clients
//!   and how they authenticate), `errors` (the tenant check, AADSTS errors, injected faults) and
//!   `pages` (the look of the HTML pages).
//!
//! Imports between these files run one way, from the endpoints down; the files take the
//! tenant (its handle, state, configuration and what it handed out) from the emulator's
//! top-level modules and nothing from the Graph half.

mod assertions;
mod authorization_code;
mod authorize;
mod authorize_request;
mod claims;
mod client_credentials;
mod clients;
mod conditional_access;
mod device_authorization;
mod device_code_grant;
mod device_login;
mod device_page;
mod discovery;
mod errors;
mod managed_identity;
mod pages;
mod refresh;
mod resources;
mod token;
mod user_codes;
mod user_tokens;

pub use device_login::DeviceLogin;

pub(super) use authorize::{authorize_page, authorize_submit};
pub(super) use device_authorization::device_code;
pub(super) use device_login::{LOCAL_IP, complete, decline};
pub(super) use device_page::{device_page, device_page_submit};
pub(super) use discovery::{discovery, jwks};
pub(super) use managed_identity::managed_identity_token;
pub(super) use token::token;
