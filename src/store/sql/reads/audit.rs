//! Reads of the audit trail: a filtered page, newest first, or every event after one, in order.

/// Adds the reads of the audit trail to the methods gathered for `impl Store` (see
/// [`impl_store!`](super::impl_store)), and hands them on.
macro_rules! audit_reads {
    ($Store:ident, $Db:ty, $lease_free:expr; [$next:ident $(, $rest:ident)*] $($gathered:tt)*) => {
        $crate::store::sql::reads::$next! { $Store, $Db, $lease_free; [$($rest),*]
            $($gathered)*

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
        }
    };
}

pub(in crate::store::sql) use audit_reads;
