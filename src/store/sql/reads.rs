//! The reads: `impl Store` for a backend, written by a macro because the SQL is the same for both.

/// Writes, in the backend's module, `fetch_request` (one request with its approvals, on a pooled
/// connection or inside a write transaction) and `impl Store for $Store`.
///
/// `$Store` must have a `pool` and the methods `begin_serialized` (a write transaction holding the
/// writers' lock) and `session_store_impl`; `$Tx` is the backend's [`StoreTx`](crate::store::StoreTx)
/// (see `impl_store_tx!`).
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

        const _: () = {
            use async_trait::async_trait;
            use chrono::{DateTime, Duration, Utc};
            use sqlx::QueryBuilder;

            use $crate::domain::{AuditEvent, Request};
            use $crate::store::sql::filters::{push_event_filter, push_request_filter, push_request_page};
            use $crate::domain::extension::Extension;
            use $crate::domain::sign_in::DeviceSignIn;
            use $crate::store::sql::rows::SignInRow;
            use $crate::store::sql::SIGN_IN_COLS;
            use $crate::store::sql::rows::{EventRow, ExtensionRow, JoinedRow, NotificationRow, OpRow, RequestRow, joined};
            use $crate::store::sql::{EVENT_COLS, EXTENSION_COLS, HEAD_OF_QUEUE, JOINED_SELECT, JOINED_TAIL, NOTIFICATION_COLS, OP_COLS};
            use $crate::store::{
                AuditFilter, DirectoryOp, DueItem, DueKind, GrantCount, Notification, RequestFilter, Store, StoreResult, StoreTx,
                from_ms, ms,
            };

            /// What a claim reads and leases: `select` finds the ids (binding `$1` now and `$2`
            /// the limit), `cols` are returned from `table`.
            struct Claim<'a> {
                select: &'a str,
                table: &'static str,
                cols: &'static str,
            }

            impl $Store {
                /// Claims, in one serialized transaction, the rows `claim.select` finds: leased to
                /// `owner` for `lease` from `now`, an attempt counted each.
                async fn claim_rows<R>(
                    &self,
                    claim: &Claim<'_>,
                    now: DateTime<Utc>,
                    owner: &str,
                    lease: Duration,
                    limit: i64,
                ) -> StoreResult<Vec<R>>
                where
                    R: for<'r> sqlx::FromRow<'r, <$Db as sqlx::Database>::Row> + Send + Unpin,
                {
                    let mut tx = self.begin_serialized().await?;
                    let ids: Vec<i64> = sqlx::query_scalar(claim.select)
                        .bind(ms(now))
                        .bind(limit.max(1))
                        .fetch_all(&mut *tx)
                        .await?;
                    if ids.is_empty() {
                        tx.commit().await?;
                        return Ok(Vec::new());
                    }
                    let mut qb = QueryBuilder::<$Db>::new(format!("UPDATE {} SET lease_owner = ", claim.table));
                    qb.push_bind(owner.to_string())
                        .push(", lease_until = ")
                        .push_bind(ms(now + lease))
                        .push(", attempts = attempts + 1 WHERE id IN (");
                    let mut sep = qb.separated(", ");
                    for id in &ids {
                        sep.push_bind(*id);
                    }
                    qb.push(format!(") RETURNING {}", claim.cols));
                    let rows: Vec<R> = qb.build_query_as().fetch_all(&mut *tx).await?;
                    tx.commit().await?;
                    Ok(rows)
                }
            }

            #[async_trait]
            impl Store for $Store {
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

                async fn get_request(&self, id: &str) -> StoreResult<Option<Request>> {
                    let mut conn = self.pool.acquire().await?;
                    fetch_request(&mut conn, id).await
                }

                async fn list_requests(&self, f: &RequestFilter) -> StoreResult<Vec<Request>> {
                    // One round trip: the page of requests, joined with their approvals.
                    let order = "created_at DESC, id DESC";
                    if f.without_approvals {
                        let mut qb = QueryBuilder::<$Db>::new("");
                        push_request_page(&mut qb, f, order);
                        let rows: Vec<RequestRow> = qb.build_query_as().fetch_all(&self.pool).await?;
                        return rows.into_iter().map(|r| r.into_request(Vec::new())).collect();
                    }
                    let mut outer = QueryBuilder::<$Db>::new(JOINED_SELECT);
                    push_request_page(&mut outer, f, order);
                    outer.push(format!(") r {JOINED_TAIL} ORDER BY r.{}, a.at, a.approver_id", order.replace(", ", ", r.")));
                    let rows: Vec<JoinedRow> = outer.build_query_as().fetch_all(&self.pool).await?;
                    joined(rows)
                }

                async fn count_requests(&self, f: &RequestFilter) -> StoreResult<i64> {
                    let mut qb = QueryBuilder::<$Db>::new("SELECT COUNT(*) FROM requests");
                    push_request_filter(&mut qb, f);
                    Ok(qb.build_query_scalar().fetch_one(&self.pool).await?)
                }

                async fn grant_counts(&self, requester_ids: &[String], since: DateTime<Utc>) -> StoreResult<Vec<GrantCount>> {
                    if requester_ids.is_empty() {
                        return Ok(Vec::new());
                    }
                    let mut qb = QueryBuilder::<$Db>::new(
                        "SELECT requester_id, COUNT(*), MAX(created_at) FROM requests \
                         WHERE status IN ('active', 'expired', 'ended', 'revoked') AND created_at >= ",
                    );
                    qb.push_bind(ms(since)).push(" AND requester_id IN (");
                    let mut sep = qb.separated(", ");
                    for id in requester_ids {
                        sep.push_bind(id.clone());
                    }
                    qb.push(") GROUP BY requester_id");
                    let rows: Vec<(String, i64, i64)> = qb.build_query_as().fetch_all(&self.pool).await?;
                    Ok(rows
                        .into_iter()
                        .map(|(requester_id, grants, last)| GrantCount { requester_id, grants, last_at: from_ms(last) })
                        .collect())
                }

                async fn due(&self, now: DateTime<Utc>, limit: i64) -> StoreResult<Vec<DueItem>> {
                    let rows: Vec<(String, String, i64)> = sqlx::query_as(
                        "SELECT id, 'start' AS kind, starts_at AS at FROM requests WHERE status = 'approved' AND starts_at <= $1 \
                         UNION ALL SELECT id, 'expire' AS kind, ends_at AS at FROM requests WHERE status = 'active' AND ends_at <= $1 \
                         UNION ALL SELECT id, 'timeout' AS kind, timeout_at AS at FROM requests WHERE status = 'pending' AND timeout_at <= $1 \
                         ORDER BY at LIMIT $2",
                    )
                    .bind(ms(now))
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?;
                    Ok(rows
                        .into_iter()
                        .map(|(request_id, kind, at)| DueItem {
                            request_id,
                            kind: match kind.as_str() {
                                "start" => DueKind::Start,
                                "expire" => DueKind::Expire,
                                _ => DueKind::TimeOut,
                            },
                            at: from_ms(at),
                        })
                        .collect())
                }

                async fn next_deadline(&self) -> StoreResult<Option<DateTime<Utc>>> {
                    let at: Option<i64> = sqlx::query_scalar(
                        "SELECT MIN(at) FROM (SELECT starts_at AS at FROM requests WHERE status = 'approved' \
                         UNION ALL SELECT ends_at AS at FROM requests WHERE status = 'active' \
                         UNION ALL SELECT timeout_at AS at FROM requests WHERE status = 'pending') d",
                    )
                    .fetch_one(&self.pool)
                    .await?;
                    Ok(at.map(from_ms))
                }

                async fn claim_ops(&self, now: DateTime<Utc>, owner: &str, lease: Duration, limit: i64) -> StoreResult<Vec<DirectoryOp>> {
                    let select = format!(
                        "SELECT o.id FROM directory_ops o WHERE o.done_at IS NULL AND o.not_before <= $1 \
                         AND {} AND {HEAD_OF_QUEUE} \
                         ORDER BY o.not_before, o.id LIMIT $2",
                        $lease_free
                    );
                    let claim = Claim { select: &select, table: "directory_ops", cols: OP_COLS };
                    let rows: Vec<OpRow> = self.claim_rows(&claim, now, owner, lease, limit).await?;
                    let mut ops = rows.into_iter().map(OpRow::into_op).collect::<StoreResult<Vec<_>>>()?;
                    ops.sort_by_key(|o| (o.not_before, o.id));
                    Ok(ops)
                }

                async fn op_counts(&self, now: DateTime<Utc>) -> StoreResult<(i64, i64)> {
                    let (pending, in_flight): (i64, Option<i64>) = sqlx::query_as(
                        "SELECT COUNT(*), SUM(CASE WHEN lease_until > $1 THEN 1 ELSE 0 END) FROM directory_ops WHERE done_at IS NULL",
                    )
                    .bind(ms(now))
                    .fetch_one(&self.pool)
                    .await?;
                    Ok((pending, in_flight.unwrap_or(0)))
                }

                async fn members_in_flux(&self, group_id: &str, since: DateTime<Utc>) -> StoreResult<Vec<String>> {
                    Ok(sqlx::query_scalar(
                        "SELECT DISTINCT user_id FROM directory_ops WHERE group_id = $1 \
                         AND (done_at IS NULL OR done_at >= $2 OR created_at >= $2)",
                    )
                    .bind(group_id)
                    .bind(ms(since))
                    .fetch_all(&self.pool)
                    .await?)
                }

                async fn take_turn(&self, name: &str, owner: &str, now: DateTime<Utc>, until: DateTime<Utc>) -> StoreResult<bool> {
                    let done = sqlx::query(
                        "INSERT INTO job_turns (name, owner, until) VALUES ($1, $2, $3) \
                         ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until \
                         WHERE job_turns.owner = excluded.owner OR job_turns.until <= $4",
                    )
                    .bind(name)
                    .bind(owner)
                    .bind(ms(until))
                    .bind(ms(now))
                    .execute(&self.pool)
                    .await?;
                    Ok(done.rows_affected() == 1)
                }

                async fn renew_leases(&self, owner: &str, until: DateTime<Utc>) -> StoreResult<u64> {
                    let done = sqlx::query("UPDATE directory_ops SET lease_until = $2 WHERE lease_owner = $1 AND done_at IS NULL")
                        .bind(owner)
                        .bind(ms(until))
                        .execute(&self.pool)
                        .await?;
                    Ok(done.rows_affected())
                }

                async fn release_all_leases(&self) -> StoreResult<u64> {
                    let ops = sqlx::query(
                        "UPDATE directory_ops SET lease_owner = NULL, lease_until = NULL WHERE lease_owner IS NOT NULL AND done_at IS NULL",
                    )
                    .execute(&self.pool)
                    .await?;
                    let notes = sqlx::query(
                        "UPDATE notifications SET lease_owner = NULL, lease_until = NULL WHERE lease_owner IS NOT NULL AND done_at IS NULL",
                    )
                    .execute(&self.pool)
                    .await?;
                    Ok(ops.rows_affected() + notes.rows_affected())
                }

                async fn next_op_at(&self) -> StoreResult<Option<DateTime<Utc>>> {
                    let at: Option<i64> = sqlx::query_scalar(&format!(
                        "SELECT MIN(CASE WHEN o.lease_until IS NOT NULL AND o.lease_until > o.not_before \
                         THEN o.lease_until ELSE o.not_before END) FROM directory_ops o \
                         WHERE o.done_at IS NULL AND {HEAD_OF_QUEUE}"
                    ))
                    .fetch_one(&self.pool)
                    .await?;
                    Ok(at.map(from_ms))
                }

                async fn claim_notifications(&self, now: DateTime<Utc>, owner: &str, lease: Duration, limit: i64) -> StoreResult<Vec<Notification>> {
                    let claim = Claim {
                        select: "SELECT id FROM notifications WHERE done_at IS NULL AND not_before <= $1 \
                                 AND (lease_until IS NULL OR lease_until <= $1) ORDER BY not_before, id LIMIT $2",
                        table: "notifications",
                        cols: NOTIFICATION_COLS,
                    };
                    let rows: Vec<NotificationRow> = self.claim_rows(&claim, now, owner, lease, limit).await?;
                    let mut out = rows
                        .into_iter()
                        .map(NotificationRow::into_notification)
                        .collect::<StoreResult<Vec<_>>>()?;
                    out.sort_by_key(|n| (n.not_before, n.id));
                    Ok(out)
                }

                async fn next_notification_at(&self) -> StoreResult<Option<DateTime<Utc>>> {
                    let at: Option<i64> = sqlx::query_scalar(
                        "SELECT MIN(CASE WHEN lease_until IS NOT NULL AND lease_until > not_before \
                         THEN lease_until ELSE not_before END) FROM notifications WHERE done_at IS NULL",
                    )
                    .fetch_one(&self.pool)
                    .await?;
                    Ok(at.map(from_ms))
                }

                async fn notifications_for(&self, request_id: &str) -> StoreResult<Vec<Notification>> {
                    let rows: Vec<NotificationRow> = sqlx::query_as(&format!(
                        "SELECT {NOTIFICATION_COLS} FROM notifications WHERE request_id = $1 ORDER BY id"
                    ))
                    .bind(request_id)
                    .fetch_all(&self.pool)
                    .await?;
                    rows.into_iter().map(NotificationRow::into_notification).collect()
                }

                async fn extensions_for(&self, request_id: &str) -> StoreResult<Vec<Extension>> {
                    let rows: Vec<ExtensionRow> = sqlx::query_as(&format!(
                        "SELECT {EXTENSION_COLS} FROM extensions WHERE request_id = $1 ORDER BY requested_at, id"
                    ))
                    .bind(request_id)
                    .fetch_all(&self.pool)
                    .await?;
                    rows.into_iter().map(ExtensionRow::into_extension).collect()
                }

                async fn pending_extensions(&self) -> StoreResult<Vec<Extension>> {
                    let rows: Vec<ExtensionRow> = sqlx::query_as(&format!(
                        "SELECT {EXTENSION_COLS} FROM extensions WHERE status = 'pending' ORDER BY requested_at, id LIMIT 1000"
                    ))
                    .fetch_all(&self.pool)
                    .await?;
                    rows.into_iter().map(ExtensionRow::into_extension).collect()
                }

                async fn sign_ins_for(&self, request_id: &str) -> StoreResult<Vec<DeviceSignIn>> {
                    let rows: Vec<SignInRow> = sqlx::query_as(&format!(
                        "SELECT {SIGN_IN_COLS} FROM sign_ins WHERE request_id = $1 ORDER BY at, id"
                    ))
                    .bind(request_id)
                    .fetch_all(&self.pool)
                    .await?;
                    Ok(rows.into_iter().map(DeviceSignIn::from).collect())
                }

                async fn recent_sign_ins(
                    &self,
                    since: DateTime<Utc>,
                    user_id: Option<&str>,
                    blocked_only: bool,
                    limit: i64,
                ) -> StoreResult<Vec<DeviceSignIn>> {
                    let mut qb = QueryBuilder::<$Db>::new(format!("SELECT {SIGN_IN_COLS} FROM sign_ins WHERE at >= "));
                    qb.push_bind(ms(since));
                    if let Some(u) = user_id {
                        qb.push(" AND user_id = ").push_bind(u.to_string());
                    }
                    if blocked_only {
                        qb.push(" AND error_code = 53003");
                    }
                    qb.push(" ORDER BY at DESC, id LIMIT ").push_bind(limit.clamp(1, 1000));
                    let rows: Vec<SignInRow> = qb.build_query_as().fetch_all(&self.pool).await?;
                    Ok(rows.into_iter().map(DeviceSignIn::from).collect())
                }

                async fn pending_ops(&self, limit: i64) -> StoreResult<Vec<DirectoryOp>> {
                    let rows: Vec<OpRow> = sqlx::query_as(&format!(
                        "SELECT {OP_COLS} FROM directory_ops WHERE done_at IS NULL ORDER BY id DESC LIMIT $1"
                    ))
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?;
                    rows.into_iter().map(OpRow::into_op).collect()
                }

                async fn list_events(&self, f: &AuditFilter) -> StoreResult<Vec<AuditEvent>> {
                    let mut qb = QueryBuilder::<$Db>::new(format!("SELECT {EVENT_COLS} FROM audit_events"));
                    push_event_filter(&mut qb, f);
                    qb.push(" ORDER BY seq DESC LIMIT ").push_bind(f.limit.unwrap_or(100).clamp(1, 100_000));
                    let rows: Vec<EventRow> = qb.build_query_as().fetch_all(&self.pool).await?;
                    Ok(rows.into_iter().map(AuditEvent::from).collect())
                }

                async fn events_after(&self, after_seq: i64, limit: i64) -> StoreResult<Vec<AuditEvent>> {
                    let rows: Vec<EventRow> =
                        sqlx::query_as(&format!("SELECT {EVENT_COLS} FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2"))
                            .bind(after_seq)
                            .bind(limit)
                            .fetch_all(&self.pool)
                            .await?;
                    Ok(rows.into_iter().map(AuditEvent::from).collect())
                }

                async fn heartbeat(&self, name: &str, at: DateTime<Utc>) -> StoreResult<()> {
                    sqlx::query("INSERT INTO heartbeats (name, at) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET at = excluded.at")
                        .bind(name)
                        .bind(ms(at))
                        .execute(&self.pool)
                        .await?;
                    Ok(())
                }

                async fn heartbeats(&self) -> StoreResult<Vec<(String, DateTime<Utc>)>> {
                    let rows: Vec<(String, i64)> =
                        sqlx::query_as("SELECT name, at FROM heartbeats ORDER BY name").fetch_all(&self.pool).await?;
                    Ok(rows.into_iter().map(|(n, at)| (n, from_ms(at))).collect())
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
    };
}

pub(super) use impl_store;
