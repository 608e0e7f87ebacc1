//! The app's client-credentials token for Graph: fetched from Entra's token endpoint, cached
//! until shortly before it expires, and forgotten when Graph refuses it.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::ACCEPT;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;

use super::DirectoryError;
use super::settings::GraphSettings;
use super::wire::token_error_message;

/// Renew the app token this long before it expires.
const TOKEN_REFRESH_MARGIN: Duration = Duration::from_secs(300);

struct CachedToken {
    value: SecretString,
    refresh_at: Instant,
}

/// Where the app token comes from, and the one in use.
pub(super) struct TokenCache {
    /// `{authority}/{tenant}/oauth2/v2.0/token`.
    pub(super) url: String,
    /// `{graph}/.default`.
    scope: String,
    cached: tokio::sync::Mutex<Option<CachedToken>>,
}

impl TokenCache {
    pub(super) fn new(settings: &GraphSettings, graph_base: &str) -> TokenCache {
        let authority = settings.authority_host.trim_end_matches('/');
        TokenCache {
            url: format!("{authority}/{}/oauth2/v2.0/token", settings.tenant_id),
            scope: format!("{graph_base}/.default"),
            cached: tokio::sync::Mutex::new(None),
        }
    }

    /// The cached app token, or a new one. Concurrent callers share one refresh.
    pub(super) async fn get(
        &self,
        settings: &GraphSettings,
        http: &reqwest::Client,
    ) -> Result<SecretString, DirectoryError> {
        let mut cached = self.cached.lock().await;
        if let Some(t) = cached.as_ref()
            && Instant::now() < t.refresh_at
        {
            return Ok(t.value.clone());
        }
        let fresh = self.fetch(settings, http).await?;
        let value = fresh.value.clone();
        *cached = Some(fresh);
        Ok(value)
    }

    /// Forgets `used` if it is still the cached token (another caller may have renewed it).
    pub(super) async fn invalidate(&self, used: &SecretString) {
        let mut cached = self.cached.lock().await;
        if cached
            .as_ref()
            .is_some_and(|t| t.value.expose_secret() == used.expose_secret())
        {
            *cached = None;
        }
    }

    async fn fetch(
        &self,
        settings: &GraphSettings,
        http: &reqwest::Client,
    ) -> Result<CachedToken, DirectoryError> {
        let auth = settings
            .credential
            .client_auth(&self.url)
            .await
            .map_err(|e| DirectoryError::Token {
                retriable: e.retriable,
                message: format!("the app's {} credential: {e}", settings.credential.kind()),
            })?;
        let mut form = vec![
            ("grant_type", "client_credentials".to_string()),
            ("client_id", settings.client_id.clone()),
            ("scope", self.scope.clone()),
        ];
        form.extend(auth.form());
        let resp = http
            .post(&self.url)
            .timeout(settings.timeout)
            .header(ACCEPT, "application/json")
            .form(&form)
            .send()
            .await
            .map_err(|e| DirectoryError::Token {
                retriable: true,
                message: format!("token request failed: {e}"),
            })?;
        let status = resp.status();
        let body = resp.bytes().await.map_err(|e| DirectoryError::Token {
            retriable: true,
            message: format!("reading the token response failed: {e}"),
        })?;
        tracing::debug!(status = status.as_u16(), "client-credentials token request");
        if !status.is_success() {
            let retriable = status.is_server_error()
                || status == StatusCode::TOO_MANY_REQUESTS
                || status == StatusCode::REQUEST_TIMEOUT;
            return Err(DirectoryError::Token {
                retriable,
                message: token_error_message(status, &body),
            });
        }
        #[derive(Deserialize)]
        struct TokenResponse {
            access_token: String,
            #[serde(default)]
            expires_in: Option<Value>,
        }
        let parsed: TokenResponse =
            serde_json::from_slice(&body).map_err(|e| DirectoryError::Token {
                retriable: true,
                message: format!("unexpected token response: {e}"),
            })?;
        // Entra sends an integer; some proxies turn it into a string.
        let lifetime = parsed
            .expires_in
            .as_ref()
            .and_then(|v| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            })
            .unwrap_or(3599);
        let lifetime = Duration::from_secs(lifetime);
        let usable = if lifetime > TOKEN_REFRESH_MARGIN * 2 {
            lifetime - TOKEN_REFRESH_MARGIN
        } else {
            lifetime / 2
        };
        Ok(CachedToken {
            value: SecretString::from(parsed.access_token),
            refresh_at: Instant::now() + usable,
        })
    }
}
