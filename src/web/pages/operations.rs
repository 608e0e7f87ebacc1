//! "Operations": active grants (with revoke), the directory outbox, errors, heartbeats.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::routing::get;

use super::request::RequestView;
use super::{Chrome, PageError, PageUser, relative, when};
use crate::domain::{RequestStatus, Role};
use crate::store::{AuditFilter, RequestFilter};
use crate::web::AppState;
use crate::web::health::HEARTBEAT_STALE;

pub fn router() -> Router<AppState> {
    Router::new().route("/operations", get(page))
}

pub struct OpRow {
    pub id: i64,
    pub kind: &'static str,
    pub request_id: String,
    pub user_id: String,
    pub group_id: String,
    pub due: String,
    pub attempts: i64,
    pub last_error: String,
}

pub struct ErrorRow {
    pub at: String,
    pub request_id: String,
    pub note: String,
}

pub struct Beat {
    pub name: String,
    pub at: String,
    pub age: String,
    pub fresh: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "operations/index.html")]
struct OperationsPage {
    chrome: Chrome,
    grants: Vec<RequestView>,
    ops: Vec<OpRow>,
    errors: Vec<ErrorRow>,
    beats: Vec<Beat>,
}

async fn page(State(app): State<AppState>, user: PageUser) -> Result<OperationsPage, PageError> {
    user.require(&app, &[Role::Admin])?;
    let p = &app.portal;
    let now = p.now();
    let err = |e: crate::store::StoreError| user.page_error(e.into());
    let mut grants = p
        .store
        .list_requests(&RequestFilter {
            statuses: vec![RequestStatus::Active, RequestStatus::Approved],
            limit: Some(1000),
            ..Default::default()
        })
        .await
        .map_err(err)?;
    grants.sort_by_key(|r| r.ends_at);
    let ops = p
        .store
        .list_ops(true, 200)
        .await
        .map_err(err)?
        .into_iter()
        .map(|o| OpRow {
            id: o.id,
            kind: o.kind.as_str(),
            request_id: o.request_id,
            user_id: o.user_id,
            group_id: o.group_id,
            due: relative(o.not_before, now),
            attempts: o.attempts,
            last_error: o.last_error.unwrap_or_default(),
        })
        .collect();
    let errors = p
        .store
        .list_events(&AuditFilter {
            action: Some("directory_error".into()),
            limit: Some(20),
            ..Default::default()
        })
        .await
        .map_err(err)?
        .into_iter()
        .map(|e| ErrorRow {
            at: when(e.at),
            note: super::request::describe(&e.action, &e.details_json()),
            request_id: e.request_id.unwrap_or_default(),
        })
        .collect();
    let beats = p
        .store
        .heartbeats()
        .await
        .map_err(err)?
        .into_iter()
        .map(|(name, at)| Beat {
            name,
            at: when(at),
            age: relative(at, now),
            fresh: now - at <= HEARTBEAT_STALE,
        })
        .collect();
    Ok(OperationsPage {
        grants: grants
            .iter()
            .map(|r| RequestView::new(&app, &user.who, r, now))
            .collect(),
        ops,
        errors,
        beats,
        chrome: user.chrome,
    })
}
