//! What happens during a grant: the extensions asked for it and its device-code sign-ins.

/// Adds the reads of extensions and sign-ins to the methods gathered for `impl Store` (see
/// [`impl_store!`](super::impl_store)), and hands them on.
macro_rules! grant_reads {
    ($Store:ident, $Db:ty, $lease_free:expr; [$next:ident $(, $rest:ident)*] $($gathered:tt)*) => {
        $crate::store::sql::reads::$next! { $Store, $Db, $lease_free; [$($rest),*]
            $($gathered)*

            async fn extensions_for(&self, request_id: &str) -> StoreResult<Vec<Extension>> {
                let rows: Vec<ExtensionRow> = sqlx::query_as(&format!(
                    "SELECT {EXTENSION_COLS} FROM extensions WHERE request_id = $1 ORDER BY requested_at, id"
                ))
                .bind(request_id)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(ExtensionRow::into_extension).collect()
            }

            async fn pending_extensions(&self) -> StoreResult<Vec<Extension>> {
                let rows: Vec<ExtensionRow> = sqlx::query_as(&format!(
                    "SELECT {EXTENSION_COLS} FROM extensions WHERE status = 'pending' ORDER BY requested_at, id LIMIT 1000"
                ))
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(ExtensionRow::into_extension).collect()
            }

            async fn sign_ins_for(&self, request_id: &str) -> StoreResult<Vec<DeviceSignIn>> {
                let rows: Vec<SignInRow> = sqlx::query_as(&format!(
                    "SELECT {SIGN_IN_COLS} FROM sign_ins WHERE request_id = $1 ORDER BY at, id"
                ))
                .bind(request_id)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(DeviceSignIn::from).collect())
            }

            async fn recent_sign_ins(
                &self,
                since: DateTime<Utc>,
                user_id: Option<&str>,
                blocked_only: bool,
                to_portal: bool,
                limit: i64,
            ) -> StoreResult<Vec<DeviceSignIn>> {
                let mut qb = QueryBuilder::<$Db>::new(format!("SELECT {SIGN_IN_COLS} FROM sign_ins WHERE at >= "));
                qb.push_bind(ms(since));
                qb.push(" AND to_portal = ").push_bind(i64::from(to_portal));
                if let Some(u) = user_id {
                    qb.push(" AND user_id = ").push_bind(u.to_string());
                }
                if blocked_only {
                    qb.push(" AND error_code = 53003");
                }
                qb.push(" ORDER BY at DESC, id LIMIT ").push_bind(limit.clamp(1, 1000));
                let rows: Vec<SignInRow> = qb.build_query_as().fetch_all(&self.pool).await?;
                Ok(rows.into_iter().map(DeviceSignIn::from).collect())
            }
        }
    };
}

pub(in crate::store::sql) use grant_reads;
