//! Public clients (the jitgate command line): the authorization code flow with PKCE and a
//! loopback redirect on any port (RFC 8252 §7.3, as Entra allows for `http://localhost` on a
//! "Mobile and desktop applications" registration), no secret at the token endpoint, and
//! refresh tokens redeemed for new tokens (wire doc §11.3).
//!
//! Refresh tokens obtained through the device code flow are *protocol tracked*, as in Entra:
//! redeeming one is subject to the Conditional Access policy that blocks the device code flow,
//! so a token obtained during a grant stops refreshing once the grant is over.

use std::collections::HashMap;

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::Emulator;
use super::device;
use super::login::{TokenError, UserTokens, missing_parameter, terr, token_user, user_tokens};
use super::wire;

/// Entra's default: a refresh token unused for 90 days expires.
const REFRESH_INACTIVE_DAYS: i64 = 90;

/// An issued refresh token.
pub(crate) struct RefreshGrant {
    client_id: String,
    user_id: String,
    /// Every scope asked for when it was issued.
    scope: String,
    last_used: DateTime<Utc>,
    /// Obtained through the device code flow (directly or by refreshing such a token).
    device_code: bool,
}

/// Whether `client_id` is a registered public client.
pub(crate) fn is_public(emu: &Emulator, client_id: &str) -> bool {
    emu.config()
        .public_clients
        .iter()
        .any(|c| c.eq_ignore_ascii_case(client_id))
}

/// Whether `uri` is a loopback redirect a public client may use: `http://localhost`,
/// `http://127.0.0.1` or `http://[::1]`, any port, path `/`, no query or fragment.
pub(crate) fn loopback_redirect(uri: &str) -> bool {
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

/// Keeps a new refresh token for `t` and returns it.
pub(crate) fn issue(emu: &Emulator, t: &UserTokens<'_>) -> String {
    let token = format!("0.{}", wire::random_token(64));
    let mut st = emu.state();
    let now = st.now();
    st.refresh
        .retain(|_, g| (now - g.last_used).num_days() < REFRESH_INACTIVE_DAYS);
    st.refresh.insert(
        token.clone(),
        RefreshGrant {
            client_id: t.client_id.to_owned(),
            user_id: t.user.id.clone(),
            scope: t.asked.join(" "),
            last_used: now,
            device_code: t.device_code,
        },
    );
    token
}

/// The `refresh_token` grant for `client_id` (authenticated already: a public client presents
/// no secret, the portal its own).
pub(crate) fn refresh(
    emu: &Emulator,
    form: &HashMap<String, String>,
    client_id: &str,
    confidential: bool,
) -> Result<Value, TokenError> {
    let bad =
        |code: u32, message: &str| terr(StatusCode::BAD_REQUEST, "invalid_grant", code, message);
    let token = form
        .get("refresh_token")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            terr(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                900144,
                missing_parameter("refresh_token"),
            )
        })?;
    let (user_id, scope, device_code) = {
        let mut st = emu.state();
        let now = st.now();
        let grant = st
            .refresh
            .get_mut(token)
            .ok_or_else(|| bad(9002313, "Invalid request. Request is malformed or invalid."))?;
        if !grant.client_id.eq_ignore_ascii_case(client_id) {
            return Err(bad(
                70000,
                "The provided value for the 'refresh_token' parameter is not valid: it was issued to another application.",
            ));
        }
        if (now - grant.last_used).num_days() >= REFRESH_INACTIVE_DAYS {
            return Err(bad(
                700082,
                "The refresh token has expired due to inactivity. The token was issued on a date and was inactive for 90.00:00:00.",
            ));
        }
        grant.last_used = now;
        (
            grant.user_id.clone(),
            grant.scope.clone(),
            grant.device_code,
        )
    };
    let user = token_user(emu, &user_id)?;
    let requested = match form.get("scope") {
        Some(s) if !s.trim().is_empty() => s.trim().to_owned(),
        _ => scope.clone(),
    };
    device::check_scope(emu, &requested)?;
    if device_code && device::blocks_device_code(emu, &user, &requested) {
        return Err(bad(
            53003,
            "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.",
        ));
    }
    let asked: Vec<&str> = scope
        .split_whitespace()
        .chain(requested.split_whitespace())
        .collect();
    let body = user_tokens(
        emu,
        &UserTokens {
            user: &user,
            client_id,
            confidential,
            asked: &asked,
            requested: &requested,
            nonce: None,
            id_token: asked.contains(&"openid"),
            device_code,
        },
    );
    tracing::debug!(user = %user.id, "emulator redeemed a refresh token");
    Ok(body)
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
