//! The JSON API under `/api/v1`.

pub mod audit;
mod body;
mod me;
mod requests;
pub mod views;

use axum::Router;

use super::AppState;

pub use audit::AuditParams;
pub use body::{ApiJson, ApiPath};

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(me::router())
        .merge(requests::router())
        .merge(audit::router())
}
