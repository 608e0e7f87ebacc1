//! The tokens of a user sign-in, whichever grant redeems it (authorization code, device code,
//! refresh token): the user a grant may still mint for, the ID and access tokens, and the
//! refresh token kept for a later redemption.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::errors::{TokenError, invalid_grant};
use crate::emulator::GRAPH_APP_ID;
use crate::emulator::config::DemoUser;
use crate::emulator::grants::RefreshGrant;
use crate::emulator::tenant::Emulator;
use crate::emulator::wire;

/// Access and ID tokens live one hour; `expires_in` says 3599 like Entra.
pub(super) const TOKEN_LIFETIME_SECS: i64 = 3600;

/// The user a grant was issued to, when tokens may still be minted for them: `invalid_grant`
/// 50034 for an account that no longer exists, 50057 for a disabled one.
pub(super) fn token_user(emu: &Emulator, user_id: &str) -> Result<DemoUser, TokenError> {
    let user = emu
        .user(user_id)
        .cloned()
        .ok_or_else(|| invalid_grant(50034, "The user account does not exist in the directory."))?;
    if !emu.account_enabled(&user) {
        return Err(invalid_grant(50057, "The user account is disabled."));
    }
    Ok(user)
}

/// The scope a redemption asks for: the form's `scope`, else the one `granted`.
pub(super) fn requested_scope(form: &HashMap<String, String>, granted: &str) -> String {
    match form.get("scope") {
        Some(s) if !s.trim().is_empty() => s.trim().to_owned(),
        _ => granted.to_owned(),
    }
}

/// Every scope asked for in a redemption: those `granted` first, then those `requested`.
pub(super) fn asked_scopes<'a>(granted: &'a str, requested: &'a str) -> Vec<&'a str> {
    granted
        .split_whitespace()
        .chain(requested.split_whitespace())
        .collect()
}

/// What a user's token response is minted for.
pub(super) struct UserTokens<'a> {
    pub(super) user: &'a DemoUser,
    /// The app the tokens are issued to (`aud` of the ID token, `azp` of the access token).
    pub(super) client_id: &'a str,
    /// Whether that app authenticated with a secret (`azpacr` 1) or is a public client (0).
    pub(super) confidential: bool,
    /// Every scope asked for: decides the OIDC claims and the refresh token.
    pub(super) asked: &'a [&'a str],
    /// The scopes that pick the access token's resource (the portal's API, the requests API or
    /// Graph).
    pub(super) requested: &'a str,
    pub(super) nonce: Option<&'a str>,
    /// Whether an ID token is part of the answer.
    pub(super) id_token: bool,
    /// The tokens come from the device code flow (their refresh token stays subject to the
    /// policy that blocks it).
    pub(super) device_code: bool,
    /// The authentication contexts the sign-in satisfied: the tokens' `acrs` (left out when
    /// none, as Entra does).
    pub(super) acrs: &'a [String],
}

