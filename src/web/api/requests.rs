//! Requests: create, list, read, approve or deny, cancel, end, extend, and their extensions and
//! sign-ins.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::views;
use super::{ApiJson, ApiPath};
use crate::contract::{
    ApproveBody, DenyBody, Empty, EndBody, ErrorBody, ExtendBody, Extended, ExtensionDecisionBody,
    ExtensionList, NewRequest, OnBehalfResults, Request, RequestList, RequestQuery, RevokeBody,
    SignInList,
};
use crate::domain::{Decision, NewRequestInput, RequestStatus};
use crate::error::{AppError, AppResult};
use crate::service::{DecisionInput, ExtendInput, ListQuery};
use crate::web::extract::parse_request_id;
use crate::web::{AppState, Auth};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(one))
        .routes(routes!(approve))
        .routes(routes!(deny))
        .routes(routes!(cancel))
        .routes(routes!(end))
        .routes(routes!(revoke))
        .routes(routes!(extend))
        .routes(routes!(extensions))
        .routes(routes!(approve_extension))
        .routes(routes!(deny_extension))
        .routes(routes!(sign_ins))
}

fn answer(status: StatusCode, r: &crate::domain::Request) -> Response {
    (status, Json(views::request(r))).into_response()
}

/// Ask for a package for a while: for oneself, or with `on_behalf_of` for other people or device
/// accounts (one request each).
#[utoipa::path(
    post, path = "/api/v1/requests", operation_id = "create_request", tag = "requests",
    request_body = NewRequest,
    responses(
        (status = 201, description = "The request, pending (or approved at once where nobody needs to approve)", body = Request),
        (status = 200, description = "With `on_behalf_of`: one result per person named, in order, each with its own status (201 and the request, pending; or the error a request for that person alone would have had). Each person is asked for on their own: one refused leaves the others' requests standing", body = OnBehalfResults),
        (status = 401, description = "Not signed in, or the token is not valid; or the package needs a step-up the sign-in has not made (`insufficient_claims`, rule `auth_context`): sign in again with the claims request of the `WWW-Authenticate` challenge, then call again", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "For a step-up, Microsoft's claims challenge: `Bearer realm=\"<tenant>\", authorization_uri=\"<authorize endpoint>\", error=\"insufficient_claims\", claims=\"<base64 of the claims request for the access token's acrs, e.g. for c1>\"`"))),
        (status = 400, description = "The body is not valid JSON of this shape", body = ErrorBody),
        (status = 403, description = "The caller may not request this package; or, with `on_behalf_of`, may not ask on others' behalf (neither an approver, an admin nor a holder of the `requester_on_behalf` role, or a requests-API token)", body = ErrorBody),
        (status = 409, description = "The caller already has an open request or active grant for it", body = ErrorBody),
        (status = 422, description = "A rule is broken; each problem is named against its field", body = ErrorBody),
        (status = 429, description = "The caller asked for this package `max_requests_per_hour` times in the last hour (`too_many_requests`)", body = ErrorBody,
            headers(("Retry-After" = i64, description = "Seconds until the oldest counted request leaves the hour"))),
    ),
)]
async fn create(
    State(app): State<AppState>,
    Auth(who): Auth,
    ApiJson(b): ApiJson<NewRequest>,
) -> AppResult<Response> {
    let input = NewRequestInput {
        package: b.package,
        duration_minutes: b.duration_minutes,
        justification: b.justification,
        ticket: b.ticket,
        starts_at: b.starts_at,
        emergency: b.emergency,
    };
    if !b.on_behalf_of.is_empty() {
        let outcomes = app
            .portal
            .create_requests_on_behalf(&who, input, &b.on_behalf_of)
            .await?;
        return Ok((StatusCode::OK, Json(views::on_behalf(&outcomes))).into_response());
    }
    let r = app.portal.create_request(&who, input).await?;
    Ok(answer(StatusCode::CREATED, &r))
}

