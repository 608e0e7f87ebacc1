//! "My access": what I may request, my current requests and grants, my history; and the form
//! that asks for access, shown again with its mistakes. Cancelling and ending post to the
//! request's own routes (`request/actions.rs`).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{Duration, NaiveDateTime};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::chrome::chrome_for;
use super::request::{RequestView, SignInRow};
use super::step_up::{keep_draft, sign_in_again, take_draft};
use super::{Chrome, PageError, PageUser, minutes, set_flash};
use crate::domain::NewRequestInput;
use crate::domain::package::format_duration;
use crate::domain::request::FieldError;
use crate::error::AppError;
use crate::service::ListQuery;
use crate::web::{AppState, MaybeAuth};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/requests", post(create))
        .route("/demo/device-code", post(try_device_code))
}

/// `POST /demo/device-code` (demo mode): a device-code sign-in for the signed-in user against
/// the emulated tenant; the result comes back as the flash message.
async fn try_device_code(
    State(app): State<AppState>,
    session: Session,
    user: PageUser,
) -> Result<Response, PageError> {
    let t = app
        .portal
        .try_device_code(&user.who)
        .await
        .map_err(|e| user.page_error(e))?;
    set_flash(
        &session,
        format!("Device code {}: {}", t.user_code, t.message),
    )
    .await;
    Ok(Redirect::to("/#device-code-try").into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "access/landing.html")]
struct Landing {
    chrome: Chrome,
}

pub struct PackageForm {
    pub id: String,
    pub name: String,
    pub description: String,
    pub limits: String,
    pub presets: Vec<(String, String)>,
    pub min_minutes: i64,
    pub max_minutes: i64,
    pub ticket_required: bool,
    /// What a ticket looks like, in words (empty: nothing to say).
    pub ticket_hint: String,
    pub may_request: bool,
    /// `deny_privileged`, in words (empty when the package admits holders of directory roles).
    pub privileged_note: String,
    /// The package's other rules (groups, networks, places, hours): key and sentence.
    pub rules: Vec<(String, String)>,
    /// Break-glass, in words (empty: the package does not allow it).
    pub break_glass: String,
    /// The "emergency, no approval" box was ticked.
    pub emergency: bool,
    /// What the user typed, when the form comes back with problems.
    pub selected: String,
    pub custom_minutes: String,
    pub justification: String,
    pub ticket: String,
    pub starts_at: String,
    pub errors: Vec<FieldError>,
    pub problem: String,
}

