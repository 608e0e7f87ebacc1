//! The portal's JSON API as the command line calls it, in the contract's types.

use std::time::Duration;

use anyhow::{Context, bail};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::contract::{CliSignIn, ErrorBody};

/// A failed API call.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The portal answered with its error body; `claims`, the claims request of an
    /// `insufficient_claims` challenge (a step-up to sign in again for).
    #[error("{}", .body.error.message)]
    Refused {
        status: StatusCode,
        body: ErrorBody,
        claims: Option<String>,
    },
    /// The portal could not be reached, or answered something else.
    #[error("{0}")]
    Other(String),
}

impl ApiError {
    /// The claims request to sign in again with, when the portal asked for a step-up.
    pub fn step_up_claims(&self) -> Option<&str> {
        match self {
            ApiError::Refused {
                status: StatusCode::UNAUTHORIZED,
                claims: Some(c),
                ..
            } => Some(c),
            _ => None,
        }
    }

    pub fn status(&self) -> Option<StatusCode> {
        match self {
            ApiError::Refused { status, .. } => Some(*status),
            ApiError::Other(_) => None,
        }
    }

    /// `{"error": {"code", "message"}}`, as the API would have said it.
    pub fn body(&self) -> ErrorBody {
        match self {
            ApiError::Refused { body, .. } => body.clone(),
            ApiError::Other(m) => ErrorBody {
                error: crate::contract::ErrorDetail {
                    code: "unavailable".into(),
                    message: m.clone(),
                    fields: vec![],
                    rule: None,
                },
            },
        }
    }
}

/// https, or http on this machine only (the demo, tests).
pub fn require_secure(url: &url::Url, what: &str) -> anyhow::Result<()> {
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        "http" => bail!(
            "the {what} must be reached over https ({url}); plain http is only for this machine"
        ),
        other => bail!("the {what} must be an https URL, not {other}: ({url})"),
    }
}

/// The portal's address without a trailing slash: `https://jit.contoso.example`.
pub fn normalize(portal: &str) -> anyhow::Result<String> {
    let url = url::Url::parse(portal.trim())
        .with_context(|| format!("'{portal}' is not a URL like https://jit.contoso.example"))?;
    require_secure(&url, "portal")?;
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        bail!("'{portal}' must be the portal's address alone, like https://jit.contoso.example");
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// One portal, and the bearer token calls carry.
#[derive(Clone)]
pub struct Portal {
    base: String,
    http: reqwest::Client,
}

impl Portal {
    pub fn new(base: &str) -> anyhow::Result<Portal> {
        Ok(Portal {
            base: normalize(base)?,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .user_agent(concat!("jitgate-cli/", env!("CARGO_PKG_VERSION")))
                .build()?,
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// `GET /api/v1/cli`: where to sign in.
    pub async fn cli_sign_in(&self) -> anyhow::Result<CliSignIn> {
        let req = self.http.get(format!("{}/api/v1/cli", self.base));
        self.send(req).await.map_err(|e| match e.status() {
            Some(StatusCode::NOT_FOUND) => anyhow::anyhow!(
                "{} has no command-line client registered: {e} Ask its administrator to set [entra] cli_client_id (see the README, \"For developers at the terminal\").",
                self.base
            ),
            _ => anyhow::anyhow!("cannot ask {} how to sign in: {e}", self.base),
        })
    }

    /// `method` on `path` with the bearer `token`; `payload` is the query string of a `GET` and
    /// the JSON body of any other method.
    pub async fn call<T: DeserializeOwned>(
        &self,
        token: &str,
        method: Method,
        path: &str,
        payload: &impl Serialize,
    ) -> Result<T, ApiError> {
        let req = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(token);
        let req = if method == Method::GET {
            req.query(payload)
        } else {
            req.json(payload)
        };
        self.send(req).await
    }

    async fn send<T: DeserializeOwned>(&self, req: reqwest::RequestBuilder) -> Result<T, ApiError> {
        let resp = req.send().await.map_err(|e| {
            ApiError::Other(format!(
                "the portal {} cannot be reached: {}",
                self.base,
                e.without_url()
            ))
        })?;
        let status = resp.status();
        let claims = resp
            .headers()
            .get_all(reqwest::header::WWW_AUTHENTICATE)
            .iter()
            .filter_map(|h| h.to_str().ok())
            .find_map(super::challenge::claims_of);
        let bytes = resp.bytes().await.map_err(|e| {
            ApiError::Other(format!(
                "the portal's answer broke off: {}",
                e.without_url()
            ))
        })?;
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|e| {
                ApiError::Other(format!(
                    "the portal's answer is not what this jitgate expects ({e}); is the portal a different version?"
                ))
            });
        }
        match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(body) => Err(ApiError::Refused {
                status,
                body,
                claims,
            }),
            Err(_) => Err(ApiError::Other(format!(
                "the portal answered {status} without its error body; is {} a jitgate portal?",
                self.base
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portals_are_https_or_this_machine() {
        assert_eq!(
            normalize("https://jit.contoso.example/").unwrap(),
            "https://jit.contoso.example"
        );
        assert_eq!(
            normalize("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            normalize("http://localhost:8080/").unwrap(),
            "http://localhost:8080"
        );
        for bad in [
            "http://jit.contoso.example",
            "ftp://jit.contoso.example",
            "jit.contoso.example",
            "https://jit.contoso.example/?x=1",
            "https://user@jit.contoso.example",
        ] {
            assert!(normalize(bad).is_err(), "{bad}");
        }
    }
}
