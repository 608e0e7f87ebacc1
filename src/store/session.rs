//! Browser sessions live in the same database as everything else.

use async_trait::async_trait;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};

/// The tower-sessions store of whichever backend is configured.
#[derive(Debug, Clone)]
pub enum AnySessionStore {
    Sqlite(tower_sessions_sqlx_store::SqliteStore),
    /// With its pool, to tell whether its table exists.
    Postgres(tower_sessions_sqlx_store::PostgresStore, sqlx::PgPool),
}

impl AnySessionStore {
    pub async fn migrate(&self) -> sqlx::Result<()> {
        match self {
            AnySessionStore::Sqlite(s) => s.migrate().await,
            AnySessionStore::Postgres(s, pool) => {
                // Already there: nothing to create, so a role without DDL rights may start.
                let exists: bool =
                    sqlx::query_scalar("SELECT to_regclass('tower_sessions.session') IS NOT NULL")
                        .fetch_one(pool)
                        .await?;
                if exists { Ok(()) } else { s.migrate().await }
            }
        }
    }
}

#[async_trait]
impl SessionStore for AnySessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            AnySessionStore::Sqlite(s) => s.create(record).await,
            AnySessionStore::Postgres(s, _) => s.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            AnySessionStore::Sqlite(s) => s.save(record).await,
            AnySessionStore::Postgres(s, _) => s.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            AnySessionStore::Sqlite(s) => s.load(id).await,
            AnySessionStore::Postgres(s, _) => s.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            AnySessionStore::Sqlite(s) => s.delete(id).await,
            AnySessionStore::Postgres(s, _) => s.delete(id).await,
        }
    }
}

#[async_trait]
impl ExpiredDeletion for AnySessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        match self {
            AnySessionStore::Sqlite(s) => s.delete_expired().await,
            AnySessionStore::Postgres(s, _) => s.delete_expired().await,
        }
    }
}
