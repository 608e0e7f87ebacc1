//! Microsoft Graph as the admin running `jitgate setup` sees it: plain JSON reads and writes
//! with the admin's delegated token (not the app's), the errors Graph gives said as sentences.

use anyhow::{Context, bail};
use serde_json::Value;

/// Graph with a signed-in admin's delegated token (no `Debug`: nothing prints the token).
pub struct AdminGraph {
    /// e.g. `https://graph.microsoft.com/v1.0`.
    base: String,
    token: String,
    http: reqwest::Client,
}

impl AdminGraph {
    /// `graph_url` is Graph's root (`https://graph.microsoft.com`); calls go to its `v1.0`.
    pub fn new(graph_url: &str, token: String, http: reqwest::Client) -> AdminGraph {
        AdminGraph {
            base: format!("{}/v1.0", graph_url.trim_end_matches('/')),
            token,
            http,
        }
    }

    /// `GET path` (under `/v1.0`, with its query): the JSON answer.
    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.send(reqwest::Method::GET, path, None).await
    }

    /// Every item of the collection at `path`, following `@odata.nextLink`.
    pub async fn list(&self, path: &str) -> anyhow::Result<Vec<Value>> {
        let mut page = self.get(path).await?;
        let mut items = Vec::new();
        loop {
            if let Some(v) = page.get("value").and_then(Value::as_array) {
                items.extend(v.iter().cloned());
            }
            let Some(next) = page.get("@odata.nextLink").and_then(Value::as_str) else {
                return Ok(items);
            };
            let rest = next
                .strip_prefix(&self.base)
                .with_context(|| format!("Graph's next page is elsewhere: {next}"))?
                .to_owned();
            page = self.get(&rest).await?;
        }
    }

    /// A write (`POST`, `PATCH`) of `body` to `path`: the JSON answer (`null` for 204).
    pub async fn write(&self, method: &str, path: &str, body: &Value) -> anyhow::Result<Value> {
        let method = reqwest::Method::from_bytes(method.as_bytes())?;
        self.send(method, path, Some(body)).await
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.base);
        let mut req = self
            .http
            .request(method.clone(), &url)
            .bearer_auth(&self.token)
            // $filter on identifierUris/any() is an advanced query: Graph asks for both.
            .header("ConsistencyLevel", "eventual");
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req
            .send()
            .await
            .with_context(|| format!("{method} {path}: Graph did not answer"))?;
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        if !status.is_success() {
            let err: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            let code = err["error"]["code"].as_str().unwrap_or("");
            let message = err["error"]["message"].as_str().unwrap_or("");
            let hint = match status.as_u16() {
                401 => " (sign in again)",
                403 => {
                    " (the signed-in account needs a role that may do this, e.g. Global Administrator, or the sign-in was not consented to this permission)"
                }
                _ => "",
            };
            bail!("{method} {path}: Graph answered {status} {code}: {message}{hint}");
        }
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text).with_context(|| format!("{method} {path}: not JSON"))
    }
}
