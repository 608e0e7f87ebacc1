//! `GET /api/v1/audit` (JSON, CSV or JSON Lines) and `GET /api/v1/audit/verify`.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use super::views::EventList;
use crate::domain::AuditAction;
use crate::domain::audit::Verification;
use crate::error::{AppError, AppResult};
use crate::service::audit::parse_time;
use crate::service::{EventRecord, ExportFormat};
use crate::store::AuditFilter;
use crate::web::{AppState, Auth};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/audit", get(list))
        .route("/api/v1/audit/verify", get(verify))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    pub request: Option<String>,
    pub person: Option<String>,
    pub package: Option<String>,
    pub actor: Option<String>,
    pub subject: Option<String>,
    pub action: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<i64>,
    pub format: Option<String>,
}

fn blank(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

impl AuditParams {
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

async fn list(
    State(app): State<AppState>,
    Auth(who): Auth,
    params: Result<Query<AuditParams>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Response> {
    app.portal.require_auditor(&who)?;
    let Query(p) =
        params.map_err(|e| AppError::BadRequest(format!("Invalid query: {}.", e.body_text())))?;
    let filter = p.filter()?;
    match p.export_format()? {
        None => {
            let page = app.portal.audit_events(&who, &filter).await?;
            let events = page.events.iter().map(EventRecord::from).collect();
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

async fn verify(State(app): State<AppState>, Auth(who): Auth) -> AppResult<Json<Verification>> {
    Ok(Json(app.portal.verify_audit(&who).await?))
}
