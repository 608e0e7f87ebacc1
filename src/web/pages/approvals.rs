//! "Approvals": the requests waiting for me, with the context to decide them.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::Duration;
use tower_sessions::Session;

use super::access::{ActionForm, after_action};
use super::request::RequestView;
use super::{Chrome, PageError, PageUser, minutes, relative};
use crate::domain::{Decision, RequestStatus};
use crate::error::AppError;
use crate::service::{DecisionInput, ListQuery};
use crate::store::RequestFilter;
use crate::web::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/approvals", get(queue))
        .route("/requests/{id}/approve", post(approve))
        .route("/requests/{id}/deny", post(deny))
}

pub struct QueueRow {
    pub r: RequestView,
    pub recent: String,
    pub own: bool,
    pub may_decide: bool,
    pub note: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "approvals/queue.html")]
struct QueuePage {
    chrome: Chrome,
    rows: Vec<QueueRow>,
}

async fn queue(State(app): State<AppState>, user: PageUser) -> Result<QueuePage, PageError> {
    if !user.chrome.nav_approvals {
        return Err(user.page_error(AppError::Forbidden("This page is for approvers.".into())));
    }
    let p = &app.portal;
    let now = p.now();
    let mut pending = p
        .list_visible(
            &user.who,
            &ListQuery {
                statuses: vec![RequestStatus::Pending],
                limit: Some(1000),
                ..Default::default()
            },
        )
        .await
        .map_err(|e| user.page_error(e))?;
    pending.reverse();
    // The requesters' grants of the last 30 days, in one query.
    let recent = if pending.is_empty() {
        Vec::new()
    } else {
        p.store
            .list_requests(&RequestFilter {
                statuses: vec![
                    RequestStatus::Active,
                    RequestStatus::Expired,
                    RequestStatus::Ended,
                    RequestStatus::Revoked,
                ],
                created_since: Some(now - Duration::days(30)),
                requester_in: pending.iter().map(|r| r.requester.id.clone()).collect(),
                without_approvals: true,
                limit: Some(10_000),
                ..Default::default()
            })
            .await
            .map_err(|e| user.page_error(e.into()))?
    };
    let mut by_user: HashMap<&str, Vec<&crate::domain::Request>> = HashMap::new();
    for r in &recent {
        by_user.entry(r.requester.id.as_str()).or_default().push(r);
    }
    let rows: Vec<QueueRow> = pending
        .iter()
        .map(|r| {
            let grants = by_user
                .get(r.requester.id.as_str())
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let recent = match grants {
                [] => "none in the last 30 days".to_string(),
                [last, ..] => format!(
                    "{} in the last 30 days; last: {} of {} ({}, {})",
                    grants.len(),
                    minutes(last.duration_minutes),
                    p.package(&last.package)
                        .map_or(last.package.as_str(), |p| p.name.as_str()),
                    last.status,
                    relative(last.created_at, now)
                ),
            };
            let own = r.requester.id == user.who.user.id;
            let already = r
                .approvals
                .iter()
                .any(|a| a.approver.id == user.who.user.id);
            let may_decide = !own && !already && p.may_decide(&user.who, r);
            let required = p.package(&r.package).map_or(1, |p| p.approvals_required);
            let note = if own {
                "Your own request: someone else decides it.".to_string()
            } else if already {
                format!(
                    "You approved; {} of {} approvals so far.",
                    r.approval_count(),
                    required
                )
            } else if !may_decide {
                "You may not decide this request.".to_string()
            } else if required > 1 {
                format!("{} of {} approvals so far.", r.approval_count(), required)
            } else {
                String::new()
            };
            QueueRow {
                r: RequestView::new(&app, &user.who, r, now),
                recent,
                own,
                may_decide,
                note,
            }
        })
        .collect();
    let mut chrome = user.chrome;
    chrome.badge = rows.iter().filter(|r| r.may_decide).count();
    if !p.has_role(&user.who, crate::domain::Role::Approver) && chrome.badge == 0 {
        return Err(
            PageError::from(AppError::Forbidden("This page is for approvers.".into()))
                .with_chrome(chrome),
        );
    }
    Ok(QueuePage { chrome, rows })
}

async fn decide(
    app: &AppState,
    session: &Session,
    user: &PageUser,
    id: &str,
    decision: Decision,
    f: ActionForm,
) -> Result<Response, PageError> {
    let comment = Some(f.comment.clone()).filter(|c| !c.trim().is_empty());
    let result = app
        .portal
        .decide(
            &user.who,
            id,
            decision,
            DecisionInput {
                comment,
                duration_minutes: None,
            },
        )
        .await;
    let back = if f.back.is_empty() {
        "/approvals"
    } else {
        f.back.as_str()
    };
    after_action(session, back, result, |r| match (decision, r.status) {
        (Decision::Deny, _) => format!("You denied {}'s request.", r.requester.name),
        (_, RequestStatus::Pending) => format!(
            "Your approval of {}'s request is recorded; more approvals are needed.",
            r.requester.name
        ),
        (_, RequestStatus::Approved) => format!(
            "You approved {}'s request; access starts {}.",
            r.requester.name,
            r.starts_at.map(super::when).unwrap_or_default()
        ),
        _ => format!(
            "You approved {}'s request; access is being granted now.",
            r.requester.name
        ),
    })
    .await
}

async fn approve(
    State(app): State<AppState>,
    session: Session,
    user: PageUser,
    Path(id): Path<String>,
    Form(f): Form<ActionForm>,
) -> Result<Response, PageError> {
    decide(&app, &session, &user, &id, Decision::Approve, f).await
}

async fn deny(
    State(app): State<AppState>,
    session: Session,
    user: PageUser,
    Path(id): Path<String>,
    Form(f): Form<ActionForm>,
) -> Result<Response, PageError> {
    decide(&app, &session, &user, &id, Decision::Deny, f).await
}
