//! A signed-in session with one portal: the cached account, its access token renewed silently
//! (MSAL's acquire-token-silent: the cache first, then the refresh token), and API calls that
//! renew once and retry when the portal answers 401; when the 401 is a claims challenge (a
//! package's step-up), they sign in again the way the account first did, passing the claims
//! request, and retry once.

use anyhow::{Context, anyhow};
use chrono::Utc;
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::home::{CachedAccount, Home};
use super::interactive::{self, How};
use super::output::{Out, visible};
use super::portal::Portal;
use super::sign_in::{self, Authority, Tokens};

/// Tokens are renewed when they have less than this left, as MSAL does.
const RENEW_BEFORE: chrono::Duration = chrono::Duration::minutes(5);

pub struct Session {
    home: Home,
    portal: Portal,
    account: CachedAccount,
    http: reqwest::Client,
    /// Where a step-up sign-in tells the person what to do.
    out: Out,
}

/// Which portal: `--portal` (or `JITGATE_PORTAL`), else `cli.toml`'s.
pub fn portal_url(flag: Option<&str>, home: &Home) -> anyhow::Result<String> {
    if let Some(p) = flag.filter(|p| !p.trim().is_empty()) {
        return Ok(p.to_string());
    }
    home.config()?.portal.ok_or_else(|| {
        anyhow!(
            "which portal? Pass --portal https://jit.contoso.example (or set JITGATE_PORTAL); `jitgate login --portal URL` remembers it"
        )
    })
}

impl Session {
    /// The session kept for `portal`, renewed if its access token is about to expire.
    pub async fn open(home: Home, portal: Portal, out: Out) -> anyhow::Result<Session> {
        let account = home
            .tokens()?
            .portals
            .get(portal.base())
            .cloned()
            .ok_or_else(|| {
                anyhow!(
                    "you are not signed in to {}: run `jitgate login` (or `jitgate login --device-code` on a machine without a browser)",
                    portal.base()
                )
            })?;
        let mut s = Session {
            home,
            portal,
            account,
            http: sign_in::http()?,
            out,
        };
        if s.account.expires_at - Utc::now() < RENEW_BEFORE {
            s.renew().await?;
        }
        Ok(s)
    }

    pub fn portal(&self) -> &Portal {
        &self.portal
    }

    pub fn account(&self) -> &CachedAccount {
        &self.account
    }

    fn authority(&self) -> Authority {
        Authority {
            authority_host: self.account.authority_host.clone(),
            tenant_id: self.account.tenant_id.clone(),
            client_id: self.account.client_id.clone(),
            scopes: self.account.scopes.clone(),
        }
    }

    /// Renews the tokens with the refresh token and keeps them.
    async fn renew(&mut self) -> anyhow::Result<()> {
        let refresh = self.account.refresh_token.clone().ok_or_else(|| {
            anyhow!(
                "your sign-in to {} has expired: run `jitgate login` again",
                self.portal.base()
            )
        })?;
        let t = sign_in::refresh(&self.authority(), &self.http, &refresh)
            .await
            .with_context(|| format!("cannot renew your sign-in to {}", self.portal.base()))?;
        self.keep(t)
    }

    /// Signs in again as the account first did (browser or device code), asking for the claims
    /// request `claims`, and keeps the new tokens.
    async fn step_up(&mut self, claims: &str) -> anyhow::Result<()> {
        let how = How {
            device_code: self.account.device_code,
            no_browser: self.account.no_browser,
        };
        let t = interactive::sign_in(&self.authority(), &self.http, how, Some(claims), self.out)
            .await
            .with_context(|| {
                format!(
                    "the step-up sign-in to {} did not complete",
                    self.portal.base()
                )
            })?;
        self.keep(t)
    }

    fn keep(&mut self, t: Tokens) -> anyhow::Result<()> {
        self.account.access_token = t.access_token;
        self.account.expires_at = t.expires_at;
        if t.refresh_token.is_some() {
            self.account.refresh_token = t.refresh_token;
        }
        let mut cache = self.home.tokens()?;
        cache
            .portals
            .insert(self.portal.base().to_string(), self.account.clone());
        self.home.save_tokens(&cache)
    }

    /// [`Portal::call`] with the access token; when the portal answers 401, the tokens are
    /// renewed once and the call is made again (a 401 changed nothing, so repeating a POST is
    /// safe).
    async fn call<T: DeserializeOwned>(
        &mut self,
        method: Method,
        path: &str,
        payload: &impl Serialize,
    ) -> anyhow::Result<T> {
        let token = &self.account.access_token;
        match self.portal.call(token, method.clone(), path, payload).await {
            Err(e) if e.step_up_claims().is_some() => {
                let claims = e.step_up_claims().unwrap_or_default().to_string();
                self.out.note(&format!(
                    "{}\nSigning in again for it; then the call is made once more.",
                    visible(&e.body().error.message)
                ));
                self.step_up(&claims).await?;
                let token = &self.account.access_token;
                Ok(self.portal.call(token, method, path, payload).await?)
            }
            Err(e) if e.status() == Some(StatusCode::UNAUTHORIZED) => {
                self.renew().await?;
                let token = &self.account.access_token;
                Ok(self.portal.call(token, method, path, payload).await?)
            }
            other => Ok(other?),
        }
    }

    /// `GET path` with `query` as its query string.
    pub async fn get<T: DeserializeOwned>(
        &mut self,
        path: &str,
        query: &impl Serialize,
    ) -> anyhow::Result<T> {
        self.call(Method::GET, path, query).await
    }

    /// `POST path` with `body` as JSON.
    pub async fn post<T: DeserializeOwned>(
        &mut self,
        path: &str,
        body: &impl Serialize,
    ) -> anyhow::Result<T> {
        self.call(Method::POST, path, body).await
    }
}
