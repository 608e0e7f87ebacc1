//! A user-assigned managed identity's token: from the instance metadata endpoint (`Metadata:
//! true`, api-version 2018-02-01) or, where App Service and Container Apps set
//! `IDENTITY_ENDPOINT` and `IDENTITY_HEADER`, from theirs (`X-IDENTITY-HEADER`, api-version
//! 2019-08-01). Its answers carry numbers as strings.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

use super::CredentialError;

/// The managed identity `client_id`'s token for `resource`.
pub(super) async fn token(
    http: &reqwest::Client,
    endpoint: &Url,
    header: Option<&SecretString>,
    client_id: &str,
    resource: &str,
) -> Result<SecretString, CredentialError> {
    let api_version = if header.is_some() {
        "2019-08-01"
    } else {
        "2018-02-01"
    };
    let mut url = endpoint.clone();
    url.query_pairs_mut()
        .append_pair("api-version", api_version)
        .append_pair("resource", resource)
        .append_pair("client_id", client_id);
    let request = http.get(url);
    let request = match header {
        Some(h) => request.header("X-IDENTITY-HEADER", h.expose_secret()),
        None => request.header("Metadata", "true"),
    };
    let shown = format!(
        "{}://{}{}",
        endpoint.scheme(),
        endpoint.host_str().unwrap_or(""),
        endpoint.port().map(|p| format!(":{p}")).unwrap_or_default()
    );
    let resp = request.send().await.map_err(|e| CredentialError {
        retriable: true,
        message: format!(
            "the managed identity endpoint {shown} cannot be reached (entra.managed_identity_endpoint; is this running on Azure with the identity assigned?): {}",
            without_url(&e)
        ),
    })?;
    let status = resp.status();
    let body = resp.text().await.unwrap_or_default();
    if !status.is_success() {
        #[derive(Deserialize, Default)]
        struct Failure {
            #[serde(default)]
            error: String,
            #[serde(default)]
            error_description: String,
        }
        let f: Failure = serde_json::from_str(&body).unwrap_or_default();
        let said: String = format!("{} {}", f.error, f.error_description)
            .trim()
            .chars()
            .take(300)
            .collect();
        return Err(CredentialError {
            retriable: status.is_server_error()
                || status.as_u16() == 429
                || status.as_u16() == 404
                || status.as_u16() == 410,
            message: format!(
                "the managed identity endpoint {shown} refused a token for the identity {client_id} (HTTP {}){}{said}",
                status.as_u16(),
                if said.is_empty() { "" } else { ": " }
            ),
        });
    }
    #[derive(Deserialize)]
    struct Answer {
        access_token: String,
    }
    let answer: Answer = serde_json::from_str(&body).map_err(|_| CredentialError {
        retriable: true,
        message: format!("the managed identity endpoint {shown} answered without a token"),
    })?;
    Ok(SecretString::from(answer.access_token))
}

/// A transport error without the request's address (its query names the identity, nothing
/// secret, but the address is shown once already).
fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    match std::error::Error::source(e) {
        Some(s) => format!("{kind}: {s}"),
        None => kind.to_string(),
    }
}
