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
        rewrite_history(&pool).await
    } else {
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        let refused = rewrite_history(&pool).await;
        let t = sqlx::query("TRUNCATE audit_events").execute(&pool).await;
        assert!(t.is_err(), "TRUNCATE refused");
        refused
    };
    assert_eq!(refused, [true, true]);
    assert!(verify_chain(&store.events_after(0, 100).await.unwrap()).ok);
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

on_both_databases! {
    audit => audit_chain_is_append_only;
    streamed_export => exports_are_streamed_page_by_page;
    concurrent_appends => concurrent_appends_keep_one_chain;
}
