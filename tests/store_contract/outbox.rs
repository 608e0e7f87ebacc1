//! Deadlines, the directory outbox (claims, leases, order per member) and heartbeats.

use chrono::Duration;
use jitgate::domain::RequestStatus;
use jitgate::store::{DueKind, NewDirectoryOp, OpKind, OpOutcome};

use crate::common::db::TestDb;
use crate::fixtures::*;
use crate::on_both_databases;

async fn due_items_and_deadlines(db: &TestDb) {
    let store = db.store().await;
    assert_eq!(store.next_deadline().await.unwrap(), None);
    let mut pending = request("pending", "a", "p");
    pending.timeout_at = t0() + Duration::minutes(30);
    let mut approved = request("approved", "b", "p");
    approved.status = RequestStatus::Approved;
    approved.starts_at = Some(t0() + Duration::minutes(10));
    approved.ends_at = Some(t0() + Duration::minutes(70));
    let mut active = request("active", "c", "p");
    active.status = RequestStatus::Active;
    active.starts_at = Some(t0());
    active.ends_at = Some(t0() + Duration::minutes(20));
    let mut closed = request("closed", "d", "p");
    closed.status = RequestStatus::Expired;
    closed.ends_at = Some(t0());
    insert(&store, [&pending, &approved, &active, &closed]).await;

    assert_eq!(
        store.next_deadline().await.unwrap(),
        Some(t0() + Duration::minutes(10))
    );
    assert!(
        store
            .due(t0() + Duration::minutes(9), 100)
            .await
            .unwrap()
            .is_empty()
    );
    let due = store.due(t0() + Duration::minutes(30), 100).await.unwrap();
    let got: Vec<_> = due
        .iter()
        .map(|d| (d.request_id.as_str(), d.kind))
        .collect();
    assert_eq!(
        got,
        [
            ("approved", DueKind::Start),
            ("active", DueKind::Expire),
            ("pending", DueKind::TimeOut)
        ]
    );
    assert_eq!(
        store
            .due(t0() + Duration::minutes(30), 1)
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn outbox_claims_in_order_under_a_lease(db: &TestDb) {
    let store = db.store().await;
    let mut tx = store.begin().await.unwrap();
    tx.insert_request(&request("r1", "dana", "p"))
        .await
        .unwrap();
    let op = |kind, user: &str, at| NewDirectoryOp {
        request_id: "r1".into(),
        kind,
        group_id: "g1".into(),
        user_id: user.into(),
        not_before: at,
    };
    let add = tx
        .enqueue_op(&op(OpKind::Add, "dana", t0()), t0())
        .await
        .unwrap();
    let remove = tx
        .enqueue_op(&op(OpKind::Remove, "dana", t0()), t0())
        .await
        .unwrap();
    let later = tx
        .enqueue_op(&op(OpKind::Add, "sam", t0() + Duration::minutes(5)), t0())
        .await
        .unwrap();
    tx.commit().await.unwrap();

    assert_eq!(store.next_op_at().await.unwrap(), Some(t0()));
    let lease = Duration::seconds(60);
    let claimed = store.claim_op(t0(), "w1", lease).await.unwrap().unwrap();
    assert_eq!(
        (claimed.id, claimed.kind, claimed.attempts),
        (add, OpKind::Add, 1)
    );
    assert_eq!(claimed.lease_owner.as_deref(), Some("w1"));
    // The remove for the same member waits for the add; sam's op is not due yet.
    assert_eq!(store.claim_op(t0(), "w2", lease).await.unwrap(), None);
    assert_eq!(
        store.next_op_at().await.unwrap(),
        Some(t0() + Duration::minutes(1)),
        "the lease of the add"
    );

    // The lease runs out: another worker takes the add over (a crash mid-call).
    let again = store
        .claim_op(t0() + Duration::seconds(61), "w2", lease)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((again.id, again.attempts), (add, 2));

    let mut tx = store.begin().await.unwrap();
    tx.retry_op(add, t0() + Duration::minutes(2), "503 from Graph")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        store
            .claim_op(t0() + Duration::seconds(90), "w1", lease)
            .await
            .unwrap(),
        None
    );
    let again = store
        .claim_op(t0() + Duration::minutes(2), "w1", lease)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (again.id, again.attempts, again.last_error.as_deref()),
        (add, 3, Some("503 from Graph"))
    );

    let mut tx = store.begin().await.unwrap();
    tx.finish_op(add, OpOutcome::Done, t0() + Duration::minutes(2), None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let next = store
        .claim_op(t0() + Duration::minutes(2), "w1", lease)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(next.id, remove);
    let mut tx = store.begin().await.unwrap();
    tx.finish_op(
        remove,
        OpOutcome::Skipped,
        t0() + Duration::minutes(2),
        Some("no longer needed"),
    )
    .await
    .unwrap();
    let fetched = tx.get_op(remove).await.unwrap().unwrap();
    assert_eq!(fetched.outcome, Some(OpOutcome::Skipped));
    assert_eq!(fetched.lease_owner, None);
    tx.commit().await.unwrap();

    assert_eq!(
        store
            .pending_ops(10)
            .await
            .unwrap()
            .iter()
            .map(|o| o.id)
            .collect::<Vec<_>>(),
        [later]
    );
    assert_eq!(
        store.next_op_at().await.unwrap(),
        Some(t0() + Duration::minutes(5))
    );
}

async fn heartbeats_and_health(db: &TestDb) {
    let store = db.store().await;
    store.ping().await.unwrap();
    store.heartbeat("worker", t0()).await.unwrap();
    store
        .heartbeat("worker", t0() + Duration::seconds(5))
        .await
        .unwrap();
    store.heartbeat("scheduler", t0()).await.unwrap();
    assert_eq!(
        store.heartbeats().await.unwrap(),
        vec![
            ("scheduler".to_string(), t0()),
            ("worker".to_string(), t0() + Duration::seconds(5))
        ]
    );
    // Migrating twice is harmless.
    store.migrate().await.unwrap();
    store.session_store().migrate().await.unwrap();
}

on_both_databases! {
    due => due_items_and_deadlines;
    outbox => outbox_claims_in_order_under_a_lease;
    heartbeats => heartbeats_and_health;
}
