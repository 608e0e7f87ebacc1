//! The SQL behind both backends. The statements are the same for SQLite and PostgreSQL (both take
//! `$n` placeholders, `RETURNING`, partial indexes and `ON CONFLICT`), so one macro writes both
//! implementations; only connecting, beginning a write transaction and the migrations differ.

use std::str::FromStr;

use super::{DirectoryOp, OpKind, OpOutcome, StoreError, from_ms};
use crate::domain::{Approval, AuditEvent, Decision, Request, RequestStatus, UserRef};

pub use postgres_impl::PgStore;
pub use sqlite_impl::SqliteStore;

const REQUEST_COLS: &str = "id, package, group_id, requester_id, requester_name, requester_username, manager_id, \
     status, duration_minutes, justification, ticket, created_at, requested_start, timeout_at, starts_at, ends_at, \
     decided_at, added_at, removed_at, close_reason";
const APPROVAL_COLS: &str =
    "request_id, approver_id, approver_name, approver_username, decision, comment, at";
const OP_COLS: &str = "id, request_id, kind, group_id, user_id, created_at, not_before, attempts, last_error, \
     lease_owner, lease_until, done_at, outcome";
const EVENT_COLS: &str = "seq, at, actor_id, actor_name, action, request_id, subject_id, details, client_ip, user_agent, prev_hash, hash";

/// An operation may be claimed only when no earlier unfinished operation exists for the same member.
const HEAD_OF_QUEUE: &str = "NOT EXISTS (SELECT 1 FROM directory_ops p WHERE p.group_id = o.group_id \
     AND p.user_id = o.user_id AND p.done_at IS NULL AND p.id < o.id)";

#[derive(sqlx::FromRow)]
struct RequestRow {
    id: String,
    package: String,
    group_id: String,
    requester_id: String,
    requester_name: String,
    requester_username: String,
    manager_id: Option<String>,
    status: String,
    duration_minutes: i64,
    justification: String,
    ticket: Option<String>,
    created_at: i64,
    requested_start: Option<i64>,
    timeout_at: i64,
    starts_at: Option<i64>,
    ends_at: Option<i64>,
    decided_at: Option<i64>,
    added_at: Option<i64>,
    removed_at: Option<i64>,
    close_reason: Option<String>,
}

impl RequestRow {
    fn into_request(self, approvals: Vec<Approval>) -> Result<Request, StoreError> {
        let status = RequestStatus::from_str(&self.status)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(Request {
            id: self.id,
            package: self.package,
            group_id: self.group_id,
            requester: UserRef {
                id: self.requester_id,
                name: self.requester_name,
                username: self.requester_username,
            },
            manager_id: self.manager_id,
            status,
            duration_minutes: self.duration_minutes,
            justification: self.justification,
            ticket: self.ticket,
            created_at: from_ms(self.created_at),
            requested_start: self.requested_start.map(from_ms),
            timeout_at: from_ms(self.timeout_at),
            starts_at: self.starts_at.map(from_ms),
            ends_at: self.ends_at.map(from_ms),
            decided_at: self.decided_at.map(from_ms),
            added_at: self.added_at.map(from_ms),
            removed_at: self.removed_at.map(from_ms),
            close_reason: self.close_reason,
            approvals,
        })
    }
}

/// Requests joined with their approvals: `{JOINED_SELECT} <a SELECT of REQUEST_COLS>) r {JOINED_TAIL} ORDER BY ...`.
const JOINED_SELECT: &str = "SELECT r.*, a.approver_id AS a_approver_id, a.approver_name AS a_approver_name, \
     a.approver_username AS a_approver_username, a.decision AS a_decision, a.comment AS a_comment, a.at AS a_at FROM (";
const JOINED_TAIL: &str = "LEFT JOIN approvals a ON a.request_id = r.id";

/// A request with one of its approvals (or none), from a LEFT JOIN.
#[derive(sqlx::FromRow)]
struct JoinedRow {
    #[sqlx(flatten)]
    request: RequestRow,
    a_approver_id: Option<String>,
    a_approver_name: Option<String>,
    a_approver_username: Option<String>,
    a_decision: Option<String>,
    a_comment: Option<String>,
    a_at: Option<i64>,
}

/// Folds joined rows (in request order, each request's approvals together) into requests.
fn joined(rows: Vec<JoinedRow>) -> Result<Vec<Request>, StoreError> {
    let mut out: Vec<Request> = Vec::new();
    for row in rows {
        let approval = match (row.a_approver_id, row.a_decision, row.a_at) {
            (Some(id), Some(decision), Some(at)) => Some(Approval {
                approver: UserRef {
                    id,
                    name: row.a_approver_name.unwrap_or_default(),
                    username: row.a_approver_username.unwrap_or_default(),
                },
                decision: Decision::parse(&decision)
                    .ok_or_else(|| StoreError::Corrupt(format!("unknown decision '{decision}'")))?,
                comment: row.a_comment,
                at: from_ms(at),
            }),
            _ => None,
        };
        match out.last_mut() {
            Some(last) if last.id == row.request.id => last.approvals.extend(approval),
            _ => out.push(row.request.into_request(approval.into_iter().collect())?),
        }
    }
    Ok(out)
}

