//! A Graph write that lands after jitgate gave up: an addition times out, the grant ends (its
//! removal finds nobody to remove), and then the addition lands. The drift check (Graph's delta
//! query every `[reconcile] delta_every`) sees it and removes the member within 30 s of the
//! landing, with one replica and with two; and when nothing changes it costs one delta call per
//! group per interval.

use chrono::Duration;
use jitgate::emulator::{Landing, LateWrite};

use crate::common::db::{Backend, TestDb};
use crate::helpers::*;
use crate::on_both_databases;

/// Graph calls given up after a second; reconciliation only at start; the drift check every 10 s
/// (the default).
async fn spawn(db: &TestDb) -> TestApp {
    TestApp::spawn_configured(db, false, |s| {
        format!("{s}\n[directory]\ntimeout = \"1s\"\n").replace(
            "[reconcile]\nevery = \"1d\"",
            "[reconcile]\nevery = \"1d\"\ndelta_every = \"10s\"",
        )
    })
    .await
}

fn delta_calls(t: &TestApp) -> usize {
    t.emulator
        .graph_requests()
        .iter()
        .filter(|c| c.path.contains("/groups/delta"))
        .count()
}

/// Dana's additions are held (they time out for the caller); her grant is ended; the removal
/// finds her not a member. Returns once that removal is recorded.
async fn grant_ended_while_its_addition_hangs(t: &TestApp) -> String {
    t.emulator
        .delay_landing(LateWrite::additions(10, Landing::OnTrigger).of(DANA));
    let id = t.request(DANA, "device-code", 60).await;
    t.approve(MORGAN, &id).await;
    eventually("the addition to time out", || async {
        t.audit_actions(&id)
            .await
            .iter()
            .any(|a| a == "directory_error")
    })
    .await;
    assert!(!t.is_member(DANA));
    let (status, body) = t.end(DANA, &id, Some("done early")).await;
    assert!(status.is_success(), "{body}");
    // The addition's retry is skipped (the grant ended); the removal finds nobody.
    advance_until(t, Duration::seconds(2), "the removal", || async {
        !t.status_of(&id).await["membership"]["removed_at"].is_null()
    })
    .await;
    assert!(!t.is_member(DANA));
    id
}

/// Moves the clock on by 5 s at a time, giving the portal up to 3 s (real time) after each step,
/// until `check` holds; returns how far the clock moved (at most a minute).
async fn clock_until<F, Fut>(t: &TestApp, what: &str, check: F) -> Duration
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let from = t.clock.now();
    for _ in 0..12 {
        t.advance(Duration::seconds(5));
        let done = tokio::time::timeout(std::time::Duration::from_secs(3), async {
            while !check().await {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        })
        .await;
        if done.is_ok() {
            return t.clock.now() - from;
        }
    }
    panic!("a minute on, still waiting for: {what}");
}

/// Lands the held writes; returns how long (on the portal's clock) Dana then stayed in the group.
async fn land_and_time_the_removal(t: &TestApp) -> Duration {
    assert!(t.emulator.land_late_writes() >= 1);
    assert!(t.is_member(DANA), "the late addition landed");
    clock_until(t, "Dana out of the group", || async { !t.is_member(DANA) }).await
}

async fn a_late_addition_after_the_grant_ended_is_undone(db: &TestDb) {
    let mut t = spawn(db).await;
    let id = grant_ended_while_its_addition_hangs(&t).await;
    let took = land_and_time_the_removal(&t).await;
    assert!(
        took <= Duration::seconds(30),
        "removed {took} after landing"
    );
    eventually("the drift recorded", || async {
        !t.events("action=drift_removed").await.is_empty()
    })
    .await;
    let found = t.events("action=drift_detected").await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["details"]["member_id"], DANA);
    assert_eq!(found[0]["details"]["kind"], "member_without_grant");
    assert_eq!(t.status_of(&id).await["status"], "ended");
    assert_eq!(t.verify().await["ok"], true);
    t.stop().await;
}

