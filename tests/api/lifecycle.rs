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
    assert_eq!(
        at(&r["ends_at"]),
        approved_at + Duration::minutes(120),
        "the clock starts at approval"
    );

    wait_in_group(t, DANA).await;
    wait_added(t, &id).await;

    // Not a moment early.
    t.advance(Duration::minutes(119));
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(t.status_of(&id).await["status"], "active");
    assert!(t.is_member(DANA));

    t.advance(Duration::minutes(1));
    wait_status(t, &id, "expired").await;
    wait_out_of_group(t, DANA).await;
    wait_removed(t, &id).await;

    assert_eq!(
        t.audit_actions(&id).await,
        [
            "request_created",
            "request_approved",
            "grant_activated",
            "membership_added",
            "membership_verified",
            "grant_expired",
            "membership_removed",
            "membership_verified"
        ]
    );
    let verified = t
        .events(&format!("request={id}&action=membership_verified"))
        .await;
    assert_eq!(
        verified[0]["details"]["member_seen"], false,
        "after the removal"
    );
    assert_eq!(
        verified[1]["details"]["member_seen"], true,
        "after the addition"
    );
    let v = t.verify().await;
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["first_bad_seq"], serde_json::Value::Null);
    assert_eq!(v["events"], 8);
}

async fn deny(t: &mut TestApp) {
    let id = t.request(DANA, "device-code", 60).await;
    let v = t
        .deny(MORGAN, &id, None)
        .await
        .expect_status(StatusCode::UNPROCESSABLE_ENTITY, "a denial needs a reason");
    assert_eq!(v["error"]["code"], "invalid_request");
    let v = t
        .deny(MORGAN, &id, Some("not during the freeze"))
        .await
        .expect_status(StatusCode::OK, "denying with a reason");
    assert_eq!(v["status"], "denied");
    assert_eq!(v["approvals"][0]["decision"], "denied");
    assert_eq!(v["approvals"][0]["comment"], "not during the freeze");
    t.try_approve(JORDAN, &id)
        .await
        .expect_status(StatusCode::CONFLICT, "a denied request cannot be approved");
    assert_eq!(t.member_writes(), 0);
    assert_eq!(
        t.audit_actions(&id).await,
        ["request_created", "request_denied"]
    );
}

async fn cancel(t: &mut TestApp) {
    let id = t.request(DANA, "device-code", 60).await;
    t.cancel(RILEY, &id)
        .await
        .expect_status(StatusCode::FORBIDDEN, "someone else's request");
    t.cancel(MORGAN, &id)
        .await
        .expect_status(StatusCode::FORBIDDEN, "an approver cannot cancel it either");
    let v = t
        .cancel(DANA, &id)
        .await
        .expect_status(StatusCode::OK, "the requester cancels");
    assert_eq!(v["status"], "cancelled");
    t.cancel(DANA, &id)
        .await
        .expect_status(StatusCode::CONFLICT, "cancelled twice");

    // An approved grant with a later start can be cancelled before it starts; nobody is ever added.
    let starts = t.clock.now() + Duration::hours(3);
    let id = t
        .create(DANA, json!({"package": "device-code", "duration_minutes": 60, "justification": "maintenance window tonight", "starts_at": starts}))
        .await;
    assert_eq!(t.approve(MORGAN, &id).await["status"], "approved");
    let v = t
        .cancel(DANA, &id)
        .await
        .expect_status(StatusCode::OK, "cancelled before the start");
    assert_eq!(v["status"], "cancelled");
    t.advance(Duration::hours(4));
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(t.member_writes(), 0);
    assert_eq!(t.status_of(&id).await["status"], "cancelled");
}

async fn later_start(t: &mut TestApp) {
    let starts = t.clock.now() + Duration::hours(1);
    let id = t
        .create(DANA, json!({"package": "device-code", "duration_minutes": 30, "justification": "maintenance window tonight", "starts_at": starts}))
        .await;
    let r = t.approve(MORGAN, &id).await;
    assert_eq!(r["status"], "approved");
    assert_eq!(at(&r["starts_at"]), starts);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(!t.is_member(DANA));
    t.advance(Duration::hours(1));
    wait_status(t, &id, "active").await;
    wait_in_group(t, DANA).await;
    t.advance(Duration::minutes(30));
    wait_status(t, &id, "expired").await;
    wait_out_of_group(t, DANA).await;
}

