//! `GET /metrics`: Prometheus' text format, without a session. On the main listener unless
//! `[server] metrics_listen` names a listener of its own (then only there).

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use super::AppState;
use crate::error::AppError;

pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

async fn metrics(State(app): State<AppState>) -> Result<impl IntoResponse, AppError> {
    let body = app.portal.metrics_text().await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    ))
}

/// The metrics listener's whole router, for `[server] metrics_listen`.
pub fn listener_router(state: AppState) -> axum::Router {
    super::with_request_layers(router().with_state(state))
}
