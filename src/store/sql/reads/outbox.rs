//! The two outboxes, directory operations and notifications: claiming due rows under a lease
//! (one claim for both), renewing and freeing leases, when the next row is due, what is pending.

/// Adds the outboxes' reads and leases to the methods gathered for `impl Store` (see
/// [`impl_store!`](super::impl_store)), and hands them on. Writes beside them, in the backend's
/// module, the claim both outboxes make.
macro_rules! outbox_reads {
    ($Store:ident, $Db:ty, $lease_free:expr; [$next:ident $(, $rest:ident)*] $($gathered:tt)*) => {
        /// What a claim reads and leases: `select` finds the ids (binding `$1` now and `$2`
        /// the limit), `cols` are returned from `table`.
        struct Claim<'a> {
            select: &'a str,
            table: &'static str,
            cols: &'static str,
        }

        const _: () = {
            use chrono::{DateTime, Duration, Utc};
            use sqlx::QueryBuilder;

            use $crate::store::sql::filters::push_list;
            use $crate::store::{StoreResult, ms};

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
                    alive: bool,
                ) -> StoreResult<Vec<R>>
                where
                    R: for<'r> sqlx::FromRow<'r, <$Db as sqlx::Database>::Row> + Send + Unpin,
                {
                    let mut tx = self.begin_serialized().await?;
                    if alive && let Some(free) = Self::OWNER_LOCK_FREE {
                        // In the claim's transaction: nothing is claimed while the lock is gone.
                        let free: bool = sqlx::query_scalar(free).bind(owner).fetch_one(&mut *tx).await?;
                        if free {
                            tx.rollback().await?;
                            return Err($crate::store::StoreError::LockLost);
                        }
                    }
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
                        .push(", attempts = attempts + 1 WHERE id IN ");
                    push_list(&mut qb, ids.iter().copied());
                    qb.push(format!(" RETURNING {}", claim.cols));
                    let rows: Vec<R> = qb.build_query_as().fetch_all(&mut *tx).await?;
                    tx.commit().await?;
                    Ok(rows)
                }

                /// Claims directory operations (see `Store::claim_ops`); `alive`: only while
                /// `owner`'s lock is held (see `Store::claim_ops_alive`).
                async fn claim_directory_rows(
                    &self,
                    now: DateTime<Utc>,
                    owner: &str,
                    lease: Duration,
                    limit: i64,
                    alive: bool,
                ) -> StoreResult<Vec<$crate::store::DirectoryOp>> {
                    use $crate::store::sql::rows::OpRow;
                    use $crate::store::sql::{HEAD_OF_QUEUE, OP_COLS};
                    let select = format!(
                        "SELECT o.id FROM directory_ops o WHERE o.done_at IS NULL AND o.not_before <= $1 \
                         AND {} AND {HEAD_OF_QUEUE} \
                         ORDER BY o.not_before, o.id LIMIT $2",
                        $lease_free
                    );
                    let claim = Claim { select: &select, table: "directory_ops", cols: OP_COLS };
                    let rows: Vec<OpRow> = self.claim_rows(&claim, now, owner, lease, limit, alive).await?;
                    let mut ops = rows.into_iter().map(OpRow::into_op).collect::<StoreResult<Vec<_>>>()?;
                    ops.sort_by_key(|o| (o.not_before, o.id));
                    Ok(ops)
                }
            }
        };

        $crate::store::sql::reads::$next! { $Store, $Db, $lease_free; [$($rest),*]
            $($gathered)*

            async fn claim_ops(&self, now: DateTime<Utc>, owner: &str, lease: Duration, limit: i64) -> StoreResult<Vec<DirectoryOp>> {
                self.claim_directory_rows(now, owner, lease, limit, false).await
            }

            async fn claim_ops_alive(&self, now: DateTime<Utc>, owner: &str, lease: Duration, limit: i64) -> StoreResult<Vec<DirectoryOp>> {
                self.claim_directory_rows(now, owner, lease, limit, true).await
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

            async fn pending_ops(&self, limit: i64) -> StoreResult<Vec<DirectoryOp>> {
                let rows: Vec<OpRow> = sqlx::query_as(&format!(
                    "SELECT {OP_COLS} FROM directory_ops WHERE done_at IS NULL ORDER BY id DESC LIMIT $1"
                ))
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(OpRow::into_op).collect()
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
                let rows: Vec<NotificationRow> = self.claim_rows(&claim, now, owner, lease, limit, false).await?;
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
        }
    };
}

pub(in crate::store::sql) use outbox_reads;
