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

use super::request::RequestView;
use super::{ActionForm, Chrome, PageError, PageUser, after_action, relative};
use crate::domain::{Decision, RequestStatus};
use crate::error::AppError;
use crate::service::DecisionInput;
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
    let pending = p
        .pending_for(&user.who)
        .await
        .map_err(|e| user.page_error(e))?;
    // The requesters' grants of the last 30 days, counted in one query.
    let mut requesters: Vec<String> = pending.iter().map(|r| r.requester.id.clone()).collect();
    requesters.sort();
    requesters.dedup();
    let counts: HashMap<String, (i64, chrono::DateTime<chrono::Utc>)> = p
        .store
        .grant_counts(&requesters, now - Duration::days(30))
        .await
        .map_err(|e| user.page_error(e.into()))?
        .into_iter()
        .map(|c| (c.requester_id, (c.grants, c.last_at)))
        .collect();
    let rows: Vec<QueueRow> = pending
        .iter()
        .map(|r| {
            let recent = match counts.get(&r.requester.id) {
                None => "none in the last 30 days".to_string(),
                Some((n, last)) => format!(
                    "{n} in the last 30 days; the last asked for {}",
                    relative(*last, now)
                ),
            };
            let own = r.requester.id == user.who.user.id;
            let already = r
                .approvals
                .iter()
                .any(|a| a.approver.id == user.who.user.id);
            let may_decide = p.awaits_decision_by(&user.who, r);
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
