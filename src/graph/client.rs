//! [`GraphClient`]: the Microsoft Graph implementation of [`Directory`].

use std::time::{Duration, Instant};

type Bytes = Vec<u8>;

use reqwest::header::ACCEPT;
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};

use super::pacer::Pacer;
use super::settings::GraphSettings;
use super::wire::{
    added, backoff, classify, is_write, member_groups_contain, parse_retry_after, removed,
    require_guid, token_error_message, user_segment,
};
use super::{Directory, DirectoryError, DirectoryUser, MemberChange, MemberOp, SignIn, UserAccess};

/// Renew the app token this long before it expires.
const TOKEN_REFRESH_MARGIN: Duration = Duration::from_secs(300);
/// Inline retries of reads (not counting the first attempt).
const READ_RETRIES: u32 = 3;
/// Longest inline wait between read attempts, whatever `Retry-After` says.
const MAX_READ_DELAY: Duration = Duration::from_secs(5);
/// Guard against a directory that keeps handing out next links.
const MAX_PAGES: usize = 10_000;
const MEMBER_SELECT: &str = "id,displayName,userPrincipalName,mail";

struct CachedToken {
    value: SecretString,
    refresh_at: Instant,
}

/// Microsoft Graph directory client with a client-credentials token cache.
///
/// Writes are never retried here (the outbox worker reschedules them); reads retry throttling
/// and transient errors up to three times, honouring `Retry-After` capped at five seconds.
pub struct GraphClient {
    pub(super) settings: GraphSettings,
    pub(super) http: reqwest::Client,
    token_url: String,
    pub(super) graph_base: String,
    scope: String,
    page_size: u32,
    token: tokio::sync::Mutex<Option<CachedToken>>,
    pub(super) pacer: Option<Pacer>,
}

impl std::fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphClient")
            .field("token_url", &self.token_url)
            .field("graph_base", &self.graph_base)
            .field("client_id", &self.settings.client_id)
            .finish_non_exhaustive()
    }
}

impl GraphClient {
    pub fn new(settings: GraphSettings, http: reqwest::Client) -> Self {
        let authority = settings.authority_host.trim_end_matches('/');
        let graph_base = settings.graph_url.trim_end_matches('/').to_owned();
        GraphClient {
            token_url: format!("{authority}/{}/oauth2/v2.0/token", settings.tenant_id),
            scope: format!("{graph_base}/.default"),
            graph_base,
            http,
            page_size: 999,
            token: tokio::sync::Mutex::new(None),
            pacer: settings.write_budget.map(Pacer::new),
            settings,
        }
    }

    /// Page size (`$top`, 1..=999) used when listing group members. Default 999.
    pub fn with_page_size(mut self, page_size: u32) -> Self {
        self.page_size = page_size.clamp(1, 999);
        self
    }

    /// The cached app token, or a new one. Concurrent callers share one refresh.
    pub(super) async fn token(&self) -> Result<SecretString, DirectoryError> {
        let mut cached = self.token.lock().await;
        if let Some(t) = cached.as_ref()
            && Instant::now() < t.refresh_at
        {
            return Ok(t.value.clone());
        }
        let fresh = self.fetch_token().await?;
        let value = fresh.value.clone();
        *cached = Some(fresh);
        Ok(value)
    }

    /// Forgets `used` if it is still the cached token (another caller may have renewed it).
    async fn invalidate(&self, used: &SecretString) {
        let mut cached = self.token.lock().await;
        if cached
            .as_ref()
            .is_some_and(|t| t.value.expose_secret() == used.expose_secret())
        {
            *cached = None;
        }
    }

