//! Reads of break-glass grants: one, and those still waiting for a review.

/// Adds the reads of break-glass grants to the methods gathered for `impl Store` (see
/// [`impl_store!`](super::impl_store)), and hands them on.
macro_rules! break_glass_reads {
    ($Store:ident, $Db:ty, $lease_free:expr; [$next:ident $(, $rest:ident)*] $($gathered:tt)*) => {
        $crate::store::sql::reads::$next! { $Store, $Db, $lease_free; [$($rest),*]
            $($gathered)*

            async fn break_glass_use(&self, request_id: &str) -> StoreResult<Option<$crate::domain::break_glass::BreakGlassUse>> {
                let row: Option<$crate::store::sql::break_glass::BreakGlassRow> = sqlx::query_as(&format!(
                    "SELECT {} FROM break_glass WHERE request_id = $1",
                    $crate::store::sql::break_glass::BREAK_GLASS_COLS
                ))
                .bind(request_id)
                .fetch_optional(&self.pool)
                .await?;
                row.map(|r| r.into_use()).transpose()
            }

            async fn unreviewed_break_glass(&self, limit: i64) -> StoreResult<Vec<$crate::domain::break_glass::BreakGlassUse>> {
                let rows: Vec<$crate::store::sql::break_glass::BreakGlassRow> = sqlx::query_as(&format!(
                    "SELECT {} FROM break_glass WHERE reviewed_at IS NULL ORDER BY review_due, request_id LIMIT $1",
                    $crate::store::sql::break_glass::BREAK_GLASS_COLS
                ))
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(|r| r.into_use()).collect()
            }

            async fn count_unreviewed_break_glass(&self) -> StoreResult<i64> {
                Ok(sqlx::query_scalar("SELECT COUNT(*) FROM break_glass WHERE reviewed_at IS NULL")
                    .fetch_one(&self.pool)
                    .await?)
            }
        }
    };
}

pub(in crate::store::sql) use break_glass_reads;
