//! The look of the identity platform's HTML pages: the page shell and its style, the error page,
//! hidden form fields, and the headers every page is sent with.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::errors::tenant_not_found;
use crate::emulator::wire::{self, html_escape};

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f3f2f1;margin:0;padding:2rem}\
main{max-width:32rem;margin:auto;background:#fff;padding:2rem;box-shadow:0 2px 6px rgba(0,0,0,.2)}\
h1{font-size:1.4rem;margin-top:0}.note{color:#605e5c}ul{list-style:none;padding:0}\
li{margin:.5rem 0}button{width:100%;text-align:left;padding:.6rem .8rem;border:1px solid #8a8886;\
background:#fff;cursor:pointer;font:inherit}button:hover{background:#edebe9}.name{font-weight:600;display:block}\
.upn,.roles{color:#605e5c;font-size:.9rem;display:block}button.cancel{text-align:center;margin-top:1rem}\
.error{color:#a4262c}";

pub(super) fn html_response(status: StatusCode, body: String) -> Response {
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    wire::no_store(h);
    resp
}

/// A whole page: `title` (escaped here) as its title and heading, `main_attributes` (already
/// escaped, each with its leading space) on its `<main>`, and `content` (HTML) below the heading.
pub(super) fn page(title: &str, main_attributes: &str, content: &str) -> String {
    let title = html_escape(title);
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title><style>{STYLE}</style></head>\n<body><main{main_attributes}>\n<h1>{title}</h1>\n{content}</main></body></html>\n"
    )
}

pub(super) fn error_page(status: StatusCode, code: u32, message: &str) -> Response {
    let body = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign-in error: jitgate demo tenant</title><style>{STYLE}</style></head>\n<body><main><h1>Sorry, but we’re having trouble signing you in.</h1>\n<p class=\"error\" id=\"error\">AADSTS{code}: {}</p>\n</main></body></html>\n",
        html_escape(message)
    );
    html_response(status, body)
}

/// The error page for a tenant that is not this one (AADSTS90002).
pub(super) fn unknown_tenant_page(tenant: &str) -> Response {
    error_page(StatusCode::BAD_REQUEST, 90002, &tenant_not_found(tenant))
}

/// The error paragraph of a form, or nothing.
pub(super) fn form_error(error: Option<&str>) -> String {
    error
        .map(|e| format!("<p class=\"error\" id=\"error\">{}</p>\n", html_escape(e)))
        .unwrap_or_default()
}

pub(super) fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
        html_escape(name),
        html_escape(value)
    )
}
