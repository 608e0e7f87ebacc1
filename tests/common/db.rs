//! Fresh databases for tests: a temporary SQLite file, or a new PostgreSQL database per test.
//!
//! PostgreSQL comes from `JITGATE_TEST_POSTGRES` (default `postgres://postgres@127.0.0.1:5432/postgres`).
//! When it cannot be reached the PostgreSQL half of a test is skipped with a loud message, except
//! under CI (`CI=true`), where it fails.

#![allow(dead_code)]

use std::sync::Arc;

use jitgate::store::{self, Store};
use sqlx::Connection;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_name: Option<String>,
}

fn admin_url() -> String {
    std::env::var("JITGATE_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

impl TestDb {
    /// `None` when PostgreSQL is unavailable outside CI.
    pub async fn new(backend: Backend) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("jitgate.db").display()
                );
                Some(TestDb {
                    backend,
                    url,
                    _dir: Some(dir),
                    pg_name: None,
                })
            }
            Backend::Postgres => {
                let admin = admin_url();
                let mut conn = match sqlx::PgConnection::connect(&admin).await {
                    Ok(c) => c,
                    Err(e) if std::env::var("CI").as_deref() != Ok("true") => {
                        eprintln!(
                            "SKIPPING the PostgreSQL half of this test: cannot reach {admin}: {e}"
                        );
                        return None;
                    }
                    Err(e) => {
                        panic!("PostgreSQL is required under CI but {admin} cannot be reached: {e}")
                    }
                };
                let name = format!("jitgate_t_{}", uuid::Uuid::new_v4().simple());
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                let mut url = url::Url::parse(&admin).unwrap();
                url.set_path(&name);
                Some(TestDb {
                    backend,
                    url: url.to_string(),
                    _dir: None,
                    pg_name: Some(name),
                })
            }
        }
    }

    pub async fn store(&self) -> Arc<dyn Store> {
        let s = store::connect(&self.url).await.unwrap();
        s.migrate().await.unwrap();
        s
    }

    /// Drops the PostgreSQL database (SQLite files go with their temporary directory).
    pub async fn cleanup(self) {
        if let Some(name) = &self.pg_name
            && let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url()).await
        {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn)
                .await;
        }
    }
}

/// What a test needs set up on a fresh database, and taken down after.
pub trait Fixture: Sized {
    async fn set_up(db: &TestDb) -> Self;
    async fn tear_down(self);
}

/// Runs each test body once on SQLite and once on PostgreSQL, as two tests (`<name>::sqlite`,
/// `<name>::postgres`), each on a fresh database that is dropped afterwards.
///
/// `on_both_databases! { name => body; }` calls `body(&TestDb)`;
/// `on_both_databases! { with F; name => body; }` sets up the [`Fixture`] `F` on the database and
/// calls `body(&mut F)`.
#[macro_export]
macro_rules! on_both_databases {
    (with $fixture:ty; $($name:ident => $body:path;)+) => {
        $crate::on_both_databases!(@each $($name => |db| async move {
            let mut f = <$fixture as $crate::common::db::Fixture>::set_up(db).await;
            $body(&mut f).await;
            $crate::common::db::Fixture::tear_down(f).await;
        };)+);
    };
    ($($name:ident => $body:path;)+) => {
        $crate::on_both_databases!(@each $($name => |db| $body(db);)+);
    };
    (@each $($name:ident => |$db:ident| $run:expr;)+) => {
        $(
            mod $name {
                use super::*;
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let db = $crate::common::db::TestDb::new($crate::common::db::Backend::Sqlite).await.unwrap();
                    {
                        let $db = &db;
                        $run.await;
                    }
                    db.cleanup().await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let Some(db) = $crate::common::db::TestDb::new($crate::common::db::Backend::Postgres).await else { return };
                    {
                        let $db = &db;
                        $run.await;
                    }
                    db.cleanup().await;
                }
            }
        )+
    };
}

impl TestDb {
    /// What the database's owner can do without the audit key: switch the trail's guard off
    /// and rewrite every event from `from_seq` on (changed by `edit` first), each relinked as
    /// plain SHA-256 so that the chain is intact in itself.
    pub async fn relink_unkeyed(
        &self,
        from_seq: i64,
        edit: impl Fn(&mut jitgate::domain::AuditEvent),
    ) {
        let events = self.store().await.events_after(0, 100_000).await.unwrap();
        let mut prev = jitgate::domain::audit::GENESIS_HASH.to_string();
        let mut rewritten = Vec::new();
        for mut e in events {
            if e.seq >= from_seq {
                edit(&mut e);
                e.prev_hash = prev.clone();
                e.hash = e.compute_hash(None);
                rewritten.push(e.clone());
            }
            prev = e.hash.clone();
        }
        const UPDATE: &str = "UPDATE audit_events SET actor_id = $1, details = $2, prev_hash = $3, \
                              hash = $4 WHERE seq = $5";
        match self.backend {
            Backend::Sqlite => {
                let pool = sqlx::SqlitePool::connect(&self.url).await.unwrap();
                sqlx::query("DROP TRIGGER IF EXISTS audit_events_no_update")
                    .execute(&pool)
                    .await
                    .unwrap();
                for e in &rewritten {
                    sqlx::query(UPDATE)
                        .bind(&e.actor_id)
                        .bind(&e.details)
                        .bind(&e.prev_hash)
                        .bind(&e.hash)
                        .bind(e.seq)
                        .execute(&pool)
                        .await
                        .unwrap();
                }
                pool.close().await;
            }
            Backend::Postgres => {
                let pool = sqlx::PgPool::connect(&self.url).await.unwrap();
                sqlx::query("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update")
                    .execute(&pool)
                    .await
                    .unwrap();
                for e in &rewritten {
                    sqlx::query(UPDATE)
                        .bind(&e.actor_id)
                        .bind(&e.details)
                        .bind(&e.prev_hash)
                        .bind(&e.hash)
                        .bind(e.seq)
                        .execute(&pool)
                        .await
                        .unwrap();
                }
                pool.close().await;
            }
        }
    }
}
