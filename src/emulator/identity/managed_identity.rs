//! The managed identity endpoint (`GET /metadata/identity/oauth2/token`), standing for both the
//! instance metadata endpoint (header `Metadata: true`) and App Service's / Container Apps'
//! (header `X-IDENTITY-HEADER`): a user-assigned identity's token for a resource, its numbers
//! as strings as they are there.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::emulator::directory::service_principal_id;
use crate::emulator::tenant::Emulator;
use crate::emulator::wire;

const LIFETIME_SECS: i64 = 3600;

fn refuse(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

/// `GET /metadata/identity/oauth2/token?api-version=…&resource=…&client_id=…`
pub(crate) async fn managed_identity_token(
    State(emu): State<Emulator>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let metadata = headers
        .get("metadata")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"));
    if !metadata && headers.get("x-identity-header").is_none() {
        return refuse(
            StatusCode::BAD_REQUEST,
            "bad_request_102",
            "Required metadata header not specified",
        );
    }
    let Some(resource) = q.get("resource").filter(|r| !r.is_empty()) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Required query variable 'resource' is missing",
        );
    };
    let client_id = q.get("client_id").map(String::as_str).unwrap_or("");
    if !emu
        .config()
        .managed_identities
        .iter()
        .any(|m| m.eq_ignore_ascii_case(client_id))
    {
        return refuse(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Identity not found",
        );
    }
    let now = chrono::Utc::now().timestamp();
    let oid = service_principal_id(client_id);
    let claims = json!({
        "iss": emu.issuer(),
        "aud": resource,
        "sub": oid,
        "oid": oid,
        "appid": client_id,
        "tid": emu.config().tenant_id,
        "idtyp": "app",
        "iat": now,
        "nbf": now,
        "exp": now + LIFETIME_SECS,
        "uti": wire::random_token(16),
        "ver": "2.0",
    });
    axum::Json(json!({
        "access_token": emu.inner.key.sign(&claims),
        "client_id": client_id,
        "expires_in": (LIFETIME_SECS - 1).to_string(),
        "expires_on": (now + LIFETIME_SECS).to_string(),
        "not_before": now.to_string(),
        "resource": resource,
        "token_type": "Bearer",
    }))
    .into_response()
}
