//! Floods (issue 19, item 10): how often one person may ask for a package. The
//! `max_requests_per_hour`-th request of an hour is the last; the next is refused with 429, a
//! `Retry-After` counted to the moment the oldest counted ask leaves the hour, and the same
//! sentence everywhere; the refusal is audited once an hour per person and package; and two
//! replicas asking at once cannot overshoot the limit.

use std::sync::Arc;

use chrono::Duration;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::db::TestDb;
use crate::helpers::*;
use crate::on_both_databases;

/// Asks for `device-code` as `user`: the whole answer, for its headers.
async fn ask(t: &TestApp, user: &str) -> (StatusCode, Option<String>, Value) {
    let resp = t
        .http_as(Some(user), Method::POST, "/api/v1/requests")
        .json(&json!({"package": "device-code", "duration_minutes": 60, "justification": "deploying the CI runner"}))
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let retry = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    (status, retry, resp.json().await.unwrap_or(Value::Null))
}

/// The value of the counter `jitgate_asks_refused_total` of `kind`.
async fn refused_metric(t: &TestApp, kind: &str) -> String {
    metric(t, &format!("jitgate_asks_refused_total{{kind=\"{kind}\"}}"))
        .await
        .unwrap_or_else(|| "missing".into())
}

async fn the_eleventh_request_of_an_hour_is_refused(db: &TestDb) {
    let t = TestApp::spawn(db).await;
    let first = t.clock.now();
    for i in 0..10 {
        let (status, _, body) = ask(&t, DANA).await;
        assert_eq!(status, StatusCode::CREATED, "ask {i}: {body}");
        // Cancels are never refused, and cancelled requests still count.
        let (status, body) = t.cancel(DANA, body["id"].as_str().unwrap()).await;
        assert!(status.is_success(), "{body}");
        t.advance(Duration::minutes(1));
    }
    let (status, retry, body) = ask(&t, DANA).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"]["code"], "too_many_requests", "{body}");
    // The first ask leaves the hour 50 minutes from now.
    assert_eq!(retry.as_deref(), Some("3000"), "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("asked for Device code flow exemption 10 times in the last hour")
            && message.contains("in 50 minutes"),
        "{message}"
    );

    // Refused again: audited once, counted each time.
    t.advance(Duration::seconds(30));
    let (status, retry, _) = ask(&t, DANA).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(retry.as_deref(), Some("2970"));
    let refused = t
        .events(&format!("subject={DANA}&action=request_refused"))
        .await;
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0]["details"]["package"], "device-code");
    assert_eq!(refused[0]["details"]["kind"], "request");
    assert_eq!(refused[0]["details"]["limit"], 10);
    assert_eq!(refused_metric(&t, "request").await, "2");
    assert_eq!(refused_metric(&t, "extension").await, "0");
    assert!(t.verify().await["ok"].as_bool().unwrap_or(true));

    // The form on My access says the same.
    let page = t
        .http_as(Some(DANA), Method::POST, "/requests")
        .form(&[
            ("package", "device-code"),
            ("duration_minutes", "60"),
            ("justification", "deploying the CI runner"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(page.headers()["retry-after"], "2970");
    let html = page.text().await.unwrap();
    assert!(
        html.contains("asked for Device code flow exemption 10 times in the last hour"),
        "{html}"
    );

    // Per person and package: another person, or another package, may still ask.
    let (status, _, body) = ask(&t, RILEY).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = t
        .post(
            DANA,
            "/api/v1/requests",
            json!({"package": "device-code-ticketed", "duration_minutes": 60, "justification": "deploying the CI runner", "ticket": "INC-1"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // Once the first ask has left the hour, one more fits.
    t.clock
        .set(first + Duration::hours(1) + Duration::seconds(1));
    let (status, _, body) = ask(&t, DANA).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// A package whose requesters extend themselves, as far as they like, but only twice an hour.
const SELF_EXTENDING: &str = "max_duration = \"4h\"\nself_extend = true\nmax_extension = \"1d\"\nmax_extensions_per_hour = 2\n";

async fn self_extending(db: &TestDb) -> TestApp {
    TestApp::spawn_configured(db, false, |s| {
        s.replacen("max_duration = \"4h\"\n", SELF_EXTENDING, 1)
    })
    .await
}

async fn extensions_beyond_the_limit_are_refused(db: &TestDb) {
    let t = self_extending(db).await;
    let id = t.granted(DANA, "device-code", 60, MORGAN).await;
    let path = format!("/api/v1/requests/{id}/extend");
    let more = json!({"minutes": 10, "justification": "the migration runs long"});
    for _ in 0..2 {
        let (status, body) = t.post(DANA, &path, more.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        t.advance(Duration::minutes(5));
    }
    let resp = t
        .http_as(Some(DANA), Method::POST, &path)
        .json(&more)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(resp.headers()["retry-after"], "3000");
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("asked to extend Device code flow exemption 2 times in the last hour"),
        "{body}"
    );
    let refused = t
        .events(&format!("request={id}&action=request_refused"))
        .await;
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0]["details"]["kind"], "extension");
    assert_eq!(refused_metric(&t, "extension").await, "1");
}

/// Two replicas (two connection pools on one database), eight self-extensions at once of one
/// grant, limit two: exactly two are granted.
async fn two_replicas_cannot_overshoot_the_limit(db: &TestDb) {
    let t = self_extending(db).await;
    let id = t.granted(DANA, "device-code", 60, MORGAN).await;
    let settings = Arc::new(t.settings());
    let mut replicas = Vec::new();
    for _ in 0..2 {
        let store = jitgate::store::connect(&settings.database_url)
            .await
            .unwrap();
        let directory = Arc::new(jitgate::graph::GraphClient::new(
            jitgate::graph::GraphSettings::from_settings(&settings),
            reqwest::Client::new(),
        ));
        replicas.push(jitgate::service::Portal::new(
            settings.clone(),
            store,
            directory,
            t.clock.clone(),
        ));
    }
    let dana = principal(DANA, &["Developer"]);
    let id = jitgate::domain::RequestId::parse(&id).unwrap();
    let asks = (0..8).map(|i| {
        let p = replicas[i % 2].clone();
        let (dana, id) = (dana.clone(), id.clone());
        tokio::spawn(async move {
            p.extend(
                &dana,
                &id,
                jitgate::service::ExtendInput {
                    minutes: 10,
                    justification: "the migration runs long".into(),
                },
            )
            .await
            .map_err(|e| e.status().as_u16())
        })
    });
    let mut answers = Vec::new();
    for a in asks.collect::<Vec<_>>() {
        answers.push(a.await.unwrap().map(|_| 201u16).unwrap_or_else(|s| s));
    }
    answers.sort();
    assert_eq!(answers, [201, 201, 429, 429, 429, 429, 429, 429]);
    let refused = t
        .events(&format!("request={id}&action=request_refused"))
        .await;
    assert_eq!(refused.len(), 1, "{refused:?}");
}

const FROM: &str = "alex@jitgate-demo.onmicrosoft.com";
const MORGAN_MAIL: &str = "morgan@jitgate-demo.onmicrosoft.com";

/// The messages Morgan (an approver) received whose subject contains `about`.
fn morgan_mail(t: &TestApp, about: &str) -> Vec<jitgate::emulator::SentMail> {
    t.emulator
        .mail()
        .into_iter()
        .filter(|m| m.subject.contains(about) && m.recipients().any(|r| r == MORGAN_MAIL))
        .collect()
}

/// Dana asks three times within a minute (cancelling in between): the deciders get the first
/// at once, the other two together a minute after it; Riley's request meanwhile is not held.
async fn deciders_get_one_mail_a_minute_about_the_same_person(db: &TestDb) {
    let t = TestApp::spawn_configured(db, false, |s| {
        format!("{s}\n[notify]\nemail_from = \"{FROM}\"\n")
    })
    .await;
    let first = t.request(DANA, "device-code", 60).await;
    eventually("the first mail about Dana, recorded", || async {
        morgan_mail(&t, "Dana Developer").len() == 1
            && !t
                .events(&format!("request={first}&action=notification_sent"))
                .await
                .is_empty()
    })
    .await;
    let mut later: Vec<String> = Vec::new();
    for _ in 0..2 {
        t.advance(Duration::seconds(10));
        let (status, body) = t.cancel(DANA, later.last().unwrap_or(&first)).await;
        assert!(status.is_success(), "{body}");
        later.push(t.request(DANA, "device-code", 60).await);
    }
    t.request(RILEY, "device-code", 60).await;
    eventually("Riley's request, not held back", || async {
        morgan_mail(&t, "Riley").len() == 1
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        morgan_mail(&t, "Dana Developer").len(),
        1,
        "held back within the minute"
    );

    // The minute is over: one digest with both.
    t.advance(Duration::seconds(41));
    eventually("the digest", || async {
        morgan_mail(&t, "Dana Developer").len() == 2
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let mail = morgan_mail(&t, "Dana Developer");
    assert_eq!(mail.len(), 2, "{mail:?}");
    let digest = &mail[1];
    assert_eq!(
        digest.subject, "2 messages about Dana Developer",
        "{digest:?}"
    );
    for id in &later {
        assert!(
            digest.body.contains(&format!("/requests/{id}")),
            "{}",
            digest.body
        );
    }
    // On the portal's clock: the digest went out a minute after the first.
    let t = &t;
    let sent_at = |id: String| async move {
        let e = t
            .events(&format!("request={id}&action=notification_sent"))
            .await;
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(
            e[0]["details"]["recipients"].as_array().map(Vec::len),
            Some(2)
        );
        (at(&e[0]["at"]), e[0]["details"]["digest_of"].clone())
    };
    let (first_at, alone) = sent_at(first.clone()).await;
    assert_eq!(alone, Value::Null);
    for id in &later {
        let (digest_at, together) = sent_at(id.clone()).await;
        assert_eq!(together, 2);
        assert!(
            digest_at - first_at >= Duration::minutes(1),
            "{first_at} then {digest_at}"
        );
    }
}

on_both_databases! {
    digest => deciders_get_one_mail_a_minute_about_the_same_person;
    eleventh_request => the_eleventh_request_of_an_hour_is_refused;
    extension_limit => extensions_beyond_the_limit_are_refused;
    replicas => two_replicas_cannot_overshoot_the_limit;
}
