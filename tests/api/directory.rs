//! Microsoft Graph misbehaving: throttling, outages, answers that mean "already done", refusals.

use chrono::Duration;
use jitgate::domain::Decision;
use jitgate::emulator::{Fault, NotMemberStyle};
use jitgate::graph::MemberChange;
use jitgate::service::directory::Attempt;
use jitgate::store::OpKind;
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

/// How many Graph calls the emulator answered with `status`.
fn answered(t: &TestApp, status: u16) -> usize {
    t.emulator
        .graph_requests()
        .iter()
        .filter(|c| c.status == status)
        .count()
}

async fn throttling_and_outages_are_retried(t: &mut TestApp) {
    t.emulator.inject(on_additions(429, 1).retry_after("0.25"));
    t.emulator.inject(on_additions(503, 1));
    let id = t.request(DANA, "device-code", 60).await;
    t.approve(MORGAN, &id).await;

    eventually("the 429", || async { answered(t, 429) == 1 }).await;
    // A throttled attempt is routine: no audit event of its own.
    assert!(errors_of(t, &id).await.is_empty());
    assert!(!t.is_member(DANA));

    t.advance(Duration::milliseconds(250));
    eventually("the 503 to be recorded", || async {
        errors_of(t, &id).await.len() == 1
    })
    .await;
    let e = &errors_of(t, &id).await[0];
    assert_eq!(e["details"]["throttled"], 1, "{e}");
    assert!(!t.is_member(DANA));
    t.advance(Duration::seconds(3)); // backoff after the first counted failure: 2 s ± 20 %
    // Added on the third attempt, the summary counting the throttled one.
    wait_in_group(t, DANA).await;
    wait_added(t, &id).await;
    let added = event_details(t, &id, "membership_added").await;
    assert_eq!(
        (added["attempts"].clone(), added["throttled"].clone()),
        (3.into(), 1.into())
    );
    assert_eq!(t.status_of(&id).await["status"], "active");
    assert_eq!(t.verify().await["ok"], true);
}

async fn throttling_never_gives_an_addition_up(t: &mut TestApp) {
    // More 429s than scheduler.max_add_attempts (4): the grant still becomes active.
    t.emulator.inject(on_additions(429, 6).retry_after("0.01"));
    let id = t.request(DANA, "device-code", 60).await;
    t.approve(MORGAN, &id).await;
    advance_until(t, Duration::seconds(1), "Dana in the group", || async {
        t.is_member(DANA)
    })
    .await;
    assert_eq!(answered(t, 429), 6);
    wait_added(t, &id).await;
    assert_eq!(
        event_details(t, &id, "membership_added").await["throttled"],
        6
    );
    assert!(errors_of(t, &id).await.is_empty());
    assert_eq!(t.status_of(&id).await["status"], "active");
}

async fn removals_survive_throttling(db: &crate::common::db::TestDb) {
    let mut t = TestApp::spawn(db).await;
    let t = &mut t;
    let id = t.granted(DANA, "device-code", 15, MORGAN).await;
    t.emulator
        .inject(Fault::new(429, 2).method("DELETE").retry_after("1"));
    t.advance(Duration::minutes(15));
    wait_status(t, &id, "expired").await;
    // Removed despite the throttling (the clock moving no faster than real time).
    advance_until(
        t,
        Duration::milliseconds(20),
        "Dana out of the group",
        || async { !t.is_member(DANA) },
    )
    .await;
    assert_eq!(answered(t, 429), 2);
    wait_removed(t, &id).await;
    let errors = errors_of(t, &id).await;
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        event_details(t, &id, "membership_removed").await["throttled"],
        2,
        "{:#?}",
        t.emulator.graph_requests()
    );
    t.stop().await;
}