#[derive(sqlx::FromRow)]
struct OpRow {
    id: i64,
    request_id: String,
    kind: String,
    group_id: String,
    user_id: String,
    created_at: i64,
    not_before: i64,
    attempts: i64,
    last_error: Option<String>,
    lease_owner: Option<String>,
    lease_until: Option<i64>,
    done_at: Option<i64>,
    outcome: Option<String>,
}

impl OpRow {
    fn into_op(self) -> Result<DirectoryOp, StoreError> {
        let kind = match self.kind.as_str() {
            "add" => OpKind::Add,
            "remove" => OpKind::Remove,
            other => return Err(StoreError::Corrupt(format!("unknown op kind '{other}'"))),
        };
        let outcome = match self.outcome.as_deref() {
            None => None,
            Some("done") => Some(OpOutcome::Done),
            Some("skipped") => Some(OpOutcome::Skipped),
            Some("failed") => Some(OpOutcome::Failed),
            Some(other) => {
                return Err(StoreError::Corrupt(format!("unknown op outcome '{other}'")));
            }
        };
        Ok(DirectoryOp {
            id: self.id,
            request_id: self.request_id,
            kind,
            group_id: self.group_id,
            user_id: self.user_id,
            created_at: from_ms(self.created_at),
            not_before: from_ms(self.not_before),
            attempts: self.attempts,
            last_error: self.last_error,
            lease_owner: self.lease_owner,
            lease_until: self.lease_until.map(from_ms),
            done_at: self.done_at.map(from_ms),
            outcome,
        })
    }
}

#[derive(sqlx::FromRow)]
struct EventRow {
    seq: i64,
    at: i64,
    actor_id: String,
    actor_name: String,
    action: String,
    request_id: Option<String>,
    subject_id: Option<String>,
    details: String,
    client_ip: Option<String>,
    user_agent: Option<String>,
    prev_hash: String,
    hash: String,
}

impl From<EventRow> for AuditEvent {
    fn from(r: EventRow) -> AuditEvent {
        AuditEvent {
            seq: r.seq,
            at: from_ms(r.at),
            actor_id: r.actor_id,
            actor_name: r.actor_name,
            action: r.action,
            request_id: r.request_id,
            subject_id: r.subject_id,
            details: r.details,
            client_ip: r.client_ip,
            user_agent: r.user_agent,
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

fn map_unique(e: sqlx::Error, what: &str) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(what.to_string())
        }
        _ => StoreError::Database(e),
    }
}

