//! The token endpoint's `authorization_code` grant: a code from the authorize page redeemed with
//! its PKCE verifier for the user's tokens.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::clients::same_secret;
use super::errors::{ALREADY_REDEEMED, MALFORMED, TokenError, invalid_grant, missing};
use super::user_tokens::{UserTokens, asked_scopes, requested_scope, token_user, user_tokens};
use crate::emulator::grants::CODE_LIFETIME_SECS;
use crate::emulator::tenant::Emulator;

/// The `authorization_code` grant for `client_id` (authenticated already: with its secret when
/// `confidential`, a public client with none).
pub(super) fn authorization_code(
    emu: &Emulator,
    form: &HashMap<String, String>,
    client_id: &str,
    confidential: bool,
) -> Result<Value, TokenError> {
    let code = form
        .get("code")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| missing("code"))?;
    let (params, user_id, acrs) = {
        let mut st = emu.state();
        let grant = st
            .codes
            .get_mut(code)
            .ok_or_else(|| invalid_grant(9002313, MALFORMED))?;
        if grant.redeemed {
            return Err(invalid_grant(54005, ALREADY_REDEEMED));
        }
        if (chrono::Utc::now() - grant.issued).num_seconds() >= CODE_LIFETIME_SECS {
            return Err(invalid_grant(
                70008,
                "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
            ));
        }
        if !grant.params.client_id.eq_ignore_ascii_case(client_id) {
            return Err(invalid_grant(
                70000,
                "The provided value for the 'code' parameter is not valid.",
            ));
        }
        let redirect_uri = form.get("redirect_uri").map(String::as_str).unwrap_or("");
        if redirect_uri != grant.params.redirect_uri {
            return Err(invalid_grant(
                50011,
                &format!(
                    "The redirect URI '{redirect_uri}' specified in the request does not match the redirect URI used in the authorization request."
                ),
            ));
        }
        let verifier = form.get("code_verifier").map(String::as_str).unwrap_or("");
        let computed = if grant.params.code_challenge_method == "S256" {
            URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
        } else {
            verifier.to_owned()
        };
        if verifier.is_empty() || !same_secret(&computed, &grant.params.code_challenge) {
            return Err(invalid_grant(
                501481,
                "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
            ));
        }
        grant.redeemed = true;
        (
            grant.params.clone(),
            grant.user_id.clone(),
            grant.acrs.clone(),
        )
    };
    let user = token_user(emu, &user_id)?;
    let requested = requested_scope(form, &params.scope);
    let asked = asked_scopes(&params.scope, &requested);
    let body = user_tokens(
        emu,
        &UserTokens {
            user: &user,
            client_id,
            confidential,
            asked: &asked,
            requested: &requested,
            nonce: Some(&params.nonce),
            id_token: true,
            device_code: false,
            acrs: &acrs,
        },
    );
    tracing::debug!(user = %user.id, "emulator redeemed an authorization code");
    Ok(body)
}