async fn a_late_addition_after_the_end_is_followed_by_a_removal(t: &mut TestApp) {
    // The background jobs stop; the test plays two workers through the service itself.
    let p = t.without_jobs().await;
    let dana = principal(DANA, &[]);
    let input = serde_json::from_value(serde_json::json!({
        "package": "device-code", "duration_minutes": 60, "justification": "late answer test"
    }))
    .unwrap();
    let r = p.create_request(&dana, input).await.unwrap();
    let id = jitgate::domain::RequestId::parse(&r.id).unwrap();
    p.decide(
        &principal(MORGAN, &["Approver"]),
        &id,
        Decision::Approve,
        Default::default(),
    )
    .await
    .unwrap();

    // w1 claims the addition and its call hangs past the lease; then its process is gone (its
    // liveness lock with it), so its lease may be taken over.
    let w1 = p.hold_worker_lock("w1").await;
    let add = p
        .claim_directory_ops("w1", 10)
        .await
        .unwrap()
        .pop()
        .unwrap();
    drop(w1);
    let _w2 = p.hold_worker_lock("w2").await;
    t.advance(Duration::seconds(16));
    // Meanwhile Dana ends the grant; w2 takes the addition over, finds it no longer needed, and
    // carries out the removal (Dana is not in the group yet).
    p.end(&dana, &id, None).await.unwrap();
    let taken = p.claim_directory_ops("w2", 10).await.unwrap();
    assert_eq!(taken.len(), 0, "the addition is skipped: the grant ended");
    let remove = p
        .claim_directory_ops("w2", 10)
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(remove.kind, OpKind::Remove);
    let not_member = Attempt::unverified(Ok(MemberChange::NotMember), 5);
    p.record_directory_attempts("w2", &[(remove, not_member)])
        .await
        .unwrap();

    // Then w1's addition lands after all, and its answer comes back.
    t.emulator.set_member(GROUP, DANA, true);
    let added = Attempt::unverified(Ok(MemberChange::Added), 20_000);
    p.record_directory_attempts("w1", &[(add, added)])
        .await
        .unwrap();

    t.start_again().await;
    let e = &errors_of(t, &r.id).await[0];
    assert_eq!(e["details"]["lease_lost"], true, "{e}");
    assert!(e["details"]["follow_up_op"].is_i64(), "{e}");
    // The follow-up removal converges the group.
    wait_out_of_group(t, DANA).await;
    assert_eq!(t.verify().await["ok"], true);
}

async fn changes_are_read_back_until_graph_shows_them(t: &mut TestApp) {
    // Reads lag 600 ms behind writes: the addition shows on a later read.
    t.emulator
        .set_read_lag(std::time::Duration::from_millis(600));
    let id = t.granted(DANA, "device-code", 30, MORGAN).await;
    let seen = event_details(t, &id, "membership_verified").await;
    assert_eq!(seen["member_seen"], true, "{seen}");
    assert!(seen["reads"].as_u64().unwrap() > 1, "{seen}");
    assert_eq!(
        event_details(t, &id, "membership_added").await["verified"],
        true
    );

    // Reads lag longer than the read-back waits (about 5 s): the change counts as not done and
    // is made again, then shows.
    t.emulator.set_read_lag(std::time::Duration::from_secs(8));
    t.end(DANA, &id, None).await;
    eventually("the disagreement to be recorded", || async {
        !errors_of(t, &id).await.is_empty()
    })
    .await;
    let e = &errors_of(t, &id).await[0];
    assert!(
        e["details"]["error"]
            .as_str()
            .unwrap()
            .contains("still listed"),
        "{e}"
    );
    assert!(t.status_of(&id).await["membership"]["removed_at"].is_null());
    t.emulator.set_read_lag(std::time::Duration::ZERO);
    advance_until(t, Duration::seconds(1), "the removal verified", || async {
        !t.status_of(&id).await["membership"]["removed_at"].is_null()
    })
    .await;
    assert_eq!(
        event_details(t, &id, "membership_verified").await["member_seen"],
        false
    );
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
    // The requester sees a reference, not Graph's own words; those are in the audit trail.
    let reason = r["close_reason"].as_str().unwrap();
    assert!(
        reason.contains("directory operation") && !reason.contains("403"),
        "{r}"
    );
    assert!(
        errors_of(t, &id).await[0]["details"]["error"]
            .as_str()
            .unwrap()
            .contains("403")
    );
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
            "membership_removed",
            "membership_verified"
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
    let errors = errors_of(t, &id).await;
    assert_eq!(
        errors.len(),
        4,
        "scheduler.max_add_attempts = 4: {errors:#?}"
    );
}

