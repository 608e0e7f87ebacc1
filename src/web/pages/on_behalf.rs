//! "On behalf": asking for access for other people or device accounts, for approvers, admins
//! and holders of the `requester_on_behalf` role. Works without script: a search (a `GET`
//! form) lists the people and device accounts found in the directory with a box to tick each;
//! the request form sends the ticked ones (and any typed by user principal name) and answers
//! with what became of each. Below, the requests the person asked for on others' behalf.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use super::request::RequestView;
use super::step_up::sign_in_again;
use super::{PageError, PageUser, minutes};
use crate::domain::NewRequestInput;
use crate::domain::package::format_duration;
use crate::error::AppError;
use crate::service::{ListQuery, MAX_ON_BEHALF, OnBehalfOutcome};
use crate::web::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/on-behalf", get(page).post(ask))
}

/// A package as the form offers it.
pub struct PackageChoice {
    pub id: String,
    pub name: String,
    pub presets: Vec<(String, String)>,
}

/// Someone found in the directory, or named.
pub struct Found {
    pub username: String,
    pub name: String,
    pub ticked: bool,
}

/// What became of one person asked for.
pub struct Outcome {
    pub named: String,
    pub request_id: String,
    pub message: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "access/on_behalf.html")]
struct OnBehalfPage {
    chrome: super::Chrome,
    max: usize,
    search: String,
    searched: bool,
    found: Vec<Found>,
    problem: String,
    packages: Vec<PackageChoice>,
    /// What was typed, when the form comes back.
    package: String,
    duration: String,
    justification: String,
    ticket: String,
    named: String,
    outcomes: Vec<Outcome>,
    asked: Vec<RequestView>,
}

#[derive(Deserialize, Default)]
struct SearchQuery {
    #[serde(default)]
    search: String,
}

/// What the request form sends (`on_behalf_of` once per ticked box).
#[derive(Default)]
struct AskForm {
    search: String,
    package: String,
    duration: String,
    justification: String,
    ticket: String,
    ticked: Vec<String>,
    named: String,
}

impl AskForm {
    fn parse(body: &str) -> AskForm {
        let mut f = AskForm::default();
        for (k, v) in url::form_urlencoded::parse(body.as_bytes()) {
            let v = v.into_owned();
            match k.as_ref() {
                "search" => f.search = v,
                "package" => f.package = v,
                "duration_minutes" => f.duration = v,
                "justification" => f.justification = v,
                "ticket" => f.ticket = v,
                "on_behalf_of" => f.ticked.push(v),
                "named" => f.named = v,
                _ => {}
            }
        }
        f
    }

    /// The people ticked and typed (commas, spaces or lines between), each once.
    fn people(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let typed = self
            .named
            .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
            .map(str::to_string);
        for n in self.ticked.iter().cloned().chain(typed) {
            let n = n.trim().to_string();
            if !n.is_empty() && !out.iter().any(|o| o.eq_ignore_ascii_case(&n)) {
                out.push(n);
            }
        }
        out
    }
}

async fn page(
    State(app): State<AppState>,
    user: PageUser,
    Query(q): Query<SearchQuery>,
) -> Result<Response, PageError> {
    let form = AskForm {
        search: q.search,
        ..Default::default()
    };
    Ok(render(&app, user, form, Vec::new(), String::new())
        .await?
        .into_response())
}

