//! Every route with every role: the server enforces who may do what, whatever the page shows.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;
use crate::on_both_databases;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    Anonymous,
    Requester,
    Approver,
    Auditor,
    Admin,
}

impl Who {
    fn user(self) -> Option<&'static str> {
        match self {
            Who::Anonymous => None,
            Who::Requester => Some(DANA),
            Who::Approver => Some(JORDAN),
            Who::Auditor => Some(AVERY),
            Who::Admin => Some(ALEX),
        }
    }
}

const ALL: [Who; 5] = [
    Who::Anonymous,
    Who::Requester,
    Who::Approver,
    Who::Auditor,
    Who::Admin,
];

/// What a route acts on: a request of Riley's (someone none of the roles is) in some state.
#[derive(Clone, Copy)]
enum Subject {
    None,
    Pending,
    Active,
}

struct Route {
    method: Method,
    path: &'static str,
    form: bool,
    body: serde_json::Value,
    subject: Subject,
    allowed: &'static [Who],
}

fn r(method: Method, path: &'static str, subject: Subject, allowed: &'static [Who]) -> Route {
    Route {
        method,
        path,
        form: false,
        body: json!({}),
        subject,
        allowed,
    }
}

impl Route {
    /// Posted as a form (as the pages post), with `body`'s fields.
    fn form(self, body: serde_json::Value) -> Route {
        Route {
            form: true,
            body,
            ..self
        }
    }

    /// Posted as JSON, with `body`.
    fn json(self, body: serde_json::Value) -> Route {
        Route { body, ..self }
    }
}

const SIGNED_IN: &[Who] = &[Who::Requester, Who::Approver, Who::Auditor, Who::Admin];
const EVERYONE: &[Who] = &[
    Who::Anonymous,
    Who::Requester,
    Who::Approver,
    Who::Auditor,
    Who::Admin,
];
const DECIDERS: &[Who] = &[Who::Approver];
const READERS: &[Who] = &[Who::Approver, Who::Auditor, Who::Admin];
const AUDIT: &[Who] = &[Who::Auditor, Who::Admin];
const ADMIN: &[Who] = &[Who::Admin];
const NOBODY: &[Who] = &[];

fn routes() -> Vec<Route> {
    use Method as M;
    use Subject as S;
    let create = json!({"package": "device-code", "duration_minutes": 60, "justification": "authorization matrix"});
    vec![
        // Pages.
        r(M::GET, "/", S::None, EVERYONE),
        r(M::GET, "/approvals", S::None, DECIDERS),
        r(M::GET, "/audit", S::None, AUDIT),
        r(M::GET, "/operations", S::None, ADMIN),
        r(M::GET, "/requests/{id}", S::Pending, READERS),
        r(M::POST, "/requests", S::None, SIGNED_IN).form(create.clone()),
        r(M::POST, "/requests/{id}/approve", S::Pending, DECIDERS).form(json!({"comment": "ok"})),
        r(M::POST, "/requests/{id}/deny", S::Pending, DECIDERS).form(json!({"comment": "no"})),
        r(M::POST, "/requests/{id}/cancel", S::Pending, NOBODY).form(json!({})),
        r(M::POST, "/requests/{id}/end", S::Active, ADMIN).form(json!({"reason": "matrix"})),
        // JSON API.
        r(M::GET, "/api/v1/me", S::None, SIGNED_IN),
        r(M::GET, "/api/v1/packages", S::None, SIGNED_IN),
        r(M::POST, "/api/v1/requests", S::None, SIGNED_IN).json(create),
        r(M::GET, "/api/v1/requests", S::None, SIGNED_IN),
        r(M::GET, "/api/v1/requests/{id}", S::Pending, READERS),
        r(
            M::POST,
            "/api/v1/requests/{id}/approve",
            S::Pending,
            DECIDERS,
        ),
        r(M::POST, "/api/v1/requests/{id}/deny", S::Pending, DECIDERS)
            .json(json!({"comment": "no"})),
        r(M::POST, "/api/v1/requests/{id}/cancel", S::Pending, NOBODY),
        r(M::POST, "/api/v1/requests/{id}/end", S::Active, NOBODY)
            .json(json!({"reason": "matrix"})),
        r(M::POST, "/api/v1/requests/{id}/revoke", S::Active, ADMIN)
            .json(json!({"reason": "matrix"})),
        r(M::GET, "/api/v1/audit", S::None, AUDIT),
        r(M::GET, "/api/v1/audit?format=csv", S::None, AUDIT),
        r(M::GET, "/api/v1/audit/verify", S::None, AUDIT),
        r(M::GET, "/api/v1/approvals", S::None, DECIDERS),
        r(M::GET, "/api/v1/cli", S::None, EVERYONE),
        r(M::GET, "/api/v1/openapi.json", S::None, EVERYONE),
        // Open to everyone.
        r(M::GET, "/healthz", S::None, EVERYONE),
        r(M::GET, "/readyz", S::None, EVERYONE),
        r(M::GET, "/auth/login", S::None, EVERYONE),
        r(M::GET, "/assets/app.css", S::None, EVERYONE),
    ]
}

