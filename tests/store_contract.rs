//! The store contract: the same assertions against SQLite and PostgreSQL.

mod common;
#[path = "store_contract/schema.rs"]
mod schema;

use chrono::{DateTime, Duration, TimeZone, Utc};
use common::db::{Backend, TestDb};
use jitgate::domain::{
    Approval, AuditAction, Decision, NewAuditEvent, Request, RequestStatus, UserRef,
    audit::verify_chain,
};
use jitgate::store::{
    AuditFilter, DueKind, NewDirectoryOp, OpKind, OpOutcome, PgStore, RequestFilter, SqliteStore,
    Store, StoreError,
};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap()
}

fn user(id: &str) -> UserRef {
    UserRef {
        id: id.into(),
        name: format!("User {id}"),
        username: format!("{id}@contoso.example"),
    }
}

fn request(id: &str, requester: &str, package: &str) -> Request {
    Request {
        id: id.into(),
        package: package.into(),
        group_id: "g1".into(),
        requester: user(requester),
        manager_id: None,
        status: RequestStatus::Pending,
        duration_minutes: 120,
        justification: "deploying the CI runner".into(),
        ticket: Some("INC-1".into()),
        created_at: t0(),
        requested_start: None,
        timeout_at: t0() + Duration::hours(24),
        starts_at: None,
        ends_at: None,
        decided_at: None,
        added_at: None,
        removed_at: None,
        close_reason: None,
        approvals: vec![],
    }
}

/// The ids of listed requests, in order.
fn ids(list: &[Request]) -> Vec<&str> {
    list.iter().map(|r| r.id.as_str()).collect()
}

/// The ids of the requests `f` lists, in order.
async fn listed(
    store: &std::sync::Arc<dyn jitgate::store::Store>,
    f: &RequestFilter,
) -> Vec<String> {
    store
        .list_requests(f)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect()
}

fn event(action: AuditAction, request: &str, actor: &str, at: DateTime<Utc>) -> NewAuditEvent {
    NewAuditEvent {
        at,
        actor_id: actor.into(),
        actor_name: format!("Name of {actor}"),
        action,
        request_id: Some(request.into()),
        subject_id: Some("dana".into()),
        details: serde_json::json!({"note": "x"}),
        client_ip: None,
        user_agent: None,
    }
}

async fn requests_round_trip(db: &TestDb) {
    let store = db.store().await;
    let mut r = request("r1", "dana", "p1");
    let mut tx = store.begin().await.unwrap();
    tx.insert_request(&r).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.get_request("r1").await.unwrap(), Some(r.clone()));
    assert_eq!(store.get_request("nope").await.unwrap(), None);

    let a = Approval {
        approver: user("alex"),
        decision: Decision::Approve,
        comment: Some("ok".into()),
        at: t0(),
    };
    r.approvals.push(a.clone());
    r.status = RequestStatus::Active;
    r.starts_at = Some(t0());
    r.ends_at = Some(t0() + Duration::hours(2));
    r.decided_at = Some(t0());
    let mut tx = store.begin().await.unwrap();
    tx.insert_approval("r1", &a).await.unwrap();
    tx.update_request(&r, t0()).await.unwrap();
    assert_eq!(
        tx.get_request("r1").await.unwrap(),
        Some(r.clone()),
        "reads its own writes"
    );
    tx.commit().await.unwrap();
    assert_eq!(store.get_request("r1").await.unwrap(), Some(r.clone()));

    let mut tx = store.begin().await.unwrap();
    assert!(matches!(
        tx.insert_approval("r1", &a).await,
        Err(StoreError::Conflict(_))
    ));
}

