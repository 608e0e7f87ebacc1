//! Requests: create, list, read, approve or deny, cancel, end, extend.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::views::{RequestList, RequestView};
use super::{ApiJson, ApiPath};
use crate::domain::extension::Extension;
use crate::domain::{Decision, NewRequestInput, Request, RequestStatus};
use crate::error::{AppError, AppResult};
use crate::service::{DecisionInput, ExtendInput, ListQuery};
use crate::web::extract::parse_request_id;
use crate::web::{AppState, Auth};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/requests", post(create).get(list))
        .route("/api/v1/requests/{id}", get(one))
        .route("/api/v1/requests/{id}/cancel", post(cancel))
        .route("/api/v1/requests/{id}/end", post(end))
        .route("/api/v1/requests/{id}/extend", post(extend))
        .route("/api/v1/requests/{id}/extensions", get(extensions))
        .route("/api/v1/requests/{id}/sign-ins", get(sign_ins))
        // `approve` or `deny` the extension waiting on the grant
        .route(
            "/api/v1/requests/{id}/extension/{decision}",
            post(decide_extension),
        )
        // `approve` or `deny`
        .route("/api/v1/requests/{id}/{decision}", post(decide))
}

fn answer(status: StatusCode, r: &Request) -> Response {
    (status, Json(RequestView::from(r))).into_response()
}

async fn create(
    State(app): State<AppState>,
    Auth(who): Auth,
    ApiJson(input): ApiJson<NewRequestInput>,
) -> AppResult<Response> {
    let r = app.portal.create_request(&who, input).await?;
    Ok(answer(StatusCode::CREATED, &r))
}

#[derive(Deserialize)]
struct ListParams {
    status: Option<String>,
    package: Option<String>,
    mine: Option<bool>,
    limit: Option<i64>,
    offset: Option<i64>,
}

async fn list(
    State(app): State<AppState>,
    Auth(who): Auth,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
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
        limit: p.limit.or(Some(100)),
        offset: p.offset,
    };
    let list = app.portal.list_visible(&who, &q).await?;
    let requests = list.iter().map(RequestView::from).collect();
    Ok(Json(RequestList { requests }).into_response())
}

async fn one(
    State(app): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<String>,
) -> AppResult<Response> {
    let id = parse_request_id(&id)?;
    let r = app.portal.get_visible(&who, &id).await?;
    Ok(answer(StatusCode::OK, &r))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct DecisionBody {
    comment: Option<String>,
    duration_minutes: Option<i64>,
}

/// `POST /api/v1/requests/{id}/approve` and `/deny`.
async fn decide(
    State(app): State<AppState>,
    Auth(who): Auth,
    ApiPath((id, verb)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<DecisionBody>,
) -> AppResult<Response> {
    let decision = Decision::parse(&verb)
        .ok_or_else(|| AppError::NotFound("There is no such action.".into()))?;
    let id = parse_request_id(&id)?;
    let input = DecisionInput {
        comment: b.comment,
        duration_minutes: b.duration_minutes,
    };
    let r = app.portal.decide(&who, &id, decision, input).await?;
    Ok(answer(StatusCode::OK, &r))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Empty {}

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

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct EndBody {
    reason: Option<String>,
}

async fn end(
    State(app): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<EndBody>,
) -> AppResult<Response> {
    let id = parse_request_id(&id)?;
    let r = app.portal.end(&who, &id, b.reason).await?;
    Ok(answer(StatusCode::OK, &r))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExtendBody {
    minutes: i64,
    justification: String,
}

/// The grant and the extension asked or decided.
fn extended(status: StatusCode, r: &Request, x: &Extension) -> Response {
    (
        status,
        Json(serde_json::json!({"request": RequestView::from(r), "extension": x})),
    )
        .into_response()
}

/// `POST /api/v1/requests/{id}/extend`: the requester asks for more time on an active grant.
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

async fn extensions(
    State(app): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<String>,
) -> AppResult<Response> {
    let id = parse_request_id(&id)?;
    let list = app.portal.extensions(&who, &id).await?;
    Ok(Json(serde_json::json!({"extensions": list})).into_response())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ExtensionDecisionBody {
    comment: Option<String>,
}

/// `POST /api/v1/requests/{id}/extension/approve` and `/deny`.
async fn decide_extension(
    State(app): State<AppState>,
    Auth(who): Auth,
    ApiPath((id, verb)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<ExtensionDecisionBody>,
) -> AppResult<Response> {
    let decision = Decision::parse(&verb)
        .ok_or_else(|| AppError::NotFound("There is no such action.".into()))?;
    let id = parse_request_id(&id)?;
    let (r, x) = app
        .portal
        .decide_extension(&who, &id, decision, b.comment)
        .await?;
    Ok(extended(StatusCode::OK, &r, &x))
}

/// `GET /api/v1/requests/{id}/sign-ins`: the device-code sign-ins seen during the grant.
async fn sign_ins(
    State(app): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<String>,
) -> AppResult<Response> {
    let id = parse_request_id(&id)?;
    let list = app.portal.sign_ins_for(&who, &id).await?;
    Ok(Json(serde_json::json!({"sign_ins": list})).into_response())
}