/// A fresh request of Riley's in the state the route needs.
async fn subject(t: &TestApp, s: Subject) -> Option<String> {
    match s {
        Subject::None => None,
        Subject::Pending => Some(t.request(RILEY, "device-code", 60).await),
        Subject::Active => {
            let id = t.request(RILEY, "device-code", 60).await;
            t.approve(MORGAN, &id).await;
            Some(id)
        }
    }
}

/// Closes whatever is still open of Riley's and the role's own requests, so the next cell starts clean.
async fn tidy(t: &TestApp) {
    let v = t
        .get(
            ALEX,
            "/api/v1/requests?status=pending,approved,active&limit=1000",
        )
        .await;
    for req in v["requests"].as_array().unwrap() {
        let id = req["id"].as_str().unwrap();
        let owner = req["requester"]["id"].as_str().unwrap();
        match req["status"].as_str().unwrap() {
            "active" => t.revoke(ALEX, id, Some("matrix tidy")).await,
            _ => t.cancel(owner, id).await,
        };
    }
}

async fn every_route_with_every_role(t: &mut TestApp) {
    let routes = routes();
    let mut cells = 0;
    for route in &routes {
        for who in ALL {
            let id = subject(t, route.subject).await;
            let path = match &id {
                Some(id) => route.path.replace("{id}", id),
                None => route.path.to_string(),
            };
            let mut req = t.http_as(who.user(), route.method.clone(), &path);
            if route.method == Method::POST {
                req = if route.form {
                    let pairs: Vec<(String, String)> = route
                        .body
                        .as_object()
                        .unwrap()
                        .iter()
                        .map(|(k, v)| {
                            (
                                k.clone(),
                                v.as_str()
                                    .map(str::to_string)
                                    .unwrap_or_else(|| v.to_string()),
                            )
                        })
                        .collect();
                    req.form(&pairs)
                } else {
                    req.json(&route.body)
                };
            }
            let resp = req.send().await.unwrap();
            let status = resp.status();
            let location = redirect_to(&resp);
            let to_sign_in = status.is_redirection() && location.starts_with("/auth/login");
            let cell = format!(
                "{} {} as {who:?}: {status} {location}",
                route.method, route.path
            );
            if route.allowed.contains(&who) {
                assert!(
                    status != StatusCode::UNAUTHORIZED
                        && status != StatusCode::FORBIDDEN
                        && !to_sign_in,
                    "allowed: {cell}"
                );
                assert!(!status.is_server_error(), "{cell}");
            } else if who == Who::Anonymous {
                assert!(
                    status == StatusCode::UNAUTHORIZED || to_sign_in,
                    "anonymous must sign in: {cell}"
                );
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "forbidden: {cell}");
            }
            cells += 1;
            tidy(t).await;
        }
    }
    assert_eq!(cells, routes.len() * ALL.len());
    eprintln!(
        "authorization matrix: {} routes x {} roles = {cells} cells",
        routes.len(),
        ALL.len()
    );
}

async fn own_requests(t: &mut TestApp) {
    // What a requester may do with their own request, and what nobody may do with it.
    let id = t.request(DANA, "device-code", 60).await;
    let page = format!("/requests/{id}");
    t.try_get(Some(DANA), &page)
        .await
        .expect_status(StatusCode::OK, "the requester's own request");
    t.try_approve(DANA, &id)
        .await
        .expect_status(StatusCode::FORBIDDEN, "nobody approves their own request");
    t.try_get(Some(RILEY), &page)
        .await
        .expect_status(StatusCode::FORBIDDEN, "someone else's request");
    t.cancel(DANA, &id)
        .await
        .expect_status(StatusCode::OK, "the requester cancels");
}

/// The matrix asks for the same package far more often than a person's hourly share.
async fn matrix_with_room_to_ask(db: &crate::common::db::TestDb) {
    let mut t = TestApp::spawn_configured(db, false, |s| {
        s.replacen(
            "max_duration = \"4h\"\n",
            "max_duration = \"4h\"\nmax_requests_per_hour = 1000\n",
            1,
        )
    })
    .await;
    every_route_with_every_role(&mut t).await;
    t.stop().await;
}

on_both_databases! {
    matrix => matrix_with_room_to_ask;
}

on_both_databases! {
    with TestApp;
    own => own_requests;
}
