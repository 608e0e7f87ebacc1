//! Microsoft Graph misbehaving: throttling, outages, answers that mean "already done", refusals.

use chrono::Duration;
use jitgate::emulator::{Fault, NotMemberStyle};
use serde_json::Value;

use crate::helpers::*;
use crate::on_both_databases;

/// `status`, `times` times, on the next member additions.
fn on_additions(status: u16, times: u32) -> Fault {
    Fault::new(status, times)
        .method("POST")
        .path_contains("/members/$ref")
}

/// The directory errors recorded about request `id`, oldest first.
async fn errors_of(t: &TestApp, id: &str) -> Vec<Value> {
    let mut e = t
        .events(&format!("request={id}&action=directory_error"))
        .await;
    e.reverse();
    e
}

async fn throttling_and_outages_are_retried(t: &mut TestApp) {
    t.emulator.inject(on_additions(429, 1).retry_after("0.25"));
    t.emulator.inject(on_additions(503, 1));
    let id = t.request(DANA, "device-code", 60).await;
    t.approve(MORGAN, &id).await;

    eventually("the 429 to be recorded", || async {
        errors_of(t, &id).await.len() == 1
    })
    .await;
    let e = &errors_of(t, &id).await[0];
    assert_eq!(
        at(&e["details"]["retry_at"]) - at(&e["at"]),
        Duration::milliseconds(250),
        "Retry-After 0.25 is honoured exactly"
    );
    assert!(!t.is_member(DANA));

    t.advance(Duration::milliseconds(250));
    eventually("the 503 to be recorded", || async {
        errors_of(t, &id).await.len() == 2
    })
    .await;
    assert!(!t.is_member(DANA));
    t.advance(Duration::seconds(5)); // backoff after the second attempt: 4 s ± 20 %
    // Added on the third attempt.
    wait_in_group(t, DANA).await;
    wait_added(t, &id).await;
    assert_eq!(
        event_details(t, &id, "membership_added").await["attempts"],
        3
    );
    assert_eq!(t.status_of(&id).await["status"], "active");
    assert_eq!(t.verify().await["ok"], true);
}

async fn removals_survive_throttling(t: &mut TestApp) {
    let id = t.granted(DANA, "device-code", 15, MORGAN).await;
    t.emulator
        .inject(Fault::new(429, 2).method("DELETE").retry_after("1"));
    t.advance(Duration::minutes(15));
    wait_status(t, &id, "expired").await;
    for _ in 0..2 {
        t.advance(Duration::seconds(1));
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    t.advance(Duration::seconds(1));
    // Removed despite the throttling.
    wait_out_of_group(t, DANA).await;
    assert_eq!(errors_of(t, &id).await.len(), 2);
}

async fn already_member_and_not_member_count_as_done(t: &mut TestApp) {
    // Someone added Dana behind our back: Graph answers 400 "already exist".
    t.emulator.set_member(GROUP, DANA, true);
    let id = t.granted(DANA, "device-code", 30, MORGAN).await;
    assert_eq!(
        event_details(t, &id, "membership_added").await["already_in_effect"],
        true
    );

    // Someone removed Dana behind our back: Graph answers 404 on removal.
    t.emulator.set_member(GROUP, DANA, false);
    t.advance(Duration::minutes(30));
    wait_removed(t, &id).await;
    assert_eq!(
        event_details(t, &id, "membership_removed").await["already_in_effect"],
        true
    );
    assert!(errors_of(t, &id).await.is_empty());

    // The other shape of "not a member": 400 "removed object references do not exist".
    t.emulator
        .set_not_member_style(NotMemberStyle::BadRequest400);
    let id = t.granted(RILEY, "device-code", 30, MORGAN).await;
    t.emulator.set_member(GROUP, RILEY, false);
    t.advance(Duration::minutes(30));
    wait_removed(t, &id).await;
    assert!(errors_of(t, &id).await.is_empty());
}

async fn a_refusal_fails_the_grant(t: &mut TestApp) {
    t.emulator.inject(on_additions(403, 1));
    let id = t.request(DANA, "device-code", 60).await;
    t.approve(MORGAN, &id).await;
    wait_status(t, &id, "failed").await;
    let r = t.status_of(&id).await;
    assert!(r["close_reason"].as_str().unwrap().contains("403"), "{r}");
    // The safety removal runs and finds nothing to remove.
    wait_removed(t, &id).await;
    assert!(!t.is_member(DANA));
    assert_eq!(
        t.audit_actions(&id).await,
        [
            "request_created",
            "request_approved",
            "grant_activated",
            "directory_error",
            "grant_failed",
            "membership_removed"
        ]
    );
}

async fn outages_beyond_the_limit_fail_the_grant(t: &mut TestApp) {
    t.emulator.inject(on_additions(503, 10));
    let id = t.request(DANA, "device-code", 60).await;
    t.approve(MORGAN, &id).await;
    for n in 1..=4 {
        eventually(&format!("attempt {n}"), || async {
            errors_of(t, &id).await.len() >= n
        })
        .await;
        t.advance(Duration::minutes(5));
    }
    wait_status(t, &id, "failed").await;
    assert_eq!(
        errors_of(t, &id).await.len(),
        4,
        "scheduler.max_add_attempts = 4"
    );
}

on_both_databases! {
    with TestApp;
    retries => throttling_and_outages_are_retried;
    removal_retries => removals_survive_throttling;
    idempotent_answers => already_member_and_not_member_count_as_done;
    refusal => a_refusal_fails_the_grant;
    exhausted => outages_beyond_the_limit_fail_the_grant;
}
