//! `GET /api/v1/me` and `GET /api/v1/packages`.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::auth::Auth;
use crate::web::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/me", get(me))
        .route("/api/v1/packages", get(packages))
}

async fn me(State(app): State<AppState>, Auth(who): Auth) -> Json<Value> {
    let roles: Vec<&str> = who
        .roles(&app.portal.settings.roles)
        .into_iter()
        .map(|r| r.as_str())
        .collect();
    Json(json!({
        "id": who.user.id,
        "name": who.user.name,
        "username": who.user.username,
        "roles": roles,
        "app_roles": who.raw_roles,
    }))
}

async fn packages(State(app): State<AppState>, Auth(who): Auth) -> Json<Value> {
    let list: Vec<Value> = app
        .portal
        .settings
        .packages
        .iter()
        .map(|p| {
            json!({
                "id": p.id,
                "name": p.name,
                "description": p.description,
                "group_id": p.group_id,
                "min_duration_minutes": p.min_duration.num_minutes(),
                "default_duration_minutes": p.default_duration.num_minutes(),
                "max_duration_minutes": p.max_duration.num_minutes(),
                "duration_presets_minutes": p.duration_presets.iter().map(|d| d.num_minutes()).collect::<Vec<_>>(),
                "approvals_required": p.approvals_required,
                "ticket_required": p.ticket_required,
                "manager_may_approve": p.manager_may_approve,
                "approval_timeout_minutes": p.approval_timeout.num_minutes(),
                "may_request": p.is_eligible(&who.raw_roles),
            })
        })
        .collect();
    Json(json!({"packages": list}))
}
