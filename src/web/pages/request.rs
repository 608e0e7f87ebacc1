//! One request: its details and its timeline; and how a request is shown in lists.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Form, Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use tower_sessions::Session;

use super::{ActionForm, Chrome, PageError, PageUser, after_action, minutes, relative, when};
use crate::domain::extension::{Extension, ExtensionStatus};
use crate::domain::{Decision, Request, RequestStatus, Role};
use crate::error::AppError;
use crate::service::ExtendInput;
use crate::web::AppState;
use crate::web::extract::parse_request_id;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/requests/{id}", get(detail))
        .route("/requests/{id}/extend", post(extend))
        .route(
            "/requests/{id}/extension/{decision}",
            post(decide_extension),
        )
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
    /// The requester's own active grant: it may be extended.
    pub can_extend: bool,
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
            can_extend: own
                && r.status == RequestStatus::Active
                && r.ends_at.is_some_and(|e| e > now),
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
        "extension_requested" => format!(
            "asked for {} more — “{}”",
            details
                .get("minutes")
                .and_then(|v| v.as_i64())
                .map(minutes)
                .unwrap_or_default(),
            s("justification")
        ),
        "extension_approved" | "extension_denied" => {
            let mut parts = Vec::new();
            if details.get("self_extend").and_then(|v| v.as_bool()) == Some(true) {
                parts.push("extended by the requester (the package allows it)".to_string());
            }
            if !s("comment").is_empty() {
                parts.push(format!("“{}”", s("comment")));
            }
            if action == "extension_approved"
                && details.get("final").and_then(|v| v.as_bool()) == Some(true)
                && let Some(end) = details
                    .get("ends_at")
                    .and_then(|v| v.as_str())
                    .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            {
                parts.push(format!("now ends {}", when(end.with_timezone(&Utc))));
            }
            parts.join("; ")
        }
        "extension_lapsed" => "the grant ended before the extension was decided".to_string(),
        "device_code_sign_in" => format!(
            "{} at {} from {}: {}",
            s("app"),
            details
                .get("at")
                .and_then(|v| v.as_str())
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| when(t.with_timezone(&Utc)))
                .unwrap_or_default(),
            s("ip_address"),
            s("result")
        ),
        "grant_shortened" => s("reason"),
        "notification_sent" => format!(
            "{} about {} to {}",
            s("channel"),
            s("event").replace('_', " "),
            details
                .get("recipients")
                .and_then(|v| v.as_array())
                .map(|a| a
                    .iter()
                    .filter_map(|v| v.as_str())
                    .collect::<Vec<_>>()
                    .join(", "))
                .unwrap_or_default()
        ),
        "notification_failed" => format!(
            "{} about {} failed: {}",
            s("channel"),
            s("event").replace('_', " "),
            s("error")
        ),
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

/// An extension as the request's page lists it.
pub struct ExtensionRow {
    pub id: String,
    pub minutes: String,
    pub justification: String,
    pub status: String,
    pub asked: String,
    pub outcome: String,
}

impl ExtensionRow {
    pub fn new(x: &Extension, now: DateTime<Utc>) -> ExtensionRow {
        let decided = x
            .approvals
            .iter()
            .map(|a| {
                let verb = if a.decision == Decision::Approve {
                    "approved"
                } else {
                    "denied"
                };
                match &a.comment {
                    Some(c) => format!("{verb} by {}: “{c}”", a.approver.name),
                    None => format!("{verb} by {}", a.approver.name),
                }
            })
            .collect::<Vec<_>>()
            .join(" · ");
        let outcome = match (x.status, x.ends_after) {
            (ExtensionStatus::Approved, Some(end)) if x.approvals.is_empty() => {
                format!("self-extended; now ends {}", when(end))
            }
            (ExtensionStatus::Approved, Some(end)) => format!("{decided}; now ends {}", when(end)),
            (ExtensionStatus::Lapsed, _) => "the grant ended before it was decided".into(),
            _ => decided,
        };
        ExtensionRow {
            id: x.id.clone(),
            minutes: minutes(x.minutes),
            justification: x.justification.clone(),
            status: x.status.as_str().into(),
            asked: relative(x.requested_at, now),
            outcome,
        }
    }
}

/// A device-code sign-in as the request's page lists it.
pub struct SignInRow {
    pub at: String,
    pub app: String,
    pub ip: String,
    pub result: String,
    pub ok: bool,
    /// Which grant it fell in, when listed as past use.
    pub request_id: String,
}

