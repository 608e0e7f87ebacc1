//! The entry of every Graph request: Graph's headers on the answer, then per request the tenant's
//! latency, an injected fault or chaos, the write budget (throttling), the request itself through
//! the route table, and the call list entry.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use super::errors::unauthorized;
use super::routes::route;
use crate::emulator::conditions::Mischief;
use crate::emulator::late_writes::HeldAnswer;
use crate::emulator::wire::{GraphCtx, graph_error, throttled_error};
use crate::emulator::{Emulator, Fault, GraphCall};

/// Entry point for every `/v1.0/...` and `/beta/...` request.
pub(crate) async fn handle(
    State(emu): State<Emulator>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ctx = GraphCtx::new(&headers);
    // Carried out to the end even when the caller hangs up (a timed-out call may still land).
    let task_ctx = ctx.clone();
    let resp =
        tokio::spawn(async move { answer(&emu, &task_ctx, &method, &uri, &headers, &body).await })
            .await
            .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response());
    decorate(&ctx, resp)
}

/// Graph's headers on every answer.
pub(super) fn decorate(ctx: &GraphCtx, mut resp: Response) -> Response {
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&ctx.request_id) {
        h.insert("request-id", v);
    }
    if let Ok(v) = HeaderValue::from_str(ctx.client_request_id()) {
        h.insert("client-request-id", v);
    }
    h.insert(
        "x-ms-ags-diagnostic",
        HeaderValue::from_static(
            r#"{"ServerInfo":{"DataCenter":"Loopback","Slice":"E","Ring":"0","ScaleUnit":"000","RoleInstance":"JITGATE_EMULATOR","ADSiteName":"LOC"}}"#,
        ),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    resp
}

/// One Graph request (on its own or inside a `$batch`): the tenant's latency, an injected fault
/// or delay, the write budget, then the request itself. Logged in the call list.
pub(super) async fn answer(
    emu: &Emulator,
    ctx: &GraphCtx,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let path_q = uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| uri.path().to_owned());
    emu.land_due_writes();
    let mut fault = emu.take_fault(method.as_str(), &path_q, true);
    if fault.is_none() && is_write(method, uri.path()) {
        fault = chaos(emu, uri.path());
    }
    let delay =
        emu.state().conditions.latency + fault.as_ref().and_then(|f| f.delay).unwrap_or_default();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let resp = match fault.filter(|f| f.status != 0) {
        Some(fault) => fault_response(ctx, &fault),
        None => match spend_write(emu, method, uri.path()) {
            Err(wait) => {
                let mut resp = throttled_error(ctx);
                // Graph sends whole or fractional seconds.
                let secs = format!("{:.3}", wait.as_secs_f64().max(0.001));
                if let Ok(v) = HeaderValue::from_str(&secs) {
                    resp.headers_mut().insert(header::RETRY_AFTER, v);
                }
                resp.headers_mut().insert(
                    "x-ms-throttle-information",
                    HeaderValue::from_static("WriteLimitExceeded"),
                );
                resp
            }
            Ok(()) => route(emu, ctx, method, uri, headers, body),
        },
    };
    let resp = match resp.extensions().get::<HeldAnswer>().cloned() {
        // Accepted, but answered only once it has landed: the caller has given up by then.
        Some(held) => {
            held.landed().await;
            graph_error(
                ctx,
                StatusCode::GATEWAY_TIMEOUT,
                "gatewayTimeout",
                "The gateway did not receive a timely response from the upstream server.",
            )
        }
        None => resp,
    };
    let status = resp.status().as_u16();
    tracing::debug!(
        method = %method,
        path = %uri.path(),
        status,
        request_id = %ctx.request_id,
        client_request_id = %ctx.client_request_id(),
        "emulated Graph request"
    );
    emu.state().calls.push(GraphCall {
        method: method.as_str().to_owned(),
        path: path_q,
        status,
        client_request_id: ctx.sent_client_request_id.clone(),
    });
    resp
}

/// Any POST, PATCH, PUT or DELETE but `checkMemberGroups` and `sendMail` (Exchange Online's
/// limits, not the directory's).
fn is_write(method: &Method, path: &str) -> bool {
    *method != Method::GET && !path.ends_with("/checkMemberGroups") && !path.ends_with("/sendMail")
}

/// The fault chaos picks for a write, if any.
fn chaos(emu: &Emulator, path: &str) -> Option<Fault> {
    let mut st = emu.state();
    let mischief = st.conditions.chaos.as_mut()?.pick(path)?;
    Some(match mischief {
        Mischief::Throttle => Fault::new(429, 1).retry_after("0.2"),
        Mischief::Unavailable => Fault::new(503, 1),
        Mischief::Hang(d) => Fault::hang(d, 1),
    })
}

/// Spends one write of the tenant's budget when `method` on `path` is a write (any POST, PATCH,
/// PUT or DELETE but `checkMemberGroups`); `Err` with the wait when the budget is spent.
fn spend_write(emu: &Emulator, method: &Method, path: &str) -> Result<(), std::time::Duration> {
    if !is_write(method, path) {
        return Ok(());
    }
    let mut st = emu.state();
    let c = &mut st.conditions;
    let Some(bucket) = c.budget.as_mut() else {
        return Ok(());
    };
    match bucket.spend() {
        Ok(()) => {
            c.accepted_writes += 1;
            Ok(())
        }
        Err(wait) => {
            c.throttled_writes += 1;
            Err(wait)
        }
    }
}

fn fault_response(ctx: &GraphCtx, fault: &Fault) -> Response {
    let status = StatusCode::from_u16(fault.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = match status.as_u16() {
        429 => throttled_error(ctx),
        503 => graph_error(
            ctx,
            status,
            "serviceNotAvailable",
            "The service is temporarily unavailable. Please retry after some time.",
        ),
        504 => graph_error(
            ctx,
            status,
            "gatewayTimeout",
            "The gateway did not receive a timely response from the upstream server.",
        ),
        401 => unauthorized(ctx, "Access token validation failure."),
        s => {
            let code = match s {
                400 => "BadRequest",
                403 => "Authorization_RequestDenied",
                404 => "Request_ResourceNotFound",
                409 => "Directory_ConcurrencyViolation",
                502 => "BadGateway",
                _ => "UnknownError",
            };
            let message = status.canonical_reason().unwrap_or("Injected fault.");
            graph_error(ctx, status, code, message)
        }
    };
    if let Some(v) = fault
        .retry_after
        .as_deref()
        .and_then(|v| HeaderValue::from_str(v).ok())
    {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}
