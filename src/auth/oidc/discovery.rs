//! The provider's metadata (OpenID discovery) and signing keys: fetched on first use, one fetch at
//! a time, cached for a day, refetched sooner when a token names a key we do not know, and kept in
//! use while the provider cannot be reached.

use std::sync::Arc;
use std::time::{Duration, Instant};

use openidconnect::core::{CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthType, ClientId, ClientSecret, EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl,
    RedirectUrl,
};
use secrecy::ExposeSecret;

use super::Oidc;
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

impl Oidc {
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
        // Without a secret, the code redemption names the client in the body and carries an
        // assertion instead (`sign_in` adds it): oauth2 has no `private_key_jwt` of its own.
        let secret = self
            .credential
            .secret()
            .map(|s| ClientSecret::new(s.expose_secret().to_string()));
        let auth_type = if secret.is_some() {
            AuthType::BasicAuth
        } else {
            AuthType::RequestBody
        };
        let client =
            CoreClient::from_provider_metadata(meta, ClientId::new(e.client_id.clone()), secret)
                .set_auth_type(auth_type)
                .set_redirect_uri(RedirectUrl::new(self.settings.redirect_uri())?);
        Ok(Discovered {
            client,
            jwks,
            fetched: Instant::now(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

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
}