async fn end_early_and_revoke(t: &mut TestApp) {
    let id = t.granted(DANA, "device-code", 120, MORGAN).await;
    t.advance(Duration::minutes(10));
    t.end(MORGAN, &id, None).await.expect_status(
        StatusCode::FORBIDDEN,
        "an approver cannot end someone's grant",
    );
    let v = t
        .end(DANA, &id, Some("done already"))
        .await
        .expect_status(StatusCode::OK, "the requester ends it");
    assert_eq!(v["status"], "ended");
    assert_eq!(at(&v["ends_at"]), t.clock.now(), "ends_at is when it ended");
    wait_out_of_group(t, DANA).await;
    assert!(
        t.audit_actions(&id)
            .await
            .contains(&"grant_ended".to_string())
    );

    let id = t.granted(RILEY, "device-code", 120, JORDAN).await;
    t.end(ALEX, &id, Some("not mine")).await.expect_status(
        StatusCode::FORBIDDEN,
        "end is for one's own grant; an admin revokes",
    );
    t.revoke(ALEX, &id, None).await.expect_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        "a revocation needs a reason",
    );
    t.revoke(MORGAN, &id, Some("not an admin"))
        .await
        .expect_status(StatusCode::FORBIDDEN, "only admins revoke");
    let v = t
        .revoke(ALEX, &id, Some("suspicious sign-ins"))
        .await
        .expect_status(StatusCode::OK, "an admin revokes it");
    assert_eq!(v["status"], "revoked");
    assert_eq!(v["close_reason"], "suspicious sign-ins");
    wait_out_of_group(t, RILEY).await;
    t.revoke(ALEX, &id, Some("again"))
        .await
        .expect_status(StatusCode::CONFLICT, "revoked twice");
    let revoked = t
        .events(&format!("request={id}&action=grant_revoked"))
        .await;
    assert_eq!(revoked[0]["actor"]["id"], ALEX);
    assert_eq!(revoked[0]["details"]["reason"], "suspicious sign-ins");
}

async fn pending_requests_time_out(t: &mut TestApp) {
    let id = t.request(DANA, "device-code", 60).await;
    t.advance(Duration::hours(23));
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(t.status_of(&id).await["status"], "pending");
    t.advance(Duration::hours(1));
    wait_status(t, &id, "timed_out").await;
    t.try_approve(MORGAN, &id).await.expect_status(
        StatusCode::CONFLICT,
        "a timed out request cannot be approved",
    );
    assert_eq!(
        t.audit_actions(&id).await,
        ["request_created", "request_timed_out"]
    );
    // Closed, so a new request is welcome.
    t.request(DANA, "device-code", 60).await;
}

async fn nobody_approves_their_own_request(t: &mut TestApp) {
    let id = t.request(MORGAN, "device-code", 60).await;
    let v = t
        .try_approve(MORGAN, &id)
        .await
        .expect_status(StatusCode::FORBIDDEN, "approving one's own request");
    assert_eq!(v["error"]["code"], "forbidden");
    t.try_approve(RILEY, &id)
        .await
        .expect_status(StatusCode::FORBIDDEN, "a plain requester may not decide");
    t.try_approve(AVERY, &id).await.expect_status(
        StatusCode::FORBIDDEN,
        "an auditor sees it but may not decide",
    );
    assert_eq!(t.status_of(&id).await["status"], "pending");
    assert_eq!(t.audit_actions(&id).await, ["request_created"]);
    t.approve(JORDAN, &id).await;
}

async fn two_approvals_and_the_manager(t: &mut TestApp) {
    let id = t
        .create(DANA, json!({"package": "device-code-ticketed", "duration_minutes": 60, "justification": "prod incident, need az cli on the jump box", "ticket": "INC-77"}))
        .await;
    let r = t.approve(JORDAN, &id).await;
    assert_eq!(r["status"], "pending", "one of two approvals");
    t.try_approve(JORDAN, &id)
        .await
        .expect_status(StatusCode::CONFLICT, "the same approver twice");
    // Morgan is Dana's manager (and an approver); the approver may shorten, never lengthen.
    t.act(MORGAN, &id, "approve", json!({"duration_minutes": 90}))
        .await
        .expect_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            "approving longer than asked",
        );
    let r = t
        .act(MORGAN, &id, "approve", json!({"duration_minutes": 30}))
        .await
        .expect_status(StatusCode::OK, "approving shorter than asked");
    assert_eq!(r["status"], "active");
    assert_eq!(r["duration_minutes"], 30);
    assert_eq!(r["approvals"].as_array().unwrap().len(), 2);
}

async fn a_restart_catches_up(t: &mut TestApp) {
    let id = t.granted(DANA, "device-code", 60, MORGAN).await;
    t.stop().await;
    // The grant expires while nothing is running.
    t.advance(Duration::hours(3));
    assert!(t.is_member(DANA));
    t.start_again().await;
    wait_status(t, &id, "expired").await;
    wait_out_of_group(t, DANA).await;
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
    // Removed with the last grant.
    wait_out_of_group(t, DANA).await;
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
