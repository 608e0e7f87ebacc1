//! The device authorization endpoint of the device code flow (RFC 8628, wire doc §12):
//! `POST /{tenant}/oauth2/v2.0/devicecode` hands a public client a device code to poll with and
//! a user code to enter on the device-login page.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::claims::form_acrs;
use super::clients::require_public;
use super::errors::{
    TokenError, injected_fault, invalid_tenant, missing, post_form, tenant_ok, token_answer,
};
use super::resources::check_scope;
use super::user_codes::new_user_code;
use crate::emulator::grants::{DEVICE_CODE_LIFETIME_SECS, DeviceGrant, Outcome};
use crate::emulator::tenant::Emulator;
use crate::emulator::wire::{self, aad_error};

/// The minimum time between two polls of one device code; grows by 5 s with every `slow_down`.
const INTERVAL_SECS: i64 = 5;
/// Expired and redeemed codes are kept this long so that late polls get the right error.
const KEEP_SECS: i64 = 3600;

/// `POST /{tenant}/oauth2/v2.0/devicecode` (form: `client_id`, `scope`, and `claims` when
/// the sign-in must satisfy authentication contexts).
pub(crate) async fn device_code(
    State(emu): State<Emulator>,
    Path(tenant): Path<String>,
    method: Method,
    body: Bytes,
) -> Response {
    let path = format!("/{tenant}/oauth2/v2.0/devicecode");
    if let Some(fault) = injected_fault(&emu, &method, &path) {
        return fault;
    }
    if tenant.eq_ignore_ascii_case("common") || tenant.eq_ignore_ascii_case("consumers") {
        return aad_error(
            &emu.base_url(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90133,
            "Device Code flow is not supported under /common or /consumers endpoint.",
        );
    }
    if !tenant_ok(&emu, &tenant) {
        return invalid_tenant(&emu, &tenant);
    }
    let result = post_form(&method, &body).and_then(|form| start(&emu, &form));
    token_answer(&emu, result)
}

fn start(emu: &Emulator, form: &HashMap<String, String>) -> Result<Value, TokenError> {
    let get = |k: &str| form.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let client_id = get("client_id").ok_or_else(|| missing("client_id"))?;
    require_public(emu, client_id)?;
    let scope = get("scope").ok_or_else(|| missing("scope"))?;
    check_scope(emu, scope)?;
    let acrs = form_acrs(emu, form)?;
    let device_code = format!("DAQABIQEAAAB{}", wire::random_token(96));
    let verification_uri = emu.device_login_url();
    let user_code = {
        let mut st = emu.state();
        let now = st.now();
        st.device
            .grants
            .retain(|_, g| (now - g.issued).num_seconds() < KEEP_SECS);
        let user_code = new_user_code(&st.device);
        st.device.grants.insert(
            device_code.clone(),
            DeviceGrant {
                client_id: client_id.to_owned(),
                scope: scope.to_owned(),
                acrs,
                user_code: user_code.clone(),
                issued: now,
                last_poll: None,
                interval: INTERVAL_SECS,
                outcome: Outcome::Pending,
            },
        );
        user_code
    };
    tracing::debug!(client_id, "emulator issued a device code");
    Ok(json!({
        "user_code": user_code,
        "device_code": device_code,
        "verification_uri": verification_uri,
        "expires_in": DEVICE_CODE_LIFETIME_SECS,
        "interval": INTERVAL_SECS,
        "message": format!(
            "To sign in, use a web browser to open the page {verification_uri} and enter the code {user_code} to authenticate."
        ),
    }))
}
