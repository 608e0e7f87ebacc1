//! "Approvals": the requests waiting for me, with the context to decide them (the approve and
//! deny forms post to the request's routes, in `request/`).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::routing::get;

use super::request::{ExtensionRow, RequestView};
use super::{Chrome, PageError, PageUser, relative};
use crate::web::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/approvals", get(queue))
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

/// A break-glass grant waiting for the viewer's review.
pub struct BreakGlassQueueRow {
    pub r: RequestView,
    pub due: String,
    pub overdue: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "approvals/queue.html")]
struct QueuePage {
    chrome: Chrome,
    rows: Vec<QueueRow>,
    extensions: Vec<ExtensionQueueRow>,
    break_glass: Vec<BreakGlassQueueRow>,
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
    let break_glass: Vec<BreakGlassQueueRow> = p
        .break_glass_to_review(&user.who)
        .await
        .map_err(|e| user.page_error(e))?
        .into_iter()
        .filter_map(|b| {
            Some(BreakGlassQueueRow {
                r: RequestView::new(&app, &user.who, b.request.as_ref()?, now),
                due: format!(
                    "{} ({})",
                    super::when(b.used.review_due),
                    relative(b.used.review_due, now)
                ),
                overdue: b.overdue,
            })
        })
        .collect();
    let mut chrome = user.chrome;
    chrome.badge = rows.iter().filter(|r| r.may_decide).count()
        + extensions.iter().filter(|x| x.may_decide).count();
    Ok(QueuePage {
        chrome,
        rows,
        extensions,
        break_glass,
    })
}
