//! A package's ticket system (issue 20, `ticket_validator`): each request's ticket is POSTed to
//! it, signed like the audit webhook, when asking and at each approval. A ticket it refuses is
//! refused with its message; a ticket system that does not answer refuses the request unless the
//! package says `ticket_validator_fail_open`; a valid ticket's link is kept on the request.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxStatus};
use axum::response::{IntoResponse, Response};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::db::TestDb;
use crate::common::receivers::{Seen, python_verifies, python3};
use crate::helpers::*;
use crate::on_both_databases;

/// 32 bytes, base64: a Standard Webhooks secret.
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMfKQ9r8GKYo=";

/// What the ticket system answers: a status and a body, or nothing at all.
#[derive(Clone)]
enum Says {
    Answer(u16, String),
    Never,
}

#[derive(Clone)]
struct TicketSystem {
    says: Arc<Mutex<Says>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl TicketSystem {
    fn say(&self, says: Says) {
        *self.says.lock().unwrap() = says;
    }
    fn calls(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

async fn validate(State(ts): State<TicketSystem>, headers: HeaderMap, body: Bytes) -> Response {
    ts.seen.lock().unwrap().push(Seen {
        method: "POST".into(),
        path_and_query: "/validate".into(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect::<BTreeMap<_, _>>(),
        body: body.to_vec(),
    });
    let says = ts.says.lock().unwrap().clone();
    match says {
        Says::Answer(code, body) => (
            AxStatus::from_u16(code).unwrap(),
            [("content-type", "application/json")],
            body,
        )
            .into_response(),
        Says::Never => std::future::pending().await,
    }
}

/// The ticket system on 127.0.0.1 (`/validate`); anything else (the audit webhook) gets 200.
async fn ticket_system(says: Says) -> (SocketAddr, TicketSystem) {
    let ts = TicketSystem {
        says: Arc::new(Mutex::new(says)),
        seen: Arc::new(Mutex::new(Vec::new())),
    };
    let app = Router::new()
        .route("/validate", axum::routing::post(validate))
        .fallback(|| async { AxStatus::OK })
        .with_state(ts.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, ts)
}

async fn with_validator(db: &TestDb, says: Says, fail_open: bool) -> (TestApp, TicketSystem) {
    let (addr, ts) = ticket_system(says).await;
    let t = TestApp::spawn_configured(db, false, move |s| {
        let s = s.replacen(
            "id = \"device-code\"\n",
            &format!(
                "id = \"device-code\"\nticket_validator = \"http://{addr}/validate\"\nticket_validator_fail_open = {fail_open}\n"
            ),
            1,
        );
        format!(
            "{s}\n[notify]\nwebhook_url = \"http://{addr}/hook\"\nwebhook_secret = \"{SECRET}\"\n"
        )
    })
    .await;
    (t, ts)
}

fn asking() -> Value {
    json!({"package": "device-code", "duration_minutes": 60,
        "justification": "deploying the CI runner", "ticket": "CHG0012345"})
}

fn valid(url: &str) -> Says {
    Says::Answer(200, json!({"valid": true, "url": url}).to_string())
}

async fn a_valid_ticket_is_asked_for_signed_and_its_link_kept(db: &TestDb) {
    let (t, ts) = with_validator(db, valid("https://itsm.example/CHG0012345"), false).await;
    // Known before asking, without the URL.
    let packages = t.get(DANA, "/api/v1/packages").await;
    let p = packages["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "device-code")
        .unwrap()
        .clone();
    assert_eq!(p["ticket_validated"], true, "{p}");
    assert_eq!(p["ticket_required"], true, "a validator implies a ticket");
    assert!(
        p["rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["rule"] == "ticket_validator"
                && r["text"] == "Tickets are checked with the ticket system."),
        "{p}"
    );
    assert!(
        !packages.to_string().contains("/validate"),
        "the URL is not shown"
    );
    let form = t.fetch(Some(DANA), "/").await.text().await.unwrap();
    assert!(
        form.contains("Tickets are checked with the ticket system."),
        "the form says so"
    );
    assert!(
        !form.contains("/validate"),
        "the form does not show the URL"
    );

    let (status, body) = t.post(DANA, "/api/v1/requests", asking()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["ticket_url"], "https://itsm.example/CHG0012345");
    let id = body["id"].as_str().unwrap().to_string();

    let calls = ts.calls();
    assert_eq!(calls.len(), 1);
    let sent: Value = serde_json::from_slice(&calls[0].body).unwrap();
    assert_eq!(sent["ticket"], "CHG0012345");
    assert_eq!(sent["package"], "device-code");
    assert_eq!(sent["duration_minutes"], 60);
    assert_eq!(sent["justification"], "deploying the CI runner");
    assert!(sent["requester"]["id"].is_string() && sent["requester"]["upn"].is_string());
    for h in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        assert!(
            calls[0].headers.contains_key(h),
            "{h}: {:?}",
            calls[0].headers
        );
    }
    if let Some(python) = python3() {
        assert!(
            python_verifies(&python, SECRET, &calls[0]),
            "the signature verifies with the secret"
        );
    }

    // The request's page links the ticket.
    let page = t
        .fetch(Some(DANA), &format!("/requests/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(r#"<a href="https://itsm.example/CHG0012345" rel="noopener noreferrer""#),
        "{page}"
    );

    // Each approval asks again; once the ticket system says no, the approval is refused.
    ts.say(Says::Answer(
        200,
        json!({"valid": false, "message": "CHG0012345 was closed\nyesterday"}).to_string(),
    ));
    let (status, body) = t.try_approve(MORGAN, &id).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["rule"], "ticket_validator", "{body}");
    assert_eq!(ts.calls().len(), 2);
    assert_eq!(t.status_of(&id).await["status"], "pending");
    let refused = t.events("action=request_refused").await;
    assert_eq!(refused[0]["details"]["stage"], "approval", "{refused:?}");
    ts.say(valid("https://itsm.example/CHG0012345"));
    t.approve(MORGAN, &id).await;
    assert!(
        serde_json::from_slice::<Value>(&ts.calls()[2].body).unwrap()["asked_by"].is_null(),
        "nobody asked on Dana's behalf"
    );

    // Asked on someone's behalf (issue 21): the ticket system hears for whom and by whom, when
    // asking and at each approval.
    let mut on_behalf = asking();
    on_behalf["on_behalf_of"] = json!([RILEY]);
    let (status, body) = t.post(MORGAN, "/api/v1/requests", on_behalf).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["results"][0]["status"], 201, "{body}");
    let riley = body["results"][0]["request"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    t.approve(JORDAN, &riley).await;
    for call in &ts.calls()[3..] {
        let sent: Value = serde_json::from_slice(&call.body).unwrap();
        assert_eq!(sent["requester"]["id"], RILEY, "{sent}");
        assert_eq!(sent["asked_by"]["id"], MORGAN, "{sent}");
        assert_eq!(
            sent["asked_by"]["upn"],
            "morgan@jitgate-demo.onmicrosoft.com"
        );
    }
    assert_eq!(ts.calls().len(), 5);
}

async fn an_invalid_ticket_is_refused_with_the_systems_message(db: &TestDb) {
    let (t, _ts) = with_validator(
        db,
        Says::Answer(
            200,
            json!({"valid": false, "message": "No open change\u{1b}[31m CHG0012345"}).to_string(),
        ),
        false,
    )
    .await;
    let (status, body) = t.post(DANA, "/api/v1/requests", asking()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["rule"], "ticket_validator", "{body}");
    let message = body["error"]["fields"][0]["message"].as_str().unwrap();
    assert!(message.contains("No open change"), "{body}");
    assert!(!message.contains('\u{1b}'), "no control characters: {body}");
    assert_eq!(body["error"]["fields"][0]["field"], "ticket");
    let refused = t.events("action=request_refused").await;
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0]["details"]["rule"], "ticket_validator");
    assert!(t.events("action=request_created").await.is_empty());
}

async fn a_ticket_system_that_does_not_answer_refuses(db: &TestDb) {
    let (t, ts) = with_validator(db, Says::Answer(500, "oops".into()), false).await;
    let (status, body) = t.post(DANA, "/api/v1/requests", asking()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["rule"], "ticket_validator", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("did not answer"),
        "{body}"
    );
    // Never answering: given up after 5 s (real time: it is an HTTP call).
    ts.say(Says::Never);
    let (status, body) = t.post(DANA, "/api/v1/requests", asking()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("did not answer"), "{body}");
    assert!(t.events("action=request_created").await.is_empty());
}

async fn fail_open_lets_the_request_through_and_says_so(db: &TestDb) {
    let (t, _ts) = with_validator(db, Says::Answer(503, String::new()), true).await;
    let (status, body) = t.post(DANA, "/api/v1/requests", asking()).await;
    assert_eq!(status, StatusCode::CREATED, "fail open: {body}");
    assert_eq!(body["ticket_url"], Value::Null);
    let id = body["id"].as_str().unwrap();
    let created = event_details(&t, id, "request_created").await;
    assert_eq!(created["ticket_check"], "skipped: HTTP 503", "{created}");
}

on_both_databases! {
    ticket_validator_valid => a_valid_ticket_is_asked_for_signed_and_its_link_kept;
    ticket_validator_invalid => an_invalid_ticket_is_refused_with_the_systems_message;
    ticket_validator_no_answer => a_ticket_system_that_does_not_answer_refuses;
    ticket_validator_fail_open => fail_open_lets_the_request_through_and_says_so;
}
