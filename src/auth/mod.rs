//! Identity only: the OpenID Connect client (sign-in), bearer access tokens for the API, and the
//! principal they establish. Nothing here knows about HTTP handlers; the sign-in routes and the
//! request extractors live in the web layer.

pub mod bearer;
pub mod device_code;
pub mod oidc;
pub mod principal;

pub use oidc::{CallbackParams, LOGIN_LIFETIME, LoginState, Oidc, SignInFailure};
pub use principal::Principal;
