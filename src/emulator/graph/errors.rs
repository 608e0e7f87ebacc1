//! Graph's error answers shared by the endpoints: 401 with its `WWW-Authenticate` challenge, 403
//! for missing permissions, 400 for bad input or an invalid object id, 404 for an unknown object.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use crate::emulator::wire::{GraphCtx, graph_error};

const INSUFFICIENT: &str = "Insufficient privileges to complete the operation.";

fn not_found_message(what: &str) -> String {
    format!(
        "Resource '{what}' does not exist or one of its queried reference-property objects are not present."
    )
}

pub(super) fn unauthorized(ctx: &GraphCtx, message: &str) -> Response {
    let mut resp = graph_error(
        ctx,
        StatusCode::UNAUTHORIZED,
        "InvalidAuthenticationToken",
        message,
    );
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(
            r#"Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000""#,
        ),
    );
    resp
}

pub(super) fn forbidden(ctx: &GraphCtx) -> Response {
    graph_error(
        ctx,
        StatusCode::FORBIDDEN,
        "Authorization_RequestDenied",
        INSUFFICIENT,
    )
}

pub(super) fn bad_request(ctx: &GraphCtx, code: &str, message: &str) -> Response {
    graph_error(ctx, StatusCode::BAD_REQUEST, code, message)
}

pub(super) fn invalid_id(ctx: &GraphCtx, id: &str) -> Response {
    bad_request(
        ctx,
        "Request_BadRequest",
        &format!("Invalid object identifier '{id}'."),
    )
}

pub(super) fn not_found(ctx: &GraphCtx, what: &str) -> Response {
    graph_error(
        ctx,
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
        &not_found_message(what),
    )
}
