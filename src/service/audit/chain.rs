//! Verifying the audit chain: a walk from the first event, checked against every anchor read
//! back from outside the database (one verdict for the command line, the API, the audit page
//! and the audit-walk job), and the chain's status as pages show it, extended with new events
//! on every look and walked in full in the background.

use chrono::{DateTime, Utc};

use super::PAGE;
use super::read_back::anchors_to_check;
use crate::config::AuditSettings;
use crate::domain::audit::{Anchor, ChainVerifier, Verification};
use crate::error::AppResult;
use crate::store::Store;

/// Walks the whole chain from the first event, with the audit key, against the anchors read
/// back (see [`anchors_to_check`]): `[audit] anchor_file`, the last anchor this portal sent
/// (`sent`), and the anchor file `extra`.
pub async fn verify(
    store: &dyn Store,
    settings: &AuditSettings,
    sent: Option<&Anchor>,
    extra: Option<&std::path::Path>,
) -> AppResult<Verification> {
    let mut v = verifier(settings, sent, extra)?;
    extend(store, &mut v).await?;
    Ok(v.finish())
}

/// A verifier with the audit key and the anchors read back.
pub(super) fn verifier(
    settings: &AuditSettings,
    sent: Option<&Anchor>,
    extra: Option<&std::path::Path>,
) -> AppResult<ChainVerifier> {
    Ok(ChainVerifier::with_anchors(
        settings.key.clone(),
        anchors_to_check(settings, sent, extra)?,
    ))
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
/// from the first event at least every [`FULL_WALK_EVERY`]; and the last anchor this portal
/// sent, kept in memory as one more anchor to check against.
#[derive(Default)]
pub struct ChainWatch {
    state: tokio::sync::Mutex<Option<(ChainVerifier, DateTime<Utc>)>>,
    sent: std::sync::Mutex<Option<Anchor>>,
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
    /// The last anchor this portal sent (since it started).
    pub fn sent(&self) -> Option<Anchor> {
        self.sent.lock().expect("not poisoned").clone()
    }

    /// Remembers `a` as the last anchor this portal sent.
    pub fn record_sent(&self, a: Anchor) {
        *self.sent.lock().expect("not poisoned") = Some(a);
    }

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
                let mut v = verifier(settings, self.sent().as_ref(), None)?;
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
        let mut v = verifier(settings, self.sent().as_ref(), None)?;
        extend(store, &mut v).await?;
        let status = ChainStatus {
            verification: v.status(),
            full_walk_at: now,
        };
        if !status.verification.ok {
            tracing::error!(
                first_bad_seq = ?status.verification.first_bad_seq,
                problem = status.verification.problem.as_deref().unwrap_or_default(),
                anchor = status.verification.bad_anchor.as_ref().map(|a| a.from.as_str()).unwrap_or_default(),
                "the audit chain is broken"
            );
        }
        *self.state.lock().await = Some((v, now));
        Ok(status)
    }
}
