//! Extensions without a gap (issue 9): a requester with an active grant asks for more time;
//! the end moves only when approved, the membership is never removed and added again in
//! between, and a decision after the end finds the grant ended as before.

use chrono::Duration;
use serde_json::{Value, json};

use crate::common::db::TestDb;
use crate::helpers::*;
use crate::on_both_databases;

const WHY: &str = "the database migration runs longer than planned";

async fn extend(t: &TestApp, user: &str, id: &str, minutes: i64) -> (reqwest::StatusCode, Value) {
    t.post(
        user,
        &format!("/api/v1/requests/{id}/extend"),
        json!({"minutes": minutes, "justification": WHY}),
    )
    .await
}

async fn decide(
    t: &TestApp,
    user: &str,
    id: &str,
    verb: &str,
    comment: Option<&str>,
) -> (reqwest::StatusCode, Value) {
    let body = match comment {
        Some(c) => json!({ "comment": c }),
        None => json!({}),
    };
    t.post(
        user,
        &format!("/api/v1/requests/{id}/extension/{verb}"),
        body,
    )
    .await
}

async fn ends_at(t: &TestApp, id: &str) -> chrono::DateTime<chrono::FixedOffset> {
    at(&t.status_of(id).await["ends_at"])
}

/// The emulator's membership writes for Dana: one addition, and no removal until the end.
fn dana_writes(t: &TestApp) -> Vec<String> {
    t.emulator
        .graph_requests()
        .iter()
        .filter(|c| c.path.contains("/members") && c.method != "GET")
        .map(|c| c.method.clone())
        .collect()
}

async fn approved_before_the_end_moves_it_without_a_gap(db: &TestDb) {
    let t = TestApp::spawn(db).await;
    let id = t.granted(DANA, "device-code", 60, MORGAN).await;
    wait_added(&t, &id).await;
    let end = ends_at(&t, &id).await;

    t.advance(Duration::minutes(50));
    let (status, body) = extend(&t, DANA, &id, 60).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["extension"]["status"], "pending");
    assert_eq!(
        ends_at(&t, &id).await,
        end,
        "the end moves only when approved"
    );
    // A second one while the first waits: refused.
    let (status, body) = extend(&t, DANA, &id, 15).await;
    assert_eq!(status, 409, "{body}");
    // The requester cannot approve it; another person's grant cannot be extended.
    assert_eq!(decide(&t, DANA, &id, "approve", None).await.0, 403);
    assert_eq!(extend(&t, RILEY, &id, 30).await.0, 403);

    let (status, body) = decide(&t, JORDAN, &id, "approve", Some("fine")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["extension"]["status"], "approved");
    assert_eq!(ends_at(&t, &id).await, end + Duration::minutes(60));

    // Past the original end: still a member, no removal happened.
    t.advance(Duration::minutes(20));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(t.status_of(&id).await["status"], "active");
    assert!(t.is_member(DANA));
    assert_eq!(dana_writes(&t), ["POST"], "one continuous membership");

    // At the new end it ends as any grant does.
    t.advance(Duration::minutes(50));
    wait_removed(&t, &id).await;
    assert_eq!(t.status_of(&id).await["status"], "expired");
    assert_eq!(dana_writes(&t), ["POST", "DELETE"]);
    let actions = t.audit_actions(&id).await;
    for a in ["extension_requested", "extension_approved", "grant_expired"] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
    let listed = t
        .get(AVERY, &format!("/api/v1/requests/{id}/extensions"))
        .await;
    assert_eq!(listed["extensions"].as_array().unwrap().len(), 1);
    assert_eq!(listed["extensions"][0]["approvals"][0]["comment"], "fine");
}

