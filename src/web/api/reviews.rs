//! `/api/v1/reviews`: access reviews — the campaigns the caller may see, one campaign with its
//! items, a reviewer's decision, a campaign's export (CSV or JSON), and the revocations reviews
//! leave (restored by admins). Decisions and restoring refuse tokens of the requests API.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::views;
use super::{ApiJson, ApiPath};
use crate::contract::{
    Empty, ErrorBody, RestoreBody, ReviewCampaign, ReviewDecisionBody, ReviewDetail, ReviewItem,
    ReviewList, ReviewRevocation, RevocationList,
};
use crate::domain::review::{self, Campaign};
use crate::error::{AppError, AppResult};
use crate::service::{CampaignView, ItemView};
use crate::store::Revocation;
use crate::web::{AppState, Auth};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(one))
        .routes(routes!(decide))
        .routes(routes!(export))
        .routes(routes!(revocations))
        .routes(routes!(restore))
}

pub fn campaign(c: &Campaign, waiting: usize) -> ReviewCampaign {
    ReviewCampaign {
        id: c.id.clone(),
        package: c.package.clone(),
        package_name: c.package_name.clone(),
        period_start: c.period_start,
        period_end: c.period_end,
        starts_at: c.starts_at,
        due_at: c.due_at,
        status: c.status.as_str().to_string(),
        closed_at: c.closed_at,
        review_by: c.review_by.as_str().to_string(),
        review_default: c.review_default.as_str().to_string(),
        waiting,
    }
}

pub fn item(i: &review::ReviewItem, may_decide: bool) -> ReviewItem {
    ReviewItem {
        id: i.id,
        kind: i.kind.as_str().to_string(),
        subject_id: i.subject_id.clone(),
        subject_name: i.subject_name.clone(),
        details: i.details.clone(),
        decision: i.decision.map(|d| d.as_str().to_string()),
        justification: i.justification.clone(),
        reviewer: i.reviewer.as_ref().map(views::person),
        decided_at: i.decided_at,
        outcome: i.outcome.map(|o| o.as_str().to_string()),
        by_default: i.by_default,
        may_decide,
    }
}

pub fn detail(v: &CampaignView) -> ReviewDetail {
    let waiting = v
        .items
        .iter()
        .filter(|i| i.may_decide && i.item.decision.is_none())
        .count();
    ReviewDetail {
        campaign: campaign(&v.campaign, waiting),
        items: v
            .items
            .iter()
            .map(
                |ItemView {
                     item: i,
                     may_decide,
                 }| item(i, *may_decide),
            )
            .collect(),
        whole: v.whole,
    }
}

fn revocation(r: &Revocation) -> ReviewRevocation {
    ReviewRevocation {
        package: r.package.clone(),
        user_id: r.user_id.clone(),
        user_name: r.user_name.clone(),
        campaign: r.campaign_id.clone(),
        reason: r.reason.clone(),
        revoked_at: r.revoked_at,
        restored_at: r.restored_at,
        restored_by: r.restored_by.clone(),
        restore_reason: r.restore_reason.clone(),
    }
}

/// The campaigns the caller may see, newest first: all for admins and auditors, a package's
/// for its reviewers, and those where the caller attests for themself.
#[utoipa::path(
    get, path = "/api/v1/reviews", operation_id = "list_reviews", tag = "reviews",
    responses(
        (status = 200, body = ReviewList),
        (status = 403, description = "A token of the requests API", body = ErrorBody),
    ),
)]
async fn list(State(app): State<AppState>, Auth(who): Auth) -> AppResult<Json<ReviewList>> {
    let campaigns = app
        .portal
        .review_campaigns(&who)
        .await?
        .iter()
        .map(|(c, waiting)| campaign(c, *waiting))
        .collect();
    Ok(Json(ReviewList { campaigns }))
}

/// One campaign and the items the caller may see (their own only, in a self-attestation,
/// unless they see the whole campaign).
#[utoipa::path(
    get, path = "/api/v1/reviews/{id}", operation_id = "get_review", tag = "reviews",
    params(("id" = String, Path, description = "The campaign's id")),
    responses(
        (status = 200, body = ReviewDetail),
        (status = 403, description = "A token of the requests API", body = ErrorBody),
    ),
)]
async fn one(
    State(app): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<String>,
) -> AppResult<Json<ReviewDetail>> {
    Ok(Json(detail(&app.portal.review_campaign(&who, &id).await?)))
}

