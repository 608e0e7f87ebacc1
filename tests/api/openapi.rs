//! The OpenAPI document (`/api/v1/openapi.json`, issue 10): generated from the code, it lists
//! every API route the router serves, the README's API table lists what it lists, and every
//! example body it documents is accepted by the running server, whose answers read back into
//! the same contract types the command-line client uses.

use std::collections::BTreeSet;
use std::path::Path;

use jitgate::contract;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::common::db::{Backend, TestDb};
use crate::helpers::*;

/// One package, `device-code-exemption` as in the examples, with room for extensions.
const PACKAGE: &str = r#"
[scheduler]
sweep = "0 0 * * * *"

[reconcile]
every = "1d"

[[package]]
id = "device-code-exemption"
name = "Device code flow exemption"
group_id = "GROUP"
min_duration = "15m"
default_duration = "2h"
max_duration = "4h"
max_extension = "2h"
manager_may_approve = true
break_glass = true
break_glass_groups = ["7e57a11e-0000-4000-8000-0000000b9a55"]
"#;

/// Every `(METHOD, path)` the document lists.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                ops.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    ops
}

fn rust_sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_lists_every_api_route() {
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    let mut t = TestApp::spawn(&db).await;

    // Served to anyone, as JSON, OpenAPI 3.1.
    let resp = t.fetch(None, "/api/v1/openapi.json").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let doc: Value = resp.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc.to_string(), {
        let served: Value = serde_json::from_str(jitgate::web::api::openapi_json()).unwrap();
        served.to_string()
    });
    let ops = operations(&doc);
    assert!(ops.len() >= 19, "{ops:?}");
    let mut ids = BTreeSet::new();
    for (method, path) in &ops {
        let id = doc["paths"][path][method.to_lowercase()]["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
        assert!(ids.insert(id.to_string()), "operationId {id} is used twice");
    }

    // The router has no API route of its own making (unit tests aside): every one is declared through
    // `utoipa_axum::routes!`, which puts it in the document.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_sources(&root.join("src/web"), &mut files);
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        // Unit tests build routers of their own.
        let text = text.split("#[cfg(test)]").next().unwrap();
        for (i, line) in text.lines().enumerate() {
            assert!(
                !(line.contains(".route(") && line.contains("/api/")),
                "{}:{}: an API route outside the OpenAPI router: {line}",
                f.display(),
                i + 1
            );
        }
    }

    // Every documented operation is served: the router neither answers "no such endpoint"
    // nor "not that method", whoever calls.
    let a_request = t.request(DANA, "device-code", 60).await;
    for (method, path) in &ops {
        let path = path.replace("{id}", &a_request);
        let m = Method::from_bytes(method.as_bytes()).unwrap();
        let (status, body) = t
            .call(
                Some(AVERY),
                m.clone(),
                &path,
                (m == Method::POST).then(|| serde_json::json!({})),
            )
            .await;
        assert_ne!(
            status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}: {body}"
        );
        assert!(
            body["error"]["message"] != "There is no such API endpoint.",
            "{method} {path} is documented but not served"
        );
    }
    // ... and what is not documented is not served.
    let (status, body) = t
        .try_get(Some(AVERY), "/api/v1/requests/x/frobnicate")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["message"], "There is no such API endpoint.");

    // The README's API table lists exactly the documented operations.
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let table = readme
        .split("\n## JSON API\n")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("the README has a JSON API section");
    let mut listed = BTreeSet::new();
    for line in table.lines().filter(|l| l.starts_with("| `")) {
        let cell = line.split('`').nth(1).unwrap();
        let (method, path) = cell.split_once(' ').unwrap();
        let path = path.split('?').next().unwrap();
        listed.insert((method.to_string(), path.to_string()));
    }
    assert_eq!(
        listed, ops,
        "the README's JSON API table and the document differ"
    );

    t.stop().await;
    db.cleanup().await;
}

/// The shortest extension is stated in the document (issue 19, item 11), the same as the one
/// the portal enforces and the command line checks.
#[test]
fn the_extension_minimum_is_documented() {
    let doc: Value = serde_json::from_str(jitgate::web::api::openapi_json()).unwrap();
    let minutes = &doc["components"]["schemas"]["ExtendBody"]["properties"]["minutes"];
    let shortest = jitgate::domain::extension::EXTENSION_MIN_MINUTES;
    assert_eq!(minutes["minimum"], shortest, "{minutes}");
    assert_eq!(jitgate::contract::EXTENSION_MIN_MINUTES, shortest);
    assert!(
        minutes["description"]
            .as_str()
            .is_some_and(|d| d.contains("at least 5 minutes")),
        "{minutes}"
    );
}

