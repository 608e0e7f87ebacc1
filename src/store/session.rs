//! Browser sessions live in the same database as everything else, on connections of their own,
//! with the sessions this process has read or written kept in memory for a moment: a signed-in
//! page view then reads no session row at all.
//!
//! On SQLite one process owns the file (see [`crate::store::Store::lock_jobs`]), so every change
//! to a session passes through this cache and it is exact. On PostgreSQL other replicas may end a
//! session; an entry is believed for [`SHARED_FRESH`] at most, so a sign-out on one replica takes
//! effect on the others within that time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};

/// How long a cached session is believed when other processes may change it (PostgreSQL).
pub const SHARED_FRESH: Duration = Duration::from_secs(1);
/// How long a cached session is kept when only this process changes it (SQLite).
const OWN_FRESH: Duration = Duration::from_secs(60);
/// Sessions kept in memory at most; the cache starts over beyond.
const CACHE_MAX: usize = 20_000;

#[derive(Debug, Clone)]
enum Backend {
    Sqlite(tower_sessions_sqlx_store::SqliteStore),
    /// With its pool, to tell whether its table exists.
    Postgres(tower_sessions_sqlx_store::PostgresStore, sqlx::PgPool),
}

/// The tower-sessions store of whichever backend is configured, with its cache.
#[derive(Debug, Clone)]
pub struct AnySessionStore {
    backend: Backend,
    fresh: Duration,
    cache: Arc<Mutex<HashMap<Id, (Record, Instant)>>>,
}

impl AnySessionStore {
    pub fn sqlite(store: tower_sessions_sqlx_store::SqliteStore) -> AnySessionStore {
        AnySessionStore::new(Backend::Sqlite(store), OWN_FRESH)
    }

    pub fn postgres(
        store: tower_sessions_sqlx_store::PostgresStore,
        pool: sqlx::PgPool,
    ) -> AnySessionStore {
        AnySessionStore::new(Backend::Postgres(store, pool), SHARED_FRESH)
    }

    fn new(backend: Backend, fresh: Duration) -> AnySessionStore {
        AnySessionStore {
            backend,
            fresh,
            cache: Arc::default(),
        }
    }

    pub async fn migrate(&self) -> sqlx::Result<()> {
        match &self.backend {
            Backend::Sqlite(s) => s.migrate().await,
            Backend::Postgres(s, pool) => {
                // Already there: nothing to create, so a role without DDL rights may start.
                let exists: bool =
                    sqlx::query_scalar("SELECT to_regclass('tower_sessions.session') IS NOT NULL")
                        .fetch_one(pool)
                        .await?;
                if exists { Ok(()) } else { s.migrate().await }
            }
        }
    }

    fn remember(&self, record: &Record) {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= CACHE_MAX {
            cache.clear();
        }
        cache.insert(record.id, (record.clone(), Instant::now()));
    }

    fn forget(&self, id: &Id) {
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }

    fn cached(&self, id: &Id) -> Option<Record> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        let (record, at) = cache.get(id)?;
        (at.elapsed() < self.fresh && record.expiry_date > time::OffsetDateTime::now_utc())
            .then(|| record.clone())
    }
}

#[async_trait]
impl SessionStore for AnySessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match &self.backend {
            Backend::Sqlite(s) => s.create(record).await?,
            Backend::Postgres(s, _) => s.create(record).await?,
        }
        self.remember(record);
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        // Forgotten first: should the write fail, nobody reads what was not stored.
        self.forget(&record.id);
        match &self.backend {
            Backend::Sqlite(s) => s.save(record).await?,
            Backend::Postgres(s, _) => s.save(record).await?,
        }
        self.remember(record);
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        if let Some(record) = self.cached(id) {
            return Ok(Some(record));
        }
        let record = match &self.backend {
            Backend::Sqlite(s) => s.load(id).await?,
            Backend::Postgres(s, _) => s.load(id).await?,
        };
        match &record {
            Some(r) => self.remember(r),
            None => self.forget(id),
        }
        Ok(record)
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.forget(id);
        match &self.backend {
            Backend::Sqlite(s) => s.delete(id).await,
            Backend::Postgres(s, _) => s.delete(id).await,
        }
    }
}

#[async_trait]
impl ExpiredDeletion for AnySessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        match &self.backend {
            Backend::Sqlite(s) => s.delete_expired().await,
            Backend::Postgres(s, _) => s.delete_expired().await,
        }
    }
}
