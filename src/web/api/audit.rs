//! `GET /api/v1/audit` (JSON, CSV or JSON Lines) and `GET /api/v1/audit/verify`.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::contract::{AnchorRef, AuditQuery, ErrorBody, EventList, Verification};
use crate::domain::AuditAction;
use crate::error::{AppError, AppResult};
use crate::service::audit::parse_time;
use crate::service::{ExportFormat, event_record};
use crate::store::AuditFilter;
use crate::web::{AppState, Auth};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(verify))
}

/// The audit page's filters are the API's.
pub type AuditParams = AuditQuery;

fn blank(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

impl AuditQuery {
    pub fn filter(&self) -> AppResult<AuditFilter> {
        let action = blank(&self.action);
        if let Some(a) = &action
            && AuditAction::parse(a).is_none()
        {
            return Err(AppError::BadRequest(format!("Unknown action '{a}'.")));
        }
        if self.limit.is_some_and(|l| !(1..=1000).contains(&l)) {
            return Err(AppError::BadRequest(
                "limit must be between 1 and 1000.".into(),
            ));
        }
        Ok(AuditFilter {
            request_id: blank(&self.request),
            person: blank(&self.person),
            package: blank(&self.package),
            actor_id: blank(&self.actor),
            subject_id: blank(&self.subject),
            action,
            since: blank(&self.since)
                .map(|v| parse_time("since", &v))
                .transpose()?,
            until: blank(&self.until)
                .map(|v| parse_time("until", &v))
                .transpose()?,
            before_seq: self.cursor,
            limit: Some(self.limit.unwrap_or(100)),
        })
    }

    pub fn export_format(&self) -> AppResult<Option<ExportFormat>> {
        match blank(&self.format).as_deref() {
            None | Some("json") => Ok(None),
            Some("csv") => Ok(Some(ExportFormat::Csv)),
            Some("jsonl") => Ok(Some(ExportFormat::JsonLines)),
            Some(other) => Err(AppError::BadRequest(format!(
                "Unknown format '{other}': use json, csv or jsonl."
            ))),
        }
    }
}

/// The audit trail, newest first, a page at a time; or, with `format=csv` or `format=jsonl`,
/// every matching event as a download. Auditors and admins.
#[utoipa::path(
    get, path = "/api/v1/audit", operation_id = "list_audit_events", tag = "audit",
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of events (JSON), or the export (CSV or JSON Lines)", content(
            (EventList = "application/json"),
            (String = "text/csv"),
            (String = "application/x-ndjson"),
        )),
        (status = 400, description = "A filter is not valid", body = ErrorBody),
        (status = 403, description = "Neither an auditor nor an admin", body = ErrorBody),
    ),
)]
async fn list(
    State(app): State<AppState>,
    Auth(who): Auth,
    params: Result<Query<AuditParams>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Response> {
    app.portal.require_auditor(&who)?;
    let Query(p) =
        params.map_err(|e| AppError::BadRequest(format!("Invalid query: {}.", e.body_text())))?;
    // The audit page's form sends its empty fields; through the API an empty value is a mistake.
    for (name, value) in [
        ("action", &p.action),
        ("since", &p.since),
        ("until", &p.until),
        ("format", &p.format),
    ] {
        if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
            return Err(AppError::BadRequest(format!(
                "{name} is empty: leave it out to mean any."
            )));
        }
    }
    let filter = p.filter()?;
    match p.export_format()? {
        None => {
            let page = app.portal.audit_events(&who, &filter).await?;
            let events = page.events.iter().map(event_record).collect();
            Ok(Json(EventList {
                events,
                next_cursor: page.next_cursor,
            })
            .into_response())
        }
        Some(format) => {
            let export = app
                .portal
                .export_audit(&who, &filter, p.limit, format)
                .await?;
            let name = format!(
                "attachment; filename=\"jitgate-audit-{}.{}\"",
                app.portal.now().format("%Y%m%dT%H%M%SZ"),
                format.extension()
            );
            Ok((
                [
                    (header::CONTENT_TYPE, format.content_type().to_string()),
                    (header::CONTENT_DISPOSITION, name),
                ],
                axum::body::Body::from_stream(futures_util::StreamExt::map(export, |chunk| {
                    chunk.map(|c| c.bytes)
                })),
            )
                .into_response())
        }
    }
}

/// Walks the whole audit chain and checks it against the anchors read back (the anchor file, the
/// last anchor the portal sent): whether any event was altered, removed, reordered or unkeyed
/// after keying began, or the trail disagrees with an anchor (named).
#[utoipa::path(
    get, path = "/api/v1/audit/verify", operation_id = "verify_audit_chain", tag = "audit",
    responses(
        (status = 200, body = Verification),
        (status = 403, description = "Neither an auditor nor an admin", body = ErrorBody),
    ),
)]
async fn verify(State(app): State<AppState>, Auth(who): Auth) -> AppResult<Json<Verification>> {
    let v = app.portal.verify_audit(&who).await?;
    Ok(Json(Verification {
        ok: v.ok,
        events: v.events,
        first_bad_seq: v.first_bad_seq,
        problem: v.problem,
        unkeyed: v.unkeyed,
        anchors: v.anchors,
        anchor_seq: v.anchor_seq,
        keyed_from: v.keyed_from,
        bad_anchor: v.bad_anchor.map(|a| AnchorRef {
            seq: a.seq,
            at: a.at,
            from: a.from,
        }),
    }))
}
