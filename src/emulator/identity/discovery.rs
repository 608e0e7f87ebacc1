//! OpenID Connect discovery and the tenant's signing keys (JWKS), both cacheable by anyone.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use super::errors::{invalid_tenant, tenant_ok};
use crate::emulator::tenant::Emulator;
use crate::emulator::wire::json_response;

/// `body` as JSON that anyone may cache for a day.
fn public_json(body: &Value) -> Response {
    let mut resp = json_response(StatusCode::OK, "application/json; charset=utf-8", body);
    let h = resp.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=86400, private"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    resp
}

/// `GET /{tenant}/v2.0/.well-known/openid-configuration`
pub(crate) async fn discovery(State(emu): State<Emulator>, Path(tenant): Path<String>) -> Response {
    if !tenant_ok(&emu, &tenant) {
        return invalid_tenant(&emu, &tenant);
    }
    let base = emu.base_url();
    let t = &emu.config().tenant_id;
    let host = base.trim_start_matches("http://").to_owned();
    let body = json!({
        "token_endpoint": format!("{base}/{t}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{base}/{t}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": emu.issuer(),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": format!("{base}/oidc/userinfo"),
        "authorization_endpoint": format!("{base}/{t}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{base}/{t}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{base}/{t}/oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
        "kerberos_endpoint": format!("{base}/{t}/kerberos"),
        "tenant_region_scope": "EU",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": host,
        "rbac_url": "https://pas.windows.net",
    });
    public_json(&body)
}

/// `GET /{tenant}/discovery/v2.0/keys`
pub(crate) async fn jwks(State(emu): State<Emulator>, Path(tenant): Path<String>) -> Response {
    if !tenant_ok(&emu, &tenant) {
        return invalid_tenant(&emu, &tenant);
    }
    let body = json!({ "keys": [emu.inner.key.jwk(&emu.issuer())] });
    public_json(&body)
}
