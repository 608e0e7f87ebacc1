//! OpenID Connect against the tenant-specific Entra authority: authorization code flow with PKCE
//! (S256), `state` and `nonce`. Discovery (and the signing keys) are fetched on first use, cached,
//! and refreshed when a token names a key we do not know.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    TokenResponse,
};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;
use tower_sessions::Session;

use crate::config::Settings;
use crate::domain::UserRef;
use crate::error::AppError;
use crate::service::Principal;
use crate::web::AppState;
use crate::web::pages::{PageError, set_flash};

pub type OidcClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

pub const SESSION_USER: &str = "user";
const SESSION_LOGIN: &str = "login";
const REFRESH_AFTER: Duration = Duration::from_secs(24 * 3600);
const MIN_REFETCH: Duration = Duration::from_secs(30);

pub struct Discovered {
    pub client: OidcClient,
    pub jwks: jsonwebtoken::jwk::JwkSet,
    fetched: Instant,
}

pub struct Oidc {
    settings: Arc<Settings>,
    http: reqwest::Client,
    cache: RwLock<Option<Arc<Discovered>>>,
}

impl Oidc {
    pub fn new(settings: Arc<Settings>) -> anyhow::Result<Oidc> {
        // No redirects: the OpenID provider's endpoints must answer directly (openidconnect's SSRF advice).
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(15))
            .build()?;
        Ok(Oidc {
            settings,
            http,
            cache: RwLock::new(None),
        })
    }

    pub fn issuer(&self) -> String {
        self.settings.entra.issuer()
    }

    /// The provider's metadata and keys; refetched daily, or sooner with `force` (rate-limited).
    pub async fn discovered(&self, force: bool) -> Result<Arc<Discovered>, AppError> {
        if let Some(d) = self.cache.read().await.as_ref() {
            let age = d.fetched.elapsed();
            if age < REFRESH_AFTER && (!force || age < MIN_REFETCH) {
                return Ok(d.clone());
            }
        }
        let mut slot = self.cache.write().await;
        if let Some(d) = slot.as_ref()
            && d.fetched.elapsed() < MIN_REFETCH
        {
            return Ok(d.clone());
        }
        let d = Arc::new(self.discover().await.map_err(|e| {
            tracing::error!(error = format!("{e:#}"), issuer = %self.issuer(), "OpenID discovery failed");
            AppError::Unavailable("The sign-in service cannot be reached right now; please try again shortly.".into())
        })?);
        *slot = Some(d.clone());
        Ok(d)
    }

    async fn discover(&self) -> anyhow::Result<Discovered> {
        let meta = CoreProviderMetadata::discover_async(IssuerUrl::new(self.issuer())?, &self.http)
            .await?;
        let jwks_uri = meta.jwks_uri().url().clone();
        let jwks: jsonwebtoken::jwk::JwkSet = self
            .http
            .get(jwks_uri)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let e = &self.settings.entra;
        let client = CoreClient::from_provider_metadata(
            meta,
            ClientId::new(e.client_id.clone()),
            Some(ClientSecret::new(
                e.client_secret.expose_secret().to_string(),
            )),
        )
        .set_redirect_uri(RedirectUrl::new(self.settings.redirect_uri())?);
        Ok(Discovered {
            client,
            jwks,
            fetched: Instant::now(),
        })
    }
}

/// What we keep between sending the browser to the provider and its return.
#[derive(Serialize, Deserialize)]
struct LoginState {
    state: String,
    nonce: String,
    pkce_verifier: String,
    return_to: String,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    return_to: Option<String>,
}

/// Only local paths are accepted as a post-sign-in destination (no open redirect).
pub fn safe_return_path(p: Option<&str>) -> String {
    match p {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && !p.starts_with("/\\")
                && !p.contains(['\\', '\r', '\n'])
                && !p.starts_with("/auth/") =>
        {
            p.to_string()
        }
        _ => "/".to_string(),
    }
}

