//! `GET /api/v1/approvals`: what waits for the caller's decision, as the approvals page shows it.

use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::views;
use crate::contract::{ApprovalQueue, ErrorBody, QueuedBreakGlass, QueuedExtension, QueuedRequest};
use crate::error::AppResult;
use crate::web::{AppState, Auth};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(approvals))
}

/// The pending requests and extensions the caller may see as a decider, oldest first, each with
/// whether the caller may decide it now and the requester's recent use; and the break-glass
/// grants waiting for the caller's review.
#[utoipa::path(
    get, path = "/api/v1/approvals", operation_id = "get_approvals", tag = "decisions",
    responses(
        (status = 200, body = ApprovalQueue),
        (status = 403, description = "Neither an approver nor a manager with something to decide", body = ErrorBody),
    ),
)]
async fn approvals(State(app): State<AppState>, Auth(who): Auth) -> AppResult<Json<ApprovalQueue>> {
    let queue = app.portal.approval_queue(&who).await?;
    let waiting = app.portal.extension_queue(&who).await?;
    let requests = queue
        .iter()
        .map(|e| QueuedRequest {
            request: views::request(&e.request),
            may_decide: e.may_decide,
            own: e.own,
            already_approved: e.already_approved,
            approvals_required: e.approvals_required,
            recent_grants: e.recent.as_ref().map_or(0, |c| c.grants),
            recent_sign_ins: e.recent_sign_ins,
        })
        .collect();
    let extensions = waiting
        .iter()
        .map(|e| QueuedExtension {
            request: views::request(&e.request),
            extension: views::extension(&e.extension),
            may_decide: e.may_decide,
        })
        .collect();
    let break_glass = app
        .portal
        .break_glass_to_review(&who)
        .await?
        .into_iter()
        .filter_map(|b| {
            Some(QueuedBreakGlass {
                request: views::request(b.request.as_ref()?),
                review_due: b.used.review_due,
                overdue: b.overdue,
            })
        })
        .collect();
    Ok(Json(ApprovalQueue {
        requests,
        extensions,
        break_glass,
    }))
}
