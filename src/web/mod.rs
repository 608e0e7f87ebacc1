//! HTTP: one router per feature, assembled here with the cross-cutting layers. Handlers parse
//! the request, call one service use case and render its answer; the service checks roles.

pub mod api;
pub mod extract;
pub mod health;
pub mod pages;
pub mod security;
pub mod sign_in;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use tower_http::csrf::CsrfLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::auth::Oidc;
use crate::store::AnySessionStore;
use crate::config::Settings;
use crate::service::Portal;

pub use extract::{Auth, MaybeAuth};

/// A request still unanswered after this long is cut off with 503 (a large audit export stays well inside it).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct AppState {
    pub portal: Portal,
    pub oidc: Arc<Oidc>,
}

pub fn router(state: AppState, settings: &Arc<Settings>, sessions: AnySessionStore) -> Router {
    let idle = time::Duration::seconds(settings.server.session_idle.num_seconds());
    let sessions = SessionManagerLayer::new(sessions)
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

    let app = Router::new()
        .merge(api::router())
        .merge(health::router())
        .merge(pages::router())
        .merge(sign_in::router())
        .fallback(pages::not_found)
        .layer(csrf)
        .layer(sessions)
        .layer(axum::middleware::from_fn_with_state(
            settings.clone(),
            security::headers,
        ))
        .layer(axum::middleware::from_fn_with_state(
            settings.clone(),
            security::canonical_host,
        ))
        .with_state(state);
    with_request_layers(app)
}

/// What every request gets, outermost first: a request id (kept from `x-request-id` or made
/// anew, returned in the response), a span carrying it so that every log line of the request
/// names it, and a time limit.
pub fn with_request_layers(app: Router) -> Router {
    app.layer(TimeoutLayer::with_status_code(
        StatusCode::SERVICE_UNAVAILABLE,
        REQUEST_TIMEOUT,
    ))
    .layer(PropagateRequestIdLayer::x_request_id())
    .layer(TraceLayer::new_for_http().make_span_with(security::span))
    .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}
