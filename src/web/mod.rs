//! HTTP: one router per feature, assembled here with the cross-cutting layers. Handlers parse
//! the request, call one service use case and render its answer; the service checks roles.
//!
//! `api/` is the JSON API and `pages/` the server-rendered pages; `sign_in.rs` holds the browser
//! sign-in routes, `extract.rs` who is calling, `security.rs` the layers every response passes,
//! `health.rs` and `metrics.rs` the probes, and `return_path.rs` where a browser may be sent
//! back to. Imports between them run one way: sign-in uses the error page and the flash message
//! of `pages/`, both use `return_path.rs`, and `pages/` uses nothing of sign-in.

pub mod api;
pub mod extract;
pub mod health;
pub mod metrics;
pub mod pages;
pub mod return_path;
pub mod security;
pub mod sign_in;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use tower_http::csrf::CsrfLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::auth::Oidc;
use crate::config::Settings;
use crate::service::Portal;
use crate::store::AnySessionStore;

pub use extract::{Auth, MaybeAuth};

/// The largest request body any route accepts (forms and JSON are a few kilobytes): 413 beyond.
pub const MAX_BODY: usize = 64 * 1024;

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
        .with_name(session_cookie_name(&settings.server))
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
        .merge(if settings.server.metrics_listen.is_none() {
            metrics::router()
        } else {
            Router::new()
        })
        .merge(pages::router())
        .merge(sign_in::router())
        .fallback(pages::no_route)
        .method_not_allowed_fallback(pages::method_not_allowed)
        .layer(csrf)
        .layer(sessions)
        .layer(axum::middleware::from_fn_with_state(
            settings.clone(),
            security::headers,
        ))
        .with_state(state);
    // Only `jitgate demo` redirects other names of this machine; nothing else pays for the check.
    let app = if settings.demo {
        app.layer(axum::middleware::from_fn_with_state(
            settings.clone(),
            security::canonical_host,
        ))
    } else {
        app
    };
    with_request_layers(app)
}

/// The session cookie's name: with the `__Host-` prefix when the portal is served over https,
/// so browsers accept it only as Secure, for this host alone and the whole path.
pub fn session_cookie_name(server: &crate::config::ServerSettings) -> &'static str {
    if server.public_url.scheme() == "https" && server.secure_cookies() {
        "__Host-jitgate_session"
    } else {
        "jitgate_session"
    }
}

/// What every request gets, outermost first: a request id (kept from `x-request-id` or made
/// anew, returned in the response), a span carrying it so that every log line of the request
/// names it, and a time limit.
pub fn with_request_layers(app: Router) -> Router {
    app.layer(axum::middleware::from_fn(security::catch_panics))
        .layer(axum::middleware::from_fn(security::refuse_nul))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            REQUEST_TIMEOUT,
        ))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(security::span))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use axum::body::Body;
    use axum::http::Request;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    /// Log output captured in memory.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    async fn handler() -> &'static str {
        tracing::info!("inside the handler");
        tracing::warn!(detail = 42, "a second line");
        "ok"
    }

    /// One test, not two: tracing caches whether a span is wanted per call site, for the whole
    /// process, so another test building the same layers on another thread without a subscriber
    /// could switch the request span off for this one.
    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn request_layers_name_every_log_line_and_cut_off_slow_requests() {
        let logs = Captured::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        tracing::callsite::rebuild_interest_cache();
        let app = with_request_layers(Router::new().route("/", get(handler)));

        let resp = app
            .clone()
            .oneshot(Request::get("/").body(Body::empty()).unwrap())
            .await
            .unwrap();
        let id = resp.headers()["x-request-id"].to_str().unwrap().to_string();
        assert_eq!(
            id.len(),
            36,
            "a UUID is made when the caller sent none: {id}"
        );
        let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("handler") || l.contains("second line"))
            .collect();
        assert_eq!(lines.len(), 2, "{text}");
        for l in lines {
            assert!(
                l.contains(&format!("request_id={id}")),
                "no request id in: {l}"
            );
        }

        // A request id sent by a proxy in front is kept, and returned.
        let resp = app
            .oneshot(
                Request::get("/")
                    .header("x-request-id", "proxy-7f3a")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(resp.headers()["x-request-id"], "proxy-7f3a");
        let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
        assert!(text.contains("request_id=proxy-7f3a"), "{text}");

        // A request still unanswered after the time limit is cut off with 503 (paused time).
        let slow = || async {
            tokio::time::sleep(REQUEST_TIMEOUT * 2).await;
            "too late"
        };
        let app = with_request_layers(
            Router::new()
                .route("/slow", get(slow))
                .route("/fast", get(|| async { "ok" })),
        );
        let resp = app
            .clone()
            .oneshot(Request::get("/slow").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(resp.headers().contains_key("x-request-id"));
        let resp = app
            .oneshot(Request::get("/fast").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
    }
}
