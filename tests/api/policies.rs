//! Issue 20, a package's rules on who may hold it, from where and how much: `eligible_groups`
//! (transitively, read from the directory at every stage, again before a scheduled start),
//! `trusted_networks` (requests and decisions), `deny_privileged`, `max_active` and
//! `max_hours_per_user`. Each refusal names its rule in the error body, says why in words, is
//! an audit event `request_refused` and is counted in `jitgate_policy_refusals_total`.

use chrono::Duration;
use jitgate::emulator::RoleGiven;
use jitgate::emulator::demo::{GLOBAL_ADMINISTRATOR, SAM};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::db::TestDb;
use crate::helpers::*;
use crate::on_both_databases;

/// A group of the tenant that only some people are in.
const ON_CALL: &str = "7e57a11e-0000-4000-8000-00000000ca11";

/// The test portal with `rules` added to the `device-code` package (and `server` keys).
async fn with_rules(db: &TestDb, rules: &str, server: &str) -> TestApp {
    let (rules, server) = (rules.to_string(), server.to_string());
    TestApp::spawn_configured(db, false, move |s| {
        let s = s.replacen(
            "id = \"device-code\"\n",
            &format!("id = \"device-code\"\n{rules}\n"),
            1,
        );
        if server.is_empty() {
            s
        } else {
            format!("[server]\n{server}\n{s}")
        }
    })
    .await
}

fn ask(minutes: i64) -> Value {
    json!({"package": "device-code", "duration_minutes": minutes,
        "justification": "deploying the CI runner"})
}

