//! Security headers on every response, the CSRF rejection, and request spans without secrets.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Response, StatusCode, header};
use axum::middleware::Next;
use axum::response::IntoResponse;
use tower_http::csrf::ProtectionError;

use crate::config::Settings;
use crate::error::error_body;

pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// [`CSP`], with forms also allowed to end at the tenant's sign-in (`authority_host`): a form a
/// package's step-up refuses is redirected there to sign in again, and browsers hold the
/// redirects of a form's submission to `form-action` too.
pub fn csp(settings: &Settings) -> String {
    format!(
        "{CSP} {}",
        settings.entra.authority_host.origin().ascii_serialization()
    )
}

pub async fn headers(
    State(settings): State<Arc<Settings>>,
    req: Request,
    next: Next,
) -> axum::response::Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_str(&csp(&settings)).unwrap_or(HeaderValue::from_static(CSP)),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    if settings.server.public_url.scheme() == "https" {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// `jitgate demo` only: a page asked for under another name of this machine (`localhost` for
/// `127.0.0.1`) is redirected to the address the demo printed, so the session cookie and the
/// sign-in's return address agree.
pub async fn canonical_host(
    State(settings): State<Arc<Settings>>,
    req: Request,
    next: Next,
) -> axum::response::Response {
    let public = &settings.server.public_url;
    let expected = match (public.host_str(), public.port_or_known_default()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        _ => return next.run(req).await,
    };
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if settings.demo
        && req.method() == axum::http::Method::GET
        && !host.is_empty()
        && host != expected
    {
        let path = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        let to = format!("{}{}", public.as_str().trim_end_matches('/'), path);
        return axum::response::Redirect::temporary(&to).into_response();
    }
    next.run(req).await
}

/// A cross-site state-changing request is refused.
pub fn csrf_rejection(_err: ProtectionError) -> Response<Body> {
    let body = error_body(
        "cross_site_request",
        "Cross-site requests that change state are refused.".into(),
        &[],
    );
    let text = serde_json::to_string(&body).unwrap_or_default();
    let mut r = Response::new(Body::from(text));
    *r.status_mut() = StatusCode::FORBIDDEN;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// The request span: the request id, method and path (never the query, which may carry codes).
/// Every log line written while the request is handled carries these fields.
pub fn span(req: &axum::http::Request<Body>) -> tracing::Span {
    let id = req
        .extensions()
        .get::<tower_http::request_id::RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or("-");
    tracing::info_span!("http", request_id = %id, method = %req.method(), path = %req.uri().path())
}

/// A NUL byte in the path or the query (`%00`) is refused at the edge with 400: no id, filter
/// or parameter holds one, and PostgreSQL cannot store one.
pub async fn refuse_nul(req: Request, next: Next) -> axum::response::Response {
    let uri = req.uri();
    let has_nul = |s: &str| s.to_ascii_lowercase().contains("%00") || s.contains('\0');
    if has_nul(uri.path()) || uri.query().is_some_and(has_nul) {
        let e = crate::error::AppError::BadRequest("The address contains a NUL byte.".into());
        return if uri.path().starts_with("/api/") {
            e.into_response()
        } else {
            super::pages::PageError::from(e).into_response()
        };
    }
    next.run(req).await
}

/// A handler that panics answers 500 with the normal error (the JSON body under `/api/`, the
/// error page elsewhere) instead of a dropped connection; the panic is logged.
pub async fn catch_panics(req: Request, next: Next) -> axum::response::Response {
    use futures_util::FutureExt;
    let api = req.uri().path().starts_with("/api/");
    match std::panic::AssertUnwindSafe(next.run(req))
        .catch_unwind()
        .await
    {
        Ok(response) => response,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!(panic = %what, "a request handler panicked");
            let e = crate::error::AppError::Internal(anyhow::anyhow!("a request handler panicked"));
            if api {
                e.into_response()
            } else {
                super::pages::PageError::from(e).into_response()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::http::Request;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    #[test]
    fn the_session_cookie_is_host_bound_over_https() {
        let https = settings("https://jit.contoso.example");
        assert_eq!(
            crate::web::session_cookie_name(&https.server),
            "__Host-jitgate_session"
        );
        let local = settings("http://127.0.0.1:8080");
        assert_eq!(
            crate::web::session_cookie_name(&local.server),
            "jitgate_session"
        );
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_500_with_the_normal_error() {
        async fn boom() -> &'static str {
            panic!("handler bug")
        }
        let app = Router::new()
            .route("/api/v1/boom", get(boom))
            .route("/boom", get(boom))
            .layer(axum::middleware::from_fn(catch_panics));
        let r = app
            .clone()
            .oneshot(Request::get("/api/v1/boom").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(r.into_body(), 1 << 16).await.unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["error"]["code"], "internal_error", "{v}");
        let r = app
            .oneshot(Request::get("/boom").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
    }

    fn settings(public_url: &str) -> Settings {
        Settings::for_tests(public_url)
    }

    async fn headers_for(public_url: &str) -> axum::http::HeaderMap {
        let settings = Arc::new(settings(public_url));
        let app = Router::new()
            .route("/", get(|| async { "ok" }))
            .layer(axum::middleware::from_fn_with_state(settings, headers));
        app.oneshot(Request::get("/").body(Body::empty()).unwrap())
            .await
            .unwrap()
            .headers()
            .clone()
    }

    #[tokio::test]
    async fn the_demo_sends_other_host_names_to_the_printed_address() {
        let mut settings = settings("http://127.0.0.1:8080");
        let run = |settings: Settings, host: &'static str| async move {
            let app = Router::new().route("/", get(|| async { "ok" })).layer(
                axum::middleware::from_fn_with_state(Arc::new(settings), canonical_host),
            );
            app.oneshot(
                Request::get("/?x=1")
                    .header("host", host)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap()
        };
        let r = run(settings.clone(), "localhost:8080").await;
        assert_eq!(r.status(), 200, "only in the demo");
        settings.demo = true;
        let r = run(settings.clone(), "localhost:8080").await;
        assert_eq!(r.status(), 307);
        assert_eq!(r.headers()[header::LOCATION], "http://127.0.0.1:8080/?x=1");
        assert_eq!(run(settings, "127.0.0.1:8080").await.status(), 200);
    }

    #[tokio::test]
    async fn hsts_only_over_https() {
        let h = headers_for("https://jit.contoso.example").await;
        assert_eq!(
            h[header::STRICT_TRANSPORT_SECURITY],
            "max-age=31536000; includeSubDomains"
        );
        assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'")
                && !csp.contains("unsafe-inline")
                && csp.contains("frame-ancestors 'none'")
        );
        let h = headers_for("http://127.0.0.1:8080").await;
        assert!(!h.contains_key(header::STRICT_TRANSPORT_SECURITY));
    }
}