macro_rules! sql_store {
    ($Store:ident, $Tx:ident, $Db:ty, $Conn:ty, $backend:literal, $migrations:literal) => {
        use async_trait::async_trait;
        use chrono::{DateTime, Duration, Utc};
        use sqlx::QueryBuilder;

        use super::*;
        use crate::domain::NewAuditEvent;
        use crate::domain::audit::GENESIS_HASH;
        use crate::store::{
            AuditFilter, DueItem, DueKind, GrantCount, NewDirectoryOp, RequestFilter, Store, StoreResult, StoreTx, ms,
        };

        pub struct $Tx {
            tx: sqlx::Transaction<'static, $Db>,
        }

        async fn fetch_request(conn: &mut $Conn, id: &str) -> StoreResult<Option<Request>> {
            let rows: Vec<JoinedRow> = sqlx::query_as(&format!(
                "{JOINED_SELECT}SELECT {REQUEST_COLS} FROM requests WHERE id = $1) r {JOINED_TAIL} ORDER BY a.at, a.approver_id"
            ))
            .bind(id)
            .fetch_all(&mut *conn)
            .await?;
            Ok(joined(rows)?.pop())
        }

        fn push_request_filter(qb: &mut QueryBuilder<'_, $Db>, f: &RequestFilter) {
            qb.push(" WHERE 1 = 1");
            if !f.statuses.is_empty() {
                qb.push(" AND status IN (");
                let mut sep = qb.separated(", ");
                for s in &f.statuses {
                    sep.push_bind(s.as_str());
                }
                qb.push(")");
            }
            if let Some(p) = &f.package {
                qb.push(" AND package = ").push_bind(p.clone());
            }
            if let Some(r) = &f.requester_id {
                qb.push(" AND requester_id = ").push_bind(r.clone());
            }
            if !f.ids.is_empty() {
                qb.push(" AND id IN (");
                let mut sep = qb.separated(", ");
                for id in &f.ids {
                    sep.push_bind(id.clone());
                }
                qb.push(")");
            }
            if let Some(u) = &f.involving {
                qb.push(" AND (requester_id = ").push_bind(u.clone());
                qb.push(" OR manager_id = ").push_bind(u.clone()).push(")");
            }
            if let Some(t) = f.created_since {
                qb.push(" AND created_at >= ").push_bind(ms(t));
            }
        }

        fn push_request_page(qb: &mut QueryBuilder<'_, $Db>, f: &RequestFilter, order: &str) {
            qb.push(format!("SELECT {REQUEST_COLS} FROM requests"));
            push_request_filter(qb, f);
            qb.push(format!(" ORDER BY {order}"));
            qb.push(" LIMIT ").push_bind(f.limit.unwrap_or(500).clamp(1, 10_000));
            qb.push(" OFFSET ").push_bind(f.offset.unwrap_or(0).max(0));
        }

        fn push_event_filter(qb: &mut QueryBuilder<'_, $Db>, f: &AuditFilter) {
            qb.push(" WHERE 1 = 1");
            for (col, val) in [
                ("request_id", &f.request_id),
                ("actor_id", &f.actor_id),
                ("subject_id", &f.subject_id),
                ("action", &f.action),
            ] {
                if let Some(v) = val {
                    qb.push(format!(" AND {col} = ")).push_bind(v.clone());
                }
            }
            if let Some(p) = &f.person {
                qb.push(" AND (actor_id = ").push_bind(p.clone());
                qb.push(" OR subject_id = ").push_bind(p.clone());
                qb.push(" OR actor_name = ").push_bind(p.clone()).push(")");
            }
            if let Some(p) = &f.package {
                qb.push(" AND request_id IN (SELECT id FROM requests WHERE package = ").push_bind(p.clone()).push(")");
            }
            if let Some(t) = f.since {
                qb.push(" AND at >= ").push_bind(ms(t));
            }
            if let Some(t) = f.until {
                qb.push(" AND at < ").push_bind(ms(t));
            }
            if let Some(s) = f.before_seq {
                qb.push(" AND seq < ").push_bind(s);
            }
        }

        #[async_trait]
        impl Store for $Store {
            fn backend(&self) -> &'static str {
                $backend
            }

            async fn migrate(&self) -> StoreResult<()> {
                sqlx::migrate!($migrations).run(&self.pool).await?;
                Ok(())
            }

            async fn ping(&self) -> StoreResult<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn begin(&self) -> StoreResult<Box<dyn StoreTx>> {
                Ok(Box::new($Tx { tx: self.begin_serialized().await? }))
            }

            async fn get_request(&self, id: &str) -> StoreResult<Option<Request>> {
                let mut conn = self.pool.acquire().await?;
                fetch_request(&mut conn, id).await
            }

            async fn list_requests(&self, f: &RequestFilter) -> StoreResult<Vec<Request>> {
                // One round trip: the page of requests, joined with their approvals.
                let order = if f.oldest_first { "created_at, id" } else { "created_at DESC, id DESC" };
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

            async fn claim_op(&self, now: DateTime<Utc>, owner: &str, lease: Duration) -> StoreResult<Option<DirectoryOp>> {
                let mut tx = self.begin_serialized().await?;
                let row: Option<OpRow> = sqlx::query_as(&format!(
                    "SELECT {OP_COLS} FROM directory_ops o WHERE o.done_at IS NULL AND o.not_before <= $1 \
                     AND (o.lease_until IS NULL OR o.lease_until <= $1) AND {HEAD_OF_QUEUE} \
                     ORDER BY o.not_before, o.id LIMIT 1"
                ))
                .bind(ms(now))
                .fetch_optional(&mut *tx)
                .await?;
                let Some(row) = row else {
                    tx.commit().await?;
                    return Ok(None);
                };
                let row: OpRow = sqlx::query_as(&format!(
                    "UPDATE directory_ops SET lease_owner = $1, lease_until = $2, attempts = attempts + 1 \
                     WHERE id = $3 RETURNING {OP_COLS}"
                ))
                .bind(owner)
                .bind(ms(now + lease))
                .bind(row.id)
                .fetch_one(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(Some(row.into_op()?))
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

            async fn list_ops(&self, pending_only: bool, limit: i64) -> StoreResult<Vec<DirectoryOp>> {
                let filter = if pending_only { "WHERE done_at IS NULL" } else { "" };
                let rows: Vec<OpRow> =
                    sqlx::query_as(&format!("SELECT {OP_COLS} FROM directory_ops {filter} ORDER BY id DESC LIMIT $1"))
                        .bind(limit)
                        .fetch_all(&self.pool)
                        .await?;
                rows.into_iter().map(OpRow::into_op).collect()
            }

            async fn ops_for_request(&self, request_id: &str) -> StoreResult<Vec<DirectoryOp>> {
                let rows: Vec<OpRow> =
                    sqlx::query_as(&format!("SELECT {OP_COLS} FROM directory_ops WHERE request_id = $1 ORDER BY id"))
                        .bind(request_id)
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

            fn session_store(&self) -> crate::auth::session_store::AnySessionStore {
                self.session_store_impl()
            }
        }

        #[async_trait]
        impl StoreTx for $Tx {
            async fn get_request(&mut self, id: &str) -> StoreResult<Option<Request>> {
                fetch_request(&mut self.tx, id).await
            }

            async fn insert_request(&mut self, r: &Request) -> StoreResult<()> {
                sqlx::query(&format!(
                    "INSERT INTO requests ({REQUEST_COLS}, updated_at) VALUES \
                     ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)"
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
                .bind(ms(r.created_at))
                .execute(&mut *self.tx)
                .await
                .map_err(|e| map_unique(e, "an open request for this package already exists"))?;
                Ok(())
            }

            async fn update_request(&mut self, r: &Request, now: DateTime<Utc>) -> StoreResult<()> {
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

            async fn retry_op(&mut self, id: i64, not_before: DateTime<Utc>, error: &str) -> StoreResult<()> {
                sqlx::query(
                    "UPDATE directory_ops SET not_before = $2, last_error = $3, lease_owner = NULL, lease_until = NULL \
                     WHERE id = $1 AND done_at IS NULL",
                )
                .bind(id)
                .bind(ms(not_before))
                .bind(error)
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
                let ev = e.seal(seq, &prev);
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

            async fn commit(self: Box<Self>) -> StoreResult<()> {
                self.tx.commit().await?;
                Ok(())
            }
        }
    };
}

mod sqlite_impl {
    use std::str::FromStr;

    use sqlx::sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
    };
    use sqlx::{Sqlite, SqliteConnection, SqlitePool};

    use crate::auth::session_store::AnySessionStore;

    sql_store!(
        SqliteStore,
        SqliteTx,
        Sqlite,
        SqliteConnection,
        "sqlite",
        "./migrations/sqlite"
    );

    /// The embedded default: one file, WAL journal, fully synchronous commits.
    #[derive(Clone)]
    pub struct SqliteStore {
        pool: SqlitePool,
    }

    impl SqliteStore {
        pub async fn connect(url: &str) -> anyhow::Result<SqliteStore> {
            let in_memory = url.contains(":memory:") || url.contains("mode=memory");
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(if in_memory {
                    SqliteJournalMode::Memory
                } else {
                    SqliteJournalMode::Wal
                })
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(std::time::Duration::from_secs(30))
                .foreign_keys(true);
            // Each connection to an in-memory database is a database of its own: keep one.
            let pool = SqlitePoolOptions::new()
                .max_connections(if in_memory { 1 } else { 8 })
                .connect_with(opts)
                .await?;
            Ok(SqliteStore { pool })
        }

        pub fn pool(&self) -> &SqlitePool {
            &self.pool
        }

        async fn begin_serialized(&self) -> StoreResult<sqlx::Transaction<'static, Sqlite>> {
            Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
        }

        fn session_store_impl(&self) -> AnySessionStore {
            AnySessionStore::Sqlite(tower_sessions_sqlx_store::SqliteStore::new(
                self.pool.clone(),
            ))
        }
    }
}

mod postgres_impl {
    use sqlx::postgres::PgPoolOptions;
    use sqlx::{PgConnection, PgPool, Postgres};

    use crate::auth::session_store::AnySessionStore;

    sql_store!(
        PgStore,
        PgTx,
        Postgres,
        PgConnection,
        "postgres",
        "./migrations/postgres"
    );

    /// Serializes writers across replicas; any constant will do, it only has to be the same everywhere.
    const WRITE_LOCK: i64 = 0x006a_6974_6761_7465;

    #[derive(Clone)]
    pub struct PgStore {
        pool: PgPool,
    }

    impl PgStore {
        pub async fn connect(url: &str) -> anyhow::Result<PgStore> {
            let pool = PgPoolOptions::new()
                .max_connections(10)
                .acquire_timeout(std::time::Duration::from_secs(10))
                .connect(url)
                .await?;
            Ok(PgStore { pool })
        }

        pub fn pool(&self) -> &PgPool {
            &self.pool
        }

        async fn begin_serialized(&self) -> StoreResult<sqlx::Transaction<'static, Postgres>> {
            let mut tx = self.pool.begin().await?;
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(WRITE_LOCK)
                .execute(&mut *tx)
                .await?;
            Ok(tx)
        }

        fn session_store_impl(&self) -> AnySessionStore {
            AnySessionStore::Postgres(tower_sessions_sqlx_store::PostgresStore::new(
                self.pool.clone(),
            ))
        }
    }
}
