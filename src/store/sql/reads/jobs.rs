//! The background jobs' own records: whose turn it is to run a one-at-a-time job, and the
//! heartbeats each job leaves.

/// Adds the jobs' turns and heartbeats to the methods gathered for `impl Store` (see
/// [`impl_store!`](super::impl_store)), and hands them on.
macro_rules! job_reads {
    ($Store:ident, $Db:ty, $lease_free:expr; [$next:ident $(, $rest:ident)*] $($gathered:tt)*) => {
        $crate::store::sql::reads::$next! { $Store, $Db, $lease_free; [$($rest),*]
            $($gathered)*

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
        }
    };
}

pub(in crate::store::sql) use job_reads;