async fn ask(
    State(app): State<AppState>,
    user: PageUser,
    body: String,
) -> Result<Response, PageError> {
    let f = AskForm::parse(&body);
    let duration = match f.duration.trim() {
        "" => None,
        d => match d.parse::<i64>() {
            Ok(m) => Some(m),
            Err(_) => {
                let problem = "Please give the duration in whole minutes.".to_string();
                let page = render(&app, user, f, Vec::new(), problem).await?;
                return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
            }
        },
    };
    let input = NewRequestInput {
        package: f.package.clone(),
        duration_minutes: duration,
        justification: f.justification.clone(),
        ticket: Some(f.ticket.clone()),
        starts_at: None,
        emergency: false,
    };
    let people = f.people();
    match app
        .portal
        .create_requests_on_behalf(&user.who, input, &people)
        .await
    {
        Ok(outcomes) => {
            // Whoever was asked for is no longer ticked; whoever was refused stays, to retry.
            let mut f = f;
            let asked = |n: &str| {
                outcomes
                    .iter()
                    .any(|o| o.result.is_ok() && o.named.eq_ignore_ascii_case(n))
            };
            f.ticked.retain(|t| !asked(t));
            f.named = f
                .named
                .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
                .filter(|n| !n.is_empty() && !asked(n))
                .collect::<Vec<_>>()
                .join("\n");
            Ok(render(&app, user, f, outcomes, String::new())
                .await?
                .into_response())
        }
        Err(AppError::StepUpRequired(s)) => Ok(sign_in_again(&s.context, "/on-behalf")),
        Err(e) if e.status().is_client_error() && e.status() != StatusCode::FORBIDDEN => {
            let status = e.status();
            let page = render(&app, user, f, Vec::new(), e.public_message()).await?;
            Ok((status, page).into_response())
        }
        Err(e) => Err(user.page_error(e)),
    }
}

async fn render(
    app: &AppState,
    user: PageUser,
    f: AskForm,
    outcomes: Vec<OnBehalfOutcome>,
    mut problem: String,
) -> Result<OnBehalfPage, PageError> {
    let p = &app.portal;
    if !p.may_ask_on_behalf(&user.who, None) {
        return Err(user.page_error(AppError::Forbidden(format!(
            "Asking on someone else's behalf is for approvers, admins and holders of the {} app role.",
            p.on_behalf_role()
        ))));
    }
    let search = f.search.trim().to_string();
    let mut found = Vec::new();
    if !search.is_empty() {
        match p.search_people(&user.who, &search).await {
            Ok(people) => {
                found = people
                    .into_iter()
                    .map(|u| Found {
                        ticked: f.ticked.iter().any(|t| t.eq_ignore_ascii_case(&u.username)),
                        username: u.username,
                        name: u.name,
                    })
                    .collect()
            }
            Err(e @ AppError::Invalid { .. }) if problem.is_empty() => problem = e.public_message(),
            Err(e @ AppError::Invalid { .. }) => drop(e),
            Err(e) => return Err(user.page_error(e)),
        }
    }
    // Ticked before but not among this search's matches: still ticked, shown as they are.
    for t in &f.ticked {
        if !found.iter().any(|x| x.username.eq_ignore_ascii_case(t)) {
            found.push(Found {
                username: t.clone(),
                name: String::new(),
                ticked: true,
            });
        }
    }
    let now = p.now();
    let asked = p
        .list_visible(
            &user.who,
            &ListQuery {
                asked_by_me: true,
                limit: Some(100),
                ..Default::default()
            },
        )
        .await
        .map_err(|e| user.page_error(e))?
        .iter()
        .map(|r| RequestView::new(app, &user.who, r, now))
        .collect();
    let outcomes = outcomes
        .into_iter()
        .map(|o| match o.result {
            Ok(r) => Outcome {
                named: o.named,
                message: format!(
                    "asked for {} of {}; waiting for approval.",
                    minutes(r.duration_minutes),
                    p.package(&r.package)
                        .map_or(r.package.as_str(), |k| k.name.as_str())
                ),
                request_id: r.id,
            },
            Err(e) => Outcome {
                named: o.named,
                message: format!("not asked for: {}", e.public_message()),
                request_id: String::new(),
            },
        })
        .collect();
    let packages = p
        .packages()
        .iter()
        .filter(|k| p.may_ask_on_behalf(&user.who, Some(k)))
        .map(|k| PackageChoice {
            id: k.id.clone(),
            name: k.name.clone(),
            presets: k
                .duration_presets
                .iter()
                .map(|d| (d.num_minutes().to_string(), format_duration(*d)))
                .collect(),
        })
        .collect();
    Ok(OnBehalfPage {
        chrome: user.chrome,
        max: MAX_ON_BEHALF,
        searched: !search.is_empty(),
        search,
        found,
        problem,
        packages,
        package: f.package,
        duration: f.duration,
        justification: f.justification,
        ticket: f.ticket,
        named: f.named,
        outcomes,
        asked,
    })
}
