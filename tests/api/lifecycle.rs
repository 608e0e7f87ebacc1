//! The whole access loop and every way out of it.

use chrono::Duration;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;
use crate::on_both_databases;

async fn happy_path(t: &mut TestApp) {
    let id = t.request(DANA, "device-code", 120).await;
    let r = t.status_of(&id).await;
    assert_eq!(r["status"], "pending");
    assert_eq!(r["requester"]["id"], DANA);
    assert!(!t.is_member(DANA));

    let approved_at = t.clock.now();
    let r = t.approve(MORGAN, &id).await;
    assert_eq!(r["status"], "active");
    assert_eq!(r["approvals"][0]["approver"]["id"], MORGAN);
    assert_eq!(r["approvals"][0]["decision"], "approved");
    let ends_at = chrono::DateTime::parse_from_rfc3339(r["ends_at"].as_str().unwrap()).unwrap();
    assert_eq!(
        ends_at,
        approved_at + Duration::minutes(120),
        "the clock starts at approval"
    );

    eventually("the member to be added", || async { t.is_member(DANA) }).await;
    wait_added(t, &id).await;

    // Not a moment early.
    t.advance(Duration::minutes(119));
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(t.status_of(&id).await["status"], "active");
    assert!(t.is_member(DANA));

    t.advance(Duration::minutes(1));
    wait_status(t, &id, "expired").await;
    eventually("the member to be removed", || async { !t.is_member(DANA) }).await;
    wait_removed(t, &id).await;

    assert_eq!(
        t.audit_actions(&id).await,
        [
            "request_created",
            "request_approved",
            "grant_activated",
            "membership_added",
            "grant_expired",
            "membership_removed"
        ]
    );
    let v = t.verify().await;
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["first_bad_seq"], serde_json::Value::Null);
    assert_eq!(v["events"], 6);
}

async fn deny(t: &mut TestApp) {
    let id = t.request(DANA, "device-code", 60).await;
    let (s, v) = t.act(MORGAN, &id, "deny", json!({})).await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a denial needs a reason: {v}"
    );
    assert_eq!(v["error"]["code"], "invalid_request");
    let (s, v) = t
        .act(
            MORGAN,
            &id,
            "deny",
            json!({"comment": "not during the freeze"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "denied");
    assert_eq!(v["approvals"][0]["decision"], "denied");
    assert_eq!(v["approvals"][0]["comment"], "not during the freeze");
    let (s, _) = t.act(JORDAN, &id, "approve", json!({})).await;
    assert_eq!(
        s,
        StatusCode::CONFLICT,
        "a denied request cannot be approved"
    );
    assert_eq!(t.member_writes(), 0);
    assert_eq!(
        t.audit_actions(&id).await,
        ["request_created", "request_denied"]
    );
}

async fn cancel(t: &mut TestApp) {
    let id = t.request(DANA, "device-code", 60).await;
    let (s, _) = t.act(RILEY, &id, "cancel", json!({})).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "someone else's request");
    let (s, _) = t.act(MORGAN, &id, "cancel", json!({})).await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "an approver cannot cancel it either"
    );
    let (s, v) = t.act(DANA, &id, "cancel", json!({})).await;
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::OK, Some("cancelled"))
    );
    let (s, _) = t.act(DANA, &id, "cancel", json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT);

    // An approved grant with a later start can be cancelled before it starts; nobody is ever added.
    let starts = t.clock.now() + Duration::hours(3);
    let (s, v) = t
        .post(DANA, "/api/v1/requests", json!({"package": "device-code", "duration_minutes": 60, "justification": "maintenance window tonight", "starts_at": starts}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    assert_eq!(t.approve(MORGAN, &id).await["status"], "approved");
    let (s, v) = t.act(DANA, &id, "cancel", json!({})).await;
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::OK, Some("cancelled"))
    );
    t.advance(Duration::hours(4));
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(t.member_writes(), 0);
    assert_eq!(t.status_of(&id).await["status"], "cancelled");
}

async fn later_start(t: &mut TestApp) {
    let starts = t.clock.now() + Duration::hours(1);
    let (_, v) = t
        .post(DANA, "/api/v1/requests", json!({"package": "device-code", "duration_minutes": 30, "justification": "maintenance window tonight", "starts_at": starts}))
        .await;
    let id = v["id"].as_str().unwrap().to_string();
    let r = t.approve(MORGAN, &id).await;
    assert_eq!(r["status"], "approved");
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(r["starts_at"].as_str().unwrap()).unwrap(),
        starts
    );
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(!t.is_member(DANA));
    t.advance(Duration::hours(1));
    wait_status(t, &id, "active").await;
    eventually("the member to be added at the start", || async {
        t.is_member(DANA)
    })
    .await;
    t.advance(Duration::minutes(30));
    wait_status(t, &id, "expired").await;
    eventually("the member to be removed", || async { !t.is_member(DANA) }).await;
}