/// The example of operation `method path`'s request body.
fn example(doc: &Value, method: &str, path: &str) -> Value {
    let body =
        &doc["paths"][path][method.to_lowercase()]["requestBody"]["content"]["application/json"];
    let schema = &body["schema"];
    let resolved = match schema["$ref"].as_str() {
        Some(r) => &doc["components"]["schemas"][r.rsplit('/').next().unwrap()],
        None => schema,
    };
    resolved["example"].clone()
}

/// The documented examples, sent to a running portal; what was tried.
struct Examples<'a> {
    t: &'a TestApp,
    doc: &'a Value,
    covered: BTreeSet<(String, String)>,
}

impl Examples<'_> {
    /// Sends the documented example of `POST path` (with `{id}` = `id`) as `user`; it must be
    /// accepted.
    async fn send(&mut self, user: &str, path: &str, id: &str) -> Value {
        let body = example(self.doc, "POST", path);
        assert!(body.is_object(), "POST {path} documents no example");
        let (status, answer) = self
            .t
            .post(user, &path.replace("{id}", id), body.clone())
            .await;
        assert!(
            status.is_success(),
            "the documented example of POST {path} was refused ({status}): {body} → {answer}"
        );
        self.covered.insert(("POST".into(), path.to_string()));
        answer
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documented_examples_are_accepted() {
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    let mut t = TestApp::spawn_configured(&db, false, |_| PACKAGE.to_string()).await;
    let doc: Value = serde_json::from_str(jitgate::web::api::openapi_json()).unwrap();
    let mut ex = Examples {
        t: &t,
        doc: &doc,
        covered: BTreeSet::new(),
    };

    // A request from the example, approved from the example (shortened to an hour).
    let created = ex.send(DANA, "/api/v1/requests", "").await;
    let created: contract::Request = serde_json::from_value(created).unwrap();
    assert_eq!(created.status, contract::Status::Pending);
    assert_eq!(created.duration_minutes, 120);
    let approved = ex
        .send(MORGAN, "/api/v1/requests/{id}/approve", &created.id)
        .await;
    let approved: contract::Request = serde_json::from_value(approved).unwrap();
    assert_eq!(approved.duration_minutes, 60);
    wait_added(&t, &created.id).await;

    // Extended, the extension approved; extended again, that one denied; then ended.
    for decision in ["approve", "deny"] {
        let asked = ex
            .send(DANA, "/api/v1/requests/{id}/extend", &created.id)
            .await;
        let asked: contract::Extended = serde_json::from_value(asked).unwrap();
        assert_eq!(asked.extension.status, contract::ExtensionStatus::Pending);
        let decided = ex
            .send(
                MORGAN,
                &format!("/api/v1/requests/{{id}}/extension/{decision}"),
                &created.id,
            )
            .await;
        let decided: contract::Extended = serde_json::from_value(decided).unwrap();
        assert_ne!(decided.extension.status, contract::ExtensionStatus::Pending);
    }
    let ended = ex
        .send(DANA, "/api/v1/requests/{id}/end", &created.id)
        .await;
    assert_eq!(ended["status"], "ended");

    // Two more requests: one denied, one cancelled, each from its example.
    wait_removed(&t, &created.id).await;
    let second = t
        .create(DANA, example(&doc, "POST", "/api/v1/requests"))
        .await;
    ex.send(MORGAN, "/api/v1/requests/{id}/deny", &second).await;
    let third = t
        .create(DANA, example(&doc, "POST", "/api/v1/requests"))
        .await;
    ex.send(DANA, "/api/v1/requests/{id}/cancel", &third).await;
    // And one granted, then revoked by an admin from the example.
    let fourth = t
        .create(DANA, example(&doc, "POST", "/api/v1/requests"))
        .await;
    t.approve(MORGAN, &fourth).await;
    wait_added(&t, &fourth).await;
    let revoked = ex.send(ALEX, "/api/v1/requests/{id}/revoke", &fourth).await;
    assert_eq!(revoked["status"], "revoked");
    // And one taken with break-glass, reviewed from the example.
    wait_removed(&t, &fourth).await;
    t.emulator
        .set_member("7e57a11e-0000-4000-8000-0000000b9a55", DANA, true);
    let mut emergency = example(&doc, "POST", "/api/v1/requests");
    emergency["emergency"] = serde_json::json!(true);
    emergency["duration_minutes"] = serde_json::json!(60);
    let fifth = t.create(DANA, emergency).await;
    let reviewed = ex
        .send(MORGAN, "/api/v1/requests/{id}/break-glass/review", &fifth)
        .await;
    let reviewed: contract::BreakGlassUse = serde_json::from_value(reviewed).unwrap();
    assert_eq!(
        reviewed.review.map(|r| r.verdict),
        Some(contract::BreakGlassVerdict::Justified)
    );

    // The package's first access review (at the next midnight): Dana's item denied from the
    // example; at the due date she is revoked, and restored from the example.
    eventually("the reviews scheduled", || async {
        t.portal().next_review_at().await.is_some()
    })
    .await;
    let start = jitgate::domain::review::first_start(t.clock.now());
    t.advance(start - t.clock.now() + chrono::Duration::minutes(1));
    let list = || async { t.get(ALEX, "/api/v1/reviews").await };
    eventually("the first access review", || async {
        !list().await["campaigns"].as_array().unwrap().is_empty()
    })
    .await;
    let reviews: contract::ReviewList = serde_json::from_value(list().await).unwrap();
    let campaign = reviews.campaigns[0].id.clone();
    let detail: contract::ReviewDetail =
        serde_json::from_value(t.get(MORGAN, &format!("/api/v1/reviews/{campaign}")).await)
            .unwrap();
    let dana_item = detail
        .items
        .iter()
        .find(|i| i.subject_id.as_deref() == Some(DANA))
        .unwrap();
    let decide = "/api/v1/reviews/{id}/items/{item}/decide";
    let (status, answer) = t
        .post(
            MORGAN,
            &format!("/api/v1/reviews/{campaign}/items/{}/decide", dana_item.id),
            example(&doc, "POST", decide),
        )
        .await;
    assert!(status.is_success(), "{answer}");
    let _: contract::ReviewItem = serde_json::from_value(answer).unwrap();
    ex.covered.insert(("POST".into(), decide.into()));
    t.advance(chrono::Duration::days(14));
    eventually("the review closed", || async {
        t.get(ALEX, &format!("/api/v1/reviews/{campaign}")).await["campaign"]["status"] == "closed"
    })
    .await;
    let _: contract::RevocationList =
        serde_json::from_value(t.get(AVERY, "/api/v1/reviews/revocations").await).unwrap();
    ex.send(ALEX, "/api/v1/reviews/revocations/restore", "")
        .await;

    // Every operation that takes a body was tried.
    let with_body: BTreeSet<(String, String)> = operations(&doc)
        .into_iter()
        .filter(|(m, p)| !doc["paths"][p][m.to_lowercase()]["requestBody"].is_null())
        .collect();
    assert_eq!(ex.covered, with_body);

    // The reads answer in the contract's types too.
    let _: contract::RequestList =
        serde_json::from_value(t.get(DANA, "/api/v1/requests").await).unwrap();
    let _: contract::ExtensionList = serde_json::from_value(
        t.get(DANA, &format!("/api/v1/requests/{}/extensions", created.id))
            .await,
    )
    .unwrap();
    let _: contract::SignInList = serde_json::from_value(
        t.get(DANA, &format!("/api/v1/requests/{}/sign-ins", created.id))
            .await,
    )
    .unwrap();
    let _: contract::ApprovalQueue =
        serde_json::from_value(t.get(MORGAN, "/api/v1/approvals").await).unwrap();
    let _: contract::EventList =
        serde_json::from_value(t.get(AVERY, "/api/v1/audit").await).unwrap();
    let _: contract::Verification =
        serde_json::from_value(t.get(AVERY, "/api/v1/audit/verify").await).unwrap();
    let _: contract::Me = serde_json::from_value(t.get(DANA, "/api/v1/me").await).unwrap();
    let _: contract::PackageList =
        serde_json::from_value(t.get(DANA, "/api/v1/packages").await).unwrap();
    let cli: contract::CliSignIn =
        serde_json::from_value(t.try_get(None, "/api/v1/cli").await.1).unwrap();
    assert_eq!(cli.tenant_id, jitgate::emulator::demo::TENANT_ID);
    let (status, bad) = t
        .post(DANA, "/api/v1/requests", serde_json::json!({"package": 7}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let _: contract::ErrorBody = serde_json::from_value(bad).unwrap();

    t.stop().await;
    db.cleanup().await;
}
