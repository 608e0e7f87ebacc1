//! The audit trail's export, defined once: the JSON Lines record (the API's event view,
//! `contract::AuditEvent`), the CSV columns, and the stream that renders the events a page at
//! a time.

use std::sync::Arc;

use super::PAGE;
use crate::contract;
use crate::domain::AuditEvent;
use crate::domain::audit::timestamp;
use crate::error::AppResult;
use crate::store::{AuditFilter, Store};

/// The most events one export carries.
pub const EXPORT_MAX: usize = 1_000_000;

/// One piece of a streamed export: its bytes and how many events they hold.
pub struct ExportChunk {
    pub bytes: Vec<u8>,
    pub events: usize,
}

/// An export, streamed page by page (never built whole in memory).
pub type ExportStream = futures_util::stream::BoxStream<'static, AppResult<ExportChunk>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    JsonLines,
}

impl ExportFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::JsonLines => "application/x-ndjson",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::JsonLines => "jsonl",
        }
    }
}

/// One audit event as exported in JSON Lines and served by the API (one type for both, from the
/// API's contract).
pub fn event_record(e: &AuditEvent) -> contract::AuditEvent {
    contract::AuditEvent {
        seq: e.seq,
        at: e.at,
        actor: contract::Actor {
            id: e.actor_id.clone(),
            name: e.actor_name.clone(),
        },
        action: e.action.clone(),
        request_id: e.request_id.clone(),
        subject: e.subject_id.clone(),
        details: e.details_json(),
        client_ip: e.client_ip.clone(),
        user_agent: e.user_agent.clone(),
        prev_hash: e.prev_hash.clone(),
        hash: e.hash.clone(),
    }
}

/// The CSV export's columns, in order.
pub const CSV_COLUMNS: [&str; 12] = [
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
];

fn csv_row(e: &AuditEvent) -> [String; 12] {
    [
        e.seq.to_string(),
        timestamp(e.at),
        cell(&e.actor_id),
        cell(&e.actor_name),
        cell(&e.action),
        cell(e.request_id.as_deref().unwrap_or_default()),
        cell(e.subject_id.as_deref().unwrap_or_default()),
        cell(&e.details),
        cell(e.client_ip.as_deref().unwrap_or_default()),
        cell(e.user_agent.as_deref().unwrap_or_default()),
        e.prev_hash.clone(),
        e.hash.clone(),
    ]
}

/// A text cell a spreadsheet will not run as a formula (OWASP's rule for CSV injection): one
/// starting with `=`, `+`, `-`, `@`, a TAB or a CR is prefixed with `'`. The CSV export is for
/// reading; the JSON Lines export keeps every value exactly as chained.
pub(crate) fn cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

/// Renders events page by page for a streamed export (the CSV header with the first page).
pub struct Renderer {
    format: ExportFormat,
    started: bool,
}

impl Renderer {
    pub fn new(format: ExportFormat) -> Renderer {
        Renderer {
            format,
            started: false,
        }
    }

    /// The bytes of `events` (after the header, the first time).
    pub fn page(&mut self, events: &[AuditEvent]) -> AppResult<Vec<u8>> {
        let first = !std::mem::replace(&mut self.started, true);
        match self.format {
            ExportFormat::JsonLines => {
                let mut out = Vec::new();
                for e in events {
                    serde_json::to_writer(&mut out, &event_record(e))
                        .map_err(anyhow::Error::from)?;
                    out.push(b'\n');
                }
                Ok(out)
            }
            ExportFormat::Csv => {
                let mut w = csv::Writer::from_writer(Vec::new());
                if first {
                    w.write_record(CSV_COLUMNS).map_err(anyhow::Error::from)?;
                }
                for e in events {
                    w.write_record(csv_row(e)).map_err(anyhow::Error::from)?;
                }
                Ok(w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?)
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn formulas_are_neutralised() {
        for (raw, safe) in [
            (
                "=HYPERLINK(\"http://evil.example\")",
                "'=HYPERLINK(\"http://evil.example\")",
            ),
            ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("Dana Developer", "Dana Developer"),
            ("{\"comment\": \"=1\"}", "{\"comment\": \"=1\"}"),
            ("", ""),
        ] {
            assert_eq!(cell(raw), safe, "{raw:?}");
        }
    }
}
