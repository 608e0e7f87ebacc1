//! The token endpoint's `client_credentials` grant: the portal's app-only tokens, for Microsoft
//! Graph (v1 tokens with the app's application permissions) or for its own API.

use std::collections::HashMap;

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::errors::{TokenError, missing, terr, unknown_resource};
use super::user_tokens::TOKEN_LIFETIME_SECS;
use crate::emulator::directory::service_principal_id;
use crate::emulator::tenant::Emulator;
use crate::emulator::wire;
use crate::emulator::{GRAPH_APP_ID, GRAPH_RESOURCE};

/// The `client_credentials` grant of the portal (authenticated already, with its secret).
pub(super) fn client_credentials(
    emu: &Emulator,
    form: &HashMap<String, String>,
) -> Result<Value, TokenError> {
    let cfg = emu.config();
    let scope = form
        .get("scope")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| missing("scope"))?;
    let resource = match scope.strip_suffix("/.default") {
        Some(r) if !scope.contains(char::is_whitespace) => r.trim_end_matches('/'),
        _ => {
            return Err(terr(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                1002012,
                format!(
                    "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
                ),
            ));
        }
    };
    let now = chrono::Utc::now().timestamp();
    let own_api = format!("api://{}", cfg.client_id);
    let graph = [GRAPH_RESOURCE, GRAPH_APP_ID, emu.base_url().as_str()]
        .iter()
        .any(|g| g.eq_ignore_ascii_case(resource));
    let mut claims = json!({
        "iss": emu.issuer(),
        "iat": now,
        "nbf": now,
        "exp": now + TOKEN_LIFETIME_SECS,
        "tid": cfg.tenant_id,
        "oid": service_principal_id(&cfg.client_id),
        "sub": service_principal_id(&cfg.client_id),
        "idtyp": "app",
        "uti": wire::random_token(16),
    });
    if graph {
        claims["aud"] = json!(GRAPH_RESOURCE);
        claims["appid"] = json!(cfg.client_id);
        claims["appidacr"] = json!("1");
        claims["ver"] = json!("1.0");
        if !cfg.app_permissions.is_empty() {
            claims["roles"] = json!(cfg.app_permissions);
        }
    } else if resource == own_api || resource == cfg.client_id {
        claims["aud"] = json!(own_api);
        claims["azp"] = json!(cfg.client_id);
        claims["azpacr"] = json!("1");
        claims["ver"] = json!("2.0");
    } else {
        return Err(unknown_resource(emu, resource));
    }
    tracing::debug!(graph, "emulator issued an app-only token");
    Ok(json!({
        "token_type": "Bearer",
        "expires_in": TOKEN_LIFETIME_SECS - 1,
        "ext_expires_in": TOKEN_LIFETIME_SECS - 1,
        "access_token": emu.inner.key.sign(&claims),
    }))
}