impl SignInRow {
    fn new(s: &crate::domain::sign_in::DeviceSignIn) -> SignInRow {
        SignInRow {
            at: when(s.at),
            app: s.app_name.clone(),
            ip: s.ip_address.clone(),
            result: s.result(),
            ok: s.succeeded(),
            request_id: s.request_id.clone().unwrap_or_default(),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "requests/detail.html")]
struct DetailPage {
    chrome: Chrome,
    r: RequestView,
    group_id: String,
    timeline: Vec<TimelineEntry>,
    extensions: Vec<ExtensionRow>,
    /// The viewer may decide the extension waiting on this grant.
    may_decide_extension: bool,
    /// Quick picks for an extension: (minutes, label), within what the package still allows.
    extend_choices: Vec<(i64, String)>,
    /// Device-code sign-ins during this grant.
    sign_ins: Vec<SignInRow>,
    /// The requester's device-code sign-ins in the last 30 days (shown to deciders).
    past_use: Vec<SignInRow>,
    sign_ins_read: bool,
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
    let list = p
        .extensions(&user.who, &r_id(&r))
        .await
        .map_err(|e| user.page_error(e))?;
    let may_decide_extension = list.iter().any(|x| {
        x.status == ExtensionStatus::Pending
            && p.package(&r.package).is_some_and(|pkg| {
                x.check_decider(
                    &r,
                    &user.who.user.id,
                    p.is_package_approver(&user.who, pkg),
                    pkg,
                    now,
                )
                .is_ok()
            })
    });
    let extensions = list.iter().map(|x| ExtensionRow::new(x, now)).collect();
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
    let extend_choices = extend_choices(&app, &r, now);
    let sign_ins = p
        .sign_ins_for(&user.who, &r_id(&r))
        .await
        .map_err(|e| user.page_error(e))?
        .iter()
        .map(SignInRow::new)
        .collect();
    let past_use = if r.requester.id != user.who.user.id && p.may_decide(&user.who, &r) {
        p.requester_sign_ins(&user.who, &r_id(&r), now - chrono::Duration::days(30))
            .await
            .map_err(|e| user.page_error(e))?
            .iter()
            .filter(|s| s.request_id.as_deref() != Some(r.id.as_str()))
            .map(SignInRow::new)
            .collect()
    } else {
        Vec::new()
    };
    Ok(DetailPage {
        r: RequestView::new(&app, &user.who, &r, now),
        group_id: r.group_id.clone(),
        timeline,
        extensions,
        may_decide_extension,
        extend_choices,
        sign_ins,
        past_use,
        sign_ins_read: p.sign_in_reading().is_some(),
        chrome: user.chrome,
    })
}

fn r_id(r: &Request) -> crate::domain::RequestId {
    crate::domain::RequestId::parse(&r.id).expect("stored request ids parse")
}

/// Extensions the package still allows for `r`: 15 minutes to 2 hours, and what is left.
fn extend_choices(app: &AppState, r: &Request, now: DateTime<Utc>) -> Vec<(i64, String)> {
    let (Some(pkg), Some(start), Some(end)) =
        (app.portal.package(&r.package), r.starts_at, r.ends_at)
    else {
        return Vec::new();
    };
    if end <= now {
        return Vec::new();
    }
    let room = (start + pkg.longest_grant() - end).num_minutes();
    let mut out: Vec<(i64, String)> = [15, 30, 60, 120]
        .into_iter()
        .filter(|m| *m <= room)
        .map(|m| (m, minutes(m)))
        .collect();
    if room >= crate::domain::extension::EXTENSION_MIN_MINUTES
        && !out.iter().any(|(m, _)| *m == room)
    {
        out.push((room, format!("{} (the most allowed)", minutes(room))));
    }
    out
}

#[derive(Deserialize)]
struct ExtendForm {
    #[serde(default)]
    minutes: String,
    #[serde(default)]
    justification: String,
    #[serde(default)]
    back: String,
}

/// `POST /requests/{id}/extend` from the request's page (the reminder's link lands there).
async fn extend(
    State(app): State<AppState>,
    session: Session,
    user: PageUser,
    Path(id): Path<String>,
    Form(f): Form<ExtendForm>,
) -> Result<Response, PageError> {
    let back = if f.back.is_empty() {
        format!("/requests/{id}")
    } else {
        f.back.clone()
    };
    let mut status = None;
    let result = async {
        let minutes = f
            .minutes
            .trim()
            .parse::<i64>()
            .map_err(|_| AppError::BadRequest("Choose how much more time you need.".into()))?;
        let input = ExtendInput {
            minutes,
            justification: f.justification.clone(),
        };
        let (r, x) = app
            .portal
            .extend(&user.who, &parse_request_id(&id)?, input)
            .await?;
        status = Some(x.status);
        Ok(r)
    }
    .await;
    after_action(&app, &session, &back, result, |r| match status {
        Some(ExtensionStatus::Approved) => format!(
            "Your grant is extended; it now ends {}.",
            r.ends_at.map(when).unwrap_or_default()
        ),
        _ => "Your extension is waiting for approval. Your access stays in effect meanwhile; if nobody decides before the end, it ends as planned.".into(),
    })
    .await
}

/// `POST /requests/{id}/extension/approve` and `/deny` from the approvals page or the
/// request's page.
async fn decide_extension(
    State(app): State<AppState>,
    session: Session,
    user: PageUser,
    Path((id, verb)): Path<(String, String)>,
    Form(f): Form<ActionForm>,
) -> Result<Response, PageError> {
    let Some(decision) = Decision::parse(&verb) else {
        return Err(super::not_found().await);
    };
    let comment = Some(f.comment.clone()).filter(|c| !c.trim().is_empty());
    let mut status = None;
    let result = async {
        let id = parse_request_id(&id)?;
        let (r, x) = app
            .portal
            .decide_extension(&user.who, &id, decision, comment)
            .await?;
        status = Some(x.status);
        Ok(r)
    }
    .await;
    let back = if f.back.is_empty() {
        "/approvals"
    } else {
        f.back.as_str()
    };
    after_action(&app, &session, back, result, |r| match status {
        Some(ExtensionStatus::Approved) => format!(
            "You extended {}'s grant; it now ends {}.",
            r.requester.name,
            r.ends_at.map(when).unwrap_or_default()
        ),
        Some(ExtensionStatus::Denied) => format!("You denied {}'s extension.", r.requester.name),
        _ => format!(
            "Your approval of {}'s extension is recorded; more approvals are needed.",
            r.requester.name
        ),
    })
    .await
}
