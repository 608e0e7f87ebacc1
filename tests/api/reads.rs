//! Reading: me, packages, who sees which request, the audit trail and its exports, health.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;
use crate::on_both_databases;

async fn me_and_packages(t: &mut TestApp) {
    let me = t.get(ALEX, "/api/v1/me").await;
    assert_eq!(me["id"], ALEX);
    assert_eq!(me["roles"], json!(["admin"]));
    let p = t.get(DANA, "/api/v1/packages").await;
    let list = p["packages"].as_array().unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(list[0]["id"], "device-code");
    assert_eq!(
        (
            list[0]["min_duration_minutes"].as_i64(),
            list[0]["max_duration_minutes"].as_i64()
        ),
        (Some(15), Some(240))
    );
    assert_eq!(list[0]["may_request"], true);
    assert_eq!(
        list[2]["may_request"], false,
        "developers-only needs the Developer role"
    );
}

async fn visibility(t: &mut TestApp) {
    let dana = t.request(DANA, "device-code", 60).await;
    let riley = t.request(RILEY, "device-code", 60).await;
    let ids = |v: serde_json::Value| {
        v["requests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(t.get(RILEY, "/api/v1/requests").await), vec![riley]);
    t.try_get(Some(RILEY), &format!("/api/v1/requests/{dana}"))
        .await
        .expect_status(StatusCode::FORBIDDEN, "someone else's request");
    assert_eq!(
        ids(t.get(MORGAN, "/api/v1/requests").await).len(),
        2,
        "approvers see what they may decide"
    );
    assert_eq!(ids(t.get(AVERY, "/api/v1/requests").await).len(), 2);
    assert_eq!(
        ids(t.get(AVERY, "/api/v1/requests?mine=true").await).len(),
        0
    );
    assert_eq!(
        ids(t
            .get(ALEX, "/api/v1/requests?status=pending&package=device-code")
            .await)
        .len(),
        2
    );
    assert_eq!(
        ids(t.get(ALEX, "/api/v1/requests?status=active").await).len(),
        0
    );
}

async fn audit_is_for_auditors(t: &mut TestApp) {
    t.granted(DANA, "device-code", 60, MORGAN).await;
    for who in [DANA, MORGAN, RILEY] {
        for path in [
            "/api/v1/audit",
            "/api/v1/audit/verify",
            "/api/v1/audit?format=csv",
        ] {
            t.try_get(Some(who), path)
                .await
                .expect_status(StatusCode::FORBIDDEN, &format!("{path} for {who}"));
        }
    }
    t.try_get(None, "/api/v1/audit")
        .await
        .expect_status(StatusCode::UNAUTHORIZED, "anonymous");
    assert_eq!(t.get(ALEX, "/api/v1/audit/verify").await["ok"], true);

    let events = t.events("").await;
    assert_eq!(events.len(), 5);
    assert_eq!(events[0]["seq"], 5, "newest first");
    assert_eq!(events[0]["action"], "membership_verified");
    let created = &events[4];
    assert_eq!(created["action"], "request_created");
    assert_eq!(created["actor"]["id"], DANA);
    assert_eq!(created["subject"], DANA);
    assert_eq!(
        created["details"]["justification"],
        "deploying the CI runner"
    );
    assert_eq!(created["client_ip"], "127.0.0.1");
    assert_eq!(created["prev_hash"].as_str().unwrap().len(), 64);
    assert_eq!(events[3]["prev_hash"], created["hash"]);

    let page = t.get(AVERY, "/api/v1/audit?limit=2").await;
    assert_eq!(page["events"].as_array().unwrap().len(), 2);
    let cursor = page["next_cursor"].as_i64().unwrap();
    let next = t
        .get(AVERY, &format!("/api/v1/audit?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(next["events"][0]["seq"], 3);
    let t = &*t;
    let count = |query: String| async move { t.events(&query).await.len() };
    assert_eq!(count(format!("actor={MORGAN}")).await, 1);
    assert_eq!(
        count(format!("person={DANA}")).await,
        5,
        "Dana acted or was the subject"
    );
    assert_eq!(
        count("person=Morgan%20Manager".into()).await,
        1,
        "by display name"
    );
    assert_eq!(count("package=device-code".into()).await, 5);
    assert_eq!(count("package=device-code-ticketed".into()).await, 0);
    assert_eq!(
        count(format!("subject={DANA}&action=membership_added")).await,
        1
    );
    let later = (t.clock.now() + chrono::Duration::hours(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert_eq!(count(format!("since={later}")).await, 0);

    let r = t.fetch(Some(AVERY), "/api/v1/audit?format=csv").await;
    assert_eq!(r.status(), StatusCode::OK);
    let header = |name: &str| r.headers()[name].to_str().unwrap().to_string();
    assert!(header("content-type").starts_with("text/csv"));
    assert!(header("content-disposition").starts_with("attachment"));
    let csv = r.text().await.unwrap();
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let headers = rows.headers().unwrap().clone();
    assert_eq!(&headers[0], "seq");
    let recs: Vec<_> = rows.records().map(|r| r.unwrap()).collect();
    assert_eq!(recs.len(), 5);
    assert_eq!(&recs[4][4], "request_created");
    assert!(
        recs[4][7].contains("deploying the CI runner"),
        "details as JSON"
    );

    let r = t
        .fetch(
            Some(AVERY),
            "/api/v1/audit?format=jsonl&action=request_approved",
        )
        .await;
    assert_eq!(r.headers()["content-type"], "application/x-ndjson");
    let body = r.text().await.unwrap();
    let lines: Vec<serde_json::Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["action"], "request_approved");

    // An export with a limit carries the newest events up to it, and a cursor starts it older.
    let seqs = |body: String| -> Vec<i64> {
        body.lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["seq"]
                    .as_i64()
                    .unwrap()
            })
            .collect()
    };
    let r = t
        .fetch(Some(AVERY), "/api/v1/audit?format=jsonl&limit=3")
        .await;
    assert_eq!(seqs(r.text().await.unwrap()), [5, 4, 3]);
    let r = t
        .fetch(Some(AVERY), "/api/v1/audit?format=jsonl&limit=3&cursor=3")
        .await;
    assert_eq!(seqs(r.text().await.unwrap()), [2, 1]);
}

async fn health(t: &mut TestApp) {
    let r = t.fetch(None, "/healthz").await;
    assert_eq!(r.status(), StatusCode::OK);
    eventually("ready", || async {
        t.fetch(None, "/readyz").await.status() == StatusCode::OK
    })
    .await;
    // The background loops stop: readiness notices once their heartbeats go stale.
    let r = t.fetch(None, "/readyz").await;
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        v,
        json!({"ready": true, "database": true, "worker": true, "scheduler": true})
    );
    let r = t.fetch(None, "/nope").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    for h in [
        "content-security-policy",
        "x-content-type-options",
        "referrer-policy",
        "x-frame-options",
    ] {
        assert!(r.headers().contains_key(h), "{h}");
    }
    assert!(
        !r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("unsafe-inline")
    );
}

/// User-controlled text never runs as a formula when an auditor opens the CSV export in a
/// spreadsheet (issue 8, item 4); the JSON Lines export keeps it exactly.
async fn csv_cells_are_not_formulas(t: &mut TestApp) {
    let evil = "=HYPERLINK(\"http://evil.example\",\"click\")";
    let r = t
        .http_as(Some(DANA), reqwest::Method::POST, "/api/v1/requests")
        .header("user-agent", evil)
        .json(&json!({"package": "device-code", "duration_minutes": 60, "justification": "-2+3 is a formula too"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let csv = t
        .fetch(
            Some(AVERY),
            "/api/v1/audit?format=csv&action=request_created",
        )
        .await
        .text()
        .await
        .unwrap();
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let rec = rows.records().next().unwrap().unwrap();
    assert_eq!(&rec[9], format!("'{evil}"), "user_agent");
    assert!(rec[7].starts_with('{'), "details stay JSON");
    let jsonl = t
        .fetch(
            Some(AVERY),
            "/api/v1/audit?format=jsonl&action=request_created",
        )
        .await
        .text()
        .await
        .unwrap();
    let e: serde_json::Value = serde_json::from_str(jsonl.lines().next().unwrap()).unwrap();
    assert_eq!(e["user_agent"], evil, "JSON Lines is exact");
}

/// Behind a trusted reverse proxy the audit trail records the client's address from
/// `X-Forwarded-For`; from anyone else the header is ignored (issue 8, item 10).
async fn client_addresses_behind_a_proxy(t: &mut TestApp) {
    // Not trusted (the default): the socket's address, whatever the header says.
    let r = t
        .http_as(Some(DANA), reqwest::Method::POST, "/api/v1/requests")
        .header("x-forwarded-for", "203.0.113.9")
        .json(&json!({"package": "device-code", "duration_minutes": 60, "justification": "straight to the portal"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(
        t.events("action=request_created").await[0]["client_ip"],
        "127.0.0.1"
    );

    // The same portal, with loopback (where the test connects from) and 10/8 as proxies.
    let mut settings = t.settings();
    settings.server.trusted_proxies = vec![
        "127.0.0.1/32".parse().unwrap(),
        "10.0.0.0/8".parse().unwrap(),
    ];
    t.stop().await;
    let (listener, url) = crate::common::portal::bind().await;
    let app = crate::common::portal::boot(listener, settings, t.clock.clone()).await;
    let r = t
        .http
        .post(format!("{url}/api/v1/requests"))
        .bearer_auth(t.token(RILEY))
        .header("x-forwarded-for", "1.2.3.4, 203.0.113.9, 10.1.1.1")
        .json(
            &json!({"package": "device-code", "duration_minutes": 60, "justification": "through the reverse proxy"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let events: serde_json::Value = t
        .http
        .get(format!("{url}/api/v1/audit?action=request_created"))
        .bearer_auth(t.token(AVERY))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        events["events"][0]["client_ip"], "203.0.113.9",
        "the right-most untrusted hop"
    );
    app.stop().await;
}

on_both_databases! {
    with TestApp;
    me => me_and_packages;
    who_sees_what => visibility;
    audit => audit_is_for_auditors;
    healthz => health;
    csv_formulas => csv_cells_are_not_formulas;
    proxies => client_addresses_behind_a_proxy;
}
