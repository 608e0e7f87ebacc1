//! Break-glass: a grant's use of it and its review. (Taking it is `POST /api/v1/requests` with
//! `"emergency": true`.)

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::views;
use super::{ApiJson, ApiPath};
use crate::contract::{BreakGlassReviewBody, BreakGlassUse, BreakGlassVerdict, ErrorBody};
use crate::domain::break_glass::Verdict;
use crate::error::{AppError, AppResult};
use crate::web::extract::parse_request_id;
use crate::web::{AppState, Auth};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(one))
        .routes(routes!(review))
}

/// A grant's break-glass use (taken without approval) and its review, for whoever may see the
/// request.
#[utoipa::path(
    get, path = "/api/v1/requests/{id}/break-glass", operation_id = "get_break_glass", tag = "requests",
    params(("id" = String, Path, description = "The request's id")),
    responses(
        (status = 200, body = BreakGlassUse),
        (status = 403, description = "Not a request the caller may see", body = ErrorBody),
        (status = 409, description = "The request was not taken with break-glass", body = ErrorBody),
    ),
)]
async fn one(
    State(app): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<String>,
) -> AppResult<Response> {
    let id = parse_request_id(&id)?;
    let used =
        app.portal.break_glass_of(&who, &id).await?.ok_or_else(|| {
            AppError::Conflict("This request was not taken with break-glass.".into())
        })?;
    Ok(Json(views::break_glass_use(&used)).into_response())
}

/// Review a break-glass grant: justified or not, with a comment. For the package's approvers,
/// never the person who used it; once. "Not justified" is told to the requester's manager.
#[utoipa::path(
    post, path = "/api/v1/requests/{id}/break-glass/review", operation_id = "review_break_glass", tag = "decisions",
    params(("id" = String, Path, description = "The request's id")),
    request_body = BreakGlassReviewBody,
    responses(
        (status = 200, description = "The use, reviewed", body = BreakGlassUse),
        (status = 403, description = "Not an approver of this package, the caller's own use, a token for the requests API, or from outside the package's trusted networks", body = ErrorBody),
        (status = 409, description = "Reviewed already, or not taken with break-glass", body = ErrorBody),
        (status = 422, description = "No comment, or the comment is not valid", body = ErrorBody),
    ),
)]
async fn review(
    State(app): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<BreakGlassReviewBody>,
) -> AppResult<Response> {
    let id = parse_request_id(&id)?;
    let verdict = match b.verdict {
        BreakGlassVerdict::Justified => Verdict::Justified,
        BreakGlassVerdict::NotJustified => Verdict::NotJustified,
    };
    let (_, used) = app
        .portal
        .review_break_glass(&who, &id, verdict, &b.comment)
        .await?;
    Ok(Json(views::break_glass_use(&used)).into_response())
}
