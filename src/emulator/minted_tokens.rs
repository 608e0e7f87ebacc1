//! Tokens a test signs directly, without a sign-in: [`TokenSpec`] and
//! [`Emulator::mint_token`], also signed by a key the JWKS does not hold.

use serde_json::{Value, json};

use super::keys::SigningKey;
use super::tenant::Emulator;
use super::wire;

/// Claims of a token minted directly by a test (see [`Emulator::mint_token`]).
#[derive(Clone, Debug)]
pub struct TokenSpec {
    /// Object id of the user (`oid`); need not be a configured user.
    pub user_id: String,
    /// `aud` claim.
    pub audience: String,
    /// `iss` claim; defaults to [`Emulator::issuer`].
    pub issuer: Option<String>,
    /// Lifetime from now; negative for an already expired token.
    pub expires_in_secs: i64,
    /// `roles` claim; defaults to the user's roles (omitted when empty).
    pub roles: Option<Vec<String>>,
    /// `acrs` claim: the authentication contexts the sign-in satisfied (omitted when empty).
    pub acrs: Vec<String>,
}

impl TokenSpec {
    /// A one-hour token for `user_id` with audience `audience`.
    pub fn new(user_id: &str, audience: &str) -> Self {
        TokenSpec {
            user_id: user_id.to_owned(),
            audience: audience.to_owned(),
            issuer: None,
            expires_in_secs: 3600,
            roles: None,
            acrs: Vec::new(),
        }
    }
}

impl Emulator {
    /// Signs a token with the tenant's key.
    pub fn mint_token(&self, t: TokenSpec) -> String {
        let claims = self.spec_claims(&t);
        self.inner.key.sign(&claims)
    }

    /// Same claims as [`Emulator::mint_token`], signed by a key that is not in the JWKS.
    pub fn mint_foreign_token(&self, t: TokenSpec) -> String {
        let claims = self.spec_claims(&t);
        let key = self.inner.foreign_key.get_or_init(|| {
            SigningKey::generate().expect("generating a second RSA key cannot fail")
        });
        key.sign(&claims)
    }

    fn spec_claims(&self, t: &TokenSpec) -> Value {
        let now = chrono::Utc::now().timestamp();
        let user = self.user(&t.user_id);
        let roles = t
            .roles
            .clone()
            .or_else(|| user.map(|u| self.roles_of(u)))
            .unwrap_or_default();
        // An already expired token was issued an hour before it expired.
        let issued = if t.expires_in_secs < 0 {
            now + t.expires_in_secs - 3600
        } else {
            now
        };
        let mut claims = json!({
            "aud": t.audience,
            "iss": t.issuer.clone().unwrap_or_else(|| self.issuer()),
            "iat": issued,
            "nbf": issued,
            "exp": now + t.expires_in_secs,
            "oid": t.user_id,
            "sub": self.pairwise_sub(&t.user_id),
            "tid": self.inner.config.tenant_id,
            "azp": self.inner.config.client_id,
            "ver": "2.0",
            "uti": wire::random_token(16),
        });
        if let Some(u) = user {
            claims["name"] = json!(u.name);
            claims["preferred_username"] = json!(u.username);
        }
        if !roles.is_empty() {
            claims["roles"] = json!(roles);
        }
        if !t.acrs.is_empty() {
            claims["acrs"] = json!(t.acrs);
        }
        if t.audience.starts_with("api://") || t.audience == self.inner.config.client_id {
            claims["scp"] = json!("access_as_user");
        }
        claims
    }
}
