//! POSTing JSON to webhooks (Teams, Slack, generic), and what their answers mean for a retry.

use std::error::Error as _;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};

use super::ChannelError;

/// At most this much of an error answer's body goes into the error message.
const BODY_EXCERPT: usize = 200;

/// Posts JSON bodies to webhook URLs. Cheap to clone; keep one and share it.
///
/// Redirects are not followed: a webhook that moved must be configured again.
#[derive(Debug, Clone)]
pub struct Poster {
    client: reqwest::Client,
}

impl Poster {
    /// A poster whose every request (connecting included) fails after `timeout`.
    pub fn new(timeout: Duration) -> Poster {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("jitgate/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the HTTP client cannot be built (TLS backend)");
        Poster { client }
    }

    /// POSTs `body` as `application/json` to `url`, with `headers` added. `what` names the
    /// receiver in error messages ("Teams webhook", "Slack webhook", ...); the URL never appears
    /// in them. Any 2xx answer is success.
    pub async fn post(
        &self,
        what: &str,
        url: &url::Url,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<(), ChannelError> {
        let answer = self.send(what, url, headers, body).await?;
        let status = answer.status();
        if status.is_success() {
            return Ok(());
        }
        let retry_after = parse_retry_after(answer.headers());
        // The body is only for the message; a body that fails to arrive does not change the verdict.
        let text = answer.text().await.unwrap_or_default();
        Err(status_error(what, url, status, retry_after, &text))
    }

    /// POSTs `body` like [`Poster::post`] and reads the answer, whatever its status: the status
    /// and at most `limit` bytes of the body (`None` for a longer body). Only a failure to
    /// send or to read is an error.
    pub async fn exchange(
        &self,
        what: &str,
        url: &url::Url,
        headers: &[(String, String)],
        body: &[u8],
        limit: usize,
    ) -> Result<(u16, Option<Vec<u8>>), ChannelError> {
        let mut answer = self.send(what, url, headers, body).await?;
        let status = answer.status().as_u16();
        let mut read = Vec::new();
        while let Some(chunk) = answer
            .chunk()
            .await
            .map_err(|e| transport_error(what, url, e))?
        {
            if read.len() + chunk.len() > limit {
                return Ok((status, None));
            }
            read.extend_from_slice(&chunk);
        }
        Ok((status, Some(read)))
    }

    async fn send(
        &self,
        what: &str,
        url: &url::Url,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<reqwest::Response, ChannelError> {
        let mut extra = HeaderMap::new();
        for (name, value) in headers {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                ChannelError::permanent(format!("invalid header name {name:?} for the {what}"))
            })?;
            let value = HeaderValue::from_str(value).map_err(|_| {
                ChannelError::permanent(format!("invalid value of header {name} for the {what}"))
            })?;
            extra.append(name, value);
        }
        extra.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        self.client
            .post(url.clone())
            .headers(extra)
            .body(body.to_vec())
            .send()
            .await
            .map_err(|e| transport_error(what, url, e))
    }
}

/// What an answer other than 2xx means.
fn status_error(
    what: &str,
    url: &url::Url,
    status: StatusCode,
    retry_after: Option<Duration>,
    body: &str,
) -> ChannelError {
    let mut message = format!("the {what} answered HTTP {}", status.as_u16());
    if status.is_redirection() {
        message.push_str(" (redirects are not followed: configure the new address)");
    }
    let excerpt = excerpt(body);
    if !excerpt.is_empty() {
        message.push_str(": ");
        message.push_str(&excerpt);
    }
    let message = scrub(message, url);
    let retriable = status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
        || status.is_server_error();
    if !retriable {
        return ChannelError::permanent(message);
    }
    let honours_wait =
        status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE;
    ChannelError::transient(message).with_retry_after(retry_after.filter(|_| honours_wait))
}

/// What a request that got no answer means: the URL is stripped from reqwest's message.
fn transport_error(what: &str, url: &url::Url, e: reqwest::Error) -> ChannelError {
    let e = e.without_url();
    let mut detail = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        detail.push_str(": ");
        detail.push_str(&s.to_string());
        source = s.source();
    }
    if e.is_timeout() {
        ChannelError::transient(scrub(format!("the {what} did not answer in time"), url))
    } else if e.is_builder() {
        ChannelError::permanent(scrub(
            format!("the request to the {what} cannot be made: {detail}"),
            url,
        ))
    } else if e.is_connect() {
        ChannelError::transient(scrub(
            format!("the {what} cannot be reached: {detail}"),
            url,
        ))
    } else {
        ChannelError::transient(scrub(format!("the {what} failed: {detail}"), url))
    }
}

/// The first characters of an answer's body on one line, for the error message.
fn excerpt(body: &str) -> String {
    let one_line: String = body
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if one_line.chars().count() <= BODY_EXCERPT {
        return one_line;
    }
    let mut cut: String = one_line.chars().take(BODY_EXCERPT).collect();
    cut.push('…');
    cut
}

/// `message` without the URL, nor its path or query (where webhook secrets live), should some
/// layer have quoted them.
fn scrub(mut message: String, url: &url::Url) -> String {
    let mut secrets = vec![url.as_str().to_owned()];
    if url.path().len() > 1 {
        secrets.push(url.path().to_owned());
    }
    if let Some(q) = url.query().filter(|q| !q.is_empty()) {
        secrets.push(q.to_owned());
    }
    for s in secrets {
        message = message.replace(&s, "[webhook URL]");
    }
    message
}

