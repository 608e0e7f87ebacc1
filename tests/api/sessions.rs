//! Browser sessions (issue 8, items 2, 7 and 11): an absolute lifetime, roles and account state
//! read again from the directory, sign-ins that store nothing until they succeed, and sessions
//! written only when they change.

use jitgate::emulator::Fault;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::auth::{me, pick_user, signed_in};
use crate::common::html::browser;
use crate::helpers::*;
use crate::on_both_databases;

/// Rows in the session table, and their expiry times as text.
async fn session_rows(t: &TestApp) -> Vec<String> {
    let url = t.settings().database_url;
    if url.starts_with("sqlite") {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query_scalar("SELECT CAST(expiry_date AS TEXT) FROM tower_sessions ORDER BY id")
            .fetch_all(&mut c)
            .await
            .unwrap()
    } else {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::query_scalar(
            "SELECT CAST(expiry_date AS TEXT) FROM tower_sessions.session ORDER BY id",
        )
        .fetch_all(&mut c)
        .await
        .unwrap()
    }
}

async fn roles(t: &TestApp, b: &reqwest::Client) -> Option<Value> {
    let r = me(t, b, None).await;
    if r.status() == StatusCode::UNAUTHORIZED {
        return None;
    }
    let v: Value = r.json().await.unwrap();
    Some(v["roles"].clone())
}

/// Approves `id` with the browser session `b` (the JSON API takes the session cookie too).
async fn approve_with(t: &TestApp, b: &reqwest::Client, id: &str) -> StatusCode {
    b.post(format!("{}/api/v1/requests/{id}/approve", t.url))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .status()
}

/// A session ends `session_max` after sign-in, however active it stays.
async fn sessions_have_an_absolute_lifetime(t: &mut TestApp) {
    let b = signed_in(t, DANA).await;
    for _ in 0..5 {
        t.advance(chrono::Duration::hours(2) + chrono::Duration::minutes(23));
        assert!(roles(t, &b).await.is_some(), "still within 12 hours");
    }
    t.advance(chrono::Duration::minutes(5));
    assert_eq!(roles(t, &b).await, None, "12 hours after sign-in");
    let r = b.get(format!("{}/approvals", t.url)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(redirect_to(&r).starts_with("/auth/login"));
    assert!(
        session_rows(t).await.is_empty(),
        "the ended session is deleted"
    );
}

/// A role removed in Entra stops working at the next check (`role_refresh`); a disabled
/// account is signed out, and cannot sign in again.
async fn roles_are_read_again(t: &mut TestApp) {
    let morgan = signed_in(t, MORGAN).await;
    let jordan = signed_in(t, JORDAN).await;
    assert_eq!(roles(t, &morgan).await, Some(json!(["approver"])));
    let first = t.request(DANA, "device-code", 60).await;
    let second = t.request(RILEY, "device-code", 60).await;

    t.emulator.set_roles(MORGAN, &[]);
    t.emulator.set_account_enabled(JORDAN, false);
    t.advance(chrono::Duration::minutes(14));
    assert_eq!(
        roles(t, &morgan).await,
        Some(json!(["approver"])),
        "not yet read again"
    );
    assert_eq!(approve_with(t, &morgan, &first).await, StatusCode::OK);

    t.advance(chrono::Duration::minutes(1));
    assert_eq!(roles(t, &morgan).await, Some(json!([])), "read again");
    assert_eq!(
        approve_with(t, &morgan, &second).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        roles(t, &jordan).await,
        None,
        "a disabled account is signed out"
    );
    assert_eq!(
        approve_with(t, &jordan, &second).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(t.status_of(&second).await["status"], "pending");

    // A role given back comes back at the next check, without signing in again.
    t.emulator.set_roles(MORGAN, &["Approver"]);
    t.advance(chrono::Duration::minutes(15));
    assert_eq!(roles(t, &morgan).await, Some(json!(["approver"])));

    // The disabled account cannot sign in again.
    let b = browser();
    let r = b.get(format!("{}/auth/login", t.url)).send().await.unwrap();
    let r = pick_user(t, &b, &redirect_to(&r), JORDAN).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("AADSTS50057"));
}

/// While the directory cannot be read, roles are kept for one more interval, then only what
/// needs no role is left until a reading succeeds.
async fn roles_survive_a_short_outage_only(t: &mut TestApp) {
    let morgan = signed_in(t, MORGAN).await;
    t.emulator
        .inject(Fault::new(503, 1000).path_contains("servicePrincipals"));
    t.advance(chrono::Duration::minutes(16));
    assert_eq!(roles(t, &morgan).await, Some(json!(["approver"])), "kept");
    t.advance(chrono::Duration::minutes(15));
    assert_eq!(
        roles(t, &morgan).await,
        Some(json!([])),
        "two intervals without a reading"
    );
    t.emulator.clear_faults();
    t.advance(chrono::Duration::minutes(1));
    assert_eq!(
        roles(t, &morgan).await,
        Some(json!(["approver"])),
        "read again"
    );
}

/// Bearer tokens follow the directory too (issue 19, part 9): a token keeps the roles it was
/// issued with for an hour, but a removed approver stops deciding with it at the next check
/// (`role_refresh`), a disabled account's token is refused, whatever the client.
async fn bearer_tokens_follow_the_directory(t: &mut TestApp) {
    let morgan = t.token(MORGAN);
    let jordan = t.token(JORDAN);
    let approve = |token: String, id: String| {
        let req = t
            .http
            .post(format!("{}/api/v1/requests/{id}/approve", t.url))
            .bearer_auth(token)
            .json(&json!({}));
        async move { req.send().await.unwrap().status() }
    };
    let first = t.request(DANA, "device-code", 60).await;
    let second = t.request(RILEY, "device-code", 60).await;
    assert_eq!(approve(jordan.clone(), first.clone()).await, StatusCode::OK);

    t.emulator.set_roles(MORGAN, &[]);
    t.emulator.set_account_enabled(JORDAN, false);
    t.advance(chrono::Duration::minutes(16));
    assert_eq!(
        approve(morgan.clone(), second.clone()).await,
        StatusCode::FORBIDDEN,
        "the same token, its role removed in Entra"
    );
    assert_eq!(
        approve(jordan.clone(), second.clone()).await,
        StatusCode::UNAUTHORIZED,
        "the same token, its account disabled"
    );
    assert_eq!(t.status_of(&second).await["status"], "pending");

    // A role given back works again at the next check, with the same token.
    t.emulator.set_roles(MORGAN, &["Approver"]);
    t.advance(chrono::Duration::minutes(16));
    assert_eq!(approve(morgan, second).await, StatusCode::OK);
}

/// Starting a sign-in writes nothing: a flood of them leaves the session table empty.
async fn starting_sign_ins_stores_nothing(t: &mut TestApp) {
    let flood = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut seen = std::collections::HashSet::new();
    for _ in 0..300 {
        let r = flood
            .get(format!("{}/auth/login?return_to=%2Frequests", t.url))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_redirection());
        seen.insert(redirect_to(&r));
    }
    assert_eq!(seen.len(), 300, "every sign-in has its own state");
    assert!(session_rows(t).await.is_empty(), "no session rows");
    // Sign-ins still work, and make exactly one session each.
    let _b = signed_in(t, DANA).await;
    assert_eq!(session_rows(t).await.len(), 1);
}

