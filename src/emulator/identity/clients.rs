//! Who may ask for tokens, and how they prove it: the portal's confidential registration (its
//! secret, in the form or as HTTP Basic) and the registered public clients (the jitgate command
//! line: no secret, a loopback redirect on any port as RFC 8252 §7.3 and Entra allow for a
//! registered `http://127.0.0.1`, the address the command line uses, or `http://localhost`, of
//! type "Mobile and desktop applications").

use std::collections::HashMap;

use axum::http::{HeaderMap, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

use super::errors::{TokenError, terr, unknown_client};
use crate::emulator::tenant::Emulator;

/// Whether `client_id` is a registered public client.
pub(super) fn is_public(emu: &Emulator, client_id: &str) -> bool {
    emu.config()
        .public_clients
        .iter()
        .any(|c| c.eq_ignore_ascii_case(client_id))
}

/// `unauthorized_client` unless `client_id` is a registered public client.
pub(super) fn require_public(emu: &Emulator, client_id: &str) -> Result<(), TokenError> {
    if is_public(emu, client_id) {
        Ok(())
    } else {
        Err(unknown_client(emu, client_id))
    }
}

/// A public client presents no credential: `invalid_client` 700025 when it sends a secret or
/// an assertion.
pub(super) fn without_credential(
    secret: Option<&str>,
    form: &HashMap<String, String>,
) -> Result<(), TokenError> {
    if secret.is_some() || form.contains_key("client_assertion") {
        return Err(terr(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            700025,
            "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
        ));
    }
    Ok(())
}

/// Whether `uri` is a loopback redirect a public client may use: `http://localhost`,
/// `http://127.0.0.1` or `http://[::1]`, any port, path `/`, no query or fragment.
pub(super) fn loopback_redirect(uri: &str) -> bool {
    let Ok(url) = url::Url::parse(uri) else {
        return false;
    };
    let host_ok = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    url.scheme() == "http"
        && host_ok
        && url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none()
        && url.username().is_empty()
}

/// Whether two secrets (or a PKCE verifier's digest and its challenge) are the same.
pub(super) fn same_secret(a: &str, b: &str) -> bool {
    // Compare digests so that the comparison time does not depend on a common prefix.
    Sha256::digest(a.as_bytes()) == Sha256::digest(b.as_bytes())
}

/// Client id and secret from `Authorization: Basic` (RFC 6749 §2.3.1) or the form body.
pub(super) fn client_auth(
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<(Option<String>, Option<String>), TokenError> {
    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        let bad = || {
            terr(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000216,
                "The Authorization header is not a valid Basic credential.",
            )
        };
        let value = auth.to_str().map_err(|_| bad())?;
        let encoded = value
            .strip_prefix("Basic ")
            .or_else(|| value.strip_prefix("basic "))
            .ok_or_else(bad)?;
        let decoded = STANDARD.decode(encoded.trim()).map_err(|_| bad())?;
        let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
        let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
        let id = form_decode(id);
        let secret = form_decode(secret);
        if let Some(body_id) = form.get("client_id")
            && body_id != &id
        {
            return Err(terr(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                900023,
                "The client_id in the request body does not match the client_id of the Authorization header.",
            ));
        }
        return Ok((Some(id), Some(secret)));
    }
    Ok((
        form.get("client_id").cloned().filter(|v| !v.is_empty()),
        form.get("client_secret").cloned().filter(|v| !v.is_empty()),
    ))
}

fn form_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("v={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_redirects_on_any_port() {
        for ok in [
            "http://localhost:53117/",
            "http://localhost/",
            "http://127.0.0.1:8400/",
            "http://[::1]:8400/",
            "http://LOCALHOST:1/",
        ] {
            assert!(loopback_redirect(ok), "{ok}");
        }
        for bad in [
            "https://localhost:53117/",
            "http://localhost:53117/callback",
            "http://localhost:53117/?x=1",
            "http://example.com:53117/",
            "http://localhost.example.com/",
            "http://10.0.0.1:53117/",
            "http://user@localhost:1/",
            "not a url",
        ] {
            assert!(!loopback_redirect(bad), "{bad}");
        }
    }
}
