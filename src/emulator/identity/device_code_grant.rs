//! The token endpoint's device code grant (wire doc §12.2): the polling device gets
//! `authorization_pending`, `slow_down`, the outcome of the device login, or its tokens.

use std::collections::HashMap;

use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use super::clients::{client_auth, require_public, without_credential};
use super::conditional_access::BLOCKED;
use super::device_login::DECLINED;
use super::errors::{ALREADY_REDEEMED, TokenError, invalid_grant, missing, terr};
use super::user_tokens::{UserTokens, token_user, user_tokens};
use crate::emulator::grants::Outcome;
use crate::emulator::tenant::Emulator;

/// `grant_type` of the device code flow at the token endpoint.
pub(super) const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The `urn:ietf:params:oauth:grant-type:device_code` grant (wire doc §12.2). MSAL's extra
/// `code=` is ignored.
pub(super) fn redeem(
    emu: &Emulator,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<Value, TokenError> {
    let bad = |error: &'static str, code: u32, message: &str| {
        terr(StatusCode::BAD_REQUEST, error, code, message)
    };
    let (client_id, secret) = client_auth(headers, form)?;
    let client_id = client_id.ok_or_else(|| missing("client_id"))?;
    require_public(emu, &client_id)?;
    without_credential(secret.as_deref(), form)?;
    let device_code = form
        .get("device_code")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| missing("device_code"))?;
    let (user_id, scope, acrs) = {
        let mut st = emu.state();
        let now = st.now();
        let unknown = || {
            bad(
                "bad_verification_code",
                70018,
                "Invalid verification code entered.",
            )
        };
        let grant = st.device.grants.get_mut(device_code).ok_or_else(unknown)?;
        if !grant.client_id.eq_ignore_ascii_case(&client_id) {
            return Err(unknown());
        }
        if grant.outcome == Outcome::Redeemed {
            return Err(invalid_grant(54005, ALREADY_REDEEMED));
        }
        if grant.expired(now) {
            return Err(bad("expired_token", 70019, "Verification code expired."));
        }
        let too_soon = grant
            .last_poll
            .is_some_and(|last| now - last < chrono::Duration::seconds(grant.interval));
        grant.last_poll = Some(now);
        if too_soon {
            // RFC 8628 §3.5: the device must add 5 seconds to its interval from now on.
            grant.interval += 5;
            return Err(bad(
                "slow_down",
                70016,
                "OAuth 2.0 device flow error. Polling too frequently: slow down and add 5 seconds to the polling interval.",
            ));
        }
        match grant.outcome.clone() {
            Outcome::Pending => {
                return Err(bad(
                    "authorization_pending",
                    70016,
                    "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
                ));
            }
            Outcome::Declined => {
                return Err(bad("authorization_declined", 65004, DECLINED));
            }
            Outcome::Blocked(_) => {
                return Err(
                    bad("access_denied", 53003, BLOCKED).with("suberror", json!("message_only"))
                );
            }
            Outcome::Redeemed => unreachable!("handled above"),
            Outcome::SignedIn(user) => {
                grant.outcome = Outcome::Redeemed;
                (user, grant.scope.clone(), grant.acrs.clone())
            }
        }
    };
    let user = token_user(emu, &user_id)?;
    let asked: Vec<&str> = scope.split_whitespace().collect();
    let body = user_tokens(
        emu,
        &UserTokens {
            user: &user,
            client_id: &client_id,
            confidential: false,
            asked: &asked,
            requested: &scope,
            nonce: None,
            id_token: asked.contains(&"openid"),
            device_code: true,
            acrs: &acrs,
        },
    );
    tracing::debug!(user = %user.id, "emulator redeemed a device code");
    Ok(body)
}