impl PackageForm {
    pub fn error(&self, field: &str) -> String {
        self.errors
            .iter()
            .filter(|e| e.field == field)
            .map(|e| e.message.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "access/home.html")]
struct Home {
    chrome: Chrome,
    packages: Vec<PackageForm>,
    current: Vec<RequestView>,
    history: Vec<RequestView>,
    /// Demo mode: the "Try the device code flow" panel.
    device_try: bool,
    /// The person's own device-code sign-ins to jitgate in the last 30 days, newest first.
    portal_sign_ins: Vec<SignInRow>,
}

async fn home(
    State(app): State<AppState>,
    session: Session,
    MaybeAuth(who): MaybeAuth,
) -> Result<Response, PageError> {
    let Some(who) = who else {
        let chrome = chrome_for(&app, None, Some(&session), "access").await;
        return Ok(Landing { chrome }.into_response());
    };
    let chrome = chrome_for(&app, Some(&who), Some(&session), "access").await;
    // Back from a step-up sign-in: the form as it was typed, to check and send again.
    let kept = take_draft::<CreateForm>(&session, &who, app.portal.now())
        .await
        .map(|form| (form, vec![], String::new()));
    let user = PageUser { who, chrome };
    Ok(render(&app, user, kept).await?.into_response())
}

async fn render(
    app: &AppState,
    user: PageUser,
    submitted: Option<(CreateForm, Vec<FieldError>, String)>,
) -> Result<Home, PageError> {
    let p = &app.portal;
    let now = p.now();
    let mine = p
        .list_visible(
            &user.who,
            &ListQuery {
                mine: true,
                limit: Some(100),
                ..Default::default()
            },
        )
        .await
        .map_err(|e| user.page_error(e))?;
    let (current, history): (Vec<_>, Vec<_>) = mine.iter().partition(|r| r.status.is_open());
    let portal_sign_ins = p
        .own_portal_sign_ins(&user.who, now - Duration::days(30))
        .await
        .map_err(|e| user.page_error(e))?
        .iter()
        .map(SignInRow::new)
        .collect();
    let packages = p
        .packages()
        .iter()
        .map(|pkg| {
            let mut f = PackageForm {
                id: pkg.id.clone(),
                name: pkg.name.clone(),
                description: pkg.description.clone(),
                limits: format!(
                    "{} to {} · {} approval{} · {}",
                    format_duration(pkg.min_duration),
                    format_duration(pkg.max_duration),
                    pkg.approvals_required,
                    if pkg.approvals_required == 1 { "" } else { "s" },
                    if pkg.ticket_required {
                        "ticket required"
                    } else {
                        "no ticket needed"
                    }
                ),
                presets: pkg
                    .duration_presets
                    .iter()
                    .map(|d| (d.num_minutes().to_string(), format_duration(*d)))
                    .collect(),
                min_minutes: pkg.min_duration.num_minutes(),
                max_minutes: pkg.max_duration.num_minutes(),
                ticket_required: pkg.ticket_required,
                ticket_hint: match (&pkg.ticket_hint, &pkg.ticket_pattern) {
                    (Some(h), _) => h.clone(),
                    (None, Some(r)) => format!("It must match {}", r.pattern()),
                    (None, None) => String::new(),
                },
                may_request: pkg.is_eligible(&user.who.raw_roles),
                privileged_note: match (
                    pkg.deny_privileged,
                    pkg.is_privileged_exception(&user.who.user.id),
                ) {
                    (false, _) => String::new(),
                    (true, false) => "Not open to accounts that hold an Entra directory role, active or eligible through PIM.".into(),
                    (true, true) => "Not open to accounts that hold an Entra directory role, active or eligible through PIM; you are excepted, and each use is recorded.".into(),
                },
                rules: crate::domain::package_rules::rules_in_words(pkg)
                    .into_iter()
                    .map(|(rule, text)| (rule.to_string(), text))
                    .collect(),
                break_glass: pkg
                    .break_glass
                    .as_ref()
                    .map(|b| {
                        format!(
                            "Only in an emergency, and only if you are in a break-glass group: access at once, without approval, for at most {} (choose that or less above). Every admin and approver is told at once, and an approver reviews it within {}.",
                            format_duration(b.max),
                            format_duration(b.review_within)
                        )
                    })
                    .unwrap_or_default(),
                emergency: false,
                selected: pkg.default_duration.num_minutes().to_string(),
                custom_minutes: String::new(),
                justification: String::new(),
                ticket: String::new(),
                starts_at: String::new(),
                errors: vec![],
                problem: String::new(),
            };
            if let Some((form, errors, problem)) = &submitted
                && form.package == pkg.id
            {
                f.selected = form.duration_minutes.clone();
                f.custom_minutes = form.custom_minutes.clone();
                f.justification = form.justification.clone();
                f.ticket = form.ticket.clone();
                f.starts_at = form.starts_at.clone();
                f.emergency = !form.emergency.is_empty();
                f.errors = errors.clone();
                f.problem = problem.clone();
            }
            f
        })
        .collect();
    Ok(Home {
        device_try: p.is_demo(),
        portal_sign_ins,
        packages,
        current: current
            .into_iter()
            .map(|r| RequestView::new(app, &user.who, r, now))
            .collect(),
        history: history
            .into_iter()
            .map(|r| RequestView::new(app, &user.who, r, now))
            .collect(),
        chrome: user.chrome,
    })
}

#[derive(Deserialize, Serialize, Clone, Default)]
pub struct CreateForm {
    #[serde(default)]
    package: String,
    #[serde(default)]
    duration_minutes: String,
    #[serde(default)]
    custom_minutes: String,
    #[serde(default)]
    justification: String,
    #[serde(default)]
    ticket: String,
    #[serde(default)]
    starts_at: String,
    /// Break-glass: "on" when the "emergency, no approval" box is ticked.
    #[serde(default)]
    emergency: String,
    /// The browser's `Date.getTimezoneOffset()`, set by script: minutes to add to local time for UTC.
    #[serde(default)]
    tz_offset: String,
}

fn parse_form(f: &CreateForm) -> Result<NewRequestInput, Vec<FieldError>> {
    let mut errors = Vec::new();
    let raw = if f.duration_minutes == "custom" {
        f.custom_minutes.trim()
    } else {
        f.duration_minutes.trim()
    };
    let duration = match raw.parse::<i64>() {
        Ok(m) => Some(m),
        Err(_) => {
            errors.push(FieldError {
                field: "duration_minutes",
                message: "Please give the duration in whole minutes.".into(),
            });
            None
        }
    };
    let starts_at = match f.starts_at.trim() {
        "" => None,
        s => match NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
            .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S"))
        {
            Ok(local) => {
                let offset = f
                    .tz_offset
                    .trim()
                    .parse::<i64>()
                    .unwrap_or(0)
                    .clamp(-24 * 60, 24 * 60);
                // Checked: a far-off date near the end of the calendar must not overflow.
                match local
                    .and_utc()
                    .checked_add_signed(Duration::minutes(offset))
                {
                    Some(t) => Some(t),
                    None => {
                        errors.push(FieldError {
                            field: "starts_at",
                            message: "That start is too far away.".into(),
                        });
                        None
                    }
                }
            }
            Err(_) => {
                errors.push(FieldError {
                    field: "starts_at",
                    message: "Please give the start as a date and time.".into(),
                });
                None
            }
        },
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(NewRequestInput {
        package: f.package.clone(),
        duration_minutes: duration,
        justification: f.justification.clone(),
        ticket: Some(f.ticket.clone()),
        starts_at,
        emergency: !f.emergency.trim().is_empty(),
    })
}

async fn create(
    State(app): State<AppState>,
    session: Session,
    user: PageUser,
    Form(f): Form<CreateForm>,
) -> Result<Response, PageError> {
    let result = match parse_form(&f) {
        Ok(input) => app.portal.create_request(&user.who, input).await,
        Err(fields) => Err(AppError::invalid(fields)),
    };
    match result {
        Ok(r) => {
            let pkg = app
                .portal
                .package(&r.package)
                .map_or(r.package.clone(), |p| p.name.clone());
            set_flash(
                &session,
                format!(
                    "You asked for {} of {pkg}. It is waiting for approval.",
                    minutes(r.duration_minutes)
                ),
            )
            .await;
            Ok(Redirect::to("/").into_response())
        }
        // The package needs a step-up this sign-in has not made: sign in again asking for it,
        // the form kept meanwhile.
        Err(AppError::StepUpRequired(s)) => {
            keep_draft(&session, &user.who, f, app.portal.now()).await;
            Ok(sign_in_again(&s.context, "/"))
        }
        Err(e) if e.status().is_client_error() => {
            let status = e.status();
            let retry_after = e.retry_after();
            let (fields, problem) = match e {
                AppError::Invalid { fields, .. } => (fields, String::new()),
                other => (vec![], other.public_message()),
            };
            let status = if status == StatusCode::UNPROCESSABLE_ENTITY
                || status == StatusCode::BAD_REQUEST
            {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                status
            };
            let mut page = (
                status,
                render(&app, user, Some((f, fields, problem))).await?,
            )
                .into_response();
            // Asked too often: the form says until when, and so does the header.
            if let Some(secs) = retry_after {
                page.headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, secs.into());
            }
            Ok(page)
        }
        Err(e) => Err(user.page_error(e)),
    }
}
