//! Issue 20, `[[package.auto_approve]]`: rules that approve a request at once, tried in order,
//! recorded as an approval by `policy:<rule name>` with the facts the rule matched on, told like
//! a person's approval; working hours are told in `[server] time_zone`. The quotas still count:
//! a rule cannot take a place that is not free.

use chrono::{Datelike, FixedOffset};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::db::TestDb;
use crate::helpers::*;
use crate::on_both_databases;

const ON_CALL: &str = "7e57a11e-0000-4000-8000-00000000ca11";
const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// In Tokyo (UTC+9, no summer time), now: today and tomorrow (a span that holds even if the
/// test runs across midnight), and the day after tomorrow (one it cannot reach).
fn tokyo_days() -> (String, &'static str) {
    let local = start_time().with_timezone(&FixedOffset::east_opt(9 * 3600).unwrap());
    let today = local.weekday().num_days_from_monday() as usize;
    (
        format!("{},{}", DAYS[today], DAYS[(today + 1) % 7]),
        DAYS[(today + 2) % 7],
    )
}

async fn with_rules(db: &TestDb, extra: &str, rules: &str) -> TestApp {
    let (extra, rules) = (extra.to_string(), rules.to_string());
    TestApp::spawn_configured(db, false, move |s| {
        let s = s.replacen(
            "id = \"device-code\"\n",
            &format!("id = \"device-code\"\n{extra}\n"),
            1,
        );
        // The rules go after the first package's keys: at the end of its table.
        let at = s.find("[[package]]").unwrap();
        let next = s[at + 11..]
            .find("[[package]]")
            .map(|i| at + 11 + i)
            .unwrap_or(s.len());
        format!(
            "[server]\ntime_zone = \"Asia/Tokyo\"\n{}\n{rules}\n{}",
            &s[..next],
            &s[next..]
        )
    })
    .await
}

fn ask(minutes: i64) -> Value {
    json!({"package": "device-code", "duration_minutes": minutes,
        "justification": "paged at night: the queue is stuck"})
}

async fn a_matching_rule_approves_at_once(db: &TestDb) {
    let (now, later) = tokyo_days();
    let rules = format!(
        "[[package.auto_approve]]\nname = \"another-day\"\nhours = \"{later} 00:00-24:00\"\n\n\
         [[package.auto_approve]]\nname = \"on-call\"\ngroups = [\"{ON_CALL}\"]\nmax_duration = \"1h\"\nhours = \"{now} 00:00-24:00\"\n"
    );
    let t = with_rules(db, "", &rules).await;
    // Known before asking.
    let p = t.get(DANA, "/api/v1/packages").await["packages"][0].clone();
    assert_eq!(p["auto_approve"][1]["name"], "on-call", "{p}");
    assert_eq!(p["auto_approve"][1]["time_zone"], "Asia/Tokyo");
    assert!(
        p["rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["rule"] == "auto_approve"
                && r["text"].as_str().unwrap().contains("rule on-call")),
        "{p}"
    );

    // Dana is not on call: the request waits for a person.
    let (s, r) = t.post(DANA, "/api/v1/requests", ask(30)).await;
    assert_eq!(
        (s, r["status"].clone()),
        (StatusCode::CREATED, json!("pending")),
        "{r}"
    );
    t.cancel(DANA, r["id"].as_str().unwrap()).await;

    // On call, within the hours and the duration: approved at once by the rule.
    t.emulator.set_member(ON_CALL, DANA, true);
    let (s, r) = t.post(DANA, "/api/v1/requests", ask(30)).await;
    assert_eq!(
        (s, r["status"].clone()),
        (StatusCode::CREATED, json!("active")),
        "{r}"
    );
    let id = r["id"].as_str().unwrap().to_string();
    wait_in_group(&t, DANA).await;
    // The same ask with a token a device-code sign-in (a phished one too) could hold: a person
    // decides it, whatever the rules.
    t.emulator.set_member(ON_CALL, RILEY, true);
    let requests_token = t.emulator.mint_token(jitgate::emulator::TokenSpec::new(
        RILEY,
        &format!("api://{}", jitgate::emulator::demo::REQUESTS_API_ID),
    ));
    let r2: Value = t
        .http
        .post(format!("{}/api/v1/requests", t.url))
        .bearer_auth(requests_token)
        .json(&ask(30))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r2["status"], "pending", "{r2}");
    let e = t
        .events(&format!("request={id}&action=request_approved"))
        .await[0]
        .clone();
    assert_eq!(e["actor"]["id"], "policy:on-call", "{e}");
    assert_eq!(e["details"]["by_rule"], "on-call");
    assert_eq!(e["details"]["rule_facts"]["time_zone"], "Asia/Tokyo");
    let page = t
        .fetch(Some(DANA), &format!("/requests/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("rule on-call"), "the page says who approved");
    t.end(DANA, &id, None)
        .await
        .expect_status(StatusCode::OK, "ending");

    // Longer than the rule allows: a person decides.
    let (_, r) = t.post(DANA, "/api/v1/requests", ask(90)).await;
    assert_eq!(r["status"], "pending", "{r}");
}

async fn a_rule_cannot_take_a_place_that_is_not_free(db: &TestDb) {
    let t = with_rules(
        db,
        "max_active = 1",
        "[[package.auto_approve]]\nname = \"anyone\"\n",
    )
    .await;
    let (_, r) = t.post(DANA, "/api/v1/requests", ask(30)).await;
    assert_eq!(r["status"], "active", "{r}");
    let (_, r) = t.post(RILEY, "/api/v1/requests", ask(30)).await;
    assert_eq!(r["status"], "pending", "the only place is Dana's: {r}");
    let e = t.events("action=request_refused").await[0].clone();
    assert_eq!(
        (e["details"]["rule"].clone(), e["details"]["stage"].clone()),
        (json!("max_active"), json!("approval")),
        "{e}"
    );
}

on_both_databases! {
    approved_by_rule => a_matching_rule_approves_at_once;
    rule_and_places => a_rule_cannot_take_a_place_that_is_not_free;
}
