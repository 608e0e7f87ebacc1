//! OpenID Connect against the tenant-specific Entra authority: authorization code flow with PKCE
//! (S256), `state` and `nonce`. Discovery (and the signing keys) are fetched on first use, cached,
//! and refreshed when a token names a key we do not know.

use std::sync::Arc;
use std::time::{Duration, Instant};

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    TokenResponse,
};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use super::Principal;
use crate::config::Settings;
use crate::domain::UserRef;
use crate::error::AppError;

pub type OidcClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

const REFRESH_AFTER: Duration = Duration::from_secs(24 * 3600);
const MIN_REFETCH: Duration = Duration::from_secs(30);
/// After a failed fetch, nobody tries again for this long.
const FAILURE_MEMORY: Duration = Duration::from_secs(30);

fn unreachable_provider() -> AppError {
    AppError::Unavailable(
        "The sign-in service cannot be reached right now; please try again shortly.".into(),
    )
}

pub struct Discovered {
    pub client: OidcClient,
    pub jwks: jsonwebtoken::jwk::JwkSet,
    fetched: Instant,
}

pub struct Oidc {
    pub(super) settings: Arc<Settings>,
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
        Ok(Oidc {
            settings,
            http,
            cache: std::sync::RwLock::new(None),
            refresh: tokio::sync::Mutex::new(()),
            failed_at: std::sync::Mutex::new(None),
        })
    }

    /// The key that seals login cookies: derived from the client secret, which every replica
    /// has and which never leaves the server, so nothing more needs to be kept or shared.
    fn login_key(&self) -> HmacSha256 {
        use hmac::Mac;
        let mut derive = HmacSha256::new_from_slice(
            self.settings.entra.client_secret.expose_secret().as_bytes(),
        )
        .expect("HMAC takes keys of any length");
        derive.update(b"jitgate login state v1");
        HmacSha256::new_from_slice(&derive.finalize().into_bytes())
            .expect("HMAC takes keys of any length")
    }

    /// `base64url(json).base64url(HMAC-SHA-256)`: readable by its own browser (it holds nothing
    /// another party could use), but not forgeable or alterable.
    pub fn seal_login(&self, login: &LoginState) -> String {
        use base64::Engine;
        use hmac::Mac;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let body = b64.encode(serde_json::to_vec(login).expect("a login state serializes"));
        let mut mac = self.login_key();
        mac.update(body.as_bytes());
        format!("{body}.{}", b64.encode(mac.finalize().into_bytes()))
    }

    /// The login state a cookie carries, if it is intact and not expired.
    pub fn open_login(&self, sealed: &str) -> Option<LoginState> {
        use base64::Engine;
        use hmac::Mac;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let (body, tag) = sealed.split_once('.')?;
        let mut mac = self.login_key();
        mac.update(body.as_bytes());
        mac.verify_slice(&b64.decode(tag).ok()?).ok()?;
        let login: LoginState = serde_json::from_slice(&b64.decode(body).ok()?).ok()?;
        (chrono::Utc::now().timestamp() < login.expires).then_some(login)
    }

    pub fn issuer(&self) -> String {
        self.settings.entra.issuer()
    }

    /// The provider's metadata and keys; refetched daily, or sooner with `force` (a token names
    /// a key we do not know; at most every [`MIN_REFETCH`]).
    ///
    /// One fetch at a time (single flight): callers that arrive during it wait for its result
    /// instead of fetching too, and no lock on the cache is held over the network. A failed fetch
    /// is remembered for [`FAILURE_MEMORY`], during which nobody tries again; meanwhile, and
    /// whenever a refresh fails, the cached keys keep being used. Only a portal that has never
    /// reached the provider answers 503.
    pub async fn discovered(&self, force: bool) -> Result<Arc<Discovered>, AppError> {
        let cached = self.cached();
        if let Some(d) = &cached
            && !self.due(d, force)
        {
            return Ok(d.clone());
        }
        if self.failed_recently() {
            return cached.ok_or_else(unreachable_provider);
        }
        let _flight = self.refresh.lock().await;
        // Whoever held the flight before us may have done the work, or failed at it.
        let current = self.cached();
        if let Some(d) = &current {
            let refreshed = cached.as_ref().is_none_or(|c| !Arc::ptr_eq(c, d));
            if refreshed || !self.due(d, force) {
                return Ok(d.clone());
            }
        }
        if self.failed_recently() {
            return current.ok_or_else(unreachable_provider);
        }
        match self.discover().await {
            Ok(d) => {
                let d = Arc::new(d);
                *self.cache.write().unwrap_or_else(|e| e.into_inner()) = Some(d.clone());
                *self.failed_at.lock().unwrap_or_else(|e| e.into_inner()) = None;
                Ok(d)
            }
            Err(e) => {
                *self.failed_at.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
                match current {
                    Some(d) => {
                        tracing::warn!(error = format!("{e:#}"), issuer = %self.issuer(), "refreshing the identity provider's keys failed; the cached keys stay in use");
                        Ok(d)
                    }
                    None => {
                        tracing::error!(error = format!("{e:#}"), issuer = %self.issuer(), "OpenID discovery failed");
                        Err(unreachable_provider())
                    }
                }
            }
        }
    }

    fn cached(&self) -> Option<Arc<Discovered>> {
        self.cache.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn due(&self, d: &Discovered, force: bool) -> bool {
        let age = d.fetched.elapsed();
        age >= REFRESH_AFTER || (force && age >= MIN_REFETCH)
    }

    fn failed_recently(&self) -> bool {
        self.failed_at
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some_and(|at| at.elapsed() < FAILURE_MEMORY)
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

/// What the browser keeps between being sent to the provider and its return: in a short-lived
/// cookie sealed with [`Oidc::seal_login`], so that starting a sign-in stores nothing on the
/// server and a flood of them cannot fill the database.
#[derive(Serialize, Deserialize)]
pub struct LoginState {
    state: String,
    nonce: String,
    pkce_verifier: String,
    return_to: String,
    /// Unix time after which the sign-in must be started again.
    #[serde(default)]
    expires: i64,
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
}

/// The provider's answer at the redirect URI.
#[derive(Deserialize)]
pub struct CallbackParams {
    pub code: Option<String>,
    pub state: Option<String>,
    pub iss: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// Why a sign-in did not produce a principal.
#[derive(Debug)]
pub enum SignInFailure {
    /// The answer was refused: shown to the person as a failed sign-in with this status.
    Refused { status: u16, message: String },
    /// Something on our side (or the provider being unreachable).
    Error(AppError),
}

impl From<AppError> for SignInFailure {
    fn from(e: AppError) -> SignInFailure {
        SignInFailure::Error(e)
    }
}

fn refused(status: u16, message: impl Into<String>) -> SignInFailure {
    SignInFailure::Refused {
        status,
        message: message.into(),
    }
}

/// A refusal whose cause stays in the log: the person sees a generic message with a reference
/// they can quote, the log has the details under the same reference.
fn refused_logged(what: &str, detail: &str) -> SignInFailure {
    let reference = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    tracing::warn!(%reference, error = %detail, "{what}");
    refused(
        401,
        format!(
            "{what}, so the sign-in was refused. If it keeps happening, quote reference {reference} to your administrator."
        ),
    )
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

impl Oidc {
    /// Starts a sign-in: the provider's authorization URL (PKCE S256, `state`, `nonce`) and what
    /// the session must keep until the browser comes back. `return_to` must already be a safe local path.
    pub async fn begin_sign_in(&self, return_to: String) -> Result<(String, LoginState), AppError> {
        let d = self.discovered(false).await?;
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
            return_to,
            expires: chrono::Utc::now().timestamp() + LOGIN_LIFETIME.as_secs() as i64,
        };
        Ok((url.to_string(), login))
    }

    /// Finishes a sign-in whose `state` was already matched against `login`: checks the issuer
    /// (RFC 9207), redeems the code with the PKCE verifier, verifies the ID token (signature,
    /// issuer, audience, expiry, nonce) and the tenant, and returns who signed in.
    pub async fn finish_sign_in(
        &self,
        login: LoginState,
        q: CallbackParams,
    ) -> Result<Principal, SignInFailure> {
        // RFC 9207: a provider that names itself must be the one we sent the browser to.
        if let Some(iss) = &q.iss
            && iss.trim_end_matches('/') != self.issuer().trim_end_matches('/')
        {
            tracing::warn!(%iss, "sign-in answer from another issuer");
            return Err(refused(
                400,
                "The sign-in answer came from another identity provider.",
            ));
        }
        if let Some(err) = q.error {
            let desc = q.error_description.unwrap_or_default();
            tracing::warn!(error = %err, "the identity provider refused the sign-in");
            let sep = if desc.is_empty() { "" } else { ": " };
            return Err(refused(
                401,
                format!("The identity provider said: {err}{sep}{desc}"),
            ));
        }
        let Some(code) = q.code else {
            return Err(refused(
                400,
                "The identity provider's answer was incomplete.",
            ));
        };
        let d = self.discovered(false).await?;
        let token = d
            .client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| AppError::Internal(e.into()))?
            .set_pkce_verifier(PkceCodeVerifier::new(login.pkce_verifier))
            .request_async(&self.http)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "code redemption failed");
                refused(401, "The identity provider did not accept the sign-in code (it may have been used already).")
            })?;
        let id_token = token
            .id_token()
            .ok_or_else(|| refused(502, "The identity provider sent no ID token."))?;
        let verifier = d.client.id_token_verifier();
        id_token
            .claims(&verifier, &Nonce::new(login.nonce))
            .map_err(|e| refused_logged("The ID token was not valid", &e.to_string()))?;
        // Signature, issuer, audience, expiry and nonce are verified above; read the Entra claims.
        let claims: EntraIdClaims = decode_payload(&id_token.to_string())
            .map_err(|e| refused_logged("The ID token could not be read", &e.to_string()))?;
        let oid = claims
            .oid
            .ok_or_else(|| refused(401, "The ID token carries no object id (oid)."))?;
        if let Some(tid) = &claims.tid
            && !tid.eq_ignore_ascii_case(&self.settings.entra.tenant_id)
        {
            return Err(refused(403, "That account belongs to another tenant."));
        }
        let username = claims
            .preferred_username
            .or(claims.email)
            .unwrap_or_else(|| oid.clone());
        Ok(Principal::new(
            UserRef {
                id: oid,
                name: claims.name.unwrap_or_else(|| username.clone()),
                username,
            },
            claims.roles,
        ))
    }
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
    use super::*;

    fn oidc() -> Oidc {
        Oidc::new(Arc::new(Settings::for_tests("https://jit.contoso.example"))).unwrap()
    }

    /// An identity provider that counts discovery requests, answers slowly, and can be down.
    struct Provider {
        fetches: Arc<std::sync::atomic::AtomicUsize>,
        down: Arc<std::sync::atomic::AtomicBool>,
        url: String,
    }

    async fn provider() -> Provider {
        use axum::extract::State;
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let fetches = Arc::new(AtomicUsize::new(0));
        let down = Arc::new(AtomicBool::new(false));
        type Shared = (Arc<AtomicUsize>, Arc<AtomicBool>, String);
        async fn discovery(State((fetches, down, url)): State<Shared>) -> axum::response::Response {
            use axum::response::IntoResponse;
            fetches.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(50)).await;
            if down.load(Ordering::SeqCst) {
                return axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response();
            }
            let issuer = format!("{url}/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0");
            axum::Json(serde_json::json!({
                "issuer": issuer,
                "authorization_endpoint": format!("{issuer}/authorize"),
                "token_endpoint": format!("{issuer}/token"),
                "jwks_uri": format!("{url}/keys"),
                "response_types_supported": ["code"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
            }))
            .into_response()
        }
        let app = axum::Router::new()
            .route(
                "/{tenant}/v2.0/.well-known/openid-configuration",
                axum::routing::get(discovery),
            )
            .route(
                "/keys",
                axum::routing::get(|| async { axum::Json(serde_json::json!({"keys": []})) }),
            )
            .with_state((fetches.clone(), down.clone(), url.clone()));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Provider { fetches, down, url }
    }

    fn oidc_at(url: &str) -> Oidc {
        let mut settings = Settings::for_tests("https://jit.contoso.example");
        settings.entra.authority_host = url::Url::parse(url).unwrap();
        Oidc::new(Arc::new(settings)).unwrap()
    }

    /// Issue 8, item 6: one fetch at a time, none held under a lock; failures remembered; the
    /// cached keys kept in use when a refresh fails.
    #[tokio::test]
    async fn key_refresh_is_single_flight_and_survives_an_outage() {
        use std::sync::atomic::Ordering;
        let p = provider().await;
        let o = Arc::new(oidc_at(&p.url));
        // Twenty requests at once on a cold cache: one fetch.
        let all = futures_util::future::join_all((0..20).map(|_| {
            let o = o.clone();
            async move { o.discovered(false).await.is_ok() }
        }))
        .await;
        assert!(all.iter().all(|ok| *ok));
        assert_eq!(p.fetches.load(Ordering::SeqCst), 1);

        // The provider goes down; the keys are due for a refresh (a day old).
        p.down.store(true, Ordering::SeqCst);
        age(&o, REFRESH_AFTER + Duration::from_secs(1));
        let first = o.cached().unwrap();
        // Twenty tokens naming unknown keys: one failed fetch, and everyone keeps the cached keys.
        let all = futures_util::future::join_all((0..20).map(|_| {
            let o = o.clone();
            async move { o.discovered(true).await.is_ok() }
        }))
        .await;
        assert!(all.iter().all(|ok| *ok), "served from the cache");
        assert_eq!(p.fetches.load(Ordering::SeqCst), 2, "one more fetch");
        // The failure is remembered: no fetch for a while, the cache still serves.
        for _ in 0..10 {
            assert!(o.discovered(true).await.is_ok());
        }
        assert_eq!(p.fetches.load(Ordering::SeqCst), 2);
        assert!(Arc::ptr_eq(&o.cached().unwrap(), &first));

        // Back up, and the failure forgotten: the next refresh replaces the keys.
        p.down.store(false, Ordering::SeqCst);
        forget_failure(&o);
        let d = o.discovered(true).await.unwrap();
        assert!(!Arc::ptr_eq(&d, &first));
        assert_eq!(p.fetches.load(Ordering::SeqCst), 3);

        // A portal that never reached the provider says so (503), and remembers that too.
        let cold = oidc_at(&p.url);
        p.down.store(true, Ordering::SeqCst);
        assert!(matches!(
            cold.discovered(false).await,
            Err(AppError::Unavailable(_))
        ));
        assert!(matches!(
            cold.discovered(false).await,
            Err(AppError::Unavailable(_))
        ));
        assert_eq!(p.fetches.load(Ordering::SeqCst), 4);
    }

    /// Makes the cached discovery look `by` older.
    fn age(o: &Oidc, by: Duration) {
        let mut slot = o.cache.write().unwrap();
        let d = slot.as_ref().unwrap();
        let older = Discovered {
            client: d.client.clone(),
            jwks: d.jwks.clone(),
            fetched: Instant::now() - by,
        };
        *slot = Some(Arc::new(older));
    }

    fn forget_failure(o: &Oidc) {
        *o.failed_at.lock().unwrap() = None;
    }

    #[test]
    fn login_cookies_cannot_be_forged_altered_or_kept() {
        let o = oidc();
        let login = LoginState {
            state: "s1".into(),
            nonce: "n1".into(),
            pkce_verifier: "v1".into(),
            return_to: "/approvals".into(),
            expires: chrono::Utc::now().timestamp() + 60,
        };
        let sealed = o.seal_login(&login);
        let back = o.open_login(&sealed).expect("an intact cookie opens");
        assert!(back.answers(Some("s1")) && back.return_to() == "/approvals");
        // Another return path, or another signature, is refused.
        let (body, tag) = sealed.split_once('.').unwrap();
        let altered = String::from_utf8({
            use base64::Engine;
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(body)
                .unwrap()
        })
        .unwrap()
        .replace("/approvals", "//evil.example");
        let altered = {
            use base64::Engine;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(altered)
        };
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

    #[test]
    fn people_see_a_reference_not_the_validation_error() {
        let SignInFailure::Refused { status, message } = refused_logged(
            "The ID token was not valid",
            "InvalidSignature: key kid-7 unknown",
        ) else {
            panic!("a refusal");
        };
        assert_eq!(status, 401);
        assert!(
            message.contains("reference ") && !message.contains("kid-7"),
            "{message}"
        );
    }
}
