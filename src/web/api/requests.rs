//! Requests: create, list, read, approve, deny, cancel, end.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::ApiJson;
use super::views;
use crate::auth::Auth;
use crate::domain::{Decision, NewRequestInput, RequestStatus};
use crate::error::{AppError, AppResult};
use crate::service::{DecisionInput, ListQuery};
use crate::web::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/requests", post(create).get(list))
        .route("/api/v1/requests/{id}", get(one))
        .route("/api/v1/requests/{id}/approve", post(approve))
        .route("/api/v1/requests/{id}/deny", post(deny))
        .route("/api/v1/requests/{id}/cancel", post(cancel))
        .route("/api/v1/requests/{id}/end", post(end))
}

async fn create(
    State(app): State<AppState>,
    Auth(who): Auth,
    ApiJson(input): ApiJson<NewRequestInput>,
) -> AppResult<(StatusCode, Json<Value>)> {
    let r = app.portal.create_request(&who, input).await?;
    Ok((StatusCode::CREATED, Json(views::request(&r))))
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
) -> AppResult<Json<Value>> {
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
    let q = ListQuery {
        statuses,
        package: p.package,
        mine: p.mine.unwrap_or(false),
        limit: p.limit.or(Some(100)),
        offset: p.offset,
    };
    let list = app.portal.list_visible(&who, &q).await?;
    Ok(Json(
        json!({"requests": list.iter().map(views::request).collect::<Vec<_>>()}),
    ))
}

async fn one(
    State(app): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    Ok(Json(views::request(
        &app.portal.get_visible(&who, &id).await?,
    )))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct DecisionBody {
    comment: Option<String>,
    duration_minutes: Option<i64>,
}

async fn approve(
    State(app): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<DecisionBody>,
) -> AppResult<Json<Value>> {
    let input = DecisionInput {
        comment: b.comment,
        duration_minutes: b.duration_minutes,
    };
    Ok(Json(views::request(
        &app.portal
            .decide(&who, &id, Decision::Approve, input)
            .await?,
    )))
}

async fn deny(
    State(app): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<DecisionBody>,
) -> AppResult<Json<Value>> {
    let input = DecisionInput {
        comment: b.comment,
        duration_minutes: b.duration_minutes,
    };
    Ok(Json(views::request(
        &app.portal.decide(&who, &id, Decision::Deny, input).await?,
    )))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Empty {}

async fn cancel(
    State(app): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
    ApiJson(_): ApiJson<Empty>,
) -> AppResult<Json<Value>> {
    Ok(Json(views::request(&app.portal.cancel(&who, &id).await?)))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct EndBody {
    reason: Option<String>,
}

async fn end(
    State(app): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<EndBody>,
) -> AppResult<Json<Value>> {
    Ok(Json(views::request(
        &app.portal.end(&who, &id, b.reason).await?,
    )))
}
