//! Deadlines, the directory outbox (claims, leases, order per member) and heartbeats.

use chrono::Duration;
use jitgate::domain::RequestStatus;
use jitgate::store::{DueKind, NewDirectoryOp, OpKind, OpOutcome, Work};

use crate::common::db::{Backend, TestDb};
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
    let _w1 = store.hold_worker_lock("w1").await.unwrap();
    let _w2 = store.hold_worker_lock("w2").await.unwrap();
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
    tx.retry_op(add, t0() + Duration::minutes(2), "503 from Graph", false)
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

async fn many_claimed_at_once_one_per_member_with_renewed_leases(db: &TestDb) {
    let store = db.store().await;
    let mut tx = store.begin().await.unwrap();
    tx.insert_request(&request("r1", "dana", "p"))
        .await
        .unwrap();
    let mut ids = Vec::new();
    // Two operations for each of five members.
    for kind in [OpKind::Add, OpKind::Remove] {
        for n in 0..5 {
            let op = NewDirectoryOp {
                request_id: "r1".into(),
                kind,
                group_id: "g1".into(),
                user_id: format!("user{n}"),
                not_before: t0(),
            };
            ids.push(tx.enqueue_op(&op, t0()).await.unwrap());
        }
    }
    tx.commit().await.unwrap();

    // Live workers (on PostgreSQL a live worker's leases are kept by its session lock too).
    let w1 = store.hold_worker_lock("w1").await.unwrap();
    let _w2 = store.hold_worker_lock("w2").await.unwrap();
    let w3 = store.hold_worker_lock("w3").await.unwrap();
    let lease = Duration::seconds(15);
    let first = store.claim_ops(t0(), "w1", lease, 3).await.unwrap();
    assert_eq!(first.iter().map(|o| o.id).collect::<Vec<_>>(), ids[..3]);
    // The rest of the heads of queue; each member's removal waits for its addition.
    let second = store.claim_ops(t0(), "w2", lease, 100).await.unwrap();
    assert_eq!(second.iter().map(|o| o.id).collect::<Vec<_>>(), ids[3..5]);
    assert!(
        second
            .iter()
            .all(|o| o.kind == OpKind::Add && o.attempts == 1)
    );
    assert!(
        store
            .claim_ops(t0(), "w3", lease, 100)
            .await
            .unwrap()
            .is_empty()
    );

    // w1 renews: its three stay its own past the first lease; w2's run out (on PostgreSQL
    // this stands for a worker whose process lives on but stopped renewing).
    drop(_w2);
    let later = t0() + Duration::seconds(10);
    assert_eq!(store.renew_leases("w1", later + lease).await.unwrap(), 3);
    let taken = store
        .claim_ops(t0() + Duration::seconds(16), "w3", lease, 100)
        .await
        .unwrap();
    assert_eq!(taken.iter().map(|o| o.id).collect::<Vec<_>>(), ids[3..5]);
    assert!(taken.iter().all(|o| o.attempts == 2));

    // A throttled retry counts apart from the attempts that may give an addition up.
    let mut tx = store.begin().await.unwrap();
    tx.retry_op(ids[0], t0(), "429", true).await.unwrap();
    tx.retry_op(ids[1], t0(), "503", false).await.unwrap();
    let throttled = tx.get_op(ids[0]).await.unwrap().unwrap();
    assert_eq!(
        (
            throttled.attempts,
            throttled.throttled,
            throttled.counted_attempts()
        ),
        (1, 1, 0)
    );
    assert_eq!(tx.get_op(ids[1]).await.unwrap().unwrap().throttled, 0);
    tx.commit().await.unwrap();

    drop(w3);

    // A single process starting up frees every lease at once.
    assert_eq!(store.release_all_leases().await.unwrap(), 3);
    let all = store
        .claim_ops(t0() + Duration::seconds(17), "w4", lease, 100)
        .await
        .unwrap();
    assert_eq!(all.len(), 5);
    drop(w1);
}

async fn one_process_per_sqlite_file_runs_the_jobs(db: &TestDb) {
    let first = db.store().await;
    let second = db.store().await;
    let held = first.lock_jobs().unwrap();
    match db.backend {
        Backend::Sqlite => {
            let refused = second
                .lock_jobs()
                .err()
                .expect("a second process is refused");
            let message = refused.to_string();
            assert!(
                message.contains("another jitgate process") && message.contains("jitgate.db"),
                "{message}"
            );
            drop(held);
            second
                .lock_jobs()
                .expect("free again once the first lets go");
        }
        // Replicas share the work through leases.
        Backend::Postgres => drop(second.lock_jobs().unwrap()),
    }
}

