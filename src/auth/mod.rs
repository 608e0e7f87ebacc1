//! Sign-in (OpenID Connect), bearer tokens for the API, and who is calling.

pub mod bearer;
pub mod extract;
pub mod oidc;

pub use extract::{Auth, MaybeAuth};
pub use oidc::Oidc;