async fn a_decision_after_the_end_finds_the_grant_ended(db: &TestDb) {
    let t = TestApp::spawn(db).await;
    let id = t.granted(DANA, "device-code", 30, MORGAN).await;
    wait_added(&t, &id).await;
    assert_eq!(extend(&t, DANA, &id, 30).await.0, 201);
    t.advance(Duration::minutes(30));
    wait_removed(&t, &id).await;
    let (status, body) = decide(&t, JORDAN, &id, "approve", None).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(t.status_of(&id).await["status"], "expired");
    let listed = t
        .get(DANA, &format!("/api/v1/requests/{id}/extensions"))
        .await;
    assert_eq!(listed["extensions"][0]["status"], "lapsed");
    assert!(
        t.audit_actions(&id)
            .await
            .contains(&"extension_lapsed".to_string())
    );
    // Once ended, nothing more can be asked.
    assert_eq!(extend(&t, DANA, &id, 30).await.0, 409);
}

async fn denied_and_over_the_limit(db: &TestDb) {
    let t = TestApp::spawn(db).await;
    let id = t.granted(DANA, "device-code", 120, MORGAN).await;
    let end = ends_at(&t, &id).await;
    // The shortest extension is 5 minutes (issue 19, item 11): the refusal says so, and so
    // does the request's page beside its form.
    let shortest = jitgate::domain::extension::EXTENSION_MIN_MINUTES;
    assert_eq!(shortest, 5);
    let (status, body) = extend(&t, DANA, &id, shortest - 1).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["fields"][0]["field"], "minutes", "{body}");
    assert!(
        body["error"]["fields"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("at least 5 minutes")),
        "{body}"
    );
    let page = t
        .fetch(Some(DANA), &format!("/requests/{id}"))
        .await
        .text()
        .await
        .unwrap();
    let form = page
        .split(r#"<form class="extend""#)
        .nth(1)
        .and_then(|f| f.split("</form>").next())
        .unwrap_or_else(|| panic!("no extend form: {page}"));
    assert!(
        form.contains("At least 5 minutes") && form.contains(r#"aria-describedby="extend-help""#),
        "{form}"
    );
    // 4h from the start at most: 120 more minutes, not 121.
    let (status, body) = extend(&t, DANA, &id, 121).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["fields"][0]["field"], "minutes", "{body}");
    let (status, body) = t
        .post(
            DANA,
            &format!("/api/v1/requests/{id}/extend"),
            json!({"minutes": 30, "justification": "more"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(extend(&t, DANA, &id, 120).await.0, 201);
    // A denial needs a reason, and leaves the end alone.
    assert_eq!(decide(&t, JORDAN, &id, "deny", None).await.0, 422);
    let (status, body) = decide(&t, JORDAN, &id, "deny", Some("ask again tomorrow")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["extension"]["status"], "denied");
    assert_eq!(ends_at(&t, &id).await, end);
    assert!(
        t.audit_actions(&id)
            .await
            .contains(&"extension_denied".to_string())
    );
    // Nothing waits any more.
    assert_eq!(decide(&t, JORDAN, &id, "approve", None).await.0, 409);
}

async fn self_extension_takes_effect_at_once(db: &TestDb) {
    let t = TestApp::spawn_configured(db, false, |s| {
        s.replacen(
            "max_duration = \"4h\"\n",
            "max_duration = \"4h\"\nself_extend = true\nmax_extension = \"1h\"\n",
            1,
        )
    })
    .await;
    let id = t.granted(DANA, "device-code", 240, MORGAN).await;
    let end = ends_at(&t, &id).await;
    let (status, body) = extend(&t, DANA, &id, 60).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["extension"]["status"], "approved");
    assert_eq!(ends_at(&t, &id).await, end + Duration::minutes(60));
    let approved = event_details(&t, &id, "extension_approved").await;
    assert_eq!(approved["self_extend"], true);
    // The limit is max_duration plus max_extension from the start: nothing more.
    assert_eq!(extend(&t, DANA, &id, 5).await.0, 422);
}

on_both_databases! {
    extended_without_a_gap => approved_before_the_end_moves_it_without_a_gap;
    late_extension_lapses => a_decision_after_the_end_finds_the_grant_ended;
    extension_denied_or_too_long => denied_and_over_the_limit;
    self_extension => self_extension_takes_effect_at_once;
}