async fn nothing_changed_costs_one_delta_call_per_interval(db: &TestDb) {
    let mut t = spawn(db).await;
    // The first look (a full synchronisation) happened at start.
    eventually("the first delta call", || async { delta_calls(&t) >= 1 }).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let before = t.emulator.graph_requests().len();
    let deltas = delta_calls(&t);
    for n in 1..=3 {
        t.advance(Duration::seconds(10));
        eventually("the next delta call", || async {
            delta_calls(&t) >= deltas + n
        })
        .await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(delta_calls(&t), deltas + 3);
    // Nothing else about the group: no listing, no member read back.
    let calls = t.emulator.graph_requests();
    let about_the_group: Vec<_> = calls[before..]
        .iter()
        .filter(|c| c.path.contains("/groups/") || c.path.contains("checkMemberGroups"))
        .collect();
    assert_eq!(about_the_group.len(), 3, "{about_the_group:?}");
    t.stop().await;
}

/// A removal times out and lands after the member was granted again: they are added again.
async fn a_late_removal_during_a_new_grant_is_undone(db: &TestDb) {
    let mut t = spawn(db).await;
    let first = t.granted(DANA, "device-code", 60, MORGAN).await;
    wait_added(&t, &first).await;
    t.emulator
        .delay_landing(LateWrite::removals(1, Landing::OnTrigger).of(DANA));
    let (status, body) = t.end(DANA, &first, Some("done")).await;
    assert!(status.is_success(), "{body}");
    // The first removal hangs; its retry removes her.
    advance_until(&t, Duration::milliseconds(500), "the removal", || async {
        !t.status_of(&first).await["membership"]["removed_at"].is_null()
    })
    .await;
    let second = t.granted(DANA, "device-code", 60, MORGAN).await;
    wait_added(&t, &second).await;
    assert!(t.is_member(DANA));
    assert_eq!(t.emulator.land_late_writes(), 1);
    assert!(!t.is_member(DANA), "the late removal landed");
    let took = clock_until(&t, "Dana back in the group", || async { t.is_member(DANA) }).await;
    assert!(
        took <= Duration::seconds(30),
        "added again {took} after landing"
    );
    let found = t.events("action=drift_detected").await;
    assert_eq!(
        found[0]["details"]["kind"], "grant_without_member",
        "{found:?}"
    );
    assert_eq!(found[0]["request_id"], second.as_str());
    t.stop().await;
}

/// A delta link Graph no longer knows: the group is synchronised again from scratch, and what
/// changed meanwhile is judged.
async fn an_expired_delta_link_means_a_full_synchronisation(db: &TestDb) {
    let mut t = spawn(db).await;
    eventually("the first delta call", || async { delta_calls(&t) >= 1 }).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let deltas = delta_calls(&t);
    t.emulator.expire_delta_tokens();
    t.emulator.set_member(GROUP, RILEY, true);
    t.advance(Duration::seconds(10));
    wait_out_of_group(&t, RILEY).await;
    // The refused link, then a fresh start.
    assert_eq!(delta_calls(&t), deltas + 2);
    let refused = t
        .emulator
        .graph_requests()
        .into_iter()
        .filter(|c| c.path.contains("/groups/delta"))
        .nth(deltas)
        .unwrap();
    assert_eq!(refused.status, 400);
    t.stop().await;
}

on_both_databases! {
    late_addition => a_late_addition_after_the_grant_ended_is_undone;
    late_removal => a_late_removal_during_a_new_grant_is_undone;
    expired_link => an_expired_delta_link_means_a_full_synchronisation;
    quiet => nothing_changed_costs_one_delta_call_per_interval;
}

/// Two replicas on one PostgreSQL database: whichever takes the drift check's turn undoes the
/// late addition, and the group is still asked once per interval.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_undo_a_late_addition() {
    let Some(db) = TestDb::new(Backend::Postgres).await else {
        return;
    };
    let mut t = spawn(&db).await;
    let replica = t.start_replica().await;
    let id = grant_ended_while_its_addition_hangs(&t).await;
    let took = land_and_time_the_removal(&t).await;
    assert!(
        took <= Duration::seconds(30),
        "removed {took} after landing"
    );
    eventually("the drift recorded", || async {
        t.events("action=drift_removed").await.len() == 1
    })
    .await;
    assert_eq!(t.status_of(&id).await["status"], "ended");
    let deltas = delta_calls(&t);
    t.advance(Duration::seconds(10));
    eventually("the next delta call", || async { delta_calls(&t) > deltas }).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(delta_calls(&t), deltas + 1, "one replica asks");
    replica.stop().await;
    t.stop().await;
    db.cleanup().await;
}
