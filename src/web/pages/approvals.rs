//! "Approvals": the requests waiting for me, with the context to decide them.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use tower_sessions::Session;

use super::request::{ExtensionRow, RequestView};
use super::{ActionForm, Chrome, PageError, PageUser, after_action, not_found, relative};
use crate::domain::{Decision, RequestStatus};
use crate::service::DecisionInput;
use crate::web::AppState;
use crate::web::extract::parse_request_id;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/approvals", get(queue))
        // `approve` or `deny`
        .route("/requests/{id}/{decision}", post(decide))
}

pub struct QueueRow {
    pub r: RequestView,
    pub recent: String,
    pub own: bool,
    pub may_decide: bool,
    pub note: String,
    /// What the approver may grant: the requested duration first, then shorter choices
    /// (the package's presets and its minimum), as (minutes, label).
    pub durations: Vec<(String, String)>,
}

/// The durations an approver may grant for `r`: the requested one, then every shorter preset
/// down to the package's minimum.
fn grantable(app: &AppState, r: &crate::domain::Request) -> Vec<(String, String)> {
    let requested = r.duration_minutes;
    let label = |m: i64| crate::domain::package::format_duration(chrono::Duration::minutes(m));
    let mut out = vec![(
        requested.to_string(),
        format!("{} (as asked)", label(requested)),
    )];
    if let Some(pkg) = app.portal.package(&r.package) {
        let mut shorter: Vec<i64> = pkg
            .duration_presets
            .iter()
            .map(|d| d.num_minutes())
            .chain([pkg.min_duration.num_minutes()])
            .filter(|m| *m < requested && *m >= pkg.min_duration.num_minutes())
            .collect();
        shorter.sort_unstable_by(|a, b| b.cmp(a));
        shorter.dedup();
        out.extend(shorter.into_iter().map(|m| (m.to_string(), label(m))));
    }
    out
}

/// An extension of a live grant waiting for a decision.
pub struct ExtensionQueueRow {
    pub r: RequestView,
    pub x: ExtensionRow,
    pub may_decide: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "approvals/queue.html")]
struct QueuePage {
    chrome: Chrome,
    rows: Vec<QueueRow>,
    extensions: Vec<ExtensionQueueRow>,
}

async fn queue(State(app): State<AppState>, user: PageUser) -> Result<QueuePage, PageError> {
    let p = &app.portal;
    let now = p.now();
    let entries = p
        .approval_queue(&user.who)
        .await
        .map_err(|e| user.page_error(e))?;
    let rows: Vec<QueueRow> = entries
        .iter()
        .map(|e| {
            let r = &e.request;
            let mut recent = match &e.recent {
                None => "none in the last 30 days".to_string(),
                Some(c) => format!(
                    "{} in the last 30 days; the last asked for {}",
                    c.grants,
                    relative(c.last_at, now)
                ),
            };
            if let Some(n) = e.recent_sign_ins {
                recent.push_str(&format!(
                    "; {n} device-code sign-in{} in the last 30 days",
                    if n == 1 { "" } else { "s" }
                ));
            }
            let note = if e.own {
                "Your own request: someone else decides it.".to_string()
            } else if e.already_approved {
                format!(
                    "You approved; {} of {} approvals so far.",
                    r.approval_count(),
                    e.approvals_required
                )
            } else if !e.may_decide {
                "You may not decide this request.".to_string()
            } else if e.approvals_required > 1 {
                format!(
                    "{} of {} approvals so far.",
                    r.approval_count(),
                    e.approvals_required
                )
            } else {
                String::new()
            };
            QueueRow {
                durations: grantable(&app, r),
                r: RequestView::new(&app, &user.who, r, now),
                recent,
                own: e.own,
                may_decide: e.may_decide,
                note,
            }
        })
        .collect();
    let extensions: Vec<ExtensionQueueRow> = p
        .extension_queue(&user.who)
        .await
        .map_err(|e| user.page_error(e))?
        .iter()
        .map(|e| ExtensionQueueRow {
            r: RequestView::new(&app, &user.who, &e.request, now),
            x: ExtensionRow::new(&e.extension, now),
            may_decide: e.may_decide,
        })
        .collect();
    let mut chrome = user.chrome;
    chrome.badge = rows.iter().filter(|r| r.may_decide).count()
        + extensions.iter().filter(|x| x.may_decide).count();
    Ok(QueuePage {
        chrome,
        rows,
        extensions,
    })
}

/// `POST /requests/{id}/approve` and `/deny` from the approvals page or a request's page.
async fn decide(
    State(app): State<AppState>,
    session: Session,
    user: PageUser,
    Path((id, verb)): Path<(String, String)>,
    Form(f): Form<ActionForm>,
) -> Result<Response, PageError> {
    let Some(decision) = Decision::parse(&verb) else {
        return Err(not_found().await);
    };
    let comment = Some(f.comment.clone()).filter(|c| !c.trim().is_empty());
    let result = async {
        let duration_minutes = match f.duration_minutes.trim() {
            "" => None,
            m => Some(m.parse::<i64>().map_err(|_| {
                crate::error::AppError::BadRequest(
                    "The duration must be a whole number of minutes.".into(),
                )
            })?),
        };
        let input = DecisionInput {
            comment,
            duration_minutes,
        };
        let id = parse_request_id(&id)?;
        app.portal.decide(&user.who, &id, decision, input).await
    }
    .await;
    let back = if f.back.is_empty() {
        "/approvals"
    } else {
        f.back.as_str()
    };
    after_action(&app, &session, back, result, |r| {
        match (decision, r.status) {
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
        }
    })
    .await
}