pub async fn login(
    State(app): State<AppState>,
    session: Session,
    Query(q): Query<LoginQuery>,
) -> Result<Response, PageError> {
    let d = app.oidc.discovered(false).await?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = d
        .client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .url();
    let login = LoginState {
        state: state.secret().clone(),
        nonce: nonce.secret().clone(),
        pkce_verifier: verifier.secret().clone(),
        return_to: safe_return_path(q.return_to.as_deref()),
    };
    session
        .insert(SESSION_LOGIN, login)
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(Redirect::to(url.as_str()).into_response())
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// The claims we read from a verified ID token.
#[derive(Deserialize)]
struct EntraIdClaims {
    oid: Option<String>,
    tid: Option<String>,
    name: Option<String>,
    preferred_username: Option<String>,
    email: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
}

pub async fn callback(
    State(app): State<AppState>,
    session: Session,
    Query(q): Query<CallbackQuery>,
) -> Result<Response, PageError> {
    let fail = |status: u16, msg: String| PageError::sign_in(status, msg);
    let internal =
        |e: tower_sessions::session::Error| PageError::from(AppError::Internal(e.into()));
    let login: Option<LoginState> = session.get(SESSION_LOGIN).await.map_err(internal)?;
    let Some(login) = login else {
        return Err(fail(
            400,
            "This sign-in link has expired or was already used. Please sign in again.".into(),
        ));
    };
    // Nothing in an answer is believed, not even an error to show, unless it belongs to this browser's sign-in.
    if q.state.as_deref() != Some(login.state.as_str()) {
        tracing::warn!("sign-in callback with a state that does not match the session");
        return Err(fail(
            400,
            "The sign-in answer does not belong to this browser session. Please sign in again."
                .into(),
        ));
    }
    session
        .remove::<LoginState>(SESSION_LOGIN)
        .await
        .map_err(internal)?;
    // RFC 9207: a provider that names itself must be the one we sent the browser to.
    if let Some(iss) = &q.iss
        && iss.trim_end_matches('/') != app.oidc.issuer().trim_end_matches('/')
    {
        tracing::warn!(%iss, "sign-in answer from another issuer");
        return Err(fail(
            400,
            "The sign-in answer came from another identity provider.".into(),
        ));
    }
    if let Some(err) = q.error {
        let desc = q.error_description.unwrap_or_default();
        tracing::warn!(error = %err, "the identity provider refused the sign-in");
        let sep = if desc.is_empty() { "" } else { ": " };
        return Err(fail(
            401,
            format!("The identity provider said: {err}{sep}{desc}"),
        ));
    }
    let Some(code) = q.code else {
        return Err(fail(
            400,
            "The identity provider's answer was incomplete.".into(),
        ));
    };
    let d = app.oidc.discovered(false).await?;
    let token = d
        .client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|e| AppError::Internal(e.into()))?
        .set_pkce_verifier(PkceCodeVerifier::new(login.pkce_verifier))
        .request_async(&app.oidc.http)
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "code redemption failed");
            fail(401, "The identity provider did not accept the sign-in code (it may have been used already).".into())
        })?;
    let id_token = token
        .id_token()
        .ok_or_else(|| fail(502, "The identity provider sent no ID token.".into()))?;
    let verifier = d.client.id_token_verifier();
    id_token
        .claims(&verifier, &Nonce::new(login.nonce))
        .map_err(|e| {
            tracing::warn!(error = %e, "ID token rejected");
            fail(401, format!("The ID token was not valid: {e}."))
        })?;
    // Signature, issuer, audience, expiry and nonce are verified above; read the Entra claims.
    let claims: EntraIdClaims = decode_payload(&id_token.to_string())
        .map_err(|e| fail(401, format!("The ID token could not be read: {e}.")))?;
    let oid = claims
        .oid
        .ok_or_else(|| fail(401, "The ID token carries no object id (oid).".into()))?;
    if let Some(tid) = &claims.tid
        && !tid.eq_ignore_ascii_case(&app.portal.settings.entra.tenant_id)
    {
        return Err(fail(403, "That account belongs to another tenant.".into()));
    }
    let username = claims
        .preferred_username
        .or(claims.email)
        .unwrap_or_else(|| oid.clone());
    let principal = Principal::new(
        UserRef {
            id: oid,
            name: claims.name.unwrap_or_else(|| username.clone()),
            username,
        },
        claims.roles,
    );
    session
        .cycle_id()
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    session
        .insert(SESSION_USER, &principal)
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    tracing::info!(user = %principal.user.id, "signed in");
    set_flash(&session, format!("Signed in as {}.", principal.user.name)).await;
    Ok(Redirect::to(&login.return_to).into_response())
}

pub async fn logout(session: Session) -> Result<Response, PageError> {
    session
        .flush()
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(Redirect::to("/").into_response())
}

/// The payload of a JWT whose signature has already been checked.
pub fn decode_payload<T: serde::de::DeserializeOwned>(jwt: &str) -> Result<T, String> {
    use base64::Engine;
    let payload = jwt.split('.').nth(1).ok_or("not a JWT")?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| e.to_string())?;
    serde_json::from_slice(&bytes).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::safe_return_path;

    #[test]
    fn only_local_paths_are_returned_to() {
        assert_eq!(
            safe_return_path(Some("/requests/42?x=1")),
            "/requests/42?x=1"
        );
        for bad in [
            "https://evil.example",
            "//evil.example/x",
            "/\\evil.example",
            "evil",
            "/ok\r\nSet-Cookie: x",
            "/auth/callback",
        ] {
            assert_eq!(safe_return_path(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_return_path(None), "/");
    }
}
