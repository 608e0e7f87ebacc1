//! The audit trail: append-only, one chain even under concurrent appends.

use chrono::Duration;
use jitgate::domain::{AuditAction, audit::verify_chain};
use jitgate::store::AuditFilter;

use crate::common::db::TestDb;
use crate::fixtures::*;
use crate::on_both_databases;

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
    append(
        &store,
        event(
            AuditAction::RequestCreated,
            "r2",
            "sam",
            t0() + Duration::minutes(2),
        ),
    )
    .await;
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
    for (filter, expected) in [
        (
            AuditFilter {
                request_id: Some("r1".into()),
                ..Default::default()
            },
            vec![2, 1],
        ),
        (
            AuditFilter {
                actor_id: Some("sam".into()),
                ..Default::default()
            },
            vec![3],
        ),
        (
            AuditFilter {
                action: Some("request_approved".into()),
                ..Default::default()
            },
            vec![2],
        ),
        (
            AuditFilter {
                since: Some(t0() + Duration::minutes(1)),
                ..Default::default()
            },
            vec![3, 2],
        ),
        (
            AuditFilter {
                until: Some(t0() + Duration::minutes(1)),
                ..Default::default()
            },
            vec![1],
        ),
        (
            AuditFilter {
                before_seq: Some(3),
                limit: Some(1),
                ..Default::default()
            },
            vec![2],
        ),
    ] {
        assert_eq!(by(filter.clone()).await, expected, "{filter:?}");
    }
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
        let mut refused = rewrite_history(&pool).await.to_vec();
        // INSERT OR REPLACE deletes the old row without firing the delete trigger (issue 8).
        let r = sqlx::query(&format!(
            "INSERT OR REPLACE INTO audit_events SELECT {FORGED} FROM audit_events WHERE seq = 1"
        ))
        .execute(&pool)
        .await;
        refused.push(r.is_err());
        refused.extend(insert_out_of_order(&pool).await);
        refused
    } else {
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        let mut refused = rewrite_history(&pool).await.to_vec();
        let t = sqlx::query("TRUNCATE audit_events").execute(&pool).await;
        assert!(t.is_err(), "TRUNCATE refused");
        let r = sqlx::query(&format!(
            "INSERT INTO audit_events SELECT {FORGED} FROM audit_events WHERE seq = 1 \
             ON CONFLICT (seq) DO UPDATE SET actor_id = EXCLUDED.actor_id"
        ))
        .execute(&pool)
        .await;
        refused.push(r.is_err());
        refused.extend(insert_out_of_order(&pool).await);
        refused
    };
    assert_eq!(refused, [true; 5]);
    assert!(verify_chain(&store.events_after(0, 100).await.unwrap()).ok);
}

/// An audit event's columns with the actor replaced, for forged inserts.
const FORGED: &str = "seq, at, 'mallory', actor_name, action, request_id, subject_id, details, \
                      client_ip, user_agent, prev_hash, hash";

/// Inserts an event with a used sequence number and one that leaves a gap; whether each was refused.
async fn insert_out_of_order<DB>(pool: &sqlx::Pool<DB>) -> [bool; 2]
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
{
    let mut out = [false; 2];
    for (i, seq) in ["2", "(SELECT MAX(seq) + 5 FROM audit_events)"]
        .into_iter()
        .enumerate()
    {
        let r = sqlx::query(&format!(
            "INSERT INTO audit_events SELECT {}, at, 'mallory', actor_name, action, request_id, \
             subject_id, details, client_ip, user_agent, prev_hash, hash FROM audit_events WHERE seq = 1",
            seq
        ))
        .execute(pool)
        .await;
        out[i] = r.is_err();
    }
    out
}

/// Tries to update and to delete an audit event behind the store's back; whether each was refused.
async fn rewrite_history<DB>(pool: &sqlx::Pool<DB>) -> [bool; 2]
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
{
    let u = sqlx::query("UPDATE audit_events SET actor_id = 'mallory' WHERE seq = 1")
        .execute(pool)
        .await;
    let d = sqlx::query("DELETE FROM audit_events WHERE seq = 3")
        .execute(pool)
        .await;
    [u.is_err(), d.is_err()]
}

