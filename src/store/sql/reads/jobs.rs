//! The background jobs' own records: whose turn it is to run a one-at-a-time job, the
//! heartbeats each job leaves, and what the drift check keeps between rounds (each group's
//! delta link, the members it watches); and the keys the replicas share (`portal_keys`).

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

            async fn delta_link(&self, group_id: &str) -> StoreResult<Option<String>> {
                Ok(sqlx::query_scalar("SELECT delta_link FROM group_deltas WHERE group_id = $1")
                    .bind(group_id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn set_delta_link(&self, group_id: &str, link: Option<&str>, at: DateTime<Utc>) -> StoreResult<()> {
                match link {
                    Some(link) => sqlx::query(
                        "INSERT INTO group_deltas (group_id, delta_link, updated_at) VALUES ($1, $2, $3) \
                         ON CONFLICT (group_id) DO UPDATE SET delta_link = excluded.delta_link, updated_at = excluded.updated_at",
                    )
                    .bind(group_id)
                    .bind(link)
                    .bind(ms(at))
                    .execute(&self.pool)
                    .await?,
                    None => sqlx::query("DELETE FROM group_deltas WHERE group_id = $1")
                        .bind(group_id)
                        .execute(&self.pool)
                        .await?,
                };
                Ok(())
            }

            async fn watch_member(&self, group_id: &str, user_id: &str, until: DateTime<Utc>, reason: &str) -> StoreResult<()> {
                sqlx::query($crate::store::sql::WATCH_MEMBER)
                    .bind(group_id)
                    .bind(user_id)
                    .bind(ms(until))
                    .bind(reason)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn watched_members(&self, group_id: &str, now: DateTime<Utc>) -> StoreResult<Vec<String>> {
                Ok(sqlx::query_scalar("SELECT user_id FROM member_watch WHERE group_id = $1 AND until > $2 ORDER BY user_id")
                    .bind(group_id)
                    .bind(ms(now))
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn end_watches(&self, now: DateTime<Utc>) -> StoreResult<u64> {
                Ok(sqlx::query("DELETE FROM member_watch WHERE until <= $1")
                    .bind(ms(now))
                    .execute(&self.pool)
                    .await?
                    .rows_affected())
            }

            async fn portal_key(&self, name: &str, fresh: &str) -> StoreResult<String> {
                sqlx::query("INSERT INTO portal_keys (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
                    .bind(name)
                    .bind(fresh)
                    .execute(&self.pool)
                    .await?;
                Ok(sqlx::query_scalar("SELECT value FROM portal_keys WHERE name = $1")
                    .bind(name)
                    .fetch_one(&self.pool)
                    .await?)
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