async fn end_early_and_revoke(t: &mut TestApp) {
    let id = t.request(DANA, "device-code", 120).await;
    t.approve(MORGAN, &id).await;
    wait_added(t, &id).await;
    t.advance(Duration::minutes(10));
    let (s, _) = t.act(MORGAN, &id, "end", json!({})).await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "an approver cannot end someone's grant"
    );
    let (s, v) = t
        .act(DANA, &id, "end", json!({"reason": "done already"}))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "ended");
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(v["ends_at"].as_str().unwrap()).unwrap(),
        t.clock.now(),
        "ends_at is when it ended"
    );
    eventually("removed", || async { !t.is_member(DANA) }).await;
    assert!(
        t.audit_actions(&id)
            .await
            .contains(&"grant_ended".to_string())
    );

    let id = t.request(RILEY, "device-code", 120).await;
    t.approve(JORDAN, &id).await;
    wait_added(t, &id).await;
    let (s, v) = t.act(ALEX, &id, "end", json!({})).await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a revocation needs a reason: {v}"
    );
    let (s, v) = t
        .act(ALEX, &id, "end", json!({"reason": "suspicious sign-ins"}))
        .await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("revoked")));
    assert_eq!(v["close_reason"], "suspicious sign-ins");
    eventually("removed", || async { !t.is_member(RILEY) }).await;
    let (s, _) = t.act(ALEX, &id, "end", json!({"reason": "again"})).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let events = t
        .get(
            AVERY,
            &format!("/api/v1/audit?request={id}&action=grant_revoked"),
        )
        .await;
    assert_eq!(events["events"][0]["actor"]["id"], ALEX);
    assert_eq!(
        events["events"][0]["details"]["reason"],
        "suspicious sign-ins"
    );
}

async fn pending_requests_time_out(t: &mut TestApp) {
    let id = t.request(DANA, "device-code", 60).await;
    t.advance(Duration::hours(23));
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(t.status_of(&id).await["status"], "pending");
    t.advance(Duration::hours(1));
    wait_status(t, &id, "timed_out").await;
    let (s, _) = t.act(MORGAN, &id, "approve", json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(
        t.audit_actions(&id).await,
        ["request_created", "request_timed_out"]
    );
    // Closed, so a new request is welcome.
    t.request(DANA, "device-code", 60).await;
}

async fn nobody_approves_their_own_request(t: &mut TestApp) {
    let id = t.request(MORGAN, "device-code", 60).await;
    let (s, v) = t.act(MORGAN, &id, "approve", json!({})).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(v["error"]["code"], "forbidden");
    let (s, _) = t.act(RILEY, &id, "approve", json!({})).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "a plain requester may not decide");
    let (s, _) = t.act(AVERY, &id, "approve", json!({})).await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "an auditor sees it but may not decide"
    );
    assert_eq!(t.status_of(&id).await["status"], "pending");
    assert_eq!(t.audit_actions(&id).await, ["request_created"]);
    t.approve(JORDAN, &id).await;
}

async fn two_approvals_and_the_manager(t: &mut TestApp) {
    let (s, v) = t
        .post(DANA, "/api/v1/requests", json!({"package": "device-code-ticketed", "duration_minutes": 60, "justification": "prod incident, need az cli on the jump box", "ticket": "INC-77"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    let r = t.approve(JORDAN, &id).await;
    assert_eq!(r["status"], "pending", "one of two approvals");
    let (s, _) = t.act(JORDAN, &id, "approve", json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT, "the same approver twice");
    // Morgan is Dana's manager (and an approver); the approver may shorten, never lengthen.
    let (s, _) = t
        .act(MORGAN, &id, "approve", json!({"duration_minutes": 90}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, r) = t
        .act(MORGAN, &id, "approve", json!({"duration_minutes": 30}))
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["status"], "active");
    assert_eq!(r["duration_minutes"], 30);
    assert_eq!(r["approvals"].as_array().unwrap().len(), 2);
}

async fn a_restart_catches_up(t: &mut TestApp) {
    let id = t.request(DANA, "device-code", 60).await;
    t.approve(MORGAN, &id).await;
    wait_added(t, &id).await;
    t.stop().await;
    // The grant expires while nothing is running.
    t.advance(Duration::hours(3));
    assert!(t.is_member(DANA));
    t.start_again().await;
    wait_status(t, &id, "expired").await;
    eventually("removed after the restart", || async { !t.is_member(DANA) }).await;
    assert_eq!(t.verify().await["ok"], true);
}

async fn membership_is_a_lease(t: &mut TestApp) {
    // Two grants of Dana's for the same group: removing the first must not cut the second.
    let a = t.request(DANA, "device-code", 30).await;
    let b = t.request(DANA, "device-code-ticketed", 120).await;
    t.approve(MORGAN, &a).await;
    t.approve(MORGAN, &b).await;
    t.approve(JORDAN, &b).await;
    wait_added(t, &a).await;
    t.advance(Duration::minutes(30));
    wait_status(t, &a, "expired").await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(t.is_member(DANA), "the other grant keeps the membership");
    assert!(event_details(t, &a, "grant_expired").await["membership_kept"].is_string());
    t.advance(Duration::minutes(90));
    wait_status(t, &b, "expired").await;
    eventually("removed with the last grant", || async {
        !t.is_member(DANA)
    })
    .await;
}

on_both_databases! {
    with TestApp;
    happy => happy_path;
    denied => deny;
    cancelled => cancel;
    scheduled_start => later_start;
    ended_and_revoked => end_early_and_revoke;
    timed_out => pending_requests_time_out;
    self_approval => nobody_approves_their_own_request;
    approvals => two_approvals_and_the_manager;
    restart => a_restart_catches_up;
    lease => membership_is_a_lease;
}
