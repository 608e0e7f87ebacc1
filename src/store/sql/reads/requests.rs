//! Reads of requests: one, a page of them, how many, the grants each requester had, and the
//! deadlines (start, end, time-out) that come due.

/// Adds the reads of requests and their deadlines to the methods gathered for `impl Store` (see
/// [`impl_store!`](super::impl_store)), and hands them on.
macro_rules! request_reads {
    ($Store:ident, $Db:ty, $lease_free:expr; [$next:ident $(, $rest:ident)*] $($gathered:tt)*) => {
        $crate::store::sql::reads::$next! { $Store, $Db, $lease_free; [$($rest),*]
            $($gathered)*

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
                qb.push_bind(ms(since)).push(" AND requester_id IN ");
                push_list(&mut qb, requester_ids.iter().cloned());
                qb.push(" GROUP BY requester_id");
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
        }
    };
}

pub(in crate::store::sql) use request_reads;
