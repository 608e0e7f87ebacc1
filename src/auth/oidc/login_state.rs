//! The sign-in under way: its `state`, `nonce`, PKCE verifier and return path ([`LoginState`]),
//! kept by the browser in a short-lived cookie sealed with a key derived from the client secret
//! (or a random key the database keeps);
//! and how long a started sign-in may take.

use std::time::Duration;

use base64::Engine;
use hmac::Mac;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use super::Oidc;

/// What the browser keeps between being sent to the provider and its return: in a short-lived
/// cookie sealed with [`Oidc::seal_login`], so that starting a sign-in stores nothing on the
/// server and a flood of them cannot fill the database.
#[derive(Serialize, Deserialize)]
pub struct LoginState {
    pub(super) state: String,
    pub(super) nonce: String,
    pub(super) pkce_verifier: String,
    pub(super) return_to: String,
    /// The authentication context this sign-in asks for (a step-up), which the ID token must
    /// then show in its `acrs` claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) step_up: Option<String>,
    /// Unix time after which the sign-in must be started again.
    #[serde(default)]
    pub(super) expires: i64,
}

/// How long a started sign-in may take.
pub const LOGIN_LIFETIME: Duration = Duration::from_secs(600);

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

impl LoginState {
    /// Whether an answer carrying `state` belongs to this sign-in.
    pub fn answers(&self, state: Option<&str>) -> bool {
        state == Some(self.state.as_str())
    }

    /// Where the browser goes once signed in (a local path, checked when the sign-in began).
    pub fn return_to(&self) -> &str {
        &self.return_to
    }

    /// The authentication context this sign-in asked for, if it is a step-up.
    pub fn step_up(&self) -> Option<&str> {
        self.step_up.as_deref()
    }
}

impl Oidc {
    /// The key that seals login cookies: derived from the client secret, which every replica
    /// has and which never leaves the server, so nothing more needs to be kept or shared; a
    /// portal without one derives it from a random key its database keeps.
    fn login_key(&self) -> HmacSha256 {
        let mut derive = HmacSha256::new_from_slice(self.login_secret.expose_secret())
            .expect("HMAC takes keys of any length");
        derive.update(b"jitgate login state v1");
        HmacSha256::new_from_slice(&derive.finalize().into_bytes())
            .expect("HMAC takes keys of any length")
    }

    /// `base64url(json).base64url(HMAC-SHA-256)`: readable by its own browser (it holds nothing
    /// another party could use), but not forgeable or alterable.
    pub fn seal_login(&self, login: &LoginState) -> String {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let body = b64.encode(serde_json::to_vec(login).expect("a login state serializes"));
        let mut mac = self.login_key();
        mac.update(body.as_bytes());
        format!("{body}.{}", b64.encode(mac.finalize().into_bytes()))
    }

    /// The login state a cookie carries, if it is intact and not expired.
    pub fn open_login(&self, sealed: &str) -> Option<LoginState> {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let (body, tag) = sealed.split_once('.')?;
        let mut mac = self.login_key();
        mac.update(body.as_bytes());
        mac.verify_slice(&b64.decode(tag).ok()?).ok()?;
        let login: LoginState = serde_json::from_slice(&b64.decode(body).ok()?).ok()?;
        (chrono::Utc::now().timestamp() < login.expires).then_some(login)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::config::Settings;

    fn oidc() -> Oidc {
        Oidc::new(Arc::new(Settings::for_tests("https://jit.contoso.example"))).unwrap()
    }

    #[test]
    fn login_cookies_cannot_be_forged_altered_or_kept() {
        let o = oidc();
        let login = LoginState {
            state: "s1".into(),
            nonce: "n1".into(),
            pkce_verifier: "v1".into(),
            return_to: "/approvals".into(),
            step_up: None,
            expires: chrono::Utc::now().timestamp() + 60,
        };
        let sealed = o.seal_login(&login);
        let back = o.open_login(&sealed).expect("an intact cookie opens");
        assert!(back.answers(Some("s1")) && back.return_to() == "/approvals");
        // Another return path, or another signature, is refused.
        let (body, tag) = sealed.split_once('.').unwrap();
        let altered = String::from_utf8({
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(body)
                .unwrap()
        })
        .unwrap()
        .replace("/approvals", "//evil.example");
        let altered = { base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(altered) };
        assert!(o.open_login(&format!("{altered}.{tag}")).is_none());
        assert!(o.open_login(&format!("{body}.{}", &tag[1..])).is_none());
        assert!(o.open_login(body).is_none());
        assert!(o.open_login("").is_none());
        // An expired one is refused.
        let old = LoginState {
            expires: chrono::Utc::now().timestamp() - 1,
            ..login
        };
        assert!(o.open_login(&o.seal_login(&old)).is_none());
    }
}