async fn concurrent_appends_keep_one_chain(db: &TestDb) {
    let store = db.store().await;
    let mut tasks = Vec::new();
    for w in 0..4 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..10 {
                let e = event(
                    AuditAction::DirectoryError,
                    &format!("r{w}-{i}"),
                    "system",
                    t0(),
                );
                append(&store, e).await;
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

/// Exports are streamed a page (1,000 events) at a time, the CSV header once, newest first.
async fn exports_are_streamed_page_by_page(db: &TestDb) {
    use futures_util::StreamExt;
    use jitgate::service::ExportFormat;
    let store = db.store().await;
    let mut tx = store.begin().await.unwrap();
    for i in 0..2345 {
        tx.append_event(event(
            AuditAction::RequestCreated,
            &format!("r{i}"),
            "dana",
            t0(),
        ))
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let collect = |limit: Option<i64>| {
        let store = store.clone();
        async move {
            let filter = jitgate::store::AuditFilter {
                limit,
                ..Default::default()
            };
            let mut stream = jitgate::service::audit::export(store, filter, ExportFormat::Csv);
            let (mut chunks, mut events, mut bytes) = (0, 0, Vec::new());
            while let Some(c) = stream.next().await {
                let c = c.unwrap();
                chunks += 1;
                events += c.events;
                bytes.extend(c.bytes);
            }
            (chunks, events, String::from_utf8(bytes).unwrap())
        }
    };
    let (chunks, events, csv) = collect(None).await;
    assert_eq!((chunks, events), (3, 2345));
    assert_eq!(csv.matches("seq,at,actor_id").count(), 1, "one header");
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let seqs: Vec<i64> = rows
        .records()
        .map(|r| r.unwrap()[0].parse().unwrap())
        .collect();
    assert_eq!(seqs.len(), 2345);
    assert!(
        seqs.windows(2).all(|w| w[0] == w[1] + 1),
        "newest first, none missing"
    );
    let (chunks, events, _) = collect(Some(1500)).await;
    assert_eq!((chunks, events), (2, 1500));
    // Nothing to export is still a CSV with its header.
    let (_, events, csv) = collect(Some(0)).await;
    assert_eq!((events, csv.lines().count()), (0, 1));
}

/// With the audit key, appended events are keyed: they verify with the key only.
async fn keyed_events_verify_with_the_key_only(db: &TestDb) {
    use jitgate::domain::audit::{ChainKey, ChainVerifier};
    let key = ChainKey::new(b"an audit key of thirty-two bytes or more, for tests");
    let store = jitgate::store::connect_keyed(&db.url, Some(key.clone()))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    for i in 0..3 {
        append(
            &store,
            event(AuditAction::RequestCreated, &format!("r{i}"), "dana", t0()),
        )
        .await;
    }
    let all = store.events_after(0, 100).await.unwrap();
    assert!(all.iter().all(|e| e.is_keyed()));
    let check = |key: Option<ChainKey>| {
        let mut v = ChainVerifier::new(key, None);
        for e in &all {
            v.feed(e);
        }
        v.finish()
    };
    assert!(check(Some(key)).ok);
    assert!(!check(Some(ChainKey::new(&[1u8; 32]))).ok);
    assert!(!check(None).ok);
}

/// Issue 19, item 3: with the audit key, the moment keying began is anchored outside the
/// database (here before any event), and verification checks the trail against the anchor file
/// and the last anchor the portal sent: a trail rewritten without the key from its start is
/// refused, naming the anchor it disagrees with.
async fn a_trail_rewritten_without_the_key_is_refused(db: &TestDb) {
    use jitgate::domain::audit::ChainKey;
    use jitgate::service::audit::{anchor, verify};
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("anchors.jsonl");
    let key = ChainKey::new(b"an audit key of thirty-two bytes or more, for tests");
    let settings = jitgate::config::AuditSettings {
        key: Some(key.clone()),
        anchor_every: Duration::hours(1),
        anchor_file: Some(file.clone()),
        anchor_webhook: None,
    };
    let store = jitgate::store::connect_keyed(&db.url, Some(key))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let start = anchor(store.as_ref(), &settings, None, t0())
        .await
        .unwrap()
        .expect("keying that begins before any event is anchored");
    assert_eq!((start.seq, start.keyed_from), (0, Some(1)));
    for i in 0..3 {
        append(
            &store,
            event(AuditAction::RequestCreated, &format!("r{i}"), "dana", t0()),
        )
        .await;
    }
    let v = verify(store.as_ref(), &settings, None, None).await.unwrap();
    assert!(v.ok && v.anchors == 1 && v.keyed_from == Some(1), "{v:?}");

    db.relink_unkeyed(1, |_| {}).await;
    assert!(
        verify_chain(&store.events_after(0, 100).await.unwrap()).ok,
        "intact as plain SHA-256"
    );
    let v = verify(store.as_ref(), &settings, None, None).await.unwrap();
    assert!(!v.ok, "{v:?}");
    assert_eq!(v.first_bad_seq, Some(1), "{v:?}");
    let bad = v.bad_anchor.expect("the anchor is named");
    assert_eq!((bad.seq, &bad.at), (0, &start.at));
    assert!(
        bad.from.contains(file.to_str().unwrap()) && bad.from.contains("line 1"),
        "{bad:?}"
    );
    // The last anchor the portal sent itself counts as well, without the file.
    let no_file = jitgate::config::AuditSettings {
        anchor_file: None,
        ..settings
    };
    let v = verify(store.as_ref(), &no_file, Some(&start), None)
        .await
        .unwrap();
    assert_eq!(v.first_bad_seq, Some(1), "{v:?}");
    assert!(v.bad_anchor.unwrap().from.contains("sent"));
    assert!(
        verify(store.as_ref(), &no_file, None, None)
            .await
            .unwrap()
            .ok,
        "nothing to tell by"
    );
}

/// PostgreSQL: with the grants `jitgate migrate` prints, the portal's role starts (no DDL
/// when the schema is up to date), adds events, and can neither change nor remove one, nor
/// switch the triggers off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_portal_role_cannot_rewrite_history() {
    use sqlx::Connection;
    let Some(db) = TestDb::new(crate::common::db::Backend::Postgres).await else {
        return;
    };
    let owner = db.store().await;
    owner.session_store().migrate().await.unwrap();
    append(
        &owner,
        event(AuditAction::RequestCreated, "r1", "dana", t0()),
    )
    .await;
    let role = format!(
        "jitgate_app_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let mut admin = sqlx::PgConnection::connect(&db.url).await.unwrap();
    sqlx::query(&format!("CREATE ROLE {role} LOGIN"))
        .execute(&mut admin)
        .await
        .unwrap();
    for stmt in jitgate::store::POSTGRES_RUNTIME_GRANTS
        .lines()
        .filter(|l| !l.trim_start().starts_with("--") && !l.trim().is_empty())
    {
        sqlx::query(&stmt.replace("jitgate_app", &role))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("{stmt}: {e}"));
    }
    let mut url = url::Url::parse(&db.url).unwrap();
    url.set_username(&role).unwrap();
    let app = jitgate::store::connect(url.as_str()).await.unwrap();
    app.migrate()
        .await
        .expect("an up-to-date schema needs no DDL");
    app.session_store().migrate().await.unwrap();
    append(
        &app,
        event(AuditAction::RequestApproved, "r1", "alex", t0()),
    )
    .await;
    let mut c = sqlx::PgConnection::connect(url.as_str()).await.unwrap();
    for attack in [
        "UPDATE audit_events SET actor_id = 'mallory'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
        "ALTER TABLE audit_events DISABLE TRIGGER ALL",
        "DROP TRIGGER audit_events_no_update ON audit_events",
    ] {
        let e = sqlx::query(attack).execute(&mut c).await.unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("permission denied") || msg.contains("must be owner"),
            "{attack}: {msg}"
        );
    }
    assert_eq!(app.events_after(0, 10).await.unwrap().len(), 2);
    drop(c);
    drop(app);
    sqlx::query(&format!("DROP OWNED BY {role}"))
        .execute(&mut admin)
        .await
        .unwrap();
    drop(admin);
    db.cleanup().await;
    let mut server = sqlx::PgConnection::connect(
        &std::env::var("JITGATE_TEST_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into()),
    )
    .await
    .unwrap();
    let _ = sqlx::query(&format!("DROP ROLE IF EXISTS {role}"))
        .execute(&mut server)
        .await;
}

on_both_databases! {
    keyed => keyed_events_verify_with_the_key_only;
    audit_unkeyed_rewrite => a_trail_rewritten_without_the_key_is_refused;
    audit => audit_chain_is_append_only;
    streamed_export => exports_are_streamed_page_by_page;
    concurrent_appends => concurrent_appends_keep_one_chain;
}
