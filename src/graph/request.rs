//! Sending requests to Graph: one call with the app token (renewed once when Graph refuses it),
//! paced when it writes; reads retried inline on throttling and transient errors; lists read
//! page by page along `@odata.nextLink`.

use std::time::{Duration, Instant};

use reqwest::header::ACCEPT;
use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use super::DirectoryError;
use super::client::GraphClient;
use super::wire::{backoff, classify, is_write, parse_retry_after};

type Bytes = Vec<u8>;

/// Inline retries of reads (not counting the first attempt).
const READ_RETRIES: u32 = 3;
/// Longest inline wait between read attempts, whatever `Retry-After` says.
const MAX_READ_DELAY: Duration = Duration::from_secs(5);
/// Guard against a directory that keeps handing out next links.
const MAX_PAGES: usize = 10_000;

/// Whether `url` asks for `$search`, which Graph serves on directory objects only as an
/// advanced query (`ConsistencyLevel: eventual`).
fn is_advanced_query(url: &str) -> bool {
    url.split_once('?').is_some_and(|(_, q)| {
        q.split('&')
            .any(|p| p.starts_with("$search=") || p.starts_with("%24search="))
    })
}

/// One request to Graph's v1.0 endpoint, sent alone or inside a `$batch`.
pub(super) struct Call {
    pub(super) method: Method,
    /// Relative to `/v1.0`.
    pub(super) url: String,
    pub(super) body: Option<Value>,
}

impl GraphClient {
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
            let token = self.token.get(&self.settings, &self.http).await?;
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
            if is_advanced_query(url) {
                // `$search` on directory objects is an advanced query: Graph answers 400
                // without this header (and it is not carried into next links: sent again).
                req = req.header("ConsistencyLevel", "eventual");
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
                self.token.invalidate(&token).await;
                renewed = true;
                continue;
            }
            return Err(error);
        }
    }

    /// [`Call`] sent alone, as [`GraphClient::execute`] sends it.
    pub(super) async fn execute_call(&self, call: Call) -> Result<Bytes, DirectoryError> {
        self.execute(call.method, &self.url(&call.url), call.body.as_ref())
            .await
    }

    /// A request that only reads (a GET, or a POST such as `checkMemberGroups`), with inline
    /// retries of throttling and transient errors.
    pub(super) async fn read_with(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<Bytes, DirectoryError> {
        let mut attempt = 0;
        loop {
            match self.execute(method.clone(), url, body).await {
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
        let body = self.read_with(Method::GET, url, None).await?;
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

    /// The bearer token must only ever go to the configured Graph origin (next and delta links).
    pub(super) fn check_next_link(&self, link: &str) -> Result<(), DirectoryError> {
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
}
