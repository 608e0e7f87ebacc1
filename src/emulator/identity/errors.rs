//! What the identity endpoints answer when something is wrong, and the plumbing they share: the
//! tenant check, the AADSTS messages used in more than one place, token endpoint errors and
//! answers, injected faults, and the form of a POST.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use serde_json::Value;

use crate::emulator::faults::Fault;
use crate::emulator::tenant::Emulator;
use crate::emulator::wire::{self, aad_error, aad_error_with, json_response};

/// AADSTS9002313, for a code or refresh token the tenant does not know.
pub(super) const MALFORMED: &str = "Invalid request. Request is malformed or invalid.";
/// AADSTS54005, for a code (authorization or device) presented twice.
pub(super) const ALREADY_REDEEMED: &str = "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.";

pub(super) fn tenant_ok(emu: &Emulator, tenant: &str) -> bool {
    // By its id, or by its verified domain, as Entra takes either in the authority.
    tenant.eq_ignore_ascii_case(&emu.config().tenant_id)
        || tenant.eq_ignore_ascii_case(crate::emulator::demo::DOMAIN)
}

pub(super) fn tenant_not_found(tenant: &str) -> String {
    format!(
        "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."
    )
}

pub(super) fn invalid_tenant(emu: &Emulator, tenant: &str) -> Response {
    aad_error(
        &emu.base_url(),
        StatusCode::BAD_REQUEST,
        "invalid_tenant",
        90002,
        &tenant_not_found(tenant),
    )
}

pub(super) fn missing_parameter(name: &str) -> String {
    format!("The request body must contain the following parameter: '{name}'.")
}

pub(super) fn app_not_found(client_id: &str, tenant: &str) -> String {
    format!(
        "Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
    )
}

/// A token endpoint error, answered with [`aad_error_with`].
pub(super) struct TokenError {
    status: StatusCode,
    error: &'static str,
    code: u32,
    message: String,
    /// Extra top-level members of the error body.
    extra: Vec<(&'static str, Value)>,
}

impl TokenError {
    /// Adds a top-level member to the error body.
    pub(super) fn with(mut self, key: &'static str, value: Value) -> Self {
        self.extra.push((key, value));
        self
    }
}

pub(super) fn terr(
    status: StatusCode,
    error: &'static str,
    code: u32,
    message: impl Into<String>,
) -> TokenError {
    TokenError {
        status,
        error,
        code,
        message: message.into(),
        extra: Vec::new(),
    }
}

/// `invalid_request` 900144: the request lacks the parameter `name`.
pub(super) fn missing(name: &str) -> TokenError {
    terr(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        900144,
        missing_parameter(name),
    )
}

/// `invalid_grant` with the AADSTS `code`: the code, token or user behind a grant is not good.
pub(super) fn invalid_grant(code: u32, message: &str) -> TokenError {
    terr(StatusCode::BAD_REQUEST, "invalid_grant", code, message)
}

/// `unauthorized_client` 700016: no such application in the tenant.
pub(super) fn unknown_client(emu: &Emulator, client_id: &str) -> TokenError {
    terr(
        StatusCode::BAD_REQUEST,
        "unauthorized_client",
        700016,
        app_not_found(client_id, &emu.config().tenant_id),
    )
}

/// `invalid_resource` 500011: a scope names a resource the tenant does not have.
pub(super) fn unknown_resource(emu: &Emulator, resource: &str) -> TokenError {
    terr(
        StatusCode::BAD_REQUEST,
        "invalid_resource",
        500011,
        format!(
            "The resource principal named {resource} was not found in the tenant named {}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.",
            emu.config().tenant_id
        ),
    )
}

/// The form of a POST to the token or device code endpoint; any other method is
/// `invalid_request` 900561.
pub(super) fn post_form(
    method: &Method,
    body: &Bytes,
) -> Result<HashMap<String, String>, TokenError> {
    if method != Method::POST {
        return Err(terr(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900561,
            format!("The endpoint only accepts POST requests. Received a {method} request."),
        ));
    }
    Ok(url::form_urlencoded::parse(body).into_owned().collect())
}

/// The answer to the first queued fault that matches a request to the identity endpoint at
/// `path`, if any (it consumes one use of the fault).
pub(super) fn injected_fault(emu: &Emulator, method: &Method, path: &str) -> Option<Response> {
    let fault = emu.take_fault(method.as_str(), path, false)?;
    Some(fault_response(emu, &fault))
}

/// The answer of an identity endpoint to an injected fault (an AADSTS body).
fn fault_response(emu: &Emulator, fault: &Fault) -> Response {
    tracing::debug!(
        status = fault.status,
        "emulator identity endpoint answered with an injected fault"
    );
    let status = StatusCode::from_u16(fault.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let error = if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
        "temporarily_unavailable"
    } else {
        "invalid_request"
    };
    let mut resp = aad_error(
        &emu.base_url(),
        status,
        error,
        90033,
        "A transient error has occurred. Please try again.",
    );
    if let Some(ra) = fault
        .retry_after
        .as_deref()
        .and_then(|v| HeaderValue::from_str(v).ok())
    {
        resp.headers_mut().insert(header::RETRY_AFTER, ra);
    }
    resp
}

/// A token endpoint answer: the token JSON, or the error.
pub(super) fn token_answer(emu: &Emulator, result: Result<Value, TokenError>) -> Response {
    match result {
        Ok(body) => {
            let mut resp = json_response(StatusCode::OK, "application/json; charset=utf-8", &body);
            wire::no_store(resp.headers_mut());
            resp
        }
        Err(e) => {
            tracing::debug!(
                code = e.code,
                error = e.error,
                "emulator token request rejected"
            );
            aad_error_with(
                &emu.base_url(),
                e.status,
                e.error,
                e.code,
                &e.message,
                &e.extra,
            )
        }
    }
}
