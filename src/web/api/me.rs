//! `GET /api/v1/me` and `GET /api/v1/packages`.

use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::views;
use crate::contract::{ErrorBody, Me, PackageList};
use crate::web::{AppState, Auth};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(packages))
}

/// Who the caller is, and their portal roles.
#[utoipa::path(
    get, path = "/api/v1/me", operation_id = "get_me", tag = "people",
    responses(
        (status = 200, body = Me),
        (status = 401, description = "No valid token or session", body = ErrorBody),
    ),
)]
async fn me(State(app): State<AppState>, Auth(who): Auth) -> Json<Me> {
    let roles = app.portal.roles_of(&who);
    Json(views::me(&who, roles))
}

/// The packages, with their limits and whether the caller may request each.
#[utoipa::path(
    get, path = "/api/v1/packages", operation_id = "list_packages", tag = "people",
    responses((status = 200, body = PackageList)),
)]
async fn packages(State(app): State<AppState>, Auth(who): Auth) -> Json<PackageList> {
    let packages = app
        .portal
        .packages()
        .iter()
        .map(|p| views::package(p, &who, &app.portal.server().time_zone.name))
        .collect();
    Json(PackageList { packages })
}
