//! OpenID Connect against the tenant-specific Entra authority: authorization code flow with PKCE
//! (S256), `state` and `nonce`. Discovery (and the signing keys) are fetched on first use, cached,
//! and refreshed when a token names a key we do not know.
//!
//! This file holds the client, [`Oidc`]; what it does is split by step, each file adding its
//! part of `impl Oidc`:
//!
//! - `discovery`: the provider's metadata and signing keys, fetched once at a time and cached;
//! - `login_state`: what the browser keeps between leaving for the provider and coming back,
//!   sealed in a cookie;
//! - `sign_in`: the authorization request and the callback (issuer, error, code redemption);
//! - `id_token`: the redeemed ID token verified and read into a [`Principal`](super::Principal);
//! - `failure`: why a sign-in did not produce a principal, as the person is told.
//!
//! Imports among them run one way: `sign_in` uses `login_state`, `id_token` and `failure`;
//! `id_token` uses `discovery` and `failure`.

mod discovery;
mod failure;
mod id_token;
mod login_state;
mod sign_in;

use std::sync::Arc;
use std::time::{Duration, Instant};

pub use discovery::{Discovered, OidcClient};
pub use failure::SignInFailure;
pub use id_token::decode_payload;
pub use login_state::{LOGIN_LIFETIME, LoginState};
pub use sign_in::CallbackParams;

use secrecy::{ExposeSecret, SecretSlice};

use crate::config::Settings;
use crate::credential::Credential;

pub struct Oidc {
    pub(super) settings: Arc<Settings>,
    /// How the portal authenticates when it redeems a sign-in's code.
    credential: Credential,
    /// What the login cookies' key is derived from (see `login_state`).
    login_secret: SecretSlice<u8>,
    http: reqwest::Client,
    cache: std::sync::RwLock<Option<Arc<Discovered>>>,
    /// Held for the duration of a fetch: one at a time.
    refresh: tokio::sync::Mutex<()>,
    failed_at: std::sync::Mutex<Option<Instant>>,
}

impl Oidc {
    pub fn new(settings: Arc<Settings>) -> anyhow::Result<Oidc> {
        // No redirects: the OpenID provider's endpoints must answer directly (openidconnect's SSRF advice).
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(15))
            .build()?;
        let credential = Credential::new(&settings.entra);
        // With a client secret, the key comes from it, as every replica has it; otherwise a
        // random one until [`Oidc::with_login_key`] gives the one the replicas share.
        let login_secret: Vec<u8> = match credential.secret() {
            Some(s) => s.expose_secret().as_bytes().to_vec(),
            None => {
                use rand::RngCore;
                let mut k = vec![0u8; 32];
                rand::thread_rng().fill_bytes(&mut k);
                k
            }
        };
        Ok(Oidc {
            settings,
            credential,
            login_secret: login_secret.into(),
            http,
            cache: std::sync::RwLock::new(None),
            refresh: tokio::sync::Mutex::new(()),
            failed_at: std::sync::Mutex::new(None),
        })
    }

    /// Seals login cookies with a key derived from `key`, one that every replica shares (a
    /// portal without a client secret keeps one in its database).
    pub fn with_login_key(mut self, key: &[u8]) -> Oidc {
        self.login_secret = key.to_vec().into();
        self
    }

    /// The portal's credential, as the sign-in uses it.
    pub fn credential(&self) -> &Credential {
        &self.credential
    }

    pub fn issuer(&self) -> String {
        self.settings.entra.issuer()
    }
}