/// `Retry-After` in (possibly fractional) seconds; HTTP dates and junk are ignored.
fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let secs: f64 = value.parse().ok()?;
    if !secs.is_finite() || secs < 0.0 {
        return None;
    }
    Duration::try_from_secs_f64(secs).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET_URL: &str = "https://prod-00.westeurope.logic.azure.com/workflows/abc123/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=S3CR3T-SIGNATURE";

    fn url() -> url::Url {
        url::Url::parse(SECRET_URL).unwrap()
    }

    #[test]
    fn status_classification() {
        let u = url();
        let e = status_error(
            "Teams webhook",
            &u,
            StatusCode::INTERNAL_SERVER_ERROR,
            None,
            "",
        );
        assert!(e.retriable);
        assert_eq!(e.message, "the Teams webhook answered HTTP 500");

        let seven = Some(Duration::from_secs(7));
        let e = status_error(
            "Slack webhook",
            &u,
            StatusCode::TOO_MANY_REQUESTS,
            seven,
            "",
        );
        assert!(e.retriable);
        assert_eq!(e.retry_after, seven);
        let e = status_error("webhook", &u, StatusCode::SERVICE_UNAVAILABLE, seven, "");
        assert_eq!(e.retry_after, seven);
        // Only 429 and 503 ask to wait.
        let e = status_error("webhook", &u, StatusCode::BAD_GATEWAY, seven, "");
        assert!(e.retriable);
        assert_eq!(e.retry_after, None);

        let e = status_error(
            "Slack webhook",
            &u,
            StatusCode::BAD_REQUEST,
            None,
            "invalid_payload",
        );
        assert!(!e.retriable);
        assert_eq!(
            e.message,
            "the Slack webhook answered HTTP 400: invalid_payload"
        );
        for s in [
            StatusCode::NOT_FOUND,
            StatusCode::GONE,
            StatusCode::FORBIDDEN,
        ] {
            assert!(!status_error("webhook", &u, s, None, "").retriable);
        }
        assert!(status_error("webhook", &u, StatusCode::REQUEST_TIMEOUT, None, "").retriable);
        let e = status_error("webhook", &u, StatusCode::FOUND, None, "");
        assert!(!e.retriable);
        assert!(e.message.contains("redirects are not followed"), "{e}");
    }

    #[test]
    fn messages_never_hold_the_url() {
        let u = url();
        // A receiver that echoes the address it was called on.
        let e = status_error(
            "Teams webhook",
            &u,
            StatusCode::NOT_FOUND,
            None,
            &format!("no flow at {SECRET_URL}"),
        );
        assert!(!e.message.contains("S3CR3T"), "{e}");
        assert!(!e.message.contains("abc123"), "{e}");
        assert!(e.message.starts_with("the Teams webhook answered HTTP 404"));
        let scrubbed = scrub(format!("at {} and {}", u.path(), u.query().unwrap()), &u);
        assert!(!scrubbed.contains("S3CR3T"), "{scrubbed}");
        assert!(!scrubbed.contains("workflows/abc123"), "{scrubbed}");
    }

    #[tokio::test]
    async fn transport_errors_never_hold_the_url() {
        // Nothing listens on a port just released.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let u = url::Url::parse(&format!(
            "http://127.0.0.1:{port}/hooks/T000/B000/XXXXSECRETXXXX?token=hunter2"
        ))
        .unwrap();
        let err = Poster::new(Duration::from_secs(5))
            .post("Slack webhook", &u, &[], b"{}")
            .await
            .unwrap_err();
        assert!(err.retriable, "{err:?}");
        assert!(
            err.message
                .starts_with("the Slack webhook cannot be reached"),
            "{err}"
        );
        assert!(!err.message.contains("XXXXSECRETXXXX"), "{err}");
        assert!(!err.message.contains("hunter2"), "{err}");
        assert!(!err.message.contains("/hooks/"), "{err}");
    }

    #[tokio::test]
    async fn a_bad_header_is_refused_before_sending() {
        let err = Poster::new(Duration::from_secs(1))
            .post(
                "webhook",
                &url(),
                &[("bad header".into(), "x".into())],
                b"{}",
            )
            .await
            .unwrap_err();
        assert!(!err.retriable);
        assert!(!err.message.contains("S3CR3T"), "{err}");
    }

    #[test]
    fn long_bodies_are_cut() {
        let e = excerpt(&format!("{}\n{}", "a".repeat(150), "b".repeat(150)));
        assert_eq!(e.chars().count(), BODY_EXCERPT + 1);
        assert!(e.ends_with('…'));
        assert!(!e.contains('\n'));
        assert_eq!(excerpt("  ok \n"), "ok");
    }

    #[test]
    fn retry_after_parsing() {
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert(RETRY_AFTER, HeaderValue::from_str(v).unwrap());
            parse_retry_after(&m)
        };
        assert_eq!(h("7"), Some(Duration::from_secs(7)));
        assert_eq!(h("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(h("-1"), None);
        assert_eq!(h("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after(&HeaderMap::new()), None);
    }
}
