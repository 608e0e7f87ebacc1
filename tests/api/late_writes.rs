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

/// Lands the held writes and moves the clock on by 5 s at a time until Dana is out of the group;
/// returns how long that took on the portal's clock.
async fn land_and_time_the_removal(t: &TestApp) -> Duration {
    assert!(t.emulator.land_late_writes() >= 1);
    assert!(t.is_member(DANA), "the late addition landed");
    let landed = t.clock.now();
    for _ in 0..12 {
        t.advance(Duration::seconds(5));
        let gone = tokio::time::timeout(std::time::Duration::from_secs(3), async {
            while t.is_member(DANA) {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        })
        .await;
        if gone.is_ok() {
            return t.clock.now() - landed;
        }
    }
    panic!("Dana is still in the group a minute after the late addition landed");
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

on_both_databases! {
    late_addition => a_late_addition_after_the_grant_ended_is_undone;
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
