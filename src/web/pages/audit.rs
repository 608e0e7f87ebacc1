//! "Audit": the event log with filters, paging, exports and the chain's status.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;

use super::request::{describe, label};
use super::{Chrome, PageError, PageUser, when};
use crate::domain::AuditAction;
use crate::web::AppState;
use crate::web::api::AuditParams;

pub fn router() -> Router<AppState> {
    Router::new().route("/audit", get(list))
}

pub struct EventRow {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub label: String,
    pub request_id: String,
    pub subject: String,
    pub subject_name: String,
    pub note: String,
    pub client: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "audit/list.html")]
struct AuditPage {
    chrome: Chrome,
    rows: Vec<EventRow>,
    chain_ok: bool,
    chain_events: i64,
    chain_bad: String,
    /// What is wrong, naming the anchor the trail disagrees with.
    chain_problem: String,
    chain_walk: String,
    person: String,
    package: String,
    action: String,
    since: String,
    until: String,
    packages: Vec<(String, String)>,
    actions: Vec<&'static str>,
    filter_query: String,
    next_cursor: String,
    problem: String,
}

fn q(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

async fn list(
    State(app): State<AppState>,
    user: PageUser,
    Query(params): Query<AuditParams>,
) -> Result<AuditPage, PageError> {
    let p = &app.portal;
    let chain = p
        .audit_chain_status(&user.who)
        .await
        .map_err(|e| user.page_error(e))?;
    let mut params = params;
    params.limit = Some(params.limit.unwrap_or(50).clamp(1, 500));
    let (rows, next_cursor, problem) = match params.filter() {
        Ok(filter) => {
            let page = p
                .audit_events(&user.who, &filter)
                .await
                .map_err(|e| user.page_error(e))?;
            let names = p
                .subject_names(&user.who, &page.events)
                .await
                .map_err(|e| user.page_error(e))?;
            let rows = page
                .events
                .iter()
                .map(|e| EventRow {
                    subject_name: e
                        .subject_id
                        .as_ref()
                        .and_then(|s| names.get(s))
                        .cloned()
                        .unwrap_or_default(),
                    seq: e.seq,
                    at: when(e.at),
                    actor: e.actor_name.clone(),
                    action: e.action.clone(),
                    label: label(&e.action),
                    request_id: e.request_id.clone().unwrap_or_default(),
                    subject: e.subject_id.clone().unwrap_or_default(),
                    note: describe(&e.action, &e.details_json()),
                    client: e.client_ip.clone().unwrap_or_default(),
                })
                .collect();
            let next = page.next_cursor.map(|c| c.to_string()).unwrap_or_default();
            (rows, next, String::new())
        }
        Err(e) => (vec![], String::new(), e.public_message()),
    };
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in [
        ("person", &params.person),
        ("package", &params.package),
        ("action", &params.action),
        ("since", &params.since),
        ("until", &params.until),
    ] {
        if let Some(v) = v.as_deref().filter(|v| !v.trim().is_empty()) {
            ser.append_pair(k, v);
        }
    }
    Ok(AuditPage {
        rows,
        chain_ok: chain.verification.ok,
        chain_events: chain.verification.events,
        chain_bad: chain
            .verification
            .first_bad_seq
            .map(|s| s.to_string())
            .unwrap_or_default(),
        chain_problem: chain.verification.problem.clone().unwrap_or_default(),
        chain_walk: when(chain.full_walk_at),
        person: q(&params.person),
        package: q(&params.package),
        action: q(&params.action),
        since: q(&params.since),
        until: q(&params.until),
        packages: p
            .packages()
            .iter()
            .map(|p| (p.id.clone(), p.name.clone()))
            .collect(),
        actions: AuditAction::ALL.iter().map(|a| a.as_str()).collect(),
        filter_query: ser.finish(),
        next_cursor,
        problem,
        chrome: user.chrome,
    })
}
