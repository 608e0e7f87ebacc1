//! `GET /api/v1/me` and `GET /api/v1/packages`.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use super::views::{MeView, PackageList, PackageView};
use crate::web::{AppState, Auth};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/me", get(me))
        .route("/api/v1/packages", get(packages))
}

async fn me(State(app): State<AppState>, Auth(who): Auth) -> Response {
    let roles = app.portal.roles_of(&who);
    Json(MeView::new(&who, roles)).into_response()
}

async fn packages(State(app): State<AppState>, Auth(who): Auth) -> Response {
    let packages = app
        .portal
        .packages()
        .iter()
        .map(|p| PackageView::new(p, &who))
        .collect();
    Json(PackageList { packages }).into_response()
}