/// Decides an item: Approve, Deny or DontKnow, with a justification. For the package's
/// reviewers (never about themself), or, in a self-attestation, the person the item is about;
/// until the due date, when decisions are applied. Refused to tokens of the requests API.
#[utoipa::path(
    post, path = "/api/v1/reviews/{id}/items/{item}/decide", operation_id = "decide_review_item", tag = "reviews",
    params(
        ("id" = String, Path, description = "The campaign's id"),
        ("item" = i64, Path, description = "The item's id"),
    ),
    request_body = ReviewDecisionBody,
    responses(
        (status = 200, body = ReviewItem),
        (status = 403, description = "Not a reviewer of this item, the item is about the caller, or a token of the requests API", body = ErrorBody),
        (status = 404, description = "No such campaign or item", body = ErrorBody),
        (status = 409, description = "The campaign is closed", body = ErrorBody),
        (status = 422, description = "No such decision, or no justification", body = ErrorBody),
    ),
)]
async fn decide(
    State(app): State<AppState>,
    Auth(who): Auth,
    ApiPath((id, item_id)): ApiPath<(String, i64)>,
    ApiJson(body): ApiJson<ReviewDecisionBody>,
) -> AppResult<Json<ReviewItem>> {
    let decided = app
        .portal
        .decide_review_item(&who, &id, item_id, &body.decision, &body.justification)
        .await?;
    Ok(Json(item(&decided, true)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ExportQuery {
    /// `csv` (the default) or `json`.
    format: Option<String>,
}

/// A campaign as a file an auditor can keep: CSV (cells a spreadsheet would run as formulas
/// are neutralised) or JSON. For admins, auditors and its reviewers.
#[utoipa::path(
    get, path = "/api/v1/reviews/{id}/export", operation_id = "export_review", tag = "reviews",
    params(("id" = String, Path, description = "The campaign's id"), ExportQuery),
    responses(
        (status = 200, description = "The campaign and its items", content_type = "text/csv"),
        (status = 400, description = "The query is not valid", body = ErrorBody),
        (status = 403, description = "Neither admin, auditor nor one of its reviewers", body = ErrorBody),
    ),
)]
async fn export(
    State(app): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<String>,
    q: Result<Query<ExportQuery>, QueryRejection>,
) -> AppResult<Response> {
    let Query(q) = q.map_err(invalid_query)?;
    let format = q.format.as_deref().unwrap_or("csv");
    let file = app.portal.export_review(&who, &id, format).await?;
    Ok((
        [
            (header::CONTENT_TYPE, file.content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", file.file_name),
            ),
        ],
        file.body,
    )
        .into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct RevocationQuery {
    /// Only those in force (not restored); default true.
    in_force: Option<bool>,
}

/// People access reviews revoked, newest first: refused further requests for the package until
/// an admin restores them. For admins and auditors.
#[utoipa::path(
    get, path = "/api/v1/reviews/revocations", operation_id = "list_review_revocations", tag = "reviews",
    params(RevocationQuery),
    responses(
        (status = 200, body = RevocationList),
        (status = 400, description = "A filter is not valid", body = ErrorBody),
        (status = 403, description = "Neither admin nor auditor", body = ErrorBody),
    ),
)]
async fn revocations(
    State(app): State<AppState>,
    Auth(who): Auth,
    q: Result<Query<RevocationQuery>, QueryRejection>,
) -> AppResult<Json<RevocationList>> {
    let Query(q) = q.map_err(invalid_query)?;
    let list = app
        .portal
        .review_revocations(&who, q.in_force.unwrap_or(true))
        .await?;
    Ok(Json(RevocationList {
        revocations: list.iter().map(revocation).collect(),
    }))
}

/// Restores a person an access review revoked, with a reason. Admins only, refused to tokens
/// of the requests API.
#[utoipa::path(
    post, path = "/api/v1/reviews/revocations/restore", operation_id = "restore_review_revocation", tag = "reviews",
    request_body = RestoreBody,
    responses(
        (status = 200, body = Empty),
        (status = 403, description = "Not an admin, or a token of the requests API", body = ErrorBody),
        (status = 404, description = "No revocation in force for this person and package", body = ErrorBody),
        (status = 422, description = "No reason", body = ErrorBody),
    ),
)]
async fn restore(
    State(app): State<AppState>,
    Auth(who): Auth,
    ApiJson(body): ApiJson<RestoreBody>,
) -> AppResult<Json<Empty>> {
    app.portal
        .restore_eligibility(&who, body.package.trim(), body.user_id.trim(), &body.reason)
        .await?;
    Ok(Json(Empty {}))
}

/// A query string that cannot be read: a JSON error, like every other.
fn invalid_query(e: QueryRejection) -> AppError {
    AppError::BadRequest(format!("Invalid query: {}.", e.body_text()))
}
