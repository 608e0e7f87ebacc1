//! Identity only: the OpenID Connect client (sign-in), bearer access tokens for the API, and the
//! principal they establish. Nothing here knows about HTTP handlers; the sign-in routes and the
//! request extractors live in the web layer.
//!
//! - `oidc/`: the OpenID Connect client, [`Oidc`], one file per step: `discovery` (the provider's
//!   metadata and signing keys, cached), `login_state` (the sign-in under way, sealed in a
//!   cookie), `sign_in` (the authorization request and the callback), `id_token` (verifying and
//!   reading the ID token) and `failure` (why a sign-in was refused);
//! - `bearer`: the API's bearer access tokens, checked against the keys `oidc/` discovered:
//!   for the portal's own API, or for the requests API (which reaches only the caller's own
//!   requests);
//! - `principal`: who is acting, as either establishes it, and the portal roles they hold;
//! - `device_code`: the device authorization grant as a client (the demo's try-out).

pub mod bearer;
pub mod device_code;
pub mod oidc;
pub mod principal;

pub use oidc::{CallbackParams, LOGIN_LIFETIME, LoginState, Oidc, SignInFailure};
pub use principal::{Principal, Reach};