/// The requests the caller may see, newest first: their own; an approver's also those they may
/// decide; auditors and admins all.
#[utoipa::path(
    get, path = "/api/v1/requests", operation_id = "list_requests", tag = "requests",
    params(RequestQuery),
    responses(
        (status = 200, body = RequestList),
        (status = 400, description = "A filter is not valid", body = ErrorBody),
    ),
)]
async fn list(
    State(app): State<AppState>,
    Auth(who): Auth,
    params: Result<Query<RequestQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Response> {
    let Query(p) =
        params.map_err(|e| AppError::BadRequest(format!("Invalid query: {}.", e.body_text())))?;
    let mut statuses = Vec::new();
    for s in p
        .status
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        statuses.push(
            s.parse::<RequestStatus>()
                .map_err(|e| AppError::BadRequest(format!("Invalid status filter: {e}.")))?,
        );
    }
    if p.limit.is_some_and(|l| !(1..=1000).contains(&l)) {
        return Err(AppError::BadRequest(
            "limit must be between 1 and 1000.".into(),
        ));
    }
    if p.offset.is_some_and(|o| o < 0) {
        return Err(AppError::BadRequest("offset must be 0 or more.".into()));
    }
    let q = ListQuery {
        statuses,
        package: p.package,
        mine: p.mine.unwrap_or(false),
        asked_by_me: p.asked_by_me.unwrap_or(false),
        limit: p.limit.or(Some(100)),
        offset: p.offset,
    };
    let list = app.portal.list_visible(&who, &q).await?;
    let requests = list.iter().map(views::request).collect();
    Ok(Json(RequestList { requests }).into_response())
}

/// One request: for its requester, the people who may decide it, auditors and admins.
#[utoipa::path(
    get, path = "/api/v1/requests/{id}", operation_id = "get_request", tag = "requests",
    params(("id" = String, Path, description = "The request's id (a GUID)")),
    responses(
        (status = 200, body = Request),
        (status = 403, description = "Not a request the caller may see", body = ErrorBody),
    ),
)]
async fn one(
    State(app): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<String>,
) -> AppResult<Response> {
    let id = parse_request_id(&id)?;
    let r = app.portal.get_visible(&who, &id).await?;
    Ok(answer(StatusCode::OK, &r))
}

async fn decide(
    app: AppState,
    who: crate::auth::Principal,
    id: &str,
    decision: Decision,
    input: DecisionInput,
) -> AppResult<Response> {
    let id = parse_request_id(id)?;
    let r = app.portal.decide(&who, &id, decision, input).await?;
    Ok(answer(StatusCode::OK, &r))
}

/// Approve a pending request (never one's own), granting what was asked or less.
#[utoipa::path(
    post, path = "/api/v1/requests/{id}/approve", operation_id = "approve_request", tag = "decisions",
    params(("id" = String, Path, description = "The request's id")),
    request_body = ApproveBody,
    responses(
        (status = 200, description = "The request as it is now", body = Request),
        (status = 401, description = "Not signed in, or the token is not valid; or the package needs a step-up the sign-in has not made (`insufficient_claims`, rule `auth_context`): sign in again with the claims request of the `WWW-Authenticate` challenge, then call again", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "For a step-up, Microsoft's claims challenge: `Bearer realm=\"<tenant>\", authorization_uri=\"<authorize endpoint>\", error=\"insufficient_claims\", claims=\"<base64 of the claims request for the access token's acrs, e.g. for c1>\"`"))),
        (status = 403, description = "Not an approver of this package, or the caller's own request", body = ErrorBody),
        (status = 409, description = "No longer pending, decided already, or past its time limit", body = ErrorBody),
        (status = 422, description = "More than asked, less than the package's minimum, or the comment is not valid", body = ErrorBody),
    ),
)]
async fn approve(
    State(app): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<ApproveBody>,
) -> AppResult<Response> {
    let input = DecisionInput {
        comment: b.comment,
        duration_minutes: b.duration_minutes,
    };
    decide(app, who, &id, Decision::Approve, input).await
}

/// Deny a pending request, with a reason.
#[utoipa::path(
    post, path = "/api/v1/requests/{id}/deny", operation_id = "deny_request", tag = "decisions",
    params(("id" = String, Path, description = "The request's id")),
    request_body = DenyBody,
    responses(
        (status = 200, description = "The request, denied", body = Request),
        (status = 403, description = "Not an approver of this package, or the caller's own request", body = ErrorBody),
        (status = 409, description = "No longer pending", body = ErrorBody),
        (status = 422, description = "No reason given, or the reason is not valid", body = ErrorBody),
    ),
)]
async fn deny(
    State(app): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<DenyBody>,
) -> AppResult<Response> {
    let input = DecisionInput {
        comment: Some(b.comment),
        duration_minutes: None,
    };
    decide(app, who, &id, Decision::Deny, input).await
}

