//! The writes: the backend's [`StoreTx`](crate::store::StoreTx), a serialized write transaction.

/// Writes, in the backend's module, `pub struct $Tx` (a write transaction on `$Db`) and
/// `impl StoreTx for $Tx`. Expects the `fetch_request` that `impl_store!` writes beside it.
macro_rules! impl_store_tx {
    ($Tx:ident, $Db:ty, $announce:expr) => {
        pub struct $Tx {
            tx: sqlx::Transaction<'static, $Db>,
            /// Keys the audit events this transaction appends.
            key: Option<$crate::domain::audit::ChainKey>,
            /// The store's count of commits, moved on by this one's.
            commits: std::sync::Arc<std::sync::atomic::AtomicU64>,
        }

        const _: () = {
            use async_trait::async_trait;
            use chrono::{DateTime, Utc};

            use $crate::domain::audit::GENESIS_HASH;
            use $crate::domain::{Approval, AuditEvent, NewAuditEvent, Request};
            use $crate::store::sql::rows::OpRow;
            use $crate::domain::extension::Extension;
            use $crate::domain::sign_in::DeviceSignIn;
            use $crate::store::sql::rows::ExtensionRow;
            use $crate::store::sql::{APPROVAL_COLS, EVENT_COLS, EXTENSION_COLS, OP_COLS, REQUEST_COLS, map_unique};
            use $crate::store::{DirectoryOp, NewDirectoryOp, OpOutcome, StoreError, StoreResult, StoreTx, ms};

            impl $Tx {
                /// Has the other replicas told of `work` when (and only if) this transaction commits
                /// (PostgreSQL; SQLite has nobody to tell).
                async fn announce(&mut self, work: $crate::store::Work) -> StoreResult<()> {
                    if let Some(sql) = ($announce)(work) {
                        sqlx::query(sql).execute(&mut *self.tx).await?;
                    }
                    Ok(())
                }
            }

            $crate::store::sql::asks::ask_reads!($Tx);
            $crate::store::sql::pacing::pacing!($Tx);
            $crate::store::sql::break_glass::break_glass_writes!($Tx);

            #[async_trait]
            impl StoreTx for $Tx {
                async fn get_request(&mut self, id: &str) -> StoreResult<Option<Request>> {
                    fetch_request(&mut self.tx, id).await
                }

                async fn insert_request(&mut self, r: &Request) -> StoreResult<()> {
                    self.announce($crate::store::Work::Deadline).await?;
                    sqlx::query(&format!(
                        "INSERT INTO requests ({REQUEST_COLS}, updated_at) VALUES \
                         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)"
                    ))
                    .bind(&r.id)
                    .bind(&r.package)
                    .bind(&r.group_id)
                    .bind(&r.requester.id)
                    .bind(&r.requester.name)
                    .bind(&r.requester.username)
                    .bind(&r.manager_id)
                    .bind(r.status.as_str())
                    .bind(r.duration_minutes)
                    .bind(&r.justification)
                    .bind(&r.ticket)
                    .bind(ms(r.created_at))
                    .bind(r.requested_start.map(ms))
                    .bind(ms(r.timeout_at))
                    .bind(r.starts_at.map(ms))
                    .bind(r.ends_at.map(ms))
                    .bind(r.decided_at.map(ms))
                    .bind(r.added_at.map(ms))
                    .bind(r.removed_at.map(ms))
                    .bind(&r.close_reason)
                    .bind(&r.ticket_url)
                    .bind(r.asked_by.as_ref().map(|a| a.id.clone()))
                    .bind(r.asked_by.as_ref().map(|a| a.name.clone()))
                    .bind(r.asked_by.as_ref().map(|a| a.username.clone()))
                    .bind(ms(r.created_at))
                    .execute(&mut *self.tx)
                    .await
                    .map_err(|e| map_unique(e, "an open request for this package already exists"))?;
                    Ok(())
                }

                async fn update_request(&mut self, r: &Request, now: DateTime<Utc>) -> StoreResult<()> {
                    self.announce($crate::store::Work::Deadline).await?;
                    let done = sqlx::query(
                        "UPDATE requests SET status = $2, duration_minutes = $3, starts_at = $4, ends_at = $5, \
                         decided_at = $6, added_at = $7, removed_at = $8, close_reason = $9, updated_at = $10 WHERE id = $1",
                    )
                    .bind(&r.id)
                    .bind(r.status.as_str())
                    .bind(r.duration_minutes)
                    .bind(r.starts_at.map(ms))
                    .bind(r.ends_at.map(ms))
                    .bind(r.decided_at.map(ms))
                    .bind(r.added_at.map(ms))
                    .bind(r.removed_at.map(ms))
                    .bind(&r.close_reason)
                    .bind(ms(now))
                    .execute(&mut *self.tx)
                    .await
                    .map_err(|e| map_unique(e, "an open request for this package already exists"))?;
                    if done.rows_affected() != 1 {
                        return Err(StoreError::NotFound(format!("request {}", r.id)));
                    }
                    Ok(())
                }

                async fn insert_approval(&mut self, request_id: &str, a: &Approval) -> StoreResult<()> {
                    sqlx::query(&format!("INSERT INTO approvals ({APPROVAL_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"))
                        .bind(request_id)
                        .bind(&a.approver.id)
                        .bind(&a.approver.name)
                        .bind(&a.approver.username)
                        .bind(a.decision.as_str())
                        .bind(&a.comment)
                        .bind(ms(a.at))
                        .execute(&mut *self.tx)
                        .await
                        .map_err(|e| map_unique(e, "this approver has already decided the request"))?;
                    Ok(())
                }

                async fn pending_extension(&mut self, request_id: &str) -> StoreResult<Option<Extension>> {
                    let row: Option<ExtensionRow> = sqlx::query_as(&format!(
                        "SELECT {EXTENSION_COLS} FROM extensions WHERE request_id = $1 AND status = 'pending'"
                    ))
                    .bind(request_id)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                    row.map(ExtensionRow::into_extension).transpose()
                }

                async fn insert_extension(&mut self, x: &Extension, now: DateTime<Utc>) -> StoreResult<()> {
                    sqlx::query(&format!(
                        "INSERT INTO extensions ({EXTENSION_COLS}, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
                    ))
                    .bind(&x.id)
                    .bind(&x.request_id)
                    .bind(x.minutes)
                    .bind(&x.justification)
                    .bind(x.status.as_str())
                    .bind(ms(x.requested_at))
                    .bind(ms(x.ends_before))
                    .bind(x.ends_after.map(ms))
                    .bind(x.decided_at.map(ms))
                    .bind(serde_json::to_string(&x.approvals).map_err(|e| StoreError::Corrupt(e.to_string()))?)
                    .bind(ms(now))
                    .execute(&mut *self.tx)
                    .await
                    .map_err(|e| map_unique(e, "an extension of this grant is already waiting"))?;
                    Ok(())
                }

                async fn update_extension(&mut self, x: &Extension, now: DateTime<Utc>) -> StoreResult<()> {
                    sqlx::query(
                        "UPDATE extensions SET status = $2, ends_after = $3, decided_at = $4, approvals = $5, updated_at = $6 WHERE id = $1",
                    )
                    .bind(&x.id)
                    .bind(x.status.as_str())
                    .bind(x.ends_after.map(ms))
                    .bind(x.decided_at.map(ms))
                    .bind(serde_json::to_string(&x.approvals).map_err(|e| StoreError::Corrupt(e.to_string()))?)
                    .bind(ms(now))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(())
                }

                async fn insert_sign_in(&mut self, s: &DeviceSignIn, now: DateTime<Utc>) -> StoreResult<bool> {
                    let done = sqlx::query(
                        "INSERT INTO sign_ins (id, at, user_id, user_principal_name, app_id, app_name, ip_address, \
                         conditional_access, error_code, failure_reason, request_id, seen_at, resource_id, to_portal) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT (id) DO NOTHING",
                    )
                    .bind(&s.id)
                    .bind(ms(s.at))
                    .bind(&s.user_id)
                    .bind(&s.user_principal_name)
                    .bind(&s.app_id)
                    .bind(&s.app_name)
                    .bind(&s.ip_address)
                    .bind(&s.conditional_access)
                    .bind(s.error_code)
                    .bind(&s.failure_reason)
                    .bind(&s.request_id)
                    .bind(ms(now))
                    .bind(&s.resource_id)
                    .bind(i64::from(s.to_portal))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(done.rows_affected() == 1)
                }

                async fn grant_covering(&mut self, user_id: &str, at: DateTime<Utc>) -> StoreResult<Option<Request>> {
                    let id: Option<String> = sqlx::query_scalar(
                        "SELECT id FROM requests WHERE requester_id = $1 AND starts_at IS NOT NULL AND starts_at <= $2 \
                         AND ends_at IS NOT NULL AND ends_at >= $2 \
                         AND status IN ('active','expired','ended','revoked','failed') ORDER BY starts_at DESC LIMIT 1",
                    )
                    .bind(user_id)
                    .bind(ms(at))
                    .fetch_optional(&mut *self.tx)
                    .await?;
                    match id {
                        Some(id) => fetch_request(&mut self.tx, &id).await,
                        None => Ok(None),
                    }
                }

                async fn count_sign_ins(&mut self, request_id: &str) -> StoreResult<i64> {
                    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM sign_ins WHERE request_id = $1 AND error_code = 0")
                        .bind(request_id)
                        .fetch_one(&mut *self.tx)
                        .await?)
                }

                async fn first_sign_in_at(&mut self, request_id: &str) -> StoreResult<Option<DateTime<Utc>>> {
                    let at: Option<i64> = sqlx::query_scalar("SELECT MIN(at) FROM sign_ins WHERE request_id = $1 AND error_code = 0")
                        .bind(request_id)
                        .fetch_one(&mut *self.tx)
                        .await?;
                    Ok(at.map($crate::store::from_ms))
                }

                async fn count_other_active_grants(&mut self, user_id: &str, group_id: &str, except_request: &str) -> StoreResult<i64> {
                    Ok(sqlx::query_scalar(
                        "SELECT COUNT(*) FROM requests WHERE requester_id = $1 AND group_id = $2 AND status = 'active' AND id <> $3",
                    )
                    .bind(user_id)
                    .bind(group_id)
                    .bind(except_request)
                    .fetch_one(&mut *self.tx)
                    .await?)
                }

                async fn enqueue_op(&mut self, op: &NewDirectoryOp, now: DateTime<Utc>) -> StoreResult<i64> {
                    self.announce($crate::store::Work::Directory).await?;
                    Ok(sqlx::query_scalar(
                        "INSERT INTO directory_ops (request_id, kind, group_id, user_id, created_at, not_before) \
                         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                    )
                    .bind(&op.request_id)
                    .bind(op.kind.as_str())
                    .bind(&op.group_id)
                    .bind(&op.user_id)
                    .bind(ms(now))
                    .bind(ms(op.not_before))
                    .fetch_one(&mut *self.tx)
                    .await?)
                }

                async fn enqueue_notification(&mut self, n: &$crate::store::NewNotification, now: DateTime<Utc>) -> StoreResult<Option<i64>> {
                    Ok(sqlx::query_scalar(
                        "INSERT INTO notifications (dedupe_key, event, request_id, channel, audience, subject, body, created_at, not_before, pace_key) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
                    )
                    .bind(&n.dedupe_key)
                    .bind(&n.event)
                    .bind(&n.request_id)
                    .bind(n.channel.as_str())
                    .bind(n.audience.to_string())
                    .bind(&n.subject)
                    .bind(&n.body)
                    .bind(ms(now))
                    .bind(ms(n.not_before))
                    .bind(&n.pace_key)
                    .fetch_optional(&mut *self.tx)
                    .await?)
                }

                async fn finish_notification(
                    &mut self,
                    id: i64,
                    outcome: $crate::domain::notification::NotificationOutcome,
                    at: DateTime<Utc>,
                    error: Option<&str>,
                ) -> StoreResult<()> {
                    sqlx::query(
                        "UPDATE notifications SET done_at = $2, outcome = $3, last_error = COALESCE($4, last_error), \
                         lease_owner = NULL, lease_until = NULL WHERE id = $1 AND done_at IS NULL",
                    )
                    .bind(id)
                    .bind(ms(at))
                    .bind(outcome.as_str())
                    .bind(error)
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(())
                }

                async fn retry_notification(&mut self, id: i64, not_before: DateTime<Utc>, error: &str) -> StoreResult<()> {
                    sqlx::query(
                        "UPDATE notifications SET not_before = $2, last_error = $3, lease_owner = NULL, lease_until = NULL \
                         WHERE id = $1 AND done_at IS NULL",
                    )
                    .bind(id)
                    .bind(ms(not_before))
                    .bind(error)
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(())
                }

                async fn get_op(&mut self, id: i64) -> StoreResult<Option<DirectoryOp>> {
                    let row: Option<OpRow> = sqlx::query_as(&format!("SELECT {OP_COLS} FROM directory_ops WHERE id = $1"))
                        .bind(id)
                        .fetch_optional(&mut *self.tx)
                        .await?;
                    row.map(OpRow::into_op).transpose()
                }

                async fn finish_op(&mut self, id: i64, outcome: OpOutcome, at: DateTime<Utc>, error: Option<&str>) -> StoreResult<()> {
                    sqlx::query(
                        "UPDATE directory_ops SET done_at = $2, outcome = $3, last_error = COALESCE($4, last_error), \
                         lease_owner = NULL, lease_until = NULL WHERE id = $1",
                    )
                    .bind(id)
                    .bind(ms(at))
                    .bind(outcome.as_str())
                    .bind(error)
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(())
                }

                async fn retry_op(&mut self, id: i64, not_before: DateTime<Utc>, error: &str, throttled: bool) -> StoreResult<()> {
                    sqlx::query(
                        "UPDATE directory_ops SET not_before = $2, last_error = $3, lease_owner = NULL, lease_until = NULL, \
                         throttled = throttled + $4 WHERE id = $1 AND done_at IS NULL",
                    )
                    .bind(id)
                    .bind(ms(not_before))
                    .bind(error)
                    .bind(i64::from(throttled))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(())
                }

                async fn watch_member(&mut self, group_id: &str, user_id: &str, until: DateTime<Utc>, reason: &str) -> StoreResult<()> {
                    sqlx::query($crate::store::sql::WATCH_MEMBER)
                        .bind(group_id)
                        .bind(user_id)
                        .bind(ms(until))
                        .bind(reason)
                        .execute(&mut *self.tx)
                        .await?;
                    Ok(())
                }

                async fn append_event(&mut self, e: NewAuditEvent) -> StoreResult<AuditEvent> {
                    let last: Option<(i64, String)> =
                        sqlx::query_as("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
                            .fetch_optional(&mut *self.tx)
                            .await?;
                    let (seq, prev) = last.unwrap_or((0, GENESIS_HASH.to_string()));
                    let ev = e.seal(seq, &prev, self.key.as_ref());
                    sqlx::query(&format!(
                        "INSERT INTO audit_events ({EVENT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
                    ))
                    .bind(ev.seq)
                    .bind(ms(ev.at))
                    .bind(&ev.actor_id)
                    .bind(&ev.actor_name)
                    .bind(&ev.action)
                    .bind(&ev.request_id)
                    .bind(&ev.subject_id)
                    .bind(&ev.details)
                    .bind(&ev.client_ip)
                    .bind(&ev.user_agent)
                    .bind(&ev.prev_hash)
                    .bind(&ev.hash)
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(ev)
                }

                async fn asks_since(
                    &mut self,
                    kind: $crate::domain::limits::AskKind,
                    requester_id: &str,
                    package: &str,
                    since: DateTime<Utc>,
                ) -> StoreResult<Vec<DateTime<Utc>>> {
                    self.read_asks_since(kind, requester_id, package, since).await
                }

                async fn grant_spans(
                    &mut self,
                    package: &str,
                    requester_id: Option<&str>,
                    ending_after: DateTime<Utc>,
                ) -> StoreResult<Vec<$crate::store::GrantSpan>> {
                    self.read_grant_spans(package, requester_id, ending_after).await
                }

                async fn refused_packages_since(&mut self, subject_id: &str, since: DateTime<Utc>) -> StoreResult<Vec<String>> {
                    self.read_refused_packages_since(subject_id, since).await
                }

                async fn paced_sent_at(&mut self, key: &str) -> StoreResult<Option<DateTime<Utc>>> {
                    self.read_paced_sent_at(key).await
                }

                async fn set_paced_sent_at(&mut self, key: &str, at: DateTime<Utc>) -> StoreResult<()> {
                    self.write_paced_sent_at(key, at).await
                }

                async fn hold_notification(&mut self, id: i64, until: DateTime<Utc>) -> StoreResult<()> {
                    self.write_hold_notification(id, until).await
                }

                async fn take_paced(
                    &mut self,
                    key: &str,
                    now: DateTime<Utc>,
                    owner: &str,
                    lease: chrono::Duration,
                ) -> StoreResult<Vec<$crate::store::Notification>> {
                    self.write_take_paced(key, now, owner, lease).await
                }

                async fn insert_break_glass(&mut self, u: &$crate::domain::break_glass::BreakGlassUse) -> StoreResult<()> { self.write_break_glass(u).await }
                async fn break_glass_since(&mut self, requester_id: &str, package: &str, since: DateTime<Utc>) -> StoreResult<Vec<DateTime<Utc>>> { self.read_break_glass_since(requester_id, package, since).await }
                async fn review_break_glass(&mut self, request_id: &str, r: &$crate::domain::break_glass::Review) -> StoreResult<bool> { self.write_break_glass_review(request_id, r).await }

                async fn commit(self: Box<Self>) -> StoreResult<()> {
                    self.tx.commit().await?;
                    self.commits.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    Ok(())
                }
            }
        };
    };
}

pub(super) use impl_store_tx;
