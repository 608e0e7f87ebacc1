//! One request: its details and its timeline; and how a request is shown in lists.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use chrono::{DateTime, Utc};

use super::{Chrome, PageError, PageUser, minutes, relative, when};
use crate::domain::{Decision, Request, RequestStatus, Role};
use crate::web::AppState;
use crate::web::extract::parse_request_id;

pub fn router() -> Router<AppState> {
    Router::new().route("/requests/{id}", get(detail))
}

/// A request as lists and cards show it.
pub struct RequestView {
    pub id: String,
    pub package: String,
    pub requester: String,
    pub requester_username: String,
    pub status: String,
    pub duration: String,
    pub justification: String,
    pub ticket: String,
    pub created: String,
    pub age: String,
    pub starts: String,
    pub ends: String,
    pub ends_iso: String,
    pub decided_by: String,
    pub membership: String,
    pub reason: String,
    pub can_cancel: bool,
    pub can_end: bool,
}

impl RequestView {
    pub fn new(
        app: &AppState,
        who: &crate::auth::Principal,
        r: &Request,
        now: DateTime<Utc>,
    ) -> RequestView {
        let own = r.requester.id == who.user.id;
        let decided_by = r
            .approvals
            .iter()
            .map(|a| {
                let verb = if a.decision == Decision::Approve {
                    "Approved"
                } else {
                    "Denied"
                };
                match &a.comment {
                    Some(c) => format!(
                        "{verb} by {} ({}): “{c}”",
                        a.approver.name,
                        relative(a.at, now)
                    ),
                    None => format!("{verb} by {} ({})", a.approver.name, relative(a.at, now)),
                }
            })
            .collect::<Vec<_>>()
            .join(" · ");
        let membership = match (r.added_at, r.removed_at) {
            (_, Some(t)) => format!("removed from the group {}", when(t)),
            (Some(t), None) => format!("in the group since {}", when(t)),
            (None, None) if r.status == RequestStatus::Active => "being added to the group…".into(),
            _ => String::new(),
        };
        let starts = match (r.starts_at, r.requested_start) {
            (Some(s), _) => when(s),
            (None, Some(s)) => format!("{} (asked for)", when(s)),
            (None, None) => "when approved".into(),
        };
        RequestView {
            id: r.id.clone(),
            package: app
                .portal
                .package(&r.package)
                .map_or(r.package.clone(), |p| p.name.clone()),
            requester: r.requester.name.clone(),
            requester_username: r.requester.username.clone(),
            status: r.status.to_string(),
            duration: minutes(r.duration_minutes),
            justification: r.justification.clone(),
            ticket: r.ticket.clone().unwrap_or_default(),
            created: when(r.created_at),
            age: relative(r.created_at, now),
            starts,
            ends: r.ends_at.map(when).unwrap_or_default(),
            ends_iso: r
                .ends_at
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .unwrap_or_default(),
            decided_by,
            membership,
            reason: r.close_reason.clone().unwrap_or_default(),
            can_cancel: own && matches!(r.status, RequestStatus::Pending | RequestStatus::Approved),
            can_end: r.status == RequestStatus::Active
                && (own || app.portal.has_role(who, Role::Admin)),
        }
    }
}

pub struct TimelineEntry {
    pub action: String,
    pub label: String,
    pub at: String,
    pub actor: String,
    pub note: String,
}

/// A sentence for an audit event's details.
pub fn describe(action: &str, details: &serde_json::Value) -> String {
    let s = |k: &str| {
        details
            .get(k)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string()
    };
    match action {
        "request_created" => format!(
            "asked for {} — “{}”",
            details
                .get("duration_minutes")
                .and_then(|v| v.as_i64())
                .map(minutes)
                .unwrap_or_default(),
            s("justification")
        ),
        "request_approved" | "request_denied" => {
            let c = s("comment");
            if c.is_empty() {
                String::new()
            } else {
                format!("“{c}”")
            }
        }
        "membership_added" | "membership_removed" => {
            let throttled = details
                .get("throttled")
                .and_then(|v| v.as_i64())
                .unwrap_or(0);
            let mut note =
                if details.get("already_in_effect").and_then(|v| v.as_bool()) == Some(true) {
                    "the directory already had it so".to_string()
                } else {
                    format!(
                        "after {} attempt(s)",
                        details
                            .get("attempts")
                            .and_then(|v| v.as_i64())
                            .unwrap_or(1)
                    )
                };
            if throttled > 0 {
                note.push_str(&format!(", {throttled} throttled by Graph"));
            }
            note
        }
        "membership_verified" => match details.get("member_seen").and_then(|v| v.as_bool()) {
            Some(true) => format!(
                "Graph lists the member (read {} time(s))",
                details.get("reads").and_then(|v| v.as_i64()).unwrap_or(1)
            ),
            Some(false) => format!(
                "Graph no longer lists the member (read {} time(s))",
                details.get("reads").and_then(|v| v.as_i64()).unwrap_or(1)
            ),
            None => format!("could not read the membership back: {}", s("read_error")),
        },
        "drift_detected" => match s("kind").as_str() {
            "member_without_grant" => format!(
                "{} was in the group without an active grant ({})",
                if s("member_name").is_empty() {
                    s("member_id")
                } else {
                    s("member_name")
                },
                if s("action") == "remove" {
                    "removed"
                } else {
                    "reported only"
                }
            ),
            "grant_without_member" => {
                "the member was missing from the group; added again".to_string()
            }
            _ => String::new(),
        },
        "drift_removed" => format!(
            "{} removed from the group",
            if s("member_name").is_empty() {
                s("member_id")
            } else {
                s("member_name")
            }
        ),
        "sessions_revoked" => "every sign-in session of the user was revoked".to_string(),
        "directory_error" => format!(
            "attempt {}: {}",
            details.get("attempt").and_then(|v| v.as_i64()).unwrap_or(0),
            s("error")
        ),
        "grant_expired" | "grant_ended" | "grant_revoked" | "grant_failed"
        | "request_cancelled" | "request_timed_out" => {
            let mut parts = vec![s("reason")];
            parts.push(s("membership_kept"));
            parts.retain(|p| !p.is_empty());
            parts.join("; ")
        }
        _ => String::new(),
    }
}

pub fn label(action: &str) -> String {
    let mut s = action.replace('_', " ");
    if let Some(first) = s.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    s
}

#[derive(Template, WebTemplate)]
#[template(path = "requests/detail.html")]
struct DetailPage {
    chrome: Chrome,
    r: RequestView,
    group_id: String,
    timeline: Vec<TimelineEntry>,
}

async fn detail(
    State(app): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> Result<DetailPage, PageError> {
    let p = &app.portal;
    let (r, events) = async { p.timeline(&user.who, &parse_request_id(&id)?).await }
        .await
        .map_err(|e| user.page_error(e))?;
    let now = p.now();
    let timeline = events
        .iter()
        .map(|e| TimelineEntry {
            action: e.action.clone(),
            label: label(&e.action),
            at: when(e.at),
            actor: e.actor_name.clone(),
            note: describe(&e.action, &e.details_json()),
        })
        .collect();
    Ok(DetailPage {
        r: RequestView::new(&app, &user.who, &r, now),
        group_id: r.group_id.clone(),
        timeline,
        chrome: user.chrome,
    })
}
