//! What the store contract tests share: a fixed time, users, requests and events.

#![allow(dead_code)]

use std::sync::Arc;

use chrono::Duration;
use chrono::{DateTime, TimeZone, Utc};
use jitgate::domain::request::ValidRequest;
use jitgate::domain::{
    AuditAction, AuditEvent, NewAuditEvent, Package, Request, RequestId, UserRef,
};
use jitgate::store::{RequestFilter, Store};

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap()
}

pub fn user(id: &str) -> UserRef {
    UserRef {
        id: id.into(),
        name: format!("User {id}"),
        username: format!("{id}@contoso.example"),
    }
}

pub fn request(id: &str, requester: &str, package: &str) -> Request {
    let valid = ValidRequest {
        duration_minutes: 120,
        justification: "deploying the CI runner".into(),
        ticket: Some("INC-1".into()),
        requested_start: None,
        timeout_at: t0() + Duration::hours(24),
    };
    let pkg = Package::example(package, "g1");
    let mut r = Request::pending(RequestId::new(), &pkg, user(requester), None, valid, t0());
    // Short, readable ids: the store takes any text.
    r.id = id.into();
    r
}

/// Saves `requests` in one transaction.
pub async fn insert<'a>(store: &Arc<dyn Store>, requests: impl IntoIterator<Item = &'a Request>) {
    let mut tx = store.begin().await.unwrap();
    for r in requests {
        tx.insert_request(r).await.unwrap();
    }
    tx.commit().await.unwrap();
}

/// Appends `e` to the audit trail in a transaction of its own.
pub async fn append(store: &Arc<dyn Store>, e: NewAuditEvent) -> AuditEvent {
    let mut tx = store.begin().await.unwrap();
    let appended = tx.append_event(e).await.unwrap();
    tx.commit().await.unwrap();
    appended
}

/// The ids of listed requests, in order.
pub fn ids(list: &[Request]) -> Vec<&str> {
    list.iter().map(|r| r.id.as_str()).collect()
}

/// The ids of the requests `f` lists, in order.
pub async fn listed(store: &Arc<dyn Store>, f: &RequestFilter) -> Vec<String> {
    store
        .list_requests(f)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect()
}

pub fn event(action: AuditAction, request: &str, actor: &str, at: DateTime<Utc>) -> NewAuditEvent {
    NewAuditEvent {
        at,
        actor_id: actor.into(),
        actor_name: format!("Name of {actor}"),
        action,
        request_id: Some(request.into()),
        subject_id: Some("dana".into()),
        details: serde_json::json!({"note": "x"}),
        client_ip: None,
        user_agent: None,
    }
}