/// The requester (or who asked on their behalf) withdraws a request that is pending, or
/// approved and not started.
#[utoipa::path(
    post, path = "/api/v1/requests/{id}/cancel", operation_id = "cancel_request", tag = "requests",
    params(("id" = String, Path, description = "The request's id")),
    request_body(content = Empty, description = "Nothing (`{}` or no body)"),
    responses(
        (status = 200, description = "The request, cancelled", body = Request),
        (status = 403, description = "Not the caller's request", body = ErrorBody),
        (status = 409, description = "Active or closed already", body = ErrorBody),
    ),
)]
async fn cancel(
    State(app): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(_): ApiJson<Empty>,
) -> AppResult<Response> {
    let id = parse_request_id(&id)?;
    let r = app.portal.cancel(&who, &id).await?;
    Ok(answer(StatusCode::OK, &r))
}

/// The requester (or who asked on their behalf) ends the active grant now; the membership is
/// removed at once. (An admin ends someone else's with `revoke`.)
#[utoipa::path(
    post, path = "/api/v1/requests/{id}/end", operation_id = "end_request", tag = "requests",
    params(("id" = String, Path, description = "The request's id")),
    request_body = EndBody,
    responses(
        (status = 200, description = "The grant, ended", body = Request),
        (status = 403, description = "Not the caller's grant", body = ErrorBody),
        (status = 409, description = "Not active", body = ErrorBody),
        (status = 422, description = "The reason is not valid (too long, control characters)", body = ErrorBody),
    ),
)]
async fn end(
    State(app): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<EndBody>,
) -> AppResult<Response> {
    let id = parse_request_id(&id)?;
    let r = app.portal.end_own(&who, &id, b.reason).await?;
    Ok(answer(StatusCode::OK, &r))
}

/// An admin ends anyone's active grant now, with a reason (a revocation); the membership is
/// removed at once. Needs a token for the portal's own API.
#[utoipa::path(
    post, path = "/api/v1/requests/{id}/revoke", operation_id = "revoke_request", tag = "decisions",
    params(("id" = String, Path, description = "The request's id")),
    request_body = RevokeBody,
    responses(
        (status = 200, description = "The grant, revoked", body = Request),
        (status = 403, description = "Not an admin, or a token for the requests API", body = ErrorBody),
        (status = 409, description = "Not active", body = ErrorBody),
        (status = 422, description = "No reason given, or the reason is not valid", body = ErrorBody),
    ),
)]
async fn revoke(
    State(app): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<RevokeBody>,
) -> AppResult<Response> {
    let id = parse_request_id(&id)?;
    let r = app.portal.revoke(&who, &id, &b.reason).await?;
    Ok(answer(StatusCode::OK, &r))
}

fn extended(
    status: StatusCode,
    r: &crate::domain::Request,
    x: &crate::domain::extension::Extension,
) -> Response {
    let body = Extended {
        request: views::request(r),
        extension: views::extension(x),
    };
    (status, Json(body)).into_response()
}

/// The requester asks for more time on an active grant; decided like a request, unless the
/// package lets requesters extend themselves.
#[utoipa::path(
    post, path = "/api/v1/requests/{id}/extend", operation_id = "extend_request", tag = "extensions",
    params(("id" = String, Path, description = "The request's id")),
    request_body = ExtendBody,
    responses(
        (status = 201, description = "The grant and its extension (pending, or approved at once)", body = Extended),
        (status = 401, description = "Not signed in, or the token is not valid; or the package needs a step-up the sign-in has not made (`insufficient_claims`, rule `auth_context`): sign in again with the claims request of the `WWW-Authenticate` challenge, then call again", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "For a step-up, Microsoft's claims challenge: `Bearer realm=\"<tenant>\", authorization_uri=\"<authorize endpoint>\", error=\"insufficient_claims\", claims=\"<base64 of the claims request for the access token's acrs, e.g. for c1>\"`"))),
        (status = 403, description = "Not the caller's grant", body = ErrorBody),
        (status = 409, description = "Not active, or an extension waits already", body = ErrorBody),
        (status = 422, description = "Too short, or beyond the package's limit", body = ErrorBody),
        (status = 429, description = "The caller asked to extend this package's grants `max_extensions_per_hour` times in the last hour (`too_many_requests`)", body = ErrorBody,
            headers(("Retry-After" = i64, description = "Seconds until the oldest counted extension leaves the hour"))),
    ),
)]
async fn extend(
    State(app): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<ExtendBody>,
) -> AppResult<Response> {
    let id = parse_request_id(&id)?;
    let input = ExtendInput {
        minutes: b.minutes,
        justification: b.justification,
    };
    let (r, x) = app.portal.extend(&who, &id, input).await?;
    Ok(extended(StatusCode::CREATED, &r, &x))
}

