//! Reading the audit trail: listing, the people events are about, verification, the chain's
//! status as pages show it, and export. Every read is for auditors and admins.
//!
//! This file holds the auditors' reads on the portal; `chain.rs` verifies the chain (a whole
//! walk, and the status pages show) against the anchors read back; `read_back.rs` reads those
//! anchors (the anchor file, the last anchor this portal sent); `anchors.rs` anchors the head
//! outside the database; `export.rs` is the export: its JSON Lines record, CSV columns and the
//! stream that renders them. `anchors.rs` uses `chain.rs`, which uses `read_back.rs`; none uses
//! `export.rs`.

mod anchors;
mod chain;
mod export;
mod read_back;

pub use anchors::anchor;
pub use chain::{ChainStatus, ChainWatch, FULL_WALK_EVERY, verify};
pub(crate) use export::cell as csv_cell;
pub use export::{EXPORT_MAX, ExportChunk, ExportFormat, ExportStream, event_record, export};
pub use read_back::{SENT, anchors_to_check, read_anchor_file, read_anchor_lines};

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::Portal;
use crate::auth::Principal;
use crate::domain::audit::{Anchor, Verification};
use crate::domain::{AuditEvent, Role};
use crate::error::{AppError, AppResult};
use crate::store::{AuditFilter, RequestFilter};

/// Events read from the store at a time, by the export and the chain's walks.
const PAGE: i64 = 1000;
/// How many events a listing shows when the caller does not say.
pub const DEFAULT_LIMIT: i64 = 100;

/// One page of events, newest first, and the cursor of the next (older) page.
pub struct EventPage {
    pub events: Vec<AuditEvent>,
    pub next_cursor: Option<i64>,
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

    /// Events matching `filter`, newest first, one page of `filter.limit` (default 100).
    pub async fn audit_events(
        &self,
        who: &Principal,
        filter: &AuditFilter,
    ) -> AppResult<EventPage> {
        self.require_auditor(who)?;
        let limit = filter.limit.unwrap_or(DEFAULT_LIMIT);
        let mut f = filter.clone();
        f.limit = Some(limit);
        let events = self.store.list_events(&f).await?;
        let next_cursor = (events.len() as i64 == limit)
            .then(|| events.last().map(|e| e.seq))
            .flatten();
        Ok(EventPage {
            events,
            next_cursor,
        })
    }

    /// The names of the people `events` are about (subject id → display name), from the requests
    /// they concern, in one query.
    pub async fn subject_names(
        &self,
        who: &Principal,
        events: &[AuditEvent],
    ) -> AppResult<HashMap<String, String>> {
        self.require_auditor(who)?;
        let mut ids: Vec<String> = events.iter().filter_map(|e| e.request_id.clone()).collect();
        ids.sort();
        ids.dedup();
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        Ok(self
            .store
            .list_requests(&RequestFilter {
                ids,
                without_approvals: true,
                limit: Some(1000),
                ..Default::default()
            })
            .await?
            .into_iter()
            .map(|r| (r.requester.id, r.requester.name))
            .collect())
    }

    /// All events matching `filter` (at most `limit`, else up to [`EXPORT_MAX`]) in `format`.
    pub async fn export_audit(
        &self,
        who: &Principal,
        filter: &AuditFilter,
        limit: Option<i64>,
        format: ExportFormat,
    ) -> AppResult<ExportStream> {
        self.require_auditor(who)?;
        let mut f = filter.clone();
        f.limit = limit;
        Ok(export(self.store.clone(), f, format))
    }

    /// Walks the whole chain now, against the anchor file and the last anchor this portal sent:
    /// the verdict the audit page and the audit-walk job give too.
    pub async fn verify_audit(&self, who: &Principal) -> AppResult<Verification> {
        self.require_auditor(who)?;
        let sent = self.chain.sent();
        verify(
            self.store.as_ref(),
            &self.settings.audit,
            sent.as_ref(),
            None,
        )
        .await
    }

    /// The chain's status for the audit page: extended with new events on every look.
    pub async fn audit_chain_status(&self, who: &Principal) -> AppResult<ChainStatus> {
        self.require_auditor(who)?;
        self.chain
            .status(self.store.as_ref(), &self.settings.audit, self.now())
            .await
    }

    /// Walks the whole chain from the first event and keeps the result for the pages (the
    /// audit-walk job calls this every [`FULL_WALK_EVERY`]).
    pub async fn walk_audit_chain(&self) -> AppResult<ChainStatus> {
        self.chain
            .walk(self.store.as_ref(), &self.settings.audit, self.now())
            .await
    }

    /// How often the background job anchors the chain's head.
    pub fn anchor_every(&self) -> chrono::Duration {
        self.settings.audit.anchor_every
    }

    /// Anchors the chain's head now (see [`anchor`]), and remembers the anchor as one more to
    /// check the trail against.
    pub async fn anchor_audit(&self) -> AppResult<Option<Anchor>> {
        let sent = self.chain.sent();
        let a = anchor(
            self.store.as_ref(),
            &self.settings.audit,
            sent.as_ref(),
            self.now(),
        )
        .await?;
        if let Some(a) = &a {
            self.chain.record_sent(a.clone());
        }
        Ok(a)
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
