//! Reading the audit trail: listing, the people events are about, verification, the chain's
//! status as pages show it, and export. Every read is for auditors and admins.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::Portal;
use crate::auth::Principal;
use crate::config::AuditSettings;
use crate::domain::audit::{Anchor, ChainKey, ChainVerifier, Verification};
use crate::domain::{AuditEvent, Role};
use crate::error::{AppError, AppResult};
use crate::store::{AuditFilter, RequestFilter, Store};

use super::export::Renderer;
pub use super::export::{ExportFormat, event_record};

const PAGE: i64 = 1000;
/// The most events one export carries.
pub const EXPORT_MAX: usize = 1_000_000;
/// How many events a listing shows when the caller does not say.
pub const DEFAULT_LIMIT: i64 = 100;

/// One page of events, newest first, and the cursor of the next (older) page.
pub struct EventPage {
    pub events: Vec<AuditEvent>,
    pub next_cursor: Option<i64>,
}

/// An export, ready to be sent or written.
/// One piece of a streamed export: its bytes and how many events they hold.
pub struct ExportChunk {
    pub bytes: Vec<u8>,
    pub events: usize,
}

/// An export, streamed page by page (never built whole in memory).
pub type ExportStream = futures_util::stream::BoxStream<'static, AppResult<ExportChunk>>;

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

    /// Walks the whole chain now.
    pub async fn verify_audit(&self, who: &Principal) -> AppResult<Verification> {
        self.require_auditor(who)?;
        verify(self.store.as_ref(), self.settings.audit.key.clone(), None).await
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

    /// Anchors the chain's head now (see [`anchor`]).
    pub async fn anchor_audit(&self) -> AppResult<Option<Anchor>> {
        anchor(self.store.as_ref(), &self.settings.audit, self.now()).await
    }
}

/// Verifies the whole chain and, when it is intact, records its head `(seq, hash, time)`,
/// signed with the audit key, outside the database: in the log (target `jitgate::audit::anchor`),
/// appended to `[audit] anchor_file`, and POSTed to `[audit] anchor_webhook`, where configured.
/// A broken chain is not anchored (that would bless it): an error. Nothing to anchor: `None`.
pub async fn anchor(
    store: &dyn Store,
    settings: &AuditSettings,
    now: DateTime<Utc>,
) -> AppResult<Option<Anchor>> {
    let mut v = ChainVerifier::new(settings.key.clone(), None);
    extend(store, &mut v).await?;
    let status = v.status();
    if !status.ok {
        return Err(AppError::Conflict(format!(
            "The audit chain is broken ({}); it is not anchored.",
            status.problem.unwrap_or_default()
        )));
    }
    if v.last_seq() == 0 {
        return Ok(None);
    }
    let a = Anchor::new(v.last_seq(), v.last_hash(), now, settings.key.as_ref());
    let line = serde_json::to_string(&a).map_err(|e| AppError::Internal(e.into()))?;
    tracing::info!(target: "jitgate::audit::anchor", anchor = %line, seq = a.seq, "audit chain anchored");
    if let Some(path) = &settings.anchor_file {
        append_line(path, &line).map_err(|e| {
            AppError::Internal(anyhow::anyhow!(
                "cannot append the anchor to {}: {e}",
                path.display()
            ))
        })?;
    }
    if let Some(url) = &settings.anchor_webhook {
        let sent = reqwest::Client::new()
            .post(url.clone())
            .timeout(std::time::Duration::from_secs(10))
            .json(&a)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status);
        if let Err(e) = sent {
            return Err(AppError::Unavailable(format!(
                "The anchor could not be sent to the webhook: {e}"
            )));
        }
    }
    Ok(Some(a))
}

fn append_line(path: &std::path::Path, line: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    writeln!(f, "{line}")?;
    f.sync_all()
}

/// The last anchor in an anchor file (one JSON object a line, as [`anchor`] writes them).
pub fn last_anchor(path: &std::path::Path) -> anyhow::Result<Anchor> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let line = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .ok_or_else(|| anyhow::anyhow!("{} holds no anchor", path.display()))?;
    serde_json::from_str(line)
        .map_err(|e| anyhow::anyhow!("the last line of {} is not an anchor: {e}", path.display()))
}

/// All events matching `filter` in `format`, newest first, streamed a page at a time: at most
/// `filter.limit` when set, else up to [`EXPORT_MAX`]. Also for the command line, which works
/// on the database directly.
pub fn export(store: Arc<dyn Store>, filter: AuditFilter, format: ExportFormat) -> ExportStream {
    struct State {
        store: Arc<dyn Store>,
        filter: AuditFilter,
        left: usize,
        renderer: Renderer,
        done: bool,
    }
    let left = filter
        .limit
        .map_or(EXPORT_MAX, |l| (l.max(0) as usize).min(EXPORT_MAX));
    let state = State {
        store,
        filter,
        left,
        renderer: Renderer::new(format),
        done: false,
    };
    Box::pin(futures_util::stream::unfold(state, |mut st| async move {
        if st.done {
            return None;
        }
        let want = PAGE.min(st.left as i64);
        let page = if want == 0 {
            Ok(Vec::new())
        } else {
            st.filter.limit = Some(want);
            st.store.list_events(&st.filter).await
        };
        let page = match page {
            Ok(p) => p,
            Err(e) => {
                st.done = true;
                return Some((Err(e.into()), st));
            }
        };
        let got = page.len();
        st.filter.before_seq = page.last().map(|e| e.seq);
        st.left -= got;
        st.done = (got as i64) < want || st.left == 0;
        let chunk = st
            .renderer
            .page(&page)
            .map(|bytes| ExportChunk { bytes, events: got });
        Some((chunk, st))
    }))
}

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
