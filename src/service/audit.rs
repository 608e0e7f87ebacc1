//! Reading the audit trail: verification and export.

use chrono::{DateTime, Utc};

use super::{Portal, Principal};
use crate::domain::audit::{ChainVerifier, Verification};
use crate::domain::{AuditEvent, Role};
use crate::error::{AppError, AppResult};
use crate::store::{AuditFilter, Store};

const PAGE: i64 = 1000;
/// The most events one export carries.
pub const EXPORT_MAX: usize = 1_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    JsonLines,
}

impl Portal {
    pub fn require_auditor(&self, who: &Principal) -> AppResult<()> {
        if self.has_role(who, Role::Auditor) || self.has_role(who, Role::Admin) {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "The audit trail is for auditors and admins.".into(),
            ))
        }
    }
}

/// Walks the whole chain from the first event.
pub async fn verify(store: &dyn Store) -> AppResult<Verification> {
    let mut v = ChainVerifier::default();
    extend(store, &mut v).await?;
    Ok(v.finish())
}

/// Feeds `v` every event after the last one it has seen.
async fn extend(store: &dyn Store, v: &mut ChainVerifier) -> AppResult<()> {
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
    pub async fn status(&self, store: &dyn Store, now: DateTime<Utc>) -> AppResult<ChainStatus> {
        let mut guard = self.state.lock().await;
        match guard.as_mut() {
            Some((v, _)) => extend(store, v).await?,
            None => {
                let mut v = ChainVerifier::default();
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
    pub async fn walk(&self, store: &dyn Store, now: DateTime<Utc>) -> AppResult<ChainStatus> {
        let mut v = ChainVerifier::default();
        extend(store, &mut v).await?;
        let status = ChainStatus {
            verification: v.status(),
            full_walk_at: now,
        };
        if !status.verification.ok {
            tracing::error!(first_bad_seq = ?status.verification.first_bad_seq, "the audit chain is broken");
        }
        *self.state.lock().await = Some((v, now));
        Ok(status)
    }
}

/// All events matching `filter`, newest first, up to [`EXPORT_MAX`].
pub async fn matching(store: &dyn Store, filter: &AuditFilter) -> AppResult<Vec<AuditEvent>> {
    let mut out = Vec::new();
    let mut f = filter.clone();
    f.limit = Some(PAGE);
    loop {
        let page = store.list_events(&f).await?;
        let n = page.len();
        f.before_seq = page.last().map(|e| e.seq);
        out.extend(page);
        if (n as i64) < PAGE || out.len() >= EXPORT_MAX {
            out.truncate(EXPORT_MAX);
            return Ok(out);
        }
    }
}

pub fn render(events: &[AuditEvent], format: ExportFormat) -> AppResult<String> {
    match format {
        ExportFormat::JsonLines => {
            let mut s = String::new();
            for e in events {
                s.push_str(
                    &serde_json::to_string(&crate::web::api::views::event(e))
                        .map_err(anyhow::Error::from)?,
                );
                s.push('\n');
            }
            Ok(s)
        }
        ExportFormat::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record([
                "seq",
                "at",
                "actor_id",
                "actor_name",
                "action",
                "request_id",
                "subject_id",
                "details",
                "client_ip",
                "user_agent",
                "prev_hash",
                "hash",
            ])
            .map_err(anyhow::Error::from)?;
            for e in events {
                w.write_record([
                    e.seq.to_string(),
                    crate::web::api::views::ts(e.at),
                    e.actor_id.clone(),
                    e.actor_name.clone(),
                    e.action.clone(),
                    e.request_id.clone().unwrap_or_default(),
                    e.subject_id.clone().unwrap_or_default(),
                    e.details.clone(),
                    e.client_ip.clone().unwrap_or_default(),
                    e.user_agent.clone().unwrap_or_default(),
                    e.prev_hash.clone(),
                    e.hash.clone(),
                ])
                .map_err(anyhow::Error::from)?;
            }
            let bytes = w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?;
            Ok(String::from_utf8(bytes).map_err(anyhow::Error::from)?)
        }
    }
}

/// An RFC 3339 time, or a form's `YYYY-MM-DDTHH:MM[:SS]` taken as UTC.
pub fn parse_time(field: &'static str, v: &str) -> AppResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(v)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| {
            chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S")
                .or_else(|_| chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M"))
                .map(|t| t.and_utc())
        })
        .map_err(|_| {
            AppError::BadRequest(format!(
                "{field} must be an RFC 3339 time such as 2026-11-22T09:00:00Z."
            ))
        })
}
