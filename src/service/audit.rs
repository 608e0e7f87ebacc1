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
    let mut after = 0;
    loop {
        let page = store.events_after(after, PAGE).await?;
        for e in &page {
            v.feed(e);
        }
        match page.last() {
            Some(last) if page.len() as i64 == PAGE => after = last.seq,
            _ => return Ok(v.finish()),
        }
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

pub fn parse_time(field: &'static str, v: &str) -> AppResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(v)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            AppError::BadRequest(format!(
                "{field} must be an RFC 3339 time such as 2026-11-22T09:00:00Z."
            ))
        })
}
