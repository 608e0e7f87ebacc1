//! The token endpoint's `refresh_token` grant (wire doc §11.3): a refresh token redeemed for new
//! tokens, by a public client (no secret) or by the portal (its own).
//!
//! Refresh tokens obtained through the device code flow are *protocol tracked*, as in Entra:
//! redeeming one is subject to the Conditional Access policy that blocks the device code flow,
//! so a token obtained during a grant stops refreshing once the grant is over.

use std::collections::HashMap;

use serde_json::Value;

use super::claims::{form_acrs, needs_interaction};
use super::conditional_access::{BLOCKED, blocks_device_code};
use super::errors::{MALFORMED, TokenError, invalid_grant, missing};
use super::resources::check_scope;
use super::user_tokens::{UserTokens, asked_scopes, requested_scope, token_user, user_tokens};
use crate::emulator::tenant::Emulator;

/// The `refresh_token` grant for `client_id` (authenticated already: a public client presents
/// no secret, the portal its own).
pub(super) fn refresh(
    emu: &Emulator,
    form: &HashMap<String, String>,
    client_id: &str,
    confidential: bool,
) -> Result<Value, TokenError> {
    let token = form
        .get("refresh_token")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| missing("refresh_token"))?;
    let wanted = form_acrs(emu, form)?;
    let (user_id, scope, device_code, acrs) = {
        let mut st = emu.state();
        let now = st.now();
        let grant = st
            .refresh
            .get_mut(token)
            .ok_or_else(|| invalid_grant(9002313, MALFORMED))?;
        if !grant.client_id.eq_ignore_ascii_case(client_id) {
            return Err(invalid_grant(
                70000,
                "The provided value for the 'refresh_token' parameter is not valid: it was issued to another application.",
            ));
        }
        if grant.inactive(now) {
            return Err(invalid_grant(
                700082,
                "The refresh token has expired due to inactivity. The token was issued on a date and was inactive for 90.00:00:00.",
            ));
        }
        // A claims request for a context the sign-in behind it never satisfied needs the
        // user: no silent redemption can satisfy it.
        let missing: Vec<String> = wanted
            .into_iter()
            .filter(|w| !grant.acrs.contains(w))
            .collect();
        if !missing.is_empty() {
            return Err(needs_interaction(&missing));
        }
        grant.last_used = now;
        (
            grant.user_id.clone(),
            grant.scope.clone(),
            grant.device_code,
            grant.acrs.clone(),
        )
    };
    let user = token_user(emu, &user_id)?;
    let requested = requested_scope(form, &scope);
    check_scope(emu, &requested)?;
    if device_code && blocks_device_code(emu, &user, &requested) {
        return Err(invalid_grant(53003, BLOCKED));
    }
    let asked = asked_scopes(&scope, &requested);
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
            acrs: &acrs,
        },
    );
    tracing::debug!(user = %user.id, "emulator redeemed a refresh token");
    Ok(body)
}
