//! Verifying the audit chain: a walk from the first event, and the chain's status as pages
//! show it, extended with new events on every look and walked in full in the background.

use chrono::{DateTime, Utc};

use super::PAGE;
use crate::config::AuditSettings;
use crate::domain::audit::{Anchor, ChainKey, ChainVerifier, Verification};
use crate::error::AppResult;
use crate::store::Store;

/// Walks the whole chain from the first event.
pub async fn verify(
    store: &dyn Store,
    key: Option<ChainKey>,
    anchor: Option<Anchor>,
) -> AppResult<Verification> {
    let mut v = ChainVerifier::new(key, anchor);
    extend(store, &mut v).await?;
    Ok(v.finish())
}

/// Feeds `v` every event after the last one it has seen.
pub(super) async fn extend(store: &dyn Store, v: &mut ChainVerifier) -> AppResult<()> {
    loop {
        let page = store.events_after(v.last_seq(), PAGE).await?;
        for e in &page {
            v.feed(e);
        }
        if (page.len() as i64) < PAGE {
            return Ok(());
        }
    }
}

/// The chain's status as pages show it: extended with new events on every look, walked in full
/// from the first event at least every [`FULL_WALK_EVERY`].
#[derive(Default)]
pub struct ChainWatch {
    state: tokio::sync::Mutex<Option<(ChainVerifier, DateTime<Utc>)>>,
}

pub const FULL_WALK_EVERY: chrono::Duration = chrono::Duration::minutes(5);

#[derive(Debug, Clone, serde::Serialize)]
pub struct ChainStatus {
    #[serde(flatten)]
    pub verification: Verification,
    /// When the whole chain was last walked from the first event.
    pub full_walk_at: DateTime<Utc>,
}

impl ChainWatch {
    /// The status, extended with events appended since the last look. Walks the whole chain only
    /// the first time; [`ChainWatch::walk`] re-walks it in the background.
    pub async fn status(
        &self,
        store: &dyn Store,
        settings: &AuditSettings,
        now: DateTime<Utc>,
    ) -> AppResult<ChainStatus> {
        let mut guard = self.state.lock().await;
        match guard.as_mut() {
            Some((v, _)) => extend(store, v).await?,
            None => {
                let mut v = ChainVerifier::new(settings.key.clone(), None);
                extend(store, &mut v).await?;
                *guard = Some((v, now));
            }
        }
        let (v, at) = guard.as_ref().expect("set above");
        Ok(ChainStatus {
            verification: v.status(),
            full_walk_at: *at,
        })
    }

    /// Walks the whole chain from the first event (without holding up page views) and keeps the result.
    pub async fn walk(
        &self,
        store: &dyn Store,
        settings: &AuditSettings,
        now: DateTime<Utc>,
    ) -> AppResult<ChainStatus> {
        let mut v = ChainVerifier::new(settings.key.clone(), None);
        extend(store, &mut v).await?;
        let status = ChainStatus {
            verification: v.status(),
            full_walk_at: now,
        };
        if !status.verification.ok {
            tracing::error!(
                first_bad_seq = ?status.verification.first_bad_seq,
                problem = status.verification.problem.as_deref().unwrap_or_default(),
                "the audit chain is broken"
            );
        }
        *self.state.lock().await = Some((v, now));
        Ok(status)
    }
}