on_both_databases! {
    with TestApp;
    retries => throttling_and_outages_are_retried;
    throttling_is_not_failure => throttling_never_gives_an_addition_up;
    late_answer => a_late_addition_after_the_end_is_followed_by_a_removal;
    read_back => changes_are_read_back_until_graph_shows_them;
    idempotent_answers => already_member_and_not_member_count_as_done;
    refusal => a_refusal_fails_the_grant;
    exhausted => outages_beyond_the_limit_fail_the_grant;
}

async fn sessions_are_revoked_after_a_verified_removal(db: &crate::common::db::TestDb) {
    let mut t = TestApp::spawn_configured(db, false, |s| {
        s.replacen(
            "max_duration = \"4h\"",
            "max_duration = \"4h\"\nrevoke_sessions_on_end = true",
            1,
        )
    })
    .await;
    let id = t.granted(DANA, "device-code", 15, MORGAN).await;
    assert!(
        t.emulator.revocations().is_empty(),
        "not while the grant runs"
    );
    t.advance(Duration::minutes(15));
    wait_removed(&t, &id).await;
    eventually("the revocation", || async {
        t.audit_actions(&id).await.last().map(String::as_str) == Some("sessions_revoked")
    })
    .await;
    assert_eq!(t.emulator.revocations(), [DANA]);
    let actions = t.audit_actions(&id).await;
    assert_eq!(
        actions[actions.len() - 3..],
        [
            "membership_removed",
            "membership_verified",
            "sessions_revoked"
        ]
    );
    t.stop().await;
}

on_both_databases! {
    revoke_sessions => sessions_are_revoked_after_a_verified_removal;
}

async fn a_hung_call_holds_up_nobody_else(db: &crate::common::db::TestDb) {
    // A timeout far beyond the test: had the others waited behind Dana's call, they would
    // still be waiting.
    let mut t = TestApp::spawn_configured(db, false, |s| {
        format!("{s}\n[directory]\ntimeout = \"120s\"\n")
    })
    .await;
    let mut ids = Vec::new();
    for user in [DANA, RILEY, JORDAN] {
        ids.push(t.granted(user, "device-code", 15, MORGAN).await);
    }
    t.emulator.inject(
        Fault::hang(std::time::Duration::from_secs(600), 1)
            .method("DELETE")
            .path_contains(DANA),
    );
    t.advance(Duration::minutes(15));
    wait_out_of_group(&t, RILEY).await;
    wait_out_of_group(&t, JORDAN).await;
    wait_removed(&t, &ids[1]).await;
    wait_removed(&t, &ids[2]).await;
    assert!(
        t.is_member(DANA),
        "Dana's removal is still hanging: {:#?} {:#?}",
        t.events("limit=100")
            .await
            .iter()
            .map(|e| format!(
                "{} {} {} {}",
                e["action"], e["actor"]["id"], e["subject_id"], e["details"]
            ))
            .collect::<Vec<_>>(),
        t.emulator.graph_requests()
    );
    assert!(errors_of(&t, &ids[0]).await.is_empty());
    t.stop().await;
}

async fn a_call_without_an_answer_is_a_failed_attempt(db: &crate::common::db::TestDb) {
    let mut t = TestApp::spawn_configured(db, false, |s| {
        format!("{s}\n[directory]\ntimeout = \"1s\"\n")
    })
    .await;
    let t = &mut t;
    let id = t.granted(DANA, "device-code", 15, MORGAN).await;
    // Longer than the directory timeout (1 s here): the removal is tried again.
    t.emulator.inject(
        Fault::hang(std::time::Duration::from_secs(5), 1)
            .method("DELETE")
            .path_contains(DANA),
    );
    t.advance(Duration::minutes(15));
    eventually("the call to time out", || async {
        !errors_of(t, &id).await.is_empty()
    })
    .await;
    let e = &errors_of(t, &id).await[0];
    assert!(
        e["details"]["error"]
            .as_str()
            .unwrap()
            .contains("no answer within"),
        "{e}"
    );
    advance_until(t, Duration::milliseconds(200), "Dana's removal", || async {
        !t.status_of(&id).await["membership"]["removed_at"].is_null()
    })
    .await;
    assert!(!t.is_member(DANA));
    t.stop().await;
}

on_both_databases! {
    hung_call => a_hung_call_holds_up_nobody_else;
    removal_retries => removals_survive_throttling;
}

on_both_databases! {
    timed_out_call => a_call_without_an_answer_is_a_failed_attempt;
}