async fn committed_work_is_announced_to_every_replica(db: &TestDb) {
    let store = db.store().await;
    let listening = db.store().await;
    let (tx_w, mut heard) = tokio::sync::mpsc::unbounded_channel();
    let listener = tokio::spawn(async move {
        let _ = listening
            .listen(&move |w| {
                let _ = tx_w.send(w);
            })
            .await;
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let op = |id: &str| NewDirectoryOp {
        request_id: id.into(),
        kind: OpKind::Add,
        group_id: "g1".into(),
        user_id: "dana".into(),
        not_before: t0(),
    };
    // Rolled back: nobody hears of it.
    let mut tx = store.begin().await.unwrap();
    tx.insert_request(&request("r0", "dana", "p"))
        .await
        .unwrap();
    tx.enqueue_op(&op("r0"), t0()).await.unwrap();
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    tx.insert_request(&request("r1", "dana", "p"))
        .await
        .unwrap();
    tx.enqueue_op(&op("r1"), t0()).await.unwrap();
    tx.commit().await.unwrap();
    match db.backend {
        Backend::Postgres => {
            let mut got = Vec::new();
            while let Ok(Some(w)) =
                tokio::time::timeout(std::time::Duration::from_millis(500), heard.recv()).await
            {
                got.push(w);
            }
            got.sort_by_key(|w| format!("{w:?}"));
            assert_eq!(
                got,
                [Work::Deadline, Work::Directory],
                "once each, for the commit only"
            );
        }
        // One process per file: nothing to announce.
        Backend::Sqlite => {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            assert!(heard.try_recv().is_err());
            assert!(!listener.is_finished());
        }
    }
    listener.abort();
}

async fn a_dead_workers_leases_are_free_at_once(db: &TestDb) {
    let store = db.store().await;
    let mut tx = store.begin().await.unwrap();
    tx.insert_request(&request("r1", "dana", "p"))
        .await
        .unwrap();
    let op = NewDirectoryOp {
        request_id: "r1".into(),
        kind: OpKind::Remove,
        group_id: "g1".into(),
        user_id: "dana".into(),
        not_before: t0(),
    };
    let id = tx.enqueue_op(&op, t0()).await.unwrap();
    tx.commit().await.unwrap();
    let alive = store.hold_worker_lock("w1").await.unwrap();
    let lease = Duration::seconds(15);
    assert_eq!(
        store.claim_ops(t0(), "w1", lease, 10).await.unwrap().len(),
        1
    );
    // While w1 lives its lease holds.
    assert!(
        store
            .claim_ops(t0() + Duration::seconds(5), "w2", lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
    drop(alive); // w1's process is gone: its lock's connection closes.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let taken = store
        .claim_ops(t0() + Duration::seconds(5), "w2", lease, 10)
        .await
        .unwrap();
    match db.backend {
        // PostgreSQL: at once.
        Backend::Postgres => assert_eq!(taken.iter().map(|o| o.id).collect::<Vec<_>>(), [id]),
        // SQLite: its one process frees leases when it starts again; until then they run out.
        Backend::Sqlite => {
            assert!(taken.is_empty());
            let later = store
                .claim_ops(t0() + Duration::seconds(15), "w2", lease, 10)
                .await
                .unwrap();
            assert_eq!(later.len(), 1);
        }
    }
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
    outbox_many => many_claimed_at_once_one_per_member_with_renewed_leases;
    jobs_lock => one_process_per_sqlite_file_runs_the_jobs;
    announced => committed_work_is_announced_to_every_replica;
    dead_worker => a_dead_workers_leases_are_free_at_once;
    heartbeats => heartbeats_and_health;
}

/// A write transaction whose caller gives up while it waits for the lock (a client that hangs
/// up) must not leave its connection inside a transaction: the next writer gets in.
async fn a_cancelled_begin_leaves_no_transaction_behind(db: &TestDb) {
    let store = db.store().await;
    let holder = store.begin().await.unwrap();
    let gave_up = tokio::time::timeout(std::time::Duration::from_millis(200), store.begin()).await;
    assert!(gave_up.is_err(), "the second writer waits for the first");
    holder.commit().await.unwrap();
    for _ in 0..3 {
        let next = tokio::time::timeout(std::time::Duration::from_secs(5), store.begin())
            .await
            .expect("a writer got in within 5 s: nothing was left locked")
            .unwrap();
        next.commit().await.unwrap();
    }
}

on_both_databases! {
    cancelled_begin => a_cancelled_begin_leaves_no_transaction_behind;
}