/// The extensions asked for a grant, oldest first.
#[utoipa::path(
    get, path = "/api/v1/requests/{id}/extensions", operation_id = "list_extensions", tag = "extensions",
    params(("id" = String, Path, description = "The request's id")),
    responses(
        (status = 200, body = ExtensionList),
        (status = 403, description = "Not a request the caller may see", body = ErrorBody),
    ),
)]
async fn extensions(
    State(app): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<String>,
) -> AppResult<Response> {
    let id = parse_request_id(&id)?;
    let list = app.portal.extensions(&who, &id).await?;
    let extensions = list.iter().map(views::extension).collect();
    Ok(Json(ExtensionList { extensions }).into_response())
}

async fn decide_extension(
    app: AppState,
    who: crate::auth::Principal,
    id: &str,
    decision: Decision,
    comment: Option<String>,
) -> AppResult<Response> {
    let id = parse_request_id(id)?;
    let (r, x) = app
        .portal
        .decide_extension(&who, &id, decision, comment)
        .await?;
    Ok(extended(StatusCode::OK, &r, &x))
}

/// Approve the extension waiting on a grant; the end moves when enough approvals are in.
#[utoipa::path(
    post, path = "/api/v1/requests/{id}/extension/approve", operation_id = "approve_extension", tag = "extensions",
    params(("id" = String, Path, description = "The request's id")),
    request_body = ExtensionDecisionBody,
    responses(
        (status = 200, body = Extended),
        (status = 401, description = "Not signed in, or the token is not valid; or the package needs a step-up the sign-in has not made (`insufficient_claims`, rule `auth_context`): sign in again with the claims request of the `WWW-Authenticate` challenge, then call again", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "For a step-up, Microsoft's claims challenge: `Bearer realm=\"<tenant>\", authorization_uri=\"<authorize endpoint>\", error=\"insufficient_claims\", claims=\"<base64 of the claims request for the access token's acrs, e.g. for c1>\"`"))),
        (status = 403, description = "Not an approver of this package, or the caller's own grant", body = ErrorBody),
        (status = 409, description = "No extension waits, or the grant has ended", body = ErrorBody),
        (status = 422, description = "The comment is not valid, or the extension no longer fits the package's limit", body = ErrorBody),
    ),
)]
async fn approve_extension(
    State(app): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<ExtensionDecisionBody>,
) -> AppResult<Response> {
    decide_extension(app, who, &id, Decision::Approve, b.comment).await
}

/// Deny the extension waiting on a grant, with a reason; the end stays.
#[utoipa::path(
    post, path = "/api/v1/requests/{id}/extension/deny", operation_id = "deny_extension", tag = "extensions",
    params(("id" = String, Path, description = "The request's id")),
    request_body = DenyBody,
    responses(
        (status = 200, body = Extended),
        (status = 403, description = "Not an approver of this package, or the caller's own grant", body = ErrorBody),
        (status = 409, description = "No extension waits, or the grant has ended", body = ErrorBody),
        (status = 422, description = "No reason given, or the reason is not valid", body = ErrorBody),
    ),
)]
async fn deny_extension(
    State(app): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<DenyBody>,
) -> AppResult<Response> {
    decide_extension(app, who, &id, Decision::Deny, Some(b.comment)).await
}

/// The device-code sign-ins seen during the grant, oldest first, as read from Entra's
/// sign-in log.
#[utoipa::path(
    get, path = "/api/v1/requests/{id}/sign-ins", operation_id = "list_sign_ins", tag = "requests",
    params(("id" = String, Path, description = "The request's id")),
    responses(
        (status = 200, body = SignInList),
        (status = 403, description = "Not a request the caller may see", body = ErrorBody),
    ),
)]
async fn sign_ins(
    State(app): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<String>,
) -> AppResult<Response> {
    let id = parse_request_id(&id)?;
    let list = app.portal.sign_ins_for(&who, &id).await?;
    let sign_ins = list.iter().map(views::sign_in).collect();
    Ok(Json(SignInList { sign_ins }).into_response())
}
