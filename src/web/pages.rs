//! Server-rendered pages: sign in, request access, decide, watch the grant and the group.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use tower_sessions::Session;

use crate::auth::{Auth, MaybeAuth};
use crate::domain::package::format_duration;
use crate::domain::{Decision, NewRequestInput, Request, RequestStatus, Role};
use crate::error::AppError;
use crate::service::{DecisionInput, ListQuery, Principal};
use crate::web::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/requests", post(create))
        .route("/requests/{id}/{action}", post(act))
        .route("/assets/app.css", get(css))
}

const FLASH: &str = "flash";

pub async fn set_flash(session: &Session, message: String) {
    let _ = session.insert(FLASH, message).await;
}

async fn take_flash(session: &Session) -> Option<String> {
    session.remove::<String>(FLASH).await.ok().flatten()
}

async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../assets/app.css"),
    )
}

/// An error shown as a page.
pub struct PageError {
    status: StatusCode,
    title: String,
    message: String,
}

impl PageError {
    pub fn sign_in(status: u16, message: String) -> PageError {
        PageError {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            title: "Sign-in failed".into(),
            message,
        }
    }
}

impl From<AppError> for PageError {
    fn from(e: AppError) -> PageError {
        e.log();
        let title = match e.status() {
            StatusCode::FORBIDDEN => "Not allowed",
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::UNAUTHORIZED => "Please sign in",
            s if s.is_server_error() => "Something went wrong",
            _ => "That did not work",
        };
        PageError {
            status: e.status(),
            title: title.into(),
            message: e.public_message(),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
struct ErrorPage {
    title: String,
    message: String,
    demo: bool,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let page = ErrorPage {
            title: self.title,
            message: self.message,
            demo: false,
        };
        (self.status, page).into_response()
    }
}

pub async fn not_found() -> PageError {
    PageError {
        status: StatusCode::NOT_FOUND,
        title: "Not found".into(),
        message: "There is no such page.".into(),
    }
}

struct PackageView {
    id: String,
    name: String,
    description: String,
    limits: String,
    presets: Vec<(i64, String)>,
    default_minutes: i64,
    ticket_required: bool,
    may_request: bool,
}

struct RequestView {
    id: String,
    package: String,
    requester: String,
    status: String,
    duration: String,
    justification: String,
    ticket: String,
    created: String,
    window: String,
    ends_at_iso: String,
    membership: String,
    decided_by: String,
    can_cancel: bool,
    can_end: bool,
}

struct MemberView {
    name: String,
    id: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct HomePage {
    demo: bool,
    flash: Option<String>,
    user: Option<UserView>,
    packages: Vec<PackageView>,
    mine: Vec<RequestView>,
    queue: Vec<RequestView>,
    groups: Vec<(String, Vec<MemberView>)>,
}

struct UserView {
    name: String,
    username: String,
    roles: String,
}

fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

fn view(app: &AppState, who: &Principal, r: &Request) -> RequestView {
    let pkg_name = app
        .portal
        .package(&r.package)
        .map_or(r.package.clone(), |p| p.name.clone());
    let window = match (r.starts_at, r.ends_at) {
        (Some(s), Some(e)) => format!("{} → {}", when(s), when(e)),
        _ => r
            .requested_start
            .map_or("starts when approved".into(), |s| {
                format!("asked to start {}", when(s))
            }),
    };
    let membership = match (r.added_at, r.removed_at) {
        (_, Some(t)) => format!("removed {}", when(t)),
        (Some(t), None) => format!("member since {}", when(t)),
        (None, None) if r.status == RequestStatus::Active => "being added…".into(),
        _ => "—".into(),
    };
    let decided_by = r
        .approvals
        .iter()
        .map(|a| {
            format!(
                "{} {} by {}",
                if a.decision == Decision::Approve {
                    "approved"
                } else {
                    "denied"
                },
                when(a.at),
                a.approver.name
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    let own = r.requester.id == who.user.id;
    RequestView {
        id: r.id.clone(),
        package: pkg_name,
        requester: r.requester.name.clone(),
        status: r.status.to_string(),
        duration: format_duration(chrono::Duration::minutes(r.duration_minutes)),
        justification: r.justification.clone(),
        ticket: r.ticket.clone().unwrap_or_default(),
        created: when(r.created_at),
        window,
        ends_at_iso: r.ends_at.map(|e| e.to_rfc3339()).unwrap_or_default(),
        membership,
        decided_by,
        can_cancel: own && matches!(r.status, RequestStatus::Pending | RequestStatus::Approved),
        can_end: r.status == RequestStatus::Active
            && (own || app.portal.has_role(who, Role::Admin)),
    }
}

async fn home(
    State(app): State<AppState>,
    session: Session,
    MaybeAuth(who): MaybeAuth,
) -> Result<HomePage, PageError> {
    let flash = take_flash(&session).await;
    let demo = app.portal.settings.demo;
    let Some(who) = who else {
        return Ok(HomePage {
            demo,
            flash,
            user: None,
            packages: vec![],
            mine: vec![],
            queue: vec![],
            groups: vec![],
        });
    };
    let roles = who
        .roles(&app.portal.settings.roles)
        .into_iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let packages = app
        .portal
        .settings
        .packages
        .iter()
        .map(|p| PackageView {
            id: p.id.clone(),
            name: p.name.clone(),
            description: p.description.clone(),
            limits: format!(
                "{} to {}, {} approval{} needed",
                format_duration(p.min_duration),
                format_duration(p.max_duration),
                p.approvals_required,
                if p.approvals_required == 1 { "" } else { "s" }
            ),
            presets: p
                .duration_presets
                .iter()
                .map(|d| (d.num_minutes(), format_duration(*d)))
                .collect(),
            default_minutes: p.default_duration.num_minutes(),
            ticket_required: p.ticket_required,
            may_request: p.is_eligible(&who.raw_roles),
        })
        .collect();
    let mine = app
        .portal
        .list_visible(
            &who,
            &ListQuery {
                mine: true,
                limit: Some(50),
                ..Default::default()
            },
        )
        .await?
        .iter()
        .map(|r| view(&app, &who, r))
        .collect();
    let queue = app
        .portal
        .decision_queue(&who)
        .await?
        .iter()
        .map(|r| view(&app, &who, r))
        .collect();
    let mut groups = Vec::new();
    if demo {
        let mut seen = std::collections::BTreeSet::new();
        for p in &app.portal.settings.packages {
            if seen.insert(p.group_id.clone()) {
                let members = match app.portal.directory.list_members(&p.group_id).await {
                    Ok(m) => m
                        .into_iter()
                        .map(|u| MemberView {
                            name: u.display_name.unwrap_or_else(|| u.id.clone()),
                            id: u.id,
                        })
                        .collect(),
                    Err(e) => vec![MemberView {
                        name: format!("(could not list members: {e})"),
                        id: String::new(),
                    }],
                };
                groups.push((format!("{} ({})", p.name, p.group_id), members));
            }
        }
    }
    Ok(HomePage {
        demo,
        flash,
        user: Some(UserView {
            name: who.user.name.clone(),
            username: who.user.username.clone(),
            roles,
        }),
        packages,
        mine,
        queue,
        groups,
    })
}

#[derive(Deserialize)]
struct CreateForm {
    package: String,
    duration_minutes: String,
    justification: String,
    #[serde(default)]
    ticket: String,
}

async fn create(
    State(app): State<AppState>,
    session: Session,
    Auth(who): Auth,
    Form(f): Form<CreateForm>,
) -> Result<Response, PageError> {
    let minutes = f.duration_minutes.trim().parse::<i64>().ok();
    let input = NewRequestInput {
        package: f.package,
        duration_minutes: minutes.or(Some(-1)),
        justification: f.justification,
        ticket: Some(f.ticket),
        starts_at: None,
    };
    let msg = match app.portal.create_request(&who, input).await {
        Ok(r) => format!(
            "Requested {} of {}. An approver has been asked.",
            format_duration(chrono::Duration::minutes(r.duration_minutes)),
            r.package
        ),
        Err(e) if e.status().is_client_error() => e.public_message(),
        Err(e) => return Err(e.into()),
    };
    set_flash(&session, msg).await;
    Ok(Redirect::to("/").into_response())
}

#[derive(Deserialize)]
struct ActForm {
    #[serde(default)]
    comment: String,
}

async fn act(
    State(app): State<AppState>,
    session: Session,
    Auth(who): Auth,
    Path((id, action)): Path<(String, String)>,
    Form(f): Form<ActForm>,
) -> Result<Response, PageError> {
    let comment = Some(f.comment).filter(|c| !c.trim().is_empty());
    let p = &app.portal;
    let result = match action.as_str() {
        "approve" => {
            p.decide(
                &who,
                &id,
                Decision::Approve,
                DecisionInput {
                    comment,
                    duration_minutes: None,
                },
            )
            .await
        }
        "deny" => {
            p.decide(
                &who,
                &id,
                Decision::Deny,
                DecisionInput {
                    comment,
                    duration_minutes: None,
                },
            )
            .await
        }
        "cancel" => p.cancel(&who, &id).await,
        "end" => p.end(&who, &id, comment).await,
        _ => return Err(not_found().await),
    };
    let msg = match result {
        Ok(r) => format!("The request is now {}.", r.status),
        Err(e) if e.status().is_client_error() => e.public_message(),
        Err(e) => return Err(e.into()),
    };
    set_flash(&session, msg).await;
    Ok(Redirect::to("/").into_response())
}