/// The token JSON of a user sign-in (wire doc §11.3): an access token for the portal's API when
/// `api://{client id}/...` scopes are requested, for the requests API when
/// `api://{requests API id}/...` ones are, else for Graph (`User.Read`); an ID token when
/// asked; a refresh token with `offline_access`.
pub(super) fn user_tokens(emu: &Emulator, t: &UserTokens<'_>) -> Value {
    let cfg = emu.config();
    let user = t.user;
    let asked = t.asked;
    let roles = emu.roles_of(user);
    let now = chrono::Utc::now().timestamp();
    // What the ID token and the access token both say of the sign-in.
    let signed_in = json!({
        "iss": emu.issuer(),
        "iat": now,
        "nbf": now,
        "exp": now + TOKEN_LIFETIME_SECS,
        "oid": user.id,
        "tid": cfg.tenant_id,
        "sub": emu.pairwise_sub_for(&user.id, t.client_id),
        "name": user.name,
        "preferred_username": user.username,
        "ver": "2.0",
    });
    let mut id_claims = signed_in.clone();
    id_claims["aud"] = json!(t.client_id);
    id_claims["uti"] = json!(wire::random_token(16));
    if let Some(nonce) = t.nonce {
        id_claims["nonce"] = json!(nonce);
    }
    if !roles.is_empty() {
        id_claims["roles"] = json!(roles);
    }
    if !t.acrs.is_empty() {
        id_claims["acrs"] = json!(t.acrs);
    }
    // The resource the requested scopes name: the portal's API, the requests API, or Graph.
    let api = [Some(cfg.client_id.as_str()), cfg.requests_api_id.as_deref()]
        .into_iter()
        .flatten()
        .map(|id| (id, format!("api://{id}/")))
        .find(|(_, prefix)| {
            t.requested
                .split_whitespace()
                .any(|s| s.starts_with(prefix))
        });
    let mut access = signed_in;
    if !t.acrs.is_empty() {
        access["acrs"] = json!(t.acrs);
    }
    access["azp"] = json!(t.client_id);
    access["azpacr"] = json!(if t.confidential { "1" } else { "0" });
    access["uti"] = json!(wire::random_token(16));
    let response_scope;
    if let Some((api_id, prefix)) = api {
        let api_scopes: Vec<&str> = t
            .requested
            .split_whitespace()
            .filter(|s| s.starts_with(&prefix))
            .collect();
        let names: Vec<&str> = api_scopes
            .iter()
            .map(|s| s.trim_start_matches(&prefix))
            .collect();
        response_scope = api_scopes.join(" ");
        access["aud"] = json!(format!("api://{api_id}"));
        access["scp"] = json!(names.join(" "));
        // App roles are the resource's own: the requests API's registration defines none.
        if !roles.is_empty() && api_id == cfg.client_id {
            access["roles"] = json!(roles);
        }
    } else {
        let mut graph_scopes: Vec<&str> = ["openid", "profile", "email"]
            .into_iter()
            .filter(|s| asked.contains(s))
            .collect();
        graph_scopes.push("User.Read");
        // Delegated Graph permissions asked for by name (`https://graph.microsoft.com/X`): the
        // tenant consents to them (an admin signing in to Microsoft's own tools, for setup).
        for s in t.requested.split_whitespace() {
            if let Some(name) = s.strip_prefix("https://graph.microsoft.com/")
                && !name.is_empty()
                && name != ".default"
                && !graph_scopes.contains(&name)
            {
                graph_scopes.push(name);
            }
        }
        response_scope = graph_scopes.join(" ");
        access["aud"] = json!(GRAPH_APP_ID);
        access["scp"] = json!(response_scope);
    }
    let mut body = json!({
        "token_type": "Bearer",
        "scope": response_scope,
        "expires_in": TOKEN_LIFETIME_SECS - 1,
        "ext_expires_in": TOKEN_LIFETIME_SECS - 1,
        "access_token": emu.inner.key.sign(&access),
    });
    if t.id_token {
        body["id_token"] = json!(emu.inner.key.sign(&id_claims));
    }
    if asked.contains(&"offline_access") {
        body["refresh_token"] = json!(keep_refresh_token(emu, t));
    }
    body
}

/// Keeps a new refresh token for `t` and returns it.
fn keep_refresh_token(emu: &Emulator, t: &UserTokens<'_>) -> String {
    let token = format!("0.{}", wire::random_token(64));
    let mut st = emu.state();
    let now = st.now();
    st.refresh.retain(|_, g| !g.inactive(now));
    st.refresh.insert(
        token.clone(),
        RefreshGrant {
            client_id: t.client_id.to_owned(),
            user_id: t.user.id.clone(),
            scope: t.asked.join(" "),
            last_used: now,
            device_code: t.device_code,
            acrs: t.acrs.to_vec(),
        },
    );
    token
}
