//! What access reviews keep, for both backends: the macro that writes `impl ReviewStore` and
//! `impl ReviewTx` (see [`crate::store::ReviewStore`]) with the rows of `review_rows`.

/// Writes `impl ReviewStore for $Store` (reads on its `pool`) and `impl ReviewTx for $Tx` (in
/// its `tx`), in the backend's module.
macro_rules! review_store {
    ($Store:ident, $Tx:ident, $Db:ty) => {
        const _: () = {
            use async_trait::async_trait;
            use chrono::{DateTime, Utc};

            use $crate::domain::review::{Campaign, Outcome, ReviewDecision, ReviewItem};
            use $crate::domain::{Request, UserRef};
            use $crate::store::sql::map_unique;
            use $crate::store::sql::review_rows::{
                CAMPAIGN_COLS, CampaignRow, ITEM_COLS, ItemRow, OVERRIDE_COLS, OverrideRow,
                REVOCATION_COLS, RevocationRow,
            };
            use $crate::store::sql::rows::RequestRow;
            use $crate::store::sql::REQUEST_COLS;
            use $crate::store::{
                NewReviewItem, ReviewStore, ReviewTx, Revocation, StandingOverride, StoreResult,
                from_ms, ms,
            };

            #[async_trait]
            impl ReviewStore for $Store {
                async fn review_schedules(&self) -> StoreResult<Vec<(String, DateTime<Utc>)>> {
                    let rows: Vec<(String, i64)> =
                        sqlx::query_as("SELECT package, first_seen FROM review_schedules ORDER BY package")
                            .fetch_all(&self.pool)
                            .await?;
                    Ok(rows.into_iter().map(|(p, t)| (p, from_ms(t))).collect())
                }

                async fn list_campaigns(&self, package: Option<&str>, limit: i64) -> StoreResult<Vec<Campaign>> {
                    let rows: Vec<CampaignRow> = sqlx::query_as(&format!(
                        "SELECT {CAMPAIGN_COLS} FROM review_campaigns \
                         WHERE (CAST($1 AS TEXT) IS NULL OR package = $1) \
                         ORDER BY starts_at DESC, id LIMIT $2"
                    ))
                    .bind(package)
                    .bind(limit.clamp(1, 1000))
                    .fetch_all(&self.pool)
                    .await?;
                    rows.into_iter().map(CampaignRow::into_campaign).collect()
                }

                async fn open_campaigns(&self) -> StoreResult<Vec<Campaign>> {
                    let rows: Vec<CampaignRow> = sqlx::query_as(&format!(
                        "SELECT {CAMPAIGN_COLS} FROM review_campaigns WHERE status = 'open' ORDER BY due_at, id"
                    ))
                    .fetch_all(&self.pool)
                    .await?;
                    rows.into_iter().map(CampaignRow::into_campaign).collect()
                }

                async fn get_campaign(&self, id: &str) -> StoreResult<Option<Campaign>> {
                    let row: Option<CampaignRow> = sqlx::query_as(&format!(
                        "SELECT {CAMPAIGN_COLS} FROM review_campaigns WHERE id = $1"
                    ))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                    row.map(CampaignRow::into_campaign).transpose()
                }

                async fn campaign_items(&self, campaign_id: &str) -> StoreResult<Vec<ReviewItem>> {
                    let rows: Vec<ItemRow> = sqlx::query_as(&format!(
                        "SELECT {ITEM_COLS} FROM review_items WHERE campaign_id = $1 ORDER BY id"
                    ))
                    .bind(campaign_id)
                    .fetch_all(&self.pool)
                    .await?;
                    rows.into_iter().map(ItemRow::into_item).collect()
                }

                async fn grants_in_period(
                    &self,
                    package: &str,
                    from: DateTime<Utc>,
                    to: DateTime<Utc>,
                ) -> StoreResult<Vec<Request>> {
                    let rows: Vec<RequestRow> = sqlx::query_as(&format!(
                        "SELECT {REQUEST_COLS} FROM requests WHERE package = $1 AND added_at IS NOT NULL \
                         AND starts_at IS NOT NULL AND starts_at < $3 \
                         AND COALESCE(removed_at, ends_at, $3) > $2 ORDER BY starts_at, id LIMIT 100000"
                    ))
                    .bind(package)
                    .bind(ms(from))
                    .bind(ms(to))
                    .fetch_all(&self.pool)
                    .await?;
                    rows.into_iter().map(|r| r.into_request(Vec::new())).collect()
                }

                async fn standing_overrides(&self, package: Option<&str>) -> StoreResult<Vec<StandingOverride>> {
                    let rows: Vec<OverrideRow> = sqlx::query_as(&format!(
                        "SELECT {OVERRIDE_COLS} FROM standing_overrides \
                         WHERE (CAST($1 AS TEXT) IS NULL OR package = $1) ORDER BY package, member_id"
                    ))
                    .bind(package)
                    .fetch_all(&self.pool)
                    .await?;
                    Ok(rows.into_iter().map(StandingOverride::from).collect())
                }

                async fn revocations(&self, package: Option<&str>, in_force: bool) -> StoreResult<Vec<Revocation>> {
                    let rows: Vec<RevocationRow> = sqlx::query_as(&format!(
                        "SELECT {REVOCATION_COLS} FROM review_revocations \
                         WHERE (CAST($1 AS TEXT) IS NULL OR package = $1) \
                         AND (CAST($2 AS BIGINT) = 0 OR restored_at IS NULL) \
                         ORDER BY revoked_at DESC, package, user_id LIMIT 10000"
                    ))
                    .bind(package)
                    .bind(i64::from(in_force))
                    .fetch_all(&self.pool)
                    .await?;
                    Ok(rows.into_iter().map(Revocation::from).collect())
                }
            }

            #[async_trait]
            impl ReviewTx for $Tx {
                async fn note_review_schedule(&mut self, package: &str, first_seen: DateTime<Utc>) -> StoreResult<()> {
                    sqlx::query(
                        "INSERT INTO review_schedules (package, first_seen) VALUES ($1, $2) \
                         ON CONFLICT (package) DO UPDATE SET first_seen = CASE \
                         WHEN excluded.first_seen < review_schedules.first_seen THEN excluded.first_seen \
                         ELSE review_schedules.first_seen END",
                    )
                    .bind(package)
                    .bind(ms(first_seen))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(())
                }

                async fn insert_campaign(&mut self, c: &Campaign) -> StoreResult<()> {
                    sqlx::query(&format!(
                        "INSERT INTO review_campaigns ({CAMPAIGN_COLS}) VALUES \
                         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
                    ))
                    .bind(&c.id)
                    .bind(&c.package)
                    .bind(&c.package_name)
                    .bind(ms(c.period_start))
                    .bind(ms(c.period_end))
                    .bind(ms(c.starts_at))
                    .bind(ms(c.due_at))
                    .bind(c.status.as_str())
                    .bind(c.closed_at.map(ms))
                    .bind(c.review_by.as_str())
                    .bind(c.review_default.as_str())
                    .bind(c.reminders_sent)
                    .execute(&mut *self.tx)
                    .await
                    .map_err(|e| map_unique(e, "a campaign of this package starting then already exists"))?;
                    Ok(())
                }

                async fn insert_review_item(&mut self, item: &NewReviewItem) -> StoreResult<i64> {
                    let id: i64 = sqlx::query_scalar(
                        "INSERT INTO review_items (campaign_id, kind, subject_id, subject_name, details) \
                         VALUES ($1, $2, $3, $4, $5) RETURNING id",
                    )
                    .bind(&item.campaign_id)
                    .bind(item.kind.as_str())
                    .bind(&item.subject_id)
                    .bind(&item.subject_name)
                    .bind(item.details.to_string())
                    .fetch_one(&mut *self.tx)
                    .await?;
                    Ok(id)
                }

                async fn campaign_in_tx(&mut self, id: &str) -> StoreResult<Option<Campaign>> {
                    let row: Option<CampaignRow> = sqlx::query_as(&format!(
                        "SELECT {CAMPAIGN_COLS} FROM review_campaigns WHERE id = $1"
                    ))
                    .bind(id)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                    row.map(CampaignRow::into_campaign).transpose()
                }

                async fn review_item(&mut self, id: i64) -> StoreResult<Option<ReviewItem>> {
                    let row: Option<ItemRow> = sqlx::query_as(&format!(
                        "SELECT {ITEM_COLS} FROM review_items WHERE id = $1"
                    ))
                    .bind(id)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                    row.map(ItemRow::into_item).transpose()
                }

                async fn items_in_tx(&mut self, campaign_id: &str) -> StoreResult<Vec<ReviewItem>> {
                    let rows: Vec<ItemRow> = sqlx::query_as(&format!(
                        "SELECT {ITEM_COLS} FROM review_items WHERE campaign_id = $1 ORDER BY id"
                    ))
                    .bind(campaign_id)
                    .fetch_all(&mut *self.tx)
                    .await?;
                    rows.into_iter().map(ItemRow::into_item).collect()
                }

                async fn decide_review_item(
                    &mut self,
                    id: i64,
                    decision: ReviewDecision,
                    justification: &str,
                    reviewer: &UserRef,
                    at: DateTime<Utc>,
                ) -> StoreResult<()> {
                    sqlx::query(
                        "UPDATE review_items SET decision = $2, justification = $3, reviewer_id = $4, \
                         reviewer_name = $5, reviewer_username = $6, decided_at = $7 WHERE id = $1",
                    )
                    .bind(id)
                    .bind(decision.as_str())
                    .bind(justification)
                    .bind(&reviewer.id)
                    .bind(&reviewer.name)
                    .bind(&reviewer.username)
                    .bind(ms(at))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(())
                }

                async fn set_item_outcome(&mut self, id: i64, outcome: Outcome, by_default: bool) -> StoreResult<()> {
                    sqlx::query("UPDATE review_items SET outcome = $2, by_default = $3 WHERE id = $1")
                        .bind(id)
                        .bind(outcome.as_str())
                        .bind(i64::from(by_default))
                        .execute(&mut *self.tx)
                        .await?;
                    Ok(())
                }

                async fn close_campaign(&mut self, id: &str, at: DateTime<Utc>) -> StoreResult<()> {
                    sqlx::query("UPDATE review_campaigns SET status = 'closed', closed_at = $2 WHERE id = $1")
                        .bind(id)
                        .bind(ms(at))
                        .execute(&mut *self.tx)
                        .await?;
                    Ok(())
                }

                async fn set_reminders_sent(&mut self, id: &str, n: i64) -> StoreResult<()> {
                    sqlx::query("UPDATE review_campaigns SET reminders_sent = $2 WHERE id = $1")
                        .bind(id)
                        .bind(n)
                        .execute(&mut *self.tx)
                        .await?;
                    Ok(())
                }

                async fn put_standing_override(&mut self, o: &StandingOverride) -> StoreResult<()> {
                    sqlx::query(&format!(
                        "INSERT INTO standing_overrides ({OVERRIDE_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                         ON CONFLICT (package, member_id) DO UPDATE SET member_name = excluded.member_name, \
                         file_hash = excluded.file_hash, campaign_id = excluded.campaign_id, \
                         reason = excluded.reason, at = excluded.at"
                    ))
                    .bind(&o.package)
                    .bind(&o.member_id)
                    .bind(&o.member_name)
                    .bind(&o.file_hash)
                    .bind(&o.campaign_id)
                    .bind(&o.reason)
                    .bind(ms(o.at))
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(())
                }

                async fn put_revocation(&mut self, r: &Revocation) -> StoreResult<()> {
                    sqlx::query(&format!(
                        "INSERT INTO review_revocations ({REVOCATION_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                         ON CONFLICT (package, user_id) DO UPDATE SET user_name = excluded.user_name, \
                         campaign_id = excluded.campaign_id, reason = excluded.reason, revoked_at = excluded.revoked_at, \
                         restored_at = excluded.restored_at, restored_by = excluded.restored_by, \
                         restore_reason = excluded.restore_reason"
                    ))
                    .bind(&r.package)
                    .bind(&r.user_id)
                    .bind(&r.user_name)
                    .bind(&r.campaign_id)
                    .bind(&r.reason)
                    .bind(ms(r.revoked_at))
                    .bind(r.restored_at.map(ms))
                    .bind(&r.restored_by)
                    .bind(&r.restore_reason)
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(())
                }

                async fn revocation_in_force(&mut self, package: &str, user_id: &str) -> StoreResult<Option<Revocation>> {
                    let row: Option<RevocationRow> = sqlx::query_as(&format!(
                        "SELECT {REVOCATION_COLS} FROM review_revocations \
                         WHERE package = $1 AND LOWER(user_id) = LOWER($2) AND restored_at IS NULL"
                    ))
                    .bind(package)
                    .bind(user_id)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                    Ok(row.map(Revocation::from))
                }

                async fn restore_revocation(
                    &mut self,
                    package: &str,
                    user_id: &str,
                    by: &str,
                    reason: &str,
                    at: DateTime<Utc>,
                ) -> StoreResult<bool> {
                    let done = sqlx::query(
                        "UPDATE review_revocations SET restored_at = $3, restored_by = $4, restore_reason = $5 \
                         WHERE package = $1 AND LOWER(user_id) = LOWER($2) AND restored_at IS NULL",
                    )
                    .bind(package)
                    .bind(user_id)
                    .bind(ms(at))
                    .bind(by)
                    .bind(reason)
                    .execute(&mut *self.tx)
                    .await?;
                    Ok(done.rows_affected() > 0)
                }
            }
        };
    };
}

pub(super) use review_store;
