//! Every bad input gets a clear error and changes nothing: no request, no audit event, no Graph call.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::on_both_databases;

struct Snapshot {
    requests: usize,
    events: usize,
    graph_writes: usize,
}

async fn snapshot(t: &TestApp) -> Snapshot {
    let v = t.get(AVERY, "/api/v1/requests?limit=1000").await;
    Snapshot {
        requests: v["requests"].as_array().unwrap().len(),
        events: t.audit_count().await,
        // Calls that change the directory: reading the caller's account and roles (every
        // `role_refresh`, for bearer tokens too) changes nothing.
        graph_writes: t
            .emulator
            .graph_requests()
            .iter()
            .filter(|c| c.method != "GET")
            .count(),
    }
}

async fn refused(
    t: &TestApp,
    user: &str,
    body: Value,
    status: StatusCode,
    code: &str,
    field: Option<&str>,
) {
    let before = snapshot(t).await;
    let (s, v) = t.post(user, "/api/v1/requests", body.clone()).await;
    assert_eq!(s, status, "{body} -> {v}");
    assert_eq!(v["error"]["code"], code, "{v}");
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(
        msg.len() > 10 && msg.ends_with('.'),
        "a sentence a person understands: {msg}"
    );
    if let Some(f) = field {
        assert!(
            v["error"]["fields"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["field"] == f),
            "{v}"
        );
    }
    let after = snapshot(t).await;
    assert_eq!(
        (after.requests, after.events, after.graph_writes),
        (before.requests, before.events, before.graph_writes),
        "nothing changed for {body}"
    );
}