async fn one_open_request_per_user_and_package(db: &TestDb) {
    let store = db.store().await;
    let mut tx = store.begin().await.unwrap();
    tx.insert_request(&request("r1", "dana", "p1"))
        .await
        .unwrap();
    tx.insert_request(&request("r2", "dana", "p2"))
        .await
        .unwrap();
    tx.insert_request(&request("r3", "sam", "p1"))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    let err = tx
        .insert_request(&request("r4", "dana", "p1"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    drop(tx);
    assert_eq!(
        store.get_request("r4").await.unwrap(),
        None,
        "nothing of a failed transaction remains"
    );

    // Once the first is closed a new one is allowed.
    let mut r1 = store.get_request("r1").await.unwrap().unwrap();
    r1.status = RequestStatus::Cancelled;
    let mut tx = store.begin().await.unwrap();
    tx.update_request(&r1, t0()).await.unwrap();
    tx.insert_request(&request("r4", "dana", "p1"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

async fn listing_and_counting(db: &TestDb) {
    let store = db.store().await;
    let mut tx = store.begin().await.unwrap();
    for i in 0..5 {
        let mut r = request(
            &format!("r{i}"),
            &format!("u{i}"),
            if i % 2 == 0 { "even" } else { "odd" },
        );
        r.created_at = t0() + Duration::minutes(i);
        if i == 4 {
            r.status = RequestStatus::Denied;
        }
        tx.insert_request(&r).await.unwrap();
    }
    tx.insert_approval(
        "r1",
        &Approval {
            approver: user("alex"),
            decision: Decision::Deny,
            comment: None,
            at: t0(),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let all = store
        .list_requests(&RequestFilter::default())
        .await
        .unwrap();
    assert_eq!(ids(&all), ["r4", "r3", "r2", "r1", "r0"]);
    assert_eq!(all[3].approvals.len(), 1, "approvals come along");
    let f = RequestFilter {
        package: Some("even".into()),
        statuses: vec![RequestStatus::Pending],
        oldest_first: true,
        ..Default::default()
    };
    let even = listed(&store, &f).await;
    assert_eq!(even, ["r0", "r2"]);
    assert_eq!(store.count_requests(&f).await.unwrap(), 2);
    let f = RequestFilter {
        requester_id: Some("u3".into()),
        ..Default::default()
    };
    assert_eq!(store.count_requests(&f).await.unwrap(), 1);
    let f = RequestFilter {
        limit: Some(2),
        offset: Some(1),
        ..Default::default()
    };
    let page = listed(&store, &f).await;
    assert_eq!(page, ["r3", "r2"]);
    let f = RequestFilter {
        created_since: Some(t0() + Duration::minutes(3)),
        ..Default::default()
    };
    assert_eq!(store.count_requests(&f).await.unwrap(), 2);

    // By id, with or without their approvals.
    let f = RequestFilter {
        ids: vec!["r1".into(), "r3".into(), "nope".into()],
        ..Default::default()
    };
    let full = store.list_requests(&f).await.unwrap();
    assert_eq!(ids(&full), ["r3", "r1"]);
    assert_eq!(full[1].approvals.len(), 1);
    let light = store
        .list_requests(&RequestFilter {
            without_approvals: true,
            ..f
        })
        .await
        .unwrap();
    assert_eq!(ids(&light), ["r3", "r1"]);
    assert!(
        light[1].approvals.is_empty(),
        "approvals left out on request"
    );

    // Grants (not pending or denied requests) per requester since a time.
    let mut tx = store.begin().await.unwrap();
    for (i, status) in [
        RequestStatus::Expired,
        RequestStatus::Active,
        RequestStatus::Denied,
    ]
    .into_iter()
    .enumerate()
    {
        let mut r = request(&format!("g{i}"), "u9", &format!("pkg{i}"));
        r.status = status;
        r.created_at = t0() + Duration::hours(i as i64);
        tx.insert_request(&r).await.unwrap();
    }
    tx.commit().await.unwrap();
    let counts = store
        .grant_counts(&["u9".into(), "u4".into(), "nobody".into()], t0())
        .await
        .unwrap();
    assert_eq!(counts.len(), 1, "{counts:?}");
    assert_eq!(
        (
            counts[0].requester_id.as_str(),
            counts[0].grants,
            counts[0].last_at
        ),
        ("u9", 2, t0() + Duration::hours(1))
    );
    assert!(
        store
            .grant_counts(&["u9".into()], t0() + Duration::hours(2))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.grant_counts(&[], t0()).await.unwrap().is_empty());
}

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
    let mut tx = store.begin().await.unwrap();
    for r in [&pending, &approved, &active, &closed] {
        tx.insert_request(r).await.unwrap();
    }
    tx.commit().await.unwrap();

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
            .list_ops(true, 10)
            .await
            .unwrap()
            .iter()
            .map(|o| o.id)
            .collect::<Vec<_>>(),
        [later]
    );
    assert_eq!(store.list_ops(false, 10).await.unwrap().len(), 3);
    assert_eq!(store.ops_for_request("r1").await.unwrap().len(), 3);
    assert_eq!(
        store.next_op_at().await.unwrap(),
        Some(t0() + Duration::minutes(5))
    );
}

async fn active_grant_counting(db: &TestDb) {
    let store = db.store().await;
    let mut a = request("a", "dana", "p1");
    a.status = RequestStatus::Active;
    let mut b = request("b", "dana", "p2");
    b.status = RequestStatus::Active;
    let mut c = request("c", "dana", "p3");
    c.group_id = "other-group".into();
    c.status = RequestStatus::Active;
    let mut tx = store.begin().await.unwrap();
    for r in [&a, &b, &c] {
        tx.insert_request(r).await.unwrap();
    }
    assert_eq!(
        tx.count_other_active_grants("dana", "g1", "a")
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        tx.count_other_active_grants("dana", "other-group", "c")
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        tx.count_other_active_grants("sam", "g1", "x")
            .await
            .unwrap(),
        0
    );
}

async fn audit_chain_is_append_only(db: &TestDb) {
    let store = db.store().await;
    let mut tx = store.begin().await.unwrap();
    // r1 is a request for package "p1"; r2 has no request row.
    tx.insert_request(&request("r1", "dana", "p1"))
        .await
        .unwrap();
    let first = tx
        .append_event(event(AuditAction::RequestCreated, "r1", "dana", t0()))
        .await
        .unwrap();
    let second = tx
        .append_event(event(
            AuditAction::RequestApproved,
            "r1",
            "alex",
            t0() + Duration::minutes(1),
        ))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!((first.seq, second.seq), (1, 2));
    assert_eq!(second.prev_hash, first.hash);
    let mut tx = store.begin().await.unwrap();
    tx.append_event(event(
        AuditAction::RequestCreated,
        "r2",
        "sam",
        t0() + Duration::minutes(2),
    ))
    .await
    .unwrap();
    tx.commit().await.unwrap();
    // A rolled back append leaves no gap.
    let mut tx = store.begin().await.unwrap();
    tx.append_event(event(AuditAction::RequestDenied, "r2", "alex", t0()))
        .await
        .unwrap();
    drop(tx);

    let all = store.events_after(0, 100).await.unwrap();
    assert_eq!(all.len(), 3);
    assert!(verify_chain(&all).ok);
    assert_eq!(store.events_after(1, 1).await.unwrap()[0].seq, 2);

    let newest: Vec<_> = store
        .list_events(&AuditFilter::default())
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(newest, [3, 2, 1]);
    let by = |f: AuditFilter| {
        let store = store.clone();
        async move {
            store
                .list_events(&f)
                .await
                .unwrap()
                .into_iter()
                .map(|e| e.seq)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        by(AuditFilter {
            request_id: Some("r1".into()),
            ..Default::default()
        })
        .await,
        [2, 1]
    );
    assert_eq!(
        by(AuditFilter {
            actor_id: Some("sam".into()),
            ..Default::default()
        })
        .await,
        [3]
    );
    assert_eq!(
        by(AuditFilter {
            action: Some("request_approved".into()),
            ..Default::default()
        })
        .await,
        [2]
    );
    assert_eq!(
        by(AuditFilter {
            since: Some(t0() + Duration::minutes(1)),
            ..Default::default()
        })
        .await,
        [3, 2]
    );
    assert_eq!(
        by(AuditFilter {
            until: Some(t0() + Duration::minutes(1)),
            ..Default::default()
        })
        .await,
        [1]
    );
    assert_eq!(
        by(AuditFilter {
            before_seq: Some(3),
            limit: Some(1),
            ..Default::default()
        })
        .await,
        [2]
    );
    let person = |p: &str| AuditFilter {
        person: Some(p.into()),
        ..Default::default()
    };
    assert_eq!(by(person("alex")).await, [2], "as actor id");
    assert_eq!(by(person("Name of sam")).await, [3], "as actor name");
    assert_eq!(by(person("dana")).await, [3, 2, 1], "as subject");
    assert_eq!(by(person("nobody")).await, Vec::<i64>::new());
    let package = |p: &str| AuditFilter {
        package: Some(p.into()),
        ..Default::default()
    };
    assert_eq!(by(package("p1")).await, [2, 1]);
    assert_eq!(by(package("p2")).await, Vec::<i64>::new());

    // The database itself refuses to change history.
    let url = db.url.clone();
    let refused = if url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        let u = sqlx::query("UPDATE audit_events SET actor_id = 'mallory' WHERE seq = 1")
            .execute(&pool)
            .await;
        let d = sqlx::query("DELETE FROM audit_events WHERE seq = 3")
            .execute(&pool)
            .await;
        [u.is_err(), d.is_err()]
    } else {
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        let u = sqlx::query("UPDATE audit_events SET actor_id = 'mallory' WHERE seq = 1")
            .execute(&pool)
            .await;
        let d = sqlx::query("DELETE FROM audit_events WHERE seq = 3")
            .execute(&pool)
            .await;
        let t = sqlx::query("TRUNCATE audit_events").execute(&pool).await;
        assert!(t.is_err(), "TRUNCATE refused");
        [u.is_err(), d.is_err()]
    };
    assert_eq!(refused, [true, true]);
    assert!(verify_chain(&store.events_after(0, 100).await.unwrap()).ok);
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

async fn concurrent_appends_keep_one_chain(db: &TestDb) {
    let store = db.store().await;
    let mut tasks = Vec::new();
    for w in 0..4 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..10 {
                let mut tx = store.begin().await.unwrap();
                tx.append_event(event(
                    AuditAction::DirectoryError,
                    &format!("r{w}-{i}"),
                    "system",
                    t0(),
                ))
                .await
                .unwrap();
                tx.commit().await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let all = store.events_after(0, 1000).await.unwrap();
    assert_eq!(all.len(), 40);
    assert_eq!(
        jitgate::domain::audit::verify_chain(&all).first_bad_seq,
        None
    );
}

on_both_databases! {
    requests => requests_round_trip;
    open_request_uniqueness => one_open_request_per_user_and_package;
    listing => listing_and_counting;
    due => due_items_and_deadlines;
    outbox => outbox_claims_in_order_under_a_lease;
    active_grants => active_grant_counting;
    audit => audit_chain_is_append_only;
    heartbeats => heartbeats_and_health;
    concurrent_appends => concurrent_appends_keep_one_chain;
}

/// `(version, description)` of every migration in `migrations/<backend>`, from `NNNN_description.sql`.
fn migration_versions(backend: &str) -> Vec<(u64, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    let mut versions: Vec<(u64, String)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| {
            let name = entry.unwrap().file_name().into_string().unwrap();
            let stem = name
                .strip_suffix(".sql")
                .unwrap_or_else(|| panic!("{backend}: {name} is not a .sql migration"));
            let (version, description) = stem
                .split_once('_')
                .unwrap_or_else(|| panic!("{backend}: {name} is not NNNN_description.sql"));
            let version = version.parse().unwrap_or_else(|_| {
                panic!("{backend}: {name} does not start with a version number")
            });
            (version, description.to_string())
        })
        .collect();
    versions.sort();
    versions
}

#[test]
fn both_backends_have_the_same_migrations() {
    let sqlite = migration_versions("sqlite");
    let postgres = migration_versions("postgres");
    assert!(!sqlite.is_empty(), "no migrations found");
    assert_eq!(
        sqlite, postgres,
        "migrations/sqlite and migrations/postgres must hold the same versions"
    );
}

/// Migrates a fresh database of each backend with `Store::migrate` and compares what came out;
/// `schema` says what is compared and what is left out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_backends_migrate_to_the_same_schema() {
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    let store = SqliteStore::connect(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    let sqlite = schema::sqlite(store.pool()).await;
    store.pool().close().await;
    db.cleanup().await;

    // The introspection sees something (two empty schemas would compare equal).
    assert!(!sqlite.indexes.is_empty(), "{sqlite:#?}");
    assert!(
        sqlite.indexes.values().any(|i| i.predicate.is_some()),
        "{sqlite:#?}"
    );
    assert_eq!(sqlite.tables["requests"].primary_key, ["id"]);
    for (name, table) in &sqlite.tables {
        assert!(!table.columns.is_empty(), "{name} has no columns");
        assert!(!table.primary_key.is_empty(), "{name} has no primary key");
    }

    let Some(db) = TestDb::new(Backend::Postgres).await else {
        return;
    };
    let store = PgStore::connect(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    let postgres = schema::postgres(store.pool()).await;
    store.pool().close().await;
    db.cleanup().await;

    assert_eq!(
        sqlite.tables.keys().collect::<Vec<_>>(),
        postgres.tables.keys().collect::<Vec<_>>(),
        "tables"
    );
    // Column by column first, for a readable message.
    for (name, table) in &sqlite.tables {
        let other = &postgres.tables[name];
        assert_eq!(
            table.columns.keys().collect::<Vec<_>>(),
            other.columns.keys().collect::<Vec<_>>(),
            "columns of {name}"
        );
        for (column, c) in &table.columns {
            assert_eq!(
                c, &other.columns[column],
                "column {name}.{column} (SQLite left, PostgreSQL right)"
            );
        }
        assert_eq!(table, other, "table {name} (SQLite left, PostgreSQL right)");
    }
    assert_eq!(
        sqlite.indexes.keys().collect::<Vec<_>>(),
        postgres.indexes.keys().collect::<Vec<_>>(),
        "indexes"
    );
    for (name, index) in &sqlite.indexes {
        assert_eq!(
            index, &postgres.indexes[name],
            "index {name} (SQLite left, PostgreSQL right)"
        );
    }
    assert_eq!(sqlite, postgres);
}
