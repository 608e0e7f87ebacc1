//! Liveness and readiness.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use chrono::Duration;
use serde_json::json;

use super::AppState;

/// A worker heartbeat older than this makes the portal not ready.
pub const HEARTBEAT_STALE: Duration = Duration::seconds(120);

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

async fn healthz() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}

async fn readyz(State(app): State<AppState>) -> impl IntoResponse {
    let p = &app.portal;
    let database = p.store.ping().await.is_ok();
    let now = p.now();
    let beats = p.store.heartbeats().await.unwrap_or_default();
    let fresh = |name: &str| {
        beats
            .iter()
            .any(|(n, at)| n == name && now - *at <= HEARTBEAT_STALE)
    };
    let (worker, scheduler) = (fresh("worker"), fresh("scheduler"));
    let ok = database && worker && scheduler;
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({"ready": ok, "database": database, "worker": worker, "scheduler": scheduler})),
    )
}
