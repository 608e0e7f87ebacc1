//! The reads, and the few statements made outside a write transaction (leases, turns, heartbeats):
//! `impl Store` for a backend, written by macros because the SQL is the same for both.
//!
//! One `impl` cannot span files, so the methods travel from file to file before it is written:
//! [`impl_store!`] starts with the connection's own (migrating, beginning a write transaction,
//! sessions, locks) and names the files' macros in turn; each adds its methods to those gathered
//! and hands them to the next, and [`store_impl!`] writes the `impl` with all of them.
//! - `requests`: one request, a page of them, counts, and the deadlines that come due;
//! - `grants`: what happens during a grant: its extensions and its device-code sign-ins;
//! - `outbox`: claiming, leasing and counting directory operations and notifications;
//! - `audit`: the audit trail, newest first or in order;
//! - `jobs`: the background jobs' turns and heartbeats;
//! - `break_glass`: break-glass grants, one and those waiting for a review.

mod audit;
mod break_glass;
mod grants;
mod jobs;
mod outbox;
mod requests;

pub(super) use audit::audit_reads;
pub(super) use break_glass::break_glass_reads;
pub(super) use grants::grant_reads;
pub(super) use jobs::job_reads;
pub(super) use outbox::outbox_reads;
pub(super) use requests::request_reads;

/// Writes, in the backend's module, `fetch_request` (one request with its approvals, on a pooled
/// connection or inside a write transaction), the methods both stores have beside the trait
/// (`with_chain_key`, `pool`) and `impl Store for $Store`.
///
/// `$Store` must have a `pool`, `sessions`, `chain_key` and `commits`, and the methods
/// `begin_serialized` (a write transaction holding the writers' lock), `session_store_impl`,
/// `hold_worker_lock_impl`, `listen_impl` and `lock_jobs_impl`; `$Tx` is the backend's
/// [`StoreTx`](crate::store::StoreTx) (see `impl_store_tx!`). `$lease_free` is the SQL condition
/// under which a directory operation's lease no longer holds.
macro_rules! impl_store {
    ($Store:ident, $Tx:ident, $Db:ty, $Conn:ty, $backend:literal, $migrations:literal, $lease_free:expr) => {
        async fn fetch_request(
            conn: &mut $Conn,
            id: &str,
        ) -> $crate::store::StoreResult<Option<$crate::domain::Request>> {
            let rows: Vec<$crate::store::sql::rows::JoinedRow> = sqlx::query_as(&format!(
                "{}SELECT {} FROM requests WHERE id = $1) r {} ORDER BY a.at, a.approver_id",
                $crate::store::sql::JOINED_SELECT,
                $crate::store::sql::REQUEST_COLS,
                $crate::store::sql::JOINED_TAIL,
            ))
            .bind(id)
            .fetch_all(&mut *conn)
            .await?;
            Ok($crate::store::sql::rows::joined(rows)?.pop())
        }

        impl $Store {
            /// Audit events appended through this store are keyed with `key`.
            pub fn with_chain_key(mut self, key: Option<$crate::domain::audit::ChainKey>) -> Self {
                self.chain_key = key;
                self
            }

            pub fn pool(&self) -> &sqlx::Pool<$Db> {
                &self.pool
            }
        }

        $crate::store::sql::reads::request_reads! { $Store, $Db, $lease_free;
            [grant_reads, outbox_reads, audit_reads, job_reads, break_glass_reads, store_impl]

            fn backend(&self) -> &'static str {
                $backend
            }

            async fn close(&self) {
                self.pool.close().await;
                self.sessions.close().await;
            }

            async fn migrate(&self) -> StoreResult<()> {
                let migrator = sqlx::migrate!($migrations);
                let latest = migrator.iter().map(|m| m.version).max().unwrap_or(0);
                // Up to date: no DDL at all, so the portal can run as a role that may not
                // change the schema (migrations run beforehand, as the owner).
                let applied: Option<i64> = sqlx::query_scalar(
                    "SELECT MAX(version) FROM _sqlx_migrations WHERE success",
                )
                .fetch_one(&self.pool)
                .await
                .ok()
                .flatten();
                if applied == Some(latest) {
                    return Ok(());
                }
                migrator.run(&self.pool).await?;
                Ok(())
            }

            async fn ping(&self) -> StoreResult<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn begin(&self) -> StoreResult<Box<dyn StoreTx>> {
                Ok(Box::new($Tx {
                    tx: self.begin_serialized().await?,
                    key: self.chain_key.clone(),
                    commits: self.commits.clone(),
                }))
            }

            fn commits(&self) -> u64 {
                self.commits.load(std::sync::atomic::Ordering::SeqCst)
            }

            fn session_store(&self) -> $crate::store::session::AnySessionStore {
                self.session_store_impl()
            }

            async fn hold_worker_lock(&self, owner: &str) -> StoreResult<$crate::store::WorkerLock> {
                self.hold_worker_lock_impl(owner).await
            }

            async fn listen(&self, wake: &(dyn Fn($crate::store::Work) + Send + Sync)) -> StoreResult<()> {
                self.listen_impl(wake).await
            }

            fn lock_jobs(&self) -> StoreResult<$crate::store::JobsLock> {
                self.lock_jobs_impl()
            }
        }
    };
}

/// The last of the files' macros (see [`impl_store!`]): writes `impl Store for $Store` with the
/// methods gathered, in the scope of the names they use.
macro_rules! store_impl {
    ($Store:ident, $Db:ty, $lease_free:expr; [] $($methods:tt)*) => {
        const _: () = {
            use async_trait::async_trait;
            use chrono::{DateTime, Duration, Utc};
            use sqlx::QueryBuilder;

            use $crate::domain::extension::Extension;
            use $crate::domain::sign_in::DeviceSignIn;
            use $crate::domain::{AuditEvent, Request};
            use $crate::store::sql::filters::{push_event_filter, push_list, push_request_filter, push_request_page};
            use $crate::store::sql::rows::{EventRow, ExtensionRow, JoinedRow, NotificationRow, OpRow, RequestRow, SignInRow, joined};
            use $crate::store::sql::{
                EVENT_COLS, EXTENSION_COLS, HEAD_OF_QUEUE, JOINED_SELECT, JOINED_TAIL, NOTIFICATION_COLS, OP_COLS, SIGN_IN_COLS,
            };
            use $crate::store::{
                AuditFilter, DirectoryOp, DueItem, DueKind, GrantCount, Notification, RequestFilter, Store, StoreResult, StoreTx,
                from_ms, ms,
            };

            #[async_trait]
            impl Store for $Store {
                $($methods)*
            }
        };
    };
}

pub(super) use impl_store;
pub(super) use store_impl;
