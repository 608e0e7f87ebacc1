//! Floods (issue 19): what a package's per-person limits count (requests made, extensions
//! asked, refusals recorded), and the pacing of the deciders' e-mails about one person.

use chrono::{DateTime, Duration, Utc};
use jitgate::domain::extension::{Extension, ExtensionStatus};
use jitgate::domain::limits::AskKind;
use jitgate::domain::notification::Channel;
use jitgate::domain::{AuditAction, RequestStatus};
use jitgate::store::NewNotification;

use crate::common::db::TestDb;
use crate::fixtures::*;
use crate::on_both_databases;

fn closed(id: &str, requester: &str, package: &str, at: DateTime<Utc>) -> jitgate::domain::Request {
    let mut r = request(id, requester, package);
    r.status = RequestStatus::Cancelled;
    r.created_at = at;
    r
}

fn extension(id: &str, request: &str, at: DateTime<Utc>) -> Extension {
    Extension {
        id: id.into(),
        request_id: request.into(),
        minutes: 30,
        justification: "the migration runs longer".into(),
        status: ExtensionStatus::Approved,
        requested_at: at,
        ends_before: at + Duration::hours(1),
        ends_after: Some(at + Duration::hours(2)),
        decided_at: Some(at),
        approvals: vec![],
    }
}

async fn asks_are_counted_per_person_package_and_window(db: &TestDb) {
    let store = db.store().await;
    let m = Duration::minutes;
    insert(
        &store,
        [
            &closed("r1", "dana", "p1", t0()),
            &closed("r2", "dana", "p1", t0() + m(10)),
            &closed("r3", "dana", "p1", t0() + m(70)),
            &closed("r4", "dana", "p2", t0() + m(20)),
            &closed("r5", "riley", "p1", t0() + m(20)),
        ],
    )
    .await;
    let mut tx = store.begin().await.unwrap();
    for (x, r, at) in [
        ("x1", "r1", m(20)),
        ("x2", "r2", m(30)),
        ("x3", "r4", m(40)),
        ("x4", "r5", m(40)),
    ] {
        tx.insert_extension(&extension(x, r, t0() + at), t0() + at)
            .await
            .unwrap();
    }
    let requests = tx
        .asks_since(AskKind::Request, "dana", "p1", t0() + m(5))
        .await
        .unwrap();
    assert_eq!(requests, [t0() + m(10), t0() + m(70)]);
    let extensions = tx
        .asks_since(AskKind::Extension, "dana", "p1", t0() + m(10))
        .await
        .unwrap();
    assert_eq!(extensions, [t0() + m(20), t0() + m(30)]);
    // The window is open at its start: an ask exactly at `since` has left it.
    let extensions = tx
        .asks_since(AskKind::Extension, "dana", "p1", t0() + m(20))
        .await
        .unwrap();
    assert_eq!(extensions, [t0() + m(30)]);

    // Refusals recorded: by package, within the window, about the person.
    for (subject, package, at) in [
        ("dana", "p1", m(5)),
        ("dana", "p2", -m(120)),
        ("riley", "p3", m(5)),
    ] {
        let mut e = event(AuditAction::RequestRefused, "r1", subject, t0() + at);
        e.request_id = None;
        e.subject_id = Some(subject.into());
        e.details = serde_json::json!({"package": package, "kind": "request"});
        tx.append_event(e).await.unwrap();
    }
    assert_eq!(
        tx.refused_packages_since("dana", t0()).await.unwrap(),
        ["p1"]
    );
    assert!(
        tx.refused_packages_since("dana", t0() + m(6))
            .await
            .unwrap()
            .is_empty()
    );
    tx.commit().await.unwrap();
}

fn paced(key: &str, pace: Option<&str>) -> NewNotification {
    NewNotification {
        dedupe_key: key.into(),
        event: "request_created".into(),
        request_id: None,
        channel: Channel::Email,
        audience: serde_json::json!({"deciders": "r1"}),
        subject: format!("about {key}"),
        body: "…".into(),
        not_before: t0(),
        pace_key: pace.map(str::to_string),
    }
}

async fn decider_mail_is_paced_per_person(db: &TestDb) {
    let store = db.store().await;
    let key = "deciders:dana";
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.paced_sent_at(key).await.unwrap(), None);
    tx.set_paced_sent_at(key, t0()).await.unwrap();
    tx.set_paced_sent_at(key, t0() + Duration::seconds(5))
        .await
        .unwrap();
    assert_eq!(
        tx.paced_sent_at(key).await.unwrap(),
        Some(t0() + Duration::seconds(5))
    );
    for (k, pace) in [
        ("n1", Some(key)),
        ("n2", Some(key)),
        ("n3", Some(key)),
        ("n4", Some("deciders:riley")),
        ("n5", None),
    ] {
        tx.enqueue_notification(&paced(k, pace), t0())
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();

    let lease = Duration::minutes(2);
    let claimed = store
        .claim_notifications(t0(), "sender-a", lease, 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 5);
    assert_eq!(claimed[0].pace_key.as_deref(), Some(key));
    assert_eq!(claimed[4].pace_key, None);
    let id = |k: &str| claimed.iter().find(|n| n.dedupe_key == k).unwrap().id;

    // Held: back in the queue until then, the claim's attempt given back.
    let mut tx = store.begin().await.unwrap();
    tx.hold_notification(id("n1"), t0() + Duration::minutes(1))
        .await
        .unwrap();
    // Taken with the others due under the key that this sender holds (no attempt counted
    // again), not the held one nor another person's.
    let taken = tx.take_paced(key, t0(), "sender-a", lease).await.unwrap();
    let keys: Vec<_> = taken
        .iter()
        .map(|n| (n.dedupe_key.as_str(), n.attempts))
        .collect();
    assert_eq!(keys, [("n2", 1), ("n3", 1)]);
    tx.commit().await.unwrap();

    // Another sender, a minute on: only the held one is free to take, an attempt counted.
    let mut tx = store.begin().await.unwrap();
    let later = t0() + Duration::minutes(1);
    let taken = tx.take_paced(key, later, "sender-b", lease).await.unwrap();
    let keys: Vec<_> = taken
        .iter()
        .map(|n| (n.dedupe_key.as_str(), n.attempts, n.lease_owner.clone()))
        .collect();
    assert_eq!(keys, [("n1", 1, Some("sender-b".to_string()))]);
    assert_eq!(taken[0].not_before, later);
    tx.commit().await.unwrap();
}

on_both_databases! {
    asks_counted => asks_are_counted_per_person_package_and_window;
    mail_paced => decider_mail_is_paced_per_person;
}