/// A session is written when its content changes, or when a minute has passed (sliding the
/// inactivity expiry); page views in between write nothing.
async fn sessions_are_written_only_when_needed(t: &mut TestApp) {
    let b = signed_in(t, MORGAN).await;
    // The first page shows (and so removes) the sign-in message: one write.
    let home = b.get(format!("{}/", t.url)).send().await.unwrap();
    assert_eq!(home.status(), StatusCode::OK);
    let written = session_rows(t).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    for path in ["/", "/approvals", "/api/v1/me", "/api/v1/requests"] {
        let r = b.get(format!("{}{path}", t.url)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert!(
            r.headers().get("set-cookie").is_none(),
            "{path} sets no cookie"
        );
    }
    assert_eq!(
        session_rows(t).await,
        written,
        "no writes within the minute"
    );
    t.advance(chrono::Duration::seconds(61));
    let r = b.get(format!("{}/", t.url)).send().await.unwrap();
    assert!(r.headers().get("set-cookie").is_some(), "the expiry slides");
    assert_ne!(session_rows(t).await, written, "written after a minute");
}

/// Idle expiry honours activity to within a tenth of `session_idle` (issue 19, part 9): a
/// session idle for a minute at most stays while it is used every 20 seconds, and ends a minute
/// after its last use, on the portal's clock.
async fn idle_sessions_end_and_used_ones_stay(db: &crate::common::db::TestDb) {
    let mut t = TestApp::spawn_configured(db, false, |s| {
        format!("[server]\nsession_idle = \"1m\"\n{s}")
    })
    .await;
    let b = signed_in(&t, DANA).await;
    for _ in 0..6 {
        t.advance(chrono::Duration::seconds(20));
        assert!(roles(&t, &b).await.is_some(), "used every 20 seconds");
    }
    t.advance(chrono::Duration::seconds(55));
    assert!(roles(&t, &b).await.is_some(), "55 seconds idle");
    t.advance(chrono::Duration::seconds(61));
    assert_eq!(roles(&t, &b).await, None, "61 seconds idle");
    t.stop().await;
}

on_both_databases! {
    idle => idle_sessions_end_and_used_ones_stay;
}

on_both_databases! {
    with TestApp;
    bearer_roles => bearer_tokens_follow_the_directory;
    absolute_lifetime => sessions_have_an_absolute_lifetime;
    role_refresh => roles_are_read_again;
    role_outage => roles_survive_a_short_outage_only;
    login_flood => starting_sign_ins_stores_nothing;
    session_writes => sessions_are_written_only_when_needed;
}
