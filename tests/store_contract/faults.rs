//! Database faults: a worker's liveness lock lost with its connection (as in a PostgreSQL
//! restart), and SQLite on a disk that fills up and empties again.

use std::time::{Duration as StdDuration, Instant};

use chrono::Duration;
use jitgate::store::{NewDirectoryOp, OpKind, SqliteStore, Store};
use sqlx::Connection;

use crate::common::db::{Backend, TestDb};
use crate::common::small_fs::SmallFs;
use crate::fixtures::*;
use crate::on_both_databases;

/// The backends holding `owner`'s worker lock in `db` (PostgreSQL).
async fn lock_holders(conn: &mut sqlx::PgConnection, owner: &str) -> Vec<i32> {
    sqlx::query_scalar(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted \
         AND classid = 1246184263 AND objsubid = 2 \
         AND objid::bigint = (hashtext($1)::bigint & 4294967295) \
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .bind(owner)
    .fetch_all(conn)
    .await
    .unwrap()
}

/// A worker whose lock connection is lost (what a PostgreSQL restart does to every connection)
/// takes its lock again within seconds, never claims its own work again meanwhile, and other
/// workers leave its leases alone once it holds the lock again.
async fn a_lost_worker_lock_is_taken_again(db: &TestDb) {
    if db.backend != Backend::Postgres {
        return;
    }
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
    tx.enqueue_op(&op, t0()).await.unwrap();
    tx.commit().await.unwrap();
    let _alive = store.hold_worker_lock("w1").await.unwrap();
    let lease = Duration::seconds(15);
    assert_eq!(
        store.claim_ops(t0(), "w1", lease, 10).await.unwrap().len(),
        1
    );

    let mut admin = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let before = lock_holders(&mut admin, "w1").await;
    assert_eq!(before.len(), 1, "w1 holds its lock");
    sqlx::query("SELECT pg_terminate_backend($1)")
        .bind(before[0])
        .execute(&mut admin)
        .await
        .unwrap();
    // Right after the loss w1 claims nothing: neither its own work again nor anything new.
    let again = store
        .claim_ops_alive(t0() + Duration::seconds(1), "w1", lease, 10)
        .await;
    assert!(
        again.as_ref().is_ok_and(|ops| ops.is_empty()) || again.is_err(),
        "w1 claimed its own work again: {again:?}"
    );

    let deadline = Instant::now() + StdDuration::from_secs(5);
    loop {
        let now = lock_holders(&mut admin, "w1").await;
        if now.len() == 1 && now != before {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "w1's lock was not taken again within 5 s of losing its connection"
        );
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    // w1 lives: its lease holds for the others, and it does not claim its own work twice.
    assert!(
        store
            .claim_ops(t0() + Duration::seconds(5), "w2", lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .claim_ops_alive(t0() + Duration::seconds(5), "w1", lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

on_both_databases! {
    lost_worker_lock => a_lost_worker_lock_is_taken_again;
}

/// A request with a justification of `kb` kB, to fill pages fast.
fn big_request(id: &str, kb: usize) -> jitgate::domain::Request {
    let mut r = request(id, &format!("u-{id}"), "p");
    r.justification = "x".repeat(kb * 1024);
    r
}

async fn write(store: &SqliteStore, id: &str, kb: usize) -> Result<(), String> {
    let mut tx = store.begin().await.map_err(|e| e.to_string())?;
    tx.insert_request(&big_request(id, kb))
        .await
        .map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())
}

/// SQLite on a disk that fills up: writes fail while it is full, and work again by themselves
/// within seconds of space returning (no connection is left inside a failed transaction).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_writes_resume_after_a_full_disk() {
    let Some(fs) = SmallFs::mount(4) else {
        return;
    };
    let url = format!(
        "sqlite://{}?mode=rwc",
        fs.path().join("jitgate.db").display()
    );
    let store = SqliteStore::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    write(&store, "first", 1).await.unwrap();

    fs.fill();
    let mut failures = Vec::new();
    for i in 0..40 {
        if let Err(e) = write(&store, &format!("full-{i}"), 64).await {
            failures.push(e);
        }
    }
    assert!(
        failures.iter().any(|e| e.contains("full")),
        "writes failed on the full disk: {failures:?}"
    );

    fs.free();
    let freed = Instant::now();
    let mut i = 0;
    loop {
        i += 1;
        let last = match write(&store, &format!("after-{i}"), 1).await {
            Ok(()) => break,
            Err(e) => e,
        };
        assert!(
            freed.elapsed() < StdDuration::from_secs(5),
            "writes did not resume within 5 s of space returning: {last}"
        );
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    // And keep working.
    for n in 0..20 {
        write(&store, &format!("later-{n}"), 1).await.unwrap();
    }
    store.pool().close().await;
}