async fn bad_requests_change_nothing(t: &mut TestApp) {
    let ok = "deploying the CI runner";
    // Each breaks one rule, named against its field.
    for (body, field) in [
        (
            json!({"package": "nope", "duration_minutes": 60, "justification": ok}),
            "package",
        ),
        (
            json!({"package": "device-code", "duration_minutes": 14, "justification": ok}),
            "duration_minutes",
        ),
        (
            json!({"package": "device-code", "duration_minutes": 241, "justification": ok}),
            "duration_minutes",
        ),
        (
            json!({"package": "device-code", "duration_minutes": 60, "justification": "   too short   "}),
            "justification",
        ),
        (
            json!({"package": "device-code", "duration_minutes": 60, "justification": "x".repeat(1001)}),
            "justification",
        ),
        (
            json!({"package": "device-code", "duration_minutes": 60}),
            "justification",
        ),
        (
            json!({"package": "device-code-ticketed", "duration_minutes": 60, "justification": ok}),
            "ticket",
        ),
        (
            json!({"package": "device-code", "duration_minutes": 60, "justification": ok, "starts_at": "2001-01-01T00:00:00Z"}),
            "starts_at",
        ),
    ] {
        let u = StatusCode::UNPROCESSABLE_ENTITY;
        refused(t, DANA, body, u, "invalid_request", Some(field)).await;
    }
    // Not eligible; not JSON of the right shape.
    for (body, status, code) in [
        (
            json!({"package": "developers-only", "duration_minutes": 60, "justification": ok}),
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            json!({"package": "device-code", "duration_minutes": "sixty", "justification": ok}),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            json!({"package": "device-code", "duration_minutes": 60, "justification": ok, "extra": 1}),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            json!({"duration_minutes": 60, "justification": ok}),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
    ] {
        refused(t, DANA, body, status, code, None).await;
    }

    // Malformed JSON and a non-JSON body.
    let before = snapshot(t).await;
    for (content_type, body) in [
        ("application/json", "{\"package\": "),
        ("text/plain", "hello"),
    ] {
        let resp = t
            .http_as(Some(DANA), Method::POST, "/api/v1/requests")
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{content_type}");
    }
    let after = snapshot(t).await;
    assert_eq!(
        (after.requests, after.events),
        (before.requests, before.events)
    );

    // A second open request for the same package is a conflict.
    t.request(DANA, "device-code", 60).await;
    refused(
        t,
        DANA,
        json!({"package": "device-code", "duration_minutes": 60, "justification": ok}),
        StatusCode::CONFLICT,
        "conflict",
        None,
    )
    .await;
}

async fn bad_ids_and_queries(t: &mut TestApp) {
    let v = t
        .try_get(Some(AVERY), "/api/v1/requests/does-not-exist")
        .await
        .expect_status(StatusCode::NOT_FOUND, "an unknown request");
    assert_eq!(v["error"]["code"], "not_found");
    t.try_approve(MORGAN, "does-not-exist")
        .await
        .expect_status(StatusCode::NOT_FOUND, "approving an unknown request");
    let id = t.request(RILEY, "device-code", 60).await;
    t.act(MORGAN, &id, "bless", json!({}))
        .await
        .expect_status(StatusCode::NOT_FOUND, "an action that does not exist");
    // Only the canonical hyphenated form names a request (either case): braced, URN and
    // hyphen-less forms of the same GUID, or one with spaces around it, name nothing, on the
    // API (404 in its JSON shape) and on the pages (the not-found page).
    let upper = id.to_uppercase();
    t.try_get(Some(RILEY), &format!("/api/v1/requests/{upper}"))
        .await
        .expect_status(StatusCode::OK, "the canonical form in upper case");
    for other in [
        format!("{{{id}}}"),
        format!("%7B{id}%7D"),
        format!("urn:uuid:{id}"),
        id.replace('-', ""),
        upper.replace('-', ""),
        format!("%20{id}"),
    ] {
        let v = t
            .try_get(Some(RILEY), &format!("/api/v1/requests/{other}"))
            .await
            .expect_status(StatusCode::NOT_FOUND, &other);
        assert_eq!(v["error"]["code"], "not_found", "{other}: {v}");
        t.try_get(Some(RILEY), &format!("/api/v1/requests/{other}/extensions"))
            .await
            .expect_status(StatusCode::NOT_FOUND, &other);
        t.act(RILEY, &other, "cancel", json!({}))
            .await
            .expect_status(StatusCode::NOT_FOUND, &other);
        let r = t.fetch(Some(RILEY), &format!("/requests/{other}")).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{other}");
        let page = r.text().await.unwrap();
        assert!(page.contains("There is no request"), "{other}: {page}");
    }
    t.cancel(RILEY, &id)
        .await
        .expect_status(StatusCode::OK, "the request was left as it was");
    for bad in [
        "/api/v1/requests?status=bogus",
        "/api/v1/requests?limit=0",
        "/api/v1/audit?action=bogus",
        "/api/v1/audit?since=yesterday",
        "/api/v1/audit?format=xml",
    ] {
        t.try_get(Some(AVERY), bad)
            .await
            .expect_status(StatusCode::BAD_REQUEST, bad);
    }
    let id = t.request(DANA, "device-code", 60).await;
    t.act(MORGAN, &id, "approve", json!({"comment": "x".repeat(1001)}))
        .await
        .expect_status(StatusCode::UNPROCESSABLE_ENTITY, "a comment too long");
    t.act(MORGAN, &id, "approve", json!({"verdict": "yes"}))
        .await
        .expect_status(StatusCode::BAD_REQUEST, "an unknown field");
    assert_eq!(t.status_of(&id).await["status"], "pending");
    assert_eq!(t.audit_actions(&id).await, ["request_created"]);
}

/// Far-off times and oversized bodies are refused with a 4xx and change nothing (issue 8,
/// item 7): a start near the end of the calendar used to overflow a date addition and panic.
async fn overflows_and_floods_are_refused(t: &mut TestApp) {
    let before = snapshot(t).await;
    let r = t
        .http_as(Some(DANA), Method::POST, "/requests")
        .form(&[
            ("package", "device-code"),
            ("duration_minutes", "60"),
            ("justification", "far future"),
            ("starts_at", "+262142-12-31T23:59"),
            ("tz_offset", "1440"),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    let page = r.text().await.unwrap();
    assert!(page.contains("too far away"), "the form says why");

    let big = "x".repeat(100 * 1024);
    let r = t
        .http_as(Some(DANA), Method::POST, "/api/v1/requests")
        .json(&json!({"package": "device-code", "duration_minutes": 60, "justification": big}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let after = snapshot(t).await;
    assert_eq!(
        (after.requests, after.events, after.graph_writes),
        (before.requests, before.events, before.graph_writes)
    );
}

/// Every bad address under `/api/` answers the JSON error body; NUL bytes are refused at the
/// edge on both databases; negative offsets are refused (issue 8, item 8, in part).
async fn the_edge_answers_in_the_apis_shape(t: &mut TestApp) {
    let before = snapshot(t).await;
    let json_error = |status: StatusCode, code: &'static str| {
        move |(s, v): (StatusCode, Value)| {
            assert_eq!(s, status, "{v}");
            assert_eq!(v["error"]["code"], code, "{v}");
            assert!(
                v["error"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty()),
                "{v}"
            );
        }
    };
    json_error(StatusCode::NOT_FOUND, "not_found")(
        t.try_get(Some(DANA), "/api/v1/nothing-here").await,
    );
    let r = t
        .http_as(Some(DANA), Method::DELETE, "/api/v1/requests")
        .send()
        .await
        .unwrap();
    let status = r.status();
    json_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")((
        status,
        r.json().await.unwrap(),
    ));
    json_error(StatusCode::BAD_REQUEST, "bad_request")(
        t.try_get(Some(DANA), "/api/v1/requests/%FF%FE").await,
    );
    json_error(StatusCode::BAD_REQUEST, "bad_request")(
        t.try_get(Some(DANA), "/api/v1/requests/ab%00cd").await,
    );
    json_error(StatusCode::BAD_REQUEST, "bad_request")(
        t.try_get(Some(AVERY), "/api/v1/audit?action=x%00y").await,
    );
    json_error(StatusCode::BAD_REQUEST, "bad_request")(
        t.try_get(Some(DANA), "/api/v1/requests?offset=-1").await,
    );
    // A page with a NUL byte is refused too, as a page.
    let r = t.fetch(Some(DANA), "/requests/ab%00cd").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let after = snapshot(t).await;
    assert_eq!(
        (after.requests, after.events),
        (before.requests, before.events)
    );
}

on_both_databases! {
    with TestApp;
    requests => bad_requests_change_nothing;
    ids_and_queries => bad_ids_and_queries;
    overflow_and_flood => overflows_and_floods_are_refused;
    edge => the_edge_answers_in_the_apis_shape;
}
