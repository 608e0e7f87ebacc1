//! Checking an authorize request (`GET /{tenant}/oauth2/v2.0/authorize`): what is shown on the
//! error page, what is sent back to the redirect URI, and the parameters carried to the
//! sign-in page when all is well.

use std::collections::HashMap;

use super::clients::{is_public, loopback_redirect};
use super::errors::{app_not_found, missing_parameter};
use crate::emulator::grants::AuthorizeParams;
use crate::emulator::tenant::Emulator;

pub(super) enum AuthorizeError {
    /// Shown on the emulator's own error page (nothing is sent to the redirect URI).
    Page(u32, String),
    /// Sent back to the (verified) redirect URI.
    Redirect {
        redirect_uri: String,
        state: String,
        error: &'static str,
        code: u32,
        message: String,
    },
}

pub(super) fn validate_authorize(
    emu: &Emulator,
    q: &HashMap<String, String>,
) -> Result<AuthorizeParams, AuthorizeError> {
    let cfg = emu.config();
    let get = |k: &str| q.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let client_id =
        get("client_id").ok_or(AuthorizeError::Page(900144, missing_parameter("client_id")))?;
    let public = is_public(emu, client_id);
    if client_id != cfg.client_id && !public {
        return Err(AuthorizeError::Page(
            700016,
            app_not_found(client_id, &cfg.tenant_id),
        ));
    }
    let redirect_uri = get("redirect_uri").ok_or(AuthorizeError::Page(
        900144,
        missing_parameter("redirect_uri"),
    ))?;
    let registered = if public {
        // The command line's registration: `http://127.0.0.1` and `http://localhost` (mobile
        // and desktop), any port.
        loopback_redirect(redirect_uri)
    } else {
        cfg.redirect_uris.iter().any(|u| u == redirect_uri)
    };
    if !registered {
        return Err(AuthorizeError::Page(
            50011,
            format!(
                "The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs configured for the application '{client_id}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this."
            ),
        ));
    }
    let state = q.get("state").cloned().unwrap_or_default();
    let redirect = |error: &'static str, code: u32, message: String| AuthorizeError::Redirect {
        redirect_uri: redirect_uri.to_owned(),
        state: state.clone(),
        error,
        code,
        message,
    };
    match get("response_type") {
        None => {
            return Err(redirect(
                "invalid_request",
                900144,
                missing_parameter("response_type"),
            ));
        }
        Some("code") => {}
        Some(other) => {
            return Err(redirect(
                "unsupported_response_type",
                700054,
                format!("response_type '{other}' is not enabled for the application."),
            ));
        }
    }
    if let Some(mode) = get("response_mode")
        && mode != "query"
    {
        return Err(redirect(
            "invalid_request",
            90023,
            format!("The emulator only supports response_mode 'query', not '{mode}'."),
        ));
    }
    let scope = get("scope")
        .ok_or_else(|| redirect("invalid_request", 900144, missing_parameter("scope")))?;
    if !scope.split_whitespace().any(|s| s == "openid") {
        return Err(redirect(
            "invalid_scope",
            70011,
            format!(
                "The provided value for the input parameter 'scope' is not valid. The scope '{scope}' does not include 'openid'."
            ),
        ));
    }
    if state.is_empty() {
        return Err(redirect(
            "invalid_request",
            900144,
            missing_parameter("state"),
        ));
    }
    let nonce = get("nonce")
        .ok_or_else(|| redirect("invalid_request", 900144, missing_parameter("nonce")))?;
    let challenge = get("code_challenge").ok_or_else(|| {
        redirect(
            "invalid_request",
            900144,
            missing_parameter("code_challenge"),
        )
    })?;
    let method = get("code_challenge_method").unwrap_or("plain");
    if method != "S256" && method != "plain" {
        return Err(redirect(
            "invalid_request",
            50148,
            format!(
                "The code_challenge_method '{method}' is not supported; use 'S256' or 'plain'."
            ),
        ));
    }
    let well_formed = (43..=128).contains(&challenge.len())
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    if !well_formed {
        return Err(redirect(
            "invalid_request",
            501491,
            "Invalid size of Code_Challenge parameter.".to_owned(),
        ));
    }
    Ok(AuthorizeParams {
        client_id: client_id.to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        scope: scope.to_owned(),
        state,
        nonce: nonce.to_owned(),
        code_challenge: challenge.to_owned(),
        code_challenge_method: method.to_owned(),
    })
}
