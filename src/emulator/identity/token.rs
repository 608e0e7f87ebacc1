//! The token endpoint (`POST /{tenant}/oauth2/v2.0/token`): who is asking (a public client with
//! no secret, or the portal with its own) and which grant answers (authorization code, client
//! credentials, refresh token, device code).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use serde_json::Value;

use super::assertions;
use super::authorization_code::authorization_code;
use super::client_credentials::client_credentials;
use super::clients::{client_auth, is_public, same_secret, without_credential};
use super::device_code_grant::{DEVICE_CODE_GRANT, redeem};
use super::errors::{
    TokenError, injected_fault, invalid_tenant, missing, post_form, tenant_ok, terr, token_answer,
    unknown_client,
};
use super::refresh::refresh;
use crate::emulator::tenant::Emulator;

/// AADSTS7000218, for a confidential grant without a credential.
const NO_CREDENTIAL: &str =
    "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.";

/// `client_assertion_type` of a JWT client assertion.
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// `POST /{tenant}/oauth2/v2.0/token`
pub(crate) async fn token(
    State(emu): State<Emulator>,
    Path(tenant): Path<String>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    emu.state().token_requests += 1;
    let path = format!("/{tenant}/oauth2/v2.0/token");
    if let Some(fault) = injected_fault(&emu, &method, &path) {
        return fault;
    }
    if !tenant_ok(&emu, &tenant) {
        return invalid_tenant(&emu, &tenant);
    }
    let result = post_form(&method, &body).and_then(|form| issue(&emu, &tenant, &headers, &form));
    token_answer(&emu, result)
}

fn issue(
    emu: &Emulator,
    tenant: &str,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<Value, TokenError> {
    let cfg = emu.config();
    let grant_type = form
        .get("grant_type")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| missing("grant_type"))?;
    if grant_type == DEVICE_CODE_GRANT {
        return redeem(emu, headers, form);
    }
    if !["authorization_code", "client_credentials", "refresh_token"].contains(&grant_type.as_str())
    {
        return Err(terr(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{grant_type}'."),
        ));
    }
    let (client_id, secret) = client_auth(headers, form)?;
    let client_id = client_id.ok_or_else(|| missing("client_id"))?;
    if is_public(emu, &client_id) {
        without_credential(secret.as_deref(), form)?;
        return match grant_type.as_str() {
            "authorization_code" => authorization_code(emu, form, &client_id, false),
            "refresh_token" => refresh(emu, form, &client_id, false),
            _ => Err(terr(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000218,
                NO_CREDENTIAL,
            )),
        };
    }
    if client_id != cfg.client_id {
        return Err(unknown_client(emu, &client_id));
    }
    match form.get("client_assertion").filter(|a| !a.is_empty()) {
        Some(assertion) => {
            if secret.is_some() {
                return Err(terr(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    90014,
                    "A request may carry a client_secret or a client_assertion, not both.",
                ));
            }
            if form.get("client_assertion_type").map(String::as_str) != Some(JWT_BEARER) {
                return Err(terr(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    900144,
                    format!(
                        "The request body must contain the following parameter: 'client_assertion_type' ({JWT_BEARER})."
                    ),
                ));
            }
            assertions::verify(emu, tenant, &cfg.client_id, assertion)?;
        }
        None => check_secret(emu, secret)?,
    }
    match grant_type.as_str() {
        "client_credentials" => client_credentials(emu, form),
        "refresh_token" => refresh(emu, form, &cfg.client_id, true),
        _ => authorization_code(emu, form, &cfg.client_id, true),
    }
}

/// The portal's secret, when it presents one.
fn check_secret(emu: &Emulator, secret: Option<String>) -> Result<(), TokenError> {
    let cfg = emu.config();
    let secret = secret.ok_or_else(|| {
        terr(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000218,
            NO_CREDENTIAL,
        )
    })?;
    if !same_secret(&secret, &cfg.client_secret) {
        return Err(terr(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000215,
            format!(
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{}'.",
                cfg.client_id
            ),
        ));
    }
    Ok(())
}