    async fn fetch_token(&self) -> Result<CachedToken, DirectoryError> {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.settings.client_id.as_str()),
            ("client_secret", self.settings.client_secret.expose_secret()),
            ("scope", self.scope.as_str()),
        ];
        let resp = self
            .http
            .post(&self.token_url)
            .timeout(self.settings.timeout)
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

    /// One Graph request (plus one retry with a fresh token after an
    /// `InvalidAuthenticationToken` 401). Returns the body of a 2xx response.
    pub(super) async fn execute(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<Bytes, DirectoryError> {
        let path = url
            .strip_prefix(&self.graph_base)
            .unwrap_or(url)
            .split('?')
            .next()
            .unwrap_or("")
            .to_owned();
        let pacer = self.pacer.as_ref().filter(|_| is_write(&method, &path));
        let mut renewed = false;
        loop {
            if let Some(p) = pacer {
                p.acquire(1).await;
            }
            let token = self.token().await?;
            let client_request_id = uuid::Uuid::new_v4().to_string();
            let mut req = self
                .http
                .request(method.clone(), url)
                .timeout(self.settings.timeout)
                .bearer_auth(token.expose_secret())
                .header("client-request-id", &client_request_id)
                .header(ACCEPT, "application/json");
            if let Some(b) = body {
                req = req.json(b);
            }
            let started = Instant::now();
            let resp = match req.send().await {
                Ok(resp) => resp,
                Err(e) => {
                    tracing::debug!(%method, %path, %client_request_id, error = %e, "Graph request failed");
                    if e.is_timeout() {
                        return Err(DirectoryError::Transient(format!(
                            "{method} {path}: no answer within {:?}",
                            self.settings.timeout
                        )));
                    }
                    return Err(DirectoryError::Transient(format!("{method} {path}: {e}")));
                }
            };
            let status = resp.status();
            let retry_after = parse_retry_after(resp.headers());
            let bytes = resp
                .bytes()
                .await
                .map_err(|e| {
                    DirectoryError::Transient(format!("{method} {path}: reading the response: {e}"))
                })?
                .to_vec();
            tracing::debug!(
                %method,
                %path,
                status = status.as_u16(),
                %client_request_id,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "Graph request"
            );
            if status.is_success() {
                return Ok(bytes);
            }
            if status == StatusCode::TOO_MANY_REQUESTS
                && let Some(p) = pacer
            {
                p.throttled(retry_after);
            }
            let error = classify(status, retry_after, &bytes);
            if status == StatusCode::UNAUTHORIZED
                && !renewed
                && matches!(&error, DirectoryError::Rejected { code, .. } if code == "InvalidAuthenticationToken")
            {
                tracing::debug!(%path, "Graph refused the app token; renewing it once");
                self.invalidate(&token).await;
                renewed = true;
                continue;
            }
            return Err(error);
        }
    }

    /// A GET with inline retries of throttling and transient errors.
    async fn read(&self, url: &str) -> Result<Bytes, DirectoryError> {
        let mut attempt = 0;
        loop {
            match self.execute(Method::GET, url, None).await {
                Ok(body) => return Ok(body),
                Err(e) if e.is_retriable() && attempt < READ_RETRIES => {
                    let delay = e
                        .retry_after()
                        .unwrap_or_else(|| backoff(attempt))
                        .min(MAX_READ_DELAY);
                    tracing::debug!(attempt, delay_ms = delay.as_millis() as u64, error = %e, "retrying a Graph read");
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    pub(super) async fn read_json<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
    ) -> Result<T, DirectoryError> {
        let body = self.read(url).await?;
        serde_json::from_slice(&body)
            .map_err(|e| DirectoryError::Transient(format!("unexpected Graph response: {e}")))
    }

    /// Follows `@odata.nextLink` verbatim, collecting every page's `value`.
    pub(super) async fn read_all(
        &self,
        first: String,
    ) -> Result<(Value, Vec<Value>), DirectoryError> {
        let mut next = Some(first);
        let mut first_page = None;
        let mut items = Vec::new();
        let mut pages = 0;
        while let Some(url) = next.take() {
            pages += 1;
            if pages > MAX_PAGES {
                return Err(DirectoryError::Transient(
                    "too many result pages".to_owned(),
                ));
            }
            let mut page: Value = self.read_json(&url).await?;
            if let Some(Value::Array(values)) = page.get_mut("value").map(Value::take) {
                items.extend(values);
            }
            if let Some(link) = page.get("@odata.nextLink").and_then(Value::as_str) {
                self.check_next_link(link)?;
                next = Some(link.to_owned());
            }
            first_page.get_or_insert(page);
        }
        Ok((first_page.unwrap_or_else(|| json!({})), items))
    }

    /// The bearer token must only ever go to the configured Graph origin.
    fn check_next_link(&self, link: &str) -> Result<(), DirectoryError> {
        let origin = |u: &str| url::Url::parse(u).ok().map(|u| u.origin());
        match (origin(link), origin(&self.graph_base)) {
            (Some(a), Some(b)) if a == b => Ok(()),
            _ => Err(DirectoryError::Rejected {
                status: 200,
                code: "UnexpectedNextLink".to_owned(),
                message: format!("Graph returned a next link outside {}", self.graph_base),
            }),
        }
    }

    pub(super) fn url(&self, path: &str) -> String {
        format!("{}/v1.0{path}", self.graph_base)
    }

    /// Every page of a member list from `first`, as users.
    async fn read_members(&self, first: String) -> Result<Vec<DirectoryUser>, DirectoryError> {
        let (_, items) = self.read_all(first).await?;
        items
            .into_iter()
            .map(|item| {
                serde_json::from_value(item).map_err(|e| {
                    DirectoryError::Transient(format!("unexpected member in Graph response: {e}"))
                })
            })
            .collect()
    }

    /// Graph's beta endpoint, for the one read that needs it (device-code sign-ins).
    pub(super) fn beta_url(&self, path: &str) -> String {
        format!("{}/beta{path}", self.graph_base)
    }
}

#[async_trait::async_trait]
impl Directory for GraphClient {
    async fn add_member(
        &self,
        group_id: &str,
        user_id: &str,
    ) -> Result<MemberChange, DirectoryError> {
        require_guid(group_id)?;
        require_guid(user_id)?;
        let url = self.url(&format!("/groups/{group_id}/members/$ref"));
        let body =
            json!({ "@odata.id": format!("{}/v1.0/directoryObjects/{user_id}", self.graph_base) });
        added(
            self.execute(Method::POST, &url, Some(&body))
                .await
                .map(drop),
        )
    }

    async fn remove_member(
        &self,
        group_id: &str,
        user_id: &str,
    ) -> Result<MemberChange, DirectoryError> {
        require_guid(group_id)?;
        require_guid(user_id)?;
        let url = self.url(&format!("/groups/{group_id}/members/{user_id}/$ref"));
        removed(self.execute(Method::DELETE, &url, None).await.map(drop))
    }

    async fn is_member(&self, group_id: &str, user_id: &str) -> Result<bool, DirectoryError> {
        require_guid(group_id)?;
        require_guid(user_id)?;
        let url = self.url(&format!("/users/{user_id}/checkMemberGroups"));
        let body = json!({ "groupIds": [group_id] });
        // A read: retried inline like the others.
        let mut attempt = 0;
        loop {
            match self.execute(Method::POST, &url, Some(&body)).await {
                Ok(bytes) => return member_groups_contain(&bytes, group_id),
                Err(e) if e.is_retriable() && attempt < READ_RETRIES => {
                    let delay = e
                        .retry_after()
                        .unwrap_or_else(|| backoff(attempt))
                        .min(MAX_READ_DELAY);
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn change_members(&self, ops: &[MemberOp]) -> Vec<Result<MemberChange, DirectoryError>> {
        self.change_members_batched(ops).await
    }

    async fn are_members(&self, pairs: &[(String, String)]) -> Vec<Result<bool, DirectoryError>> {
        self.are_members_batched(pairs).await
    }

    async fn revoke_sign_in_sessions(&self, user_id: &str) -> Result<(), DirectoryError> {
        require_guid(user_id)?;
        let url = self.url(&format!("/users/{user_id}/revokeSignInSessions"));
        self.execute(Method::POST, &url, None).await.map(drop)
    }

    async fn list_members(&self, group_id: &str) -> Result<Vec<DirectoryUser>, DirectoryError> {
        require_guid(group_id)?;
        let first = self.url(&format!(
            "/groups/{group_id}/members?$select={MEMBER_SELECT}&$top={}",
            self.page_size
        ));
        self.read_members(first).await
    }

    async fn member_groups_among(
        &self,
        user_id: &str,
        groups: &[String],
    ) -> Result<Vec<String>, DirectoryError> {
        let groups: Vec<&str> = groups.iter().map(String::as_str).collect();
        GraphClient::member_groups_among(self, user_id, &groups).await
    }

    async fn device_code_sign_ins(
        &self,
        since: chrono::DateTime<chrono::Utc>,
        user_id: Option<&str>,
    ) -> Result<Vec<SignIn>, DirectoryError> {
        GraphClient::device_code_sign_ins(self, since, user_id).await
    }

    async fn list_transitive_members(
        &self,
        group_id: &str,
    ) -> Result<Vec<DirectoryUser>, DirectoryError> {
        require_guid(group_id)?;
        let first = self.url(&format!(
            "/groups/{group_id}/transitiveMembers/microsoft.graph.user?$select={MEMBER_SELECT}&$top={}",
            self.page_size
        ));
        self.read_members(first).await
    }

    async fn get_user(&self, id: &str) -> Result<Option<DirectoryUser>, DirectoryError> {
        let segment = user_segment(id)?;
        let url = self.url(&format!("/users/{segment}?$select={MEMBER_SELECT}"));
        match self.read_json::<DirectoryUser>(&url).await {
            Ok(user) => Ok(Some(user)),
            Err(DirectoryError::Rejected { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn get_manager(&self, user_id: &str) -> Result<Option<DirectoryUser>, DirectoryError> {
        require_guid(user_id)?;
        let url = self.url(&format!("/users/{user_id}/manager?$select={MEMBER_SELECT}"));
        match self.read_json::<DirectoryUser>(&url).await {
            Ok(manager) => Ok(Some(manager)),
            Err(DirectoryError::Rejected {
                status: 404,
                message,
                ..
            }) if message.contains("'manager'") => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn user_access(&self, user_id: &str) -> Result<Option<UserAccess>, DirectoryError> {
        self.access_of(user_id).await
    }

    async fn app_role_holders(&self, value: &str) -> Result<Vec<DirectoryUser>, DirectoryError> {
        self.holders_of(value).await
    }

    async fn send_mail(
        &self,
        sender: &str,
        to: &[String],
        subject: &str,
        body: &str,
    ) -> Result<(), DirectoryError> {
        let segment = user_segment(sender)?;
        let url = self.url(&format!("/users/{segment}/sendMail"));
        let message = json!({
            "message": {
                "subject": subject,
                "body": {"contentType": "Text", "content": body},
                "toRecipients": to
                    .iter()
                    .map(|a| json!({"emailAddress": {"address": a}}))
                    .collect::<Vec<_>>(),
            },
            "saveToSentItems": false,
        });
        self.execute(Method::POST, &url, Some(&message))
            .await
            .map(drop)
    }

    async fn list_conditional_access_policies(&self) -> Result<Value, DirectoryError> {
        let (mut first, items) = self
            .read_all(self.url("/identity/conditionalAccess/policies"))
            .await?;
        if let Some(obj) = first.as_object_mut() {
            obj.remove("@odata.nextLink");
            obj.insert("value".to_owned(), Value::Array(items));
        }
        Ok(first)
    }
}
