//! Break-glass grants and their reviews: the row as read, and what a write transaction does
//! with them (records a use, counts a person's uses in a window, records a review once).

use crate::domain::UserRef;
use crate::domain::break_glass::{BreakGlassUse, Review, Verdict};
use crate::store::{StoreError, StoreResult, from_ms};

pub(super) const BREAK_GLASS_COLS: &str = "request_id, package, requester_id, used_at, review_due, \
     reviewed_at, reviewer_id, reviewer_name, verdict, comment";

#[derive(sqlx::FromRow)]
pub(super) struct BreakGlassRow {
    request_id: String,
    package: String,
    requester_id: String,
    used_at: i64,
    review_due: i64,
    reviewed_at: Option<i64>,
    reviewer_id: Option<String>,
    reviewer_name: Option<String>,
    verdict: Option<String>,
    comment: Option<String>,
}

impl BreakGlassRow {
    pub(super) fn into_use(self) -> StoreResult<BreakGlassUse> {
        let review = match (self.reviewed_at, self.reviewer_id, self.verdict) {
            (Some(at), Some(id), Some(v)) => Some(Review {
                reviewer: UserRef {
                    name: self.reviewer_name.unwrap_or_else(|| id.clone()),
                    username: id.clone(),
                    id,
                },
                verdict: Verdict::parse(&v)
                    .ok_or_else(|| StoreError::Corrupt(format!("break-glass verdict '{v}'")))?,
                comment: self.comment.unwrap_or_default(),
                at: from_ms(at),
            }),
            _ => None,
        };
        Ok(BreakGlassUse {
            request_id: self.request_id,
            package: self.package,
            requester_id: self.requester_id,
            used_at: from_ms(self.used_at),
            review_due: from_ms(self.review_due),
            review,
        })
    }
}

/// Writes, beside `impl StoreTx for $Tx` (see [`impl_store_tx!`](super::writes::impl_store_tx)),
/// what its break-glass methods call. Expects `DateTime`, `Utc`, `StoreResult` and `ms` in
/// scope, and a transaction in `self.tx`.
macro_rules! break_glass_writes {
    ($Tx:ident) => {
        impl $Tx {
            async fn write_break_glass(&mut self, u: &$crate::domain::break_glass::BreakGlassUse) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO break_glass (request_id, package, requester_id, used_at, review_due) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&u.request_id)
                .bind(&u.package)
                .bind(&u.requester_id)
                .bind(ms(u.used_at))
                .bind(ms(u.review_due))
                .execute(&mut *self.tx)
                .await?;
                Ok(())
            }

            async fn read_break_glass_since(
                &mut self,
                requester_id: &str,
                package: &str,
                since: DateTime<Utc>,
            ) -> StoreResult<Vec<DateTime<Utc>>> {
                let at: Vec<i64> = sqlx::query_scalar(
                    "SELECT used_at FROM break_glass WHERE requester_id = $1 AND package = $2 AND used_at > $3 ORDER BY used_at",
                )
                .bind(requester_id)
                .bind(package)
                .bind(ms(since))
                .fetch_all(&mut *self.tx)
                .await?;
                Ok(at.into_iter().map($crate::store::from_ms).collect())
            }

            async fn write_break_glass_review(
                &mut self,
                request_id: &str,
                r: &$crate::domain::break_glass::Review,
            ) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE break_glass SET reviewed_at = $2, reviewer_id = $3, reviewer_name = $4, verdict = $5, comment = $6 \
                     WHERE request_id = $1 AND reviewed_at IS NULL",
                )
                .bind(request_id)
                .bind(ms(r.at))
                .bind(&r.reviewer.id)
                .bind(&r.reviewer.name)
                .bind(r.verdict.as_str())
                .bind(&r.comment)
                .execute(&mut *self.tx)
                .await?;
                Ok(done.rows_affected() == 1)
            }
        }
    };
}

pub(super) use break_glass_writes;
