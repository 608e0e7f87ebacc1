//! Decider e-mails about one person, paced: when the last went out under a key, holding one
//! back, and taking every one due under a key at once (for a digest). Run in the sender's
//! serialized write transaction, so two replicas' senders cannot both send within the minute.

/// Writes, beside `impl StoreTx for $Tx` (see [`impl_store_tx!`](super::writes::impl_store_tx)),
/// what its pacing methods call. Expects `DateTime`, `Utc`, `StoreResult` and `ms` in scope,
/// and a transaction in `self.tx`.
macro_rules! pacing {
    ($Tx:ident) => {
        impl $Tx {
            async fn read_paced_sent_at(&mut self, key: &str) -> StoreResult<Option<DateTime<Utc>>> {
                let at: Option<i64> = sqlx::query_scalar("SELECT sent_at FROM mail_pace WHERE pace_key = $1")
                    .bind(key)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                Ok(at.map($crate::store::from_ms))
            }

            async fn write_paced_sent_at(&mut self, key: &str, at: DateTime<Utc>) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO mail_pace (pace_key, sent_at) VALUES ($1, $2) \
                     ON CONFLICT (pace_key) DO UPDATE SET sent_at = excluded.sent_at",
                )
                .bind(key)
                .bind(ms(at))
                .execute(&mut *self.tx)
                .await?;
                Ok(())
            }

            async fn write_hold_notification(&mut self, id: i64, until: DateTime<Utc>) -> StoreResult<()> {
                sqlx::query(
                    "UPDATE notifications SET not_before = $2, lease_owner = NULL, lease_until = NULL, \
                     attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END WHERE id = $1 AND done_at IS NULL",
                )
                .bind(id)
                .bind(ms(until))
                .execute(&mut *self.tx)
                .await?;
                Ok(())
            }

            async fn write_take_paced(
                &mut self,
                key: &str,
                now: DateTime<Utc>,
                owner: &str,
                lease: chrono::Duration,
            ) -> StoreResult<Vec<$crate::store::Notification>> {
                let rows: Vec<$crate::store::sql::rows::NotificationRow> = sqlx::query_as(&format!(
                    "UPDATE notifications SET \
                     attempts = attempts + CASE WHEN lease_owner = $3 AND lease_until > $2 THEN 0 ELSE 1 END, \
                     lease_owner = $3, lease_until = $4 \
                     WHERE pace_key = $1 AND done_at IS NULL AND not_before <= $2 \
                     AND (lease_until IS NULL OR lease_until <= $2 OR lease_owner = $3) \
                     RETURNING {}",
                    $crate::store::sql::NOTIFICATION_COLS
                ))
                .bind(key)
                .bind(ms(now))
                .bind(owner)
                .bind(ms(now + lease))
                .fetch_all(&mut *self.tx)
                .await?;
                let mut out = rows
                    .into_iter()
                    .map($crate::store::sql::rows::NotificationRow::into_notification)
                    .collect::<StoreResult<Vec<_>>>()?;
                out.sort_by_key(|n| (n.created_at, n.id));
                Ok(out)
            }
        }
    };
}

pub(super) use pacing;
