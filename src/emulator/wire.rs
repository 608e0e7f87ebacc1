//! Wire-format helpers shared by the identity and Graph halves of the emulator.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use serde_json::{Value, json};

/// `Content-Type` of Graph entity responses.
pub(crate) const ODATA_JSON: &str = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

/// Per-request identifiers of a Graph call.
#[derive(Clone, Debug)]
pub(crate) struct GraphCtx {
    pub request_id: String,
    /// The caller's `client-request-id` header, when it sent a usable one.
    pub sent_client_request_id: Option<String>,
}

impl GraphCtx {
    pub(crate) fn new(headers: &HeaderMap) -> Self {
        let sent = headers
            .get("client-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
            .map(str::to_owned);
        Self {
            request_id: uuid::Uuid::new_v4().to_string(),
            sent_client_request_id: sent,
        }
    }

    /// The value echoed in `client-request-id`: the caller's, else the request id.
    pub(crate) fn client_request_id(&self) -> &str {
        self.sent_client_request_id
            .as_deref()
            .unwrap_or(&self.request_id)
    }

    fn inner_error(&self) -> Value {
        json!({
            "date": graph_date(),
            "request-id": self.request_id,
            "client-request-id": self.client_request_id(),
        })
    }
}

/// `YYYY-MM-DDTHH:MM:SS` in UTC, without a zone designator or fraction (Graph's `innerError.date`).
pub(crate) fn graph_date() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// A Graph error: `{"error":{"code","message","innerError":{date, request-id, client-request-id}}}`.
pub(crate) fn graph_error(
    ctx: &GraphCtx,
    status: StatusCode,
    code: &str,
    message: &str,
) -> Response {
    let body = json!({
        "error": {
            "code": code,
            "message": message,
            "innerError": ctx.inner_error(),
        }
    });
    json_response(status, "application/json", &body)
}

/// The 429 body Graph documents (throttling.md), with the extra inner fields.
pub(crate) fn throttled_error(ctx: &GraphCtx) -> Response {
    let body = json!({
        "error": {
            "code": "TooManyRequests",
            "message": "Please retry again later.",
            "innerError": {
                "code": "429",
                "date": graph_date(),
                "message": "Please retry after",
                "request-id": ctx.request_id,
                "client-request-id": ctx.client_request_id(),
                "status": "429",
            }
        }
    });
    json_response(StatusCode::TOO_MANY_REQUESTS, "application/json", &body)
}

/// A successful Graph entity/collection response.
pub(crate) fn odata_json(status: StatusCode, body: &Value) -> Response {
    let mut resp = json_response(status, ODATA_JSON, body);
    resp.headers_mut()
        .insert("OData-Version", HeaderValue::from_static("4.0"));
    resp
}

pub(crate) fn json_response(
    status: StatusCode,
    content_type: &'static str,
    body: &Value,
) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

/// Builds an Entra token-endpoint style error (§10.4): `error`, `error_description` with the
/// AADSTS code, `error_codes`, `timestamp`, `trace_id`, `correlation_id`, `error_uri`.
pub(crate) fn aad_error(
    base_url: &str,
    status: StatusCode,
    error: &str,
    code: u32,
    message: &str,
) -> Response {
    aad_error_with(base_url, status, error, code, message, &[])
}

/// [`aad_error`] with extra top-level members, such as `"suberror": "message_only"`.
pub(crate) fn aad_error_with(
    base_url: &str,
    status: StatusCode,
    error: &str,
    code: u32,
    message: &str,
    extra: &[(&str, Value)],
) -> Response {
    let trace_id = uuid::Uuid::new_v4().to_string();
    let correlation_id = uuid::Uuid::new_v4().to_string();
    let timestamp = chrono::Utc::now().format("%Y-%m-%d %H:%M:%SZ").to_string();
    let mut body = json!({
        "error": error,
        "error_description": format!(
            "AADSTS{code}: {message} Trace ID: {trace_id} Correlation ID: {correlation_id} Timestamp: {timestamp}"
        ),
        "error_codes": [code],
        "timestamp": timestamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": format!("{base_url}/error?code={code}"),
    });
    for (key, value) in extra {
        body[*key] = value.clone();
    }
    let mut resp = json_response(status, "application/json; charset=utf-8", &body);
    no_store(resp.headers_mut());
    resp
}

pub(crate) fn no_store(headers: &mut HeaderMap) {
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, no-cache"),
    );
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

/// A random opaque value of `bytes` bytes, base64url without padding.
pub(crate) fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// Escapes text for HTML element content and double- or single-quoted attribute values.
pub(crate) fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-decodes one URL path segment (no `+` handling). Invalid escapes are kept verbatim.
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// True for the 36-character hyphenated GUID form Graph uses for object ids.
pub(crate) fn is_guid(s: &str) -> bool {
    s.len() == 36 && uuid::Uuid::try_parse(s).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%23b"), "a#b");
        assert_eq!(percent_decode("%24ref"), "$ref");
        assert_eq!(percent_decode("abc%2"), "abc%2");
        assert_eq!(percent_decode("%zz"), "%zz");
    }

    #[test]
    fn escaping() {
        assert_eq!(
            html_escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn guids() {
        assert!(is_guid("87d349ed-44d7-43e1-9a83-5f2406dee5bd"));
        assert!(!is_guid("87d349ed44d743e19a835f2406dee5bd"));
        assert!(!is_guid("not-a-guid"));
    }
}
