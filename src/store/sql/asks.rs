//! What a package's per-person limits count, read inside the write transaction that would add
//! one more ask: requests made and extensions asked in the window, and the refusals already
//! recorded in the audit trail.

/// Writes, beside `impl StoreTx for $Tx` (see [`impl_store_tx!`](super::writes::impl_store_tx)),
/// the reads of what the limits count, which its `asks_since` and `refused_packages_since`
/// call. Expects `DateTime`, `Utc`, `StoreResult` and `ms` in scope, and a transaction in
/// `self.tx`.
macro_rules! ask_reads {
    ($Tx:ident) => {
        impl $Tx {
        async fn read_asks_since(
            &mut self,
            kind: $crate::domain::limits::AskKind,
            requester_id: &str,
            package: &str,
            since: DateTime<Utc>,
        ) -> StoreResult<Vec<DateTime<Utc>>> {
            let sql = match kind {
                $crate::domain::limits::AskKind::Request => {
                    // Requests made, and asks a package rule refused (recorded with the
                    // package and the stage; the limit's own refusals carry neither stage).
                    "SELECT created_at FROM requests WHERE requester_id = $1 AND package = $2 \
                     AND created_at > $3 \
                     UNION ALL SELECT at FROM audit_events WHERE subject_id = $1 \
                     AND action = 'request_refused' AND at > $3 \
                     AND details LIKE $4 AND details LIKE '%\"stage\":\"request\"%' \
                     ORDER BY 1"
                }
                $crate::domain::limits::AskKind::Extension => {
                    // From the hour's extensions (materialized first, whatever PostgreSQL's
                    // statistics; SQLite takes a CROSS JOIN's tables in the order written), not
                    // from the person's whole history of requests.
                    "WITH recent AS MATERIALIZED (SELECT request_id, requested_at FROM extensions WHERE requested_at > $3) \
                     SELECT e.requested_at FROM recent e CROSS JOIN requests r \
                     WHERE r.id = e.request_id AND r.requester_id = $1 AND r.package = $2 ORDER BY e.requested_at"
                }
            };
            let mut q = sqlx::query_scalar(sql)
                .bind(requester_id)
                .bind(package)
                .bind(ms(since));
            if kind == $crate::domain::limits::AskKind::Request {
                // Package ids hold only a-z, 0-9 and '-': nothing LIKE would read as a pattern.
                q = q.bind(format!("%\"package\":\"{package}\"%"));
            }
            let at: Vec<i64> = q.fetch_all(&mut *self.tx).await?;
            Ok(at.into_iter().map($crate::store::from_ms).collect())
        }

        async fn read_grant_spans(
            &mut self,
            package: &str,
            requester_id: Option<&str>,
            ending_after: DateTime<Utc>,
        ) -> StoreResult<Vec<$crate::store::GrantSpan>> {
            // Granted time: approved (scheduled), running, or over (ended early: until then).
            let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
                "SELECT id, requester_name, starts_at, ends_at FROM requests \
                 WHERE package = $1 AND (CAST($2 AS TEXT) IS NULL OR requester_id = $2) \
                 AND status IN ('approved','active','expired','ended','revoked') \
                 AND starts_at IS NOT NULL AND ends_at IS NOT NULL AND ends_at > $3 \
                 ORDER BY ends_at",
            )
            .bind(package)
            .bind(requester_id)
            .bind(ms(ending_after))
            .fetch_all(&mut *self.tx)
            .await?;
            Ok(rows
                .into_iter()
                .map(|(request_id, name, starts_at, ends_at)| $crate::store::GrantSpan {
                    request_id,
                    name,
                    starts_at: $crate::store::from_ms(starts_at),
                    ends_at: $crate::store::from_ms(ends_at),
                })
                .collect())
        }

        async fn read_refused_packages_since(
            &mut self,
            subject_id: &str,
            since: DateTime<Utc>,
        ) -> StoreResult<Vec<String>> {
            let details: Vec<String> = sqlx::query_scalar(
                "SELECT details FROM audit_events WHERE subject_id = $1 AND action = 'request_refused' AND at >= $2",
            )
            .bind(subject_id)
            .bind(ms(since))
            .fetch_all(&mut *self.tx)
            .await?;
            Ok(details
                .iter()
                .filter_map(|d| serde_json::from_str::<serde_json::Value>(d).ok())
                // The asking limits' own refusals (a package rule's carry a "rule" instead).
                .filter(|d| d.get("kind").is_some())
                .filter_map(|d| d.get("package").and_then(|p| p.as_str()).map(str::to_string))
                .collect())
        }
        }
    };
}

pub(super) use ask_reads;