/// `user` posts `body` to `path` as if from `ip` (the portal trusts loopback as its proxy).
async fn post_from(
    t: &TestApp,
    user: &str,
    ip: &str,
    path: &str,
    body: Value,
) -> (StatusCode, Value) {
    let r = t
        .http_as(Some(user), Method::POST, path)
        .header("x-forwarded-for", ip)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// The value of `jitgate_policy_refusals_total` for the package and `rule`.
async fn refusals_counted(t: &TestApp, rule: &str) -> String {
    let series =
        format!("jitgate_policy_refusals_total{{package=\"device-code\",rule=\"{rule}\"}}");
    metric(t, &series).await.unwrap_or_else(|| "0".into())
}

/// The newest `request_refused` event's details.
async fn last_refusal(t: &TestApp) -> Value {
    t.events("action=request_refused").await[0].clone()
}

/// Checks an answer is a refusal by `rule` with `status`, its message containing `words`.
fn refused_by(answer: &(StatusCode, Value), status: StatusCode, rule: &str, words: &str) {
    let (s, body) = answer;
    assert_eq!(*s, status, "{body}");
    assert_eq!(body["error"]["rule"], rule, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains(words), "{message}");
}

async fn only_members_of_eligible_groups_may_hold_the_package(db: &TestDb) {
    let t = with_rules(db, &format!("eligible_groups = [\"{ON_CALL}\"]"), "").await;
    // Known before asking.
    let p = t.get(DANA, "/api/v1/packages").await["packages"][0].clone();
    assert_eq!(p["eligible_groups"], json!([ON_CALL]), "{p}");
    assert_eq!(p["rules"][0]["rule"], "eligible_groups", "{p}");
    let page = t.fetch(Some(DANA), "/").await.text().await.unwrap();
    assert!(page.contains("data-rule=\"eligible_groups\""));

    // Dana is in no eligible group: refused at the request, recorded and counted.
    let a = t.post(DANA, "/api/v1/requests", ask(60)).await;
    refused_by(
        &a,
        StatusCode::FORBIDDEN,
        "eligible_groups",
        "You are not in any of the groups",
    );
    let e = last_refusal(&t).await;
    assert_eq!(e["details"]["rule"], "eligible_groups", "{e}");
    assert_eq!(e["details"]["stage"], "request", "{e}");
    assert_eq!(e["client_ip"], "127.0.0.1", "{e}");
    assert_eq!(refusals_counted(&t, "eligible_groups").await, "1");
    assert!(t.events("action=request_created").await.is_empty());

    // In the group (nested groups are Graph's business: checkMemberGroups is transitive).
    t.emulator.set_member(ON_CALL, DANA, true);
    let id = t.create(DANA, ask(60)).await;
    // Left the group before the approval: the approval is refused and the request waits.
    t.emulator.set_member(ON_CALL, DANA, false);
    let a = t.try_approve(MORGAN, &id).await;
    refused_by(
        &a,
        StatusCode::FORBIDDEN,
        "eligible_groups",
        "is not in any of the groups",
    );
    assert_eq!(t.status_of(&id).await["status"], "pending");
    assert_eq!(last_refusal(&t).await["details"]["stage"], "approval");

    // Back in, approved for a later start; gone again before the start: the grant never starts.
    t.cancel(DANA, &id).await;
    t.emulator.set_member(ON_CALL, DANA, true);
    let starts = t.clock.now() + Duration::hours(2);
    let id = t
        .create(
            DANA,
            json!({"package": "device-code", "duration_minutes": 60,
            "justification": "maintenance window tonight", "starts_at": starts}),
        )
        .await;
    assert_eq!(t.approve(MORGAN, &id).await["status"], "approved");
    t.emulator.set_member(ON_CALL, DANA, false);
    t.advance(Duration::hours(2));
    wait_status(&t, &id, "failed").await;
    let r = t.status_of(&id).await;
    assert!(
        r["close_reason"]
            .as_str()
            .unwrap()
            .starts_with("Not started:"),
        "{r}"
    );
    assert!(!t.is_member(DANA), "never added");
    let e = last_refusal(&t).await;
    assert_eq!(
        (e["details"]["stage"].clone(), e["actor"]["id"].clone()),
        (json!("before_add"), json!("system")),
        "{e}"
    );
    assert_eq!(refusals_counted(&t, "eligible_groups").await, "3");
}

async fn requests_and_decisions_only_from_trusted_networks(db: &TestDb) {
    let t = with_rules(
        db,
        "trusted_networks = [\"203.0.113.0/24\", \"2001:db8::/32\"]",
        "trusted_proxies = [\"127.0.0.1/32\"]",
    )
    .await;
    let p = t.get(DANA, "/api/v1/packages").await["packages"][0].clone();
    assert_eq!(
        p["trusted_networks"],
        json!(["203.0.113.0/24", "2001:db8::/32"])
    );
    let page = t.fetch(Some(DANA), "/").await.text().await.unwrap();
    assert!(page.contains("Asking and deciding only from 203.0.113.0/24, 2001:db8::/32."));

    let a = post_from(&t, DANA, "198.51.100.7", "/api/v1/requests", ask(60)).await;
    refused_by(
        &a,
        StatusCode::FORBIDDEN,
        "trusted_networks",
        "from 198.51.100.7: only from 203.0.113.0/24",
    );
    assert_eq!(last_refusal(&t).await["client_ip"], "198.51.100.7");
    // IPv6 inside: allowed.
    let (s, r) = post_from(&t, DANA, "2001:db8::17", "/api/v1/requests", ask(60)).await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let id = r["id"].as_str().unwrap().to_string();
    // A decision from outside is refused too, a denial as well as an approval.
    let path = format!("/api/v1/requests/{id}/approve");
    let a = post_from(&t, MORGAN, "192.0.2.1", &path, json!({})).await;
    refused_by(
        &a,
        StatusCode::FORBIDDEN,
        "trusted_networks",
        "You cannot decide requests",
    );
    let deny = format!("/api/v1/requests/{id}/deny");
    let a = post_from(&t, MORGAN, "192.0.2.1", &deny, json!({"comment": "no"})).await;
    refused_by(&a, StatusCode::FORBIDDEN, "trusted_networks", "192.0.2.1");
    assert_eq!(t.status_of(&id).await["status"], "pending");
    let (s, r) = post_from(&t, MORGAN, "203.0.113.9", &path, json!({})).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(refusals_counted(&t, "trusted_networks").await, "3");
}

async fn holders_of_directory_roles_are_refused(db: &TestDb) {
    let t = with_rules(db, "", "").await;
    // Sam is eligible for Global Administrator through PIM.
    let a = t.post(SAM, "/api/v1/requests", ask(60)).await;
    refused_by(
        &a,
        StatusCode::FORBIDDEN,
        "deny_privileged",
        "Global Administrator (eligible)",
    );
    // Dana asks; takes up a role before the approval (read again once role_refresh passes).
    let id = t.create(DANA, ask(60)).await;
    t.emulator
        .give_directory_role(DANA, GLOBAL_ADMINISTRATOR, RoleGiven::Active);
    t.advance(Duration::minutes(16));
    let a = t.try_approve(MORGAN, &id).await;
    refused_by(&a, StatusCode::FORBIDDEN, "deny_privileged", "Dana");
    assert_eq!(t.status_of(&id).await["status"], "pending");
    assert_eq!(refusals_counted(&t, "deny_privileged").await, "2");
}

async fn an_exception_is_allowed_and_audited(db: &TestDb) {
    let t = with_rules(db, &format!("privileged_allow = [\"{SAM}\"]"), "").await;
    let id = t.create(SAM, ask(60)).await;
    let created = event_details(&t, &id, "request_created").await;
    assert_eq!(
        created["policy"]["privileged_exception"]["in_words"], "Global Administrator (eligible)",
        "{created}"
    );
    t.approve(MORGAN, &id).await;
    let approved = event_details(&t, &id, "request_approved").await;
    assert!(
        approved["policy"]["privileged_exception"].is_object(),
        "{approved}"
    );
}

async fn no_more_than_max_active_hold_it_at_once(db: &TestDb) {
    let t = with_rules(db, "max_active = 1", "").await;
    let p = t.get(DANA, "/api/v1/packages").await["packages"][0].clone();
    assert_eq!(p["max_active"], 1);
    let dana = t.granted(DANA, "device-code", 30, MORGAN).await;
    // Asking is never refused for places: the request waits for one.
    let riley = t.create(RILEY, ask(60)).await;
    let a = t.try_approve(MORGAN, &riley).await;
    refused_by(
        &a,
        StatusCode::UNPROCESSABLE_ENTITY,
        "max_active",
        "Dana Developer until",
    );
    assert!(
        a.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("The first frees at")
    );
    assert_eq!(t.status_of(&riley).await["status"], "pending");
    // Once Dana's grant is over, the place is free.
    t.advance(Duration::minutes(30));
    wait_removed(&t, &dana).await;
    assert_eq!(t.approve(MORGAN, &riley).await["status"], "active");
    assert_eq!(refusals_counted(&t, "max_active").await, "1");
}

async fn granted_hours_per_person_are_limited(db: &TestDb) {
    let t = with_rules(db, "max_hours_per_user = \"2h/7d\"", "").await;
    let p = t.get(DANA, "/api/v1/packages").await["packages"][0].clone();
    assert_eq!(p["max_hours_per_user"], "2h/7d");
    // 90 minutes granted, ended after 30: 30 minutes count.
    let id = t.granted(DANA, "device-code", 90, MORGAN).await;
    t.advance(Duration::minutes(30));
    t.end(DANA, &id, None)
        .await
        .expect_status(StatusCode::OK, "ending early");
    let a = t.post(DANA, "/api/v1/requests", ask(100)).await;
    refused_by(
        &a,
        StatusCode::UNPROCESSABLE_ENTITY,
        "max_hours_per_user",
        "You have used 30m of 2h in the last 7d; 1h 30m are left, and this asks for 1h 40m.",
    );
    assert_eq!(a.1["error"]["fields"][0]["field"], "duration_minutes");
    // What is left fits; an extension beyond it does not.
    let id = t.granted(DANA, "device-code", 75, MORGAN).await;
    let a = t
        .post(
            DANA,
            &format!("/api/v1/requests/{id}/extend"),
            json!({"minutes": 30, "justification": "the migration runs longer"}),
        )
        .await;
    refused_by(
        &a,
        StatusCode::UNPROCESSABLE_ENTITY,
        "max_hours_per_user",
        "1h 45m of 2h",
    );
    // A week after they ended the old grants have left the window.
    t.advance(Duration::days(7) + Duration::hours(2));
    wait_removed(&t, &id).await;
    let (s, r) = t.post(DANA, "/api/v1/requests", ask(120)).await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    assert_eq!(refusals_counted(&t, "max_hours_per_user").await, "2");
}

async fn a_ticket_of_the_wrong_form_names_its_rule(db: &TestDb) {
    let t = with_rules(db, "ticket_pattern = \"(CHG|INC)[0-9]{7}\"", "").await;
    let mut body = ask(60);
    body["ticket"] = json!("CHG-42");
    let a = t.post(DANA, "/api/v1/requests", body).await;
    refused_by(
        &a,
        StatusCode::UNPROCESSABLE_ENTITY,
        "ticket_pattern",
        "must match",
    );
    assert_eq!(a.1["error"]["fields"][0]["field"], "ticket");
    assert_eq!(last_refusal(&t).await["details"]["rule"], "ticket_pattern");
    assert_eq!(refusals_counted(&t, "ticket_pattern").await, "1");
}

async fn refused_asks_count_toward_the_hours_limit(db: &TestDb) {
    let t = with_rules(
        db,
        &format!("eligible_groups = [\"{ON_CALL}\"]\nmax_requests_per_hour = 2"),
        "",
    )
    .await;
    for _ in 0..2 {
        let a = t.post(DANA, "/api/v1/requests", ask(60)).await;
        refused_by(&a, StatusCode::FORBIDDEN, "eligible_groups", "not in any");
    }
    // The third ask in the hour is not read against the rules, nor recorded as their refusal.
    let (s, body) = t.post(DANA, "/api/v1/requests", ask(60)).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(refusals_counted(&t, "eligible_groups").await, "2");
    let refused = t.events("action=request_refused").await;
    assert_eq!(
        refused.len(),
        3,
        "two by the rule, one by the limit: {refused:#?}"
    );
    // An hour later Dana may ask again.
    t.advance(Duration::minutes(61));
    let a = t.post(DANA, "/api/v1/requests", ask(60)).await;
    refused_by(&a, StatusCode::FORBIDDEN, "eligible_groups", "not in any");
}

on_both_databases! {
    refused_asks_are_limited => refused_asks_count_toward_the_hours_limit;
    eligible_groups => only_members_of_eligible_groups_may_hold_the_package;
    trusted_networks => requests_and_decisions_only_from_trusted_networks;
    deny_privileged => holders_of_directory_roles_are_refused;
    privileged_allow => an_exception_is_allowed_and_audited;
    max_active => no_more_than_max_active_hold_it_at_once;
    max_hours_per_user => granted_hours_per_person_are_limited;
    ticket_pattern => a_ticket_of_the_wrong_form_names_its_rule;
}
