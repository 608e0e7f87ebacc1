//! HTTP: one router per feature, assembled here with the cross-cutting layers.

pub mod api;
pub mod health;
pub mod pages;
pub mod security;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use tower_http::csrf::CsrfLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::auth::{Oidc, oidc};
use crate::service::Portal;

#[derive(Clone)]
pub struct AppState {
    pub portal: Portal,
    pub oidc: Arc<Oidc>,
}

pub fn router(state: AppState) -> Router {
    let settings = state.portal.settings.clone();
    let idle = time::Duration::seconds(settings.server.session_idle.num_seconds());
    let sessions = SessionManagerLayer::new(state.portal.store.session_store())
        .with_name("jitgate_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(settings.server.secure_cookies())
        .with_expiry(Expiry::OnInactivity(idle));
    let origin = settings.server.public_url.origin().ascii_serialization();
    let csrf = CsrfLayer::new()
        .add_trusted_origin(&origin)
        .unwrap_or_else(|_| CsrfLayer::new())
        .with_rejection_response(security::csrf_rejection as fn(_) -> _);

    Router::new()
        .merge(api::router())
        .merge(health::router())
        .merge(pages::router())
        .route("/auth/login", get(oidc::login))
        .route("/auth/callback", get(oidc::callback))
        .route("/auth/logout", post(oidc::logout))
        .fallback(pages::not_found)
        .layer(csrf)
        .layer(sessions)
        .layer(axum::middleware::from_fn_with_state(
            settings.clone(),
            security::headers,
        ))
        .layer(TraceLayer::new_for_http().make_span_with(security::span))
        .with_state(state)
}
