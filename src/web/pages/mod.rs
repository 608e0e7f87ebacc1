//! Server-rendered pages, one module per feature. Every page enforces its role on the server;
//! navigation only shows what the role may use.
//!
//! - `access.rs`: "My access", with the form that asks for access.
//! - `on_behalf.rs`: asking on others' behalf: people and device accounts found in the
//!   directory, ticked, and one request each.
//! - `approvals.rs`: the approvals queue.
//! - `request/`: one request's page and the forms that change it (cancel, end, approve, deny,
//!   extend), and how a request is shown in lists.
//! - `audit.rs` and `operations.rs`: the audit log and the operations page.
//! - `reviews.rs`: access reviews: the campaigns, one campaign's page and report, revocations.
//! - `chrome.rs`: what every page shares: who is signed in, the navigation, the flash message.
//! - `step_up.rs`: a form refused for want of a package's step-up: signing in again for it,
//!   what was typed kept meanwhile.
//!
//! This file holds the error page ([`PageError`]), the fallbacks and the time formats. Sign-in
//! (`../sign_in.rs`) uses the error page and the flash message; nothing here uses sign-in.

mod access;
mod approvals;
mod audit;
mod chrome;
mod on_behalf;
mod operations;
mod request;
mod reviews;
mod step_up;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Duration, Utc};

use crate::error::AppError;
use crate::web::AppState;

pub use chrome::{Chrome, PageUser, set_flash};

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(access::router())
        .merge(on_behalf::router())
        .merge(approvals::router())
        .merge(request::router())
        .merge(audit::router())
        .merge(operations::router())
        .merge(reviews::router())
        .route("/assets/app.css", get(css))
        .route("/assets/app.js", get(js))
}

async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        include_str!("../../../assets/app.css"),
    )
}

async fn js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        include_str!("../../../assets/app.js"),
    )
}

/// An error shown as a page.
pub struct PageError {
    status: StatusCode,
    title: String,
    message: String,
    chrome: Option<Box<Chrome>>,
}

impl PageError {
    pub fn sign_in(status: u16, message: String) -> PageError {
        PageError {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            title: "Sign-in failed".into(),
            message,
            chrome: None,
        }
    }

    pub fn with_chrome(mut self, chrome: Chrome) -> PageError {
        self.chrome = Some(Box::new(chrome));
        self
    }
}

impl From<AppError> for PageError {
    fn from(e: AppError) -> PageError {
        e.log();
        let title = match e.status() {
            StatusCode::FORBIDDEN => "You may not see this",
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::UNAUTHORIZED => "Please sign in",
            StatusCode::CONFLICT => "That cannot be done now",
            s if s.is_server_error() => "Something went wrong",
            _ => "That did not work",
        };
        PageError {
            status: e.status(),
            title: title.into(),
            message: e.public_message(),
            chrome: None,
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: Chrome,
    title: String,
    message: String,
    status: u16,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.status;
        let page = ErrorPage {
            chrome: self.chrome.map(|c| *c).unwrap_or_default(),
            title: self.title,
            message: self.message,
            status: status.as_u16(),
        };
        let mut resp = (status, page).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            resp.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static(crate::error::RETRY_AFTER_SECONDS),
            );
        }
        resp
    }
}

/// The "no such page" error page.
pub async fn not_found() -> PageError {
    PageError {
        status: StatusCode::NOT_FOUND,
        title: "Not found".into(),
        message: "There is no such page.".into(),
        chrome: None,
    }
}

/// No such route: the API's JSON error under `/api/`, the error page elsewhere.
pub async fn no_route(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        return AppError::NotFound("There is no such API endpoint.".into()).into_response();
    }
    not_found().await.into_response()
}

/// A route called with a method it does not take, answered like [`no_route`].
pub async fn method_not_allowed(uri: axum::http::Uri) -> Response {
    let message = "This address does not take that method.";
    if uri.path().starts_with("/api/") {
        return AppError::MethodNotAllowed(message.into()).into_response();
    }
    PageError {
        status: StatusCode::METHOD_NOT_ALLOWED,
        title: "Not allowed".into(),
        message: message.into(),
        chrome: None,
    }
    .into_response()
}

/// `2026-11-22 14:05:09 UTC`
pub fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// `3h 5m ago`, `in 12m`
pub fn relative(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let d = now - t;
    let (d, future) = if d < Duration::zero() {
        (-d, true)
    } else {
        (d, false)
    };
    let text = if d < Duration::minutes(1) {
        format!("{}s", d.num_seconds())
    } else {
        crate::domain::package::format_duration(d)
    };
    if future {
        format!("in {text}")
    } else {
        format!("{text} ago")
    }
}

pub fn minutes(m: i64) -> String {
    crate::domain::package::format_duration(Duration::minutes(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_times_read_naturally() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        assert_eq!(relative(now - Duration::seconds(5), now), "5s ago");
        assert_eq!(relative(now - Duration::minutes(90), now), "1h 30m ago");
        assert_eq!(relative(now + Duration::minutes(12), now), "in 12m");
    }
}
