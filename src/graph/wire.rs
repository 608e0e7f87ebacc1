//! Reading Graph's answers on the wire: `Retry-After`, error bodies and their classification
//! for the retry policy, token-endpoint errors, and the id forms Graph accepts in a path.

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::{DirectoryError, MemberChange, is_object_id};

/// The longest delay a `Retry-After` is taken for: a longer one reads as this long, so that
/// one answer cannot stop every write for days.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// The most characters of Graph's error code and message kept (into errors, logs and the
/// audit trail).
const CODE_CHARS: usize = 100;
const MESSAGE_CHARS: usize = 500;

pub(super) fn invalid_id(id: &str) -> DirectoryError {
    DirectoryError::Rejected {
        status: 400,
        code: "Request_BadRequest".to_owned(),
        message: format!("Invalid object identifier '{id}'."),
    }
}

pub(super) fn require_guid(id: &str) -> Result<(), DirectoryError> {
    if is_object_id(id) {
        Ok(())
    } else {
        Err(invalid_id(id))
    }
}

/// A GUID, or a user principal name, percent-encoded as one path segment.
pub(super) fn user_segment(id: &str) -> Result<String, DirectoryError> {
    if is_object_id(id) {
        return Ok(id.to_owned());
    }
    let plausible_upn = id.len() <= 256
        && id.contains('@')
        && !id.starts_with('$')
        && !id.chars().any(|c| c.is_control() || c.is_whitespace());
    if !plausible_upn {
        return Err(invalid_id(id));
    }
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Ok(out)
}

pub(super) fn backoff(attempt: u32) -> Duration {
    use rand::Rng;
    let base = Duration::from_millis(250 * 2u64.pow(attempt.min(5)));
    base + Duration::from_millis(rand::thread_rng().gen_range(0..100))
}

/// `Retry-After` in (possibly fractional) seconds; HTTP dates and junk are ignored.
pub(super) fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    retry_after_value(headers.get(RETRY_AFTER)?.to_str().ok()?)
}

/// A `Retry-After` value (of a response, or of an answer inside a `$batch`) in (possibly
/// fractional) seconds, at most [`MAX_RETRY_AFTER`]; HTTP dates and junk are ignored.
pub fn retry_after_value(value: &str) -> Option<Duration> {
    let secs: f64 = value.trim().parse().ok()?;
    if !secs.is_finite() || secs < 0.0 {
        return None;
    }
    if secs >= MAX_RETRY_AFTER.as_secs_f64() {
        return Some(MAX_RETRY_AFTER);
    }
    Duration::try_from_secs_f64(secs).ok()
}

/// An answer of Graph that is not a success, read as [`classify`] reads it: its status code
/// (one that is not a valid HTTP status reads as 502), its `Retry-After` value and its body.
pub fn classify_answer(status: u16, retry_after: Option<&str>, body: &[u8]) -> DirectoryError {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    classify(status, retry_after.and_then(retry_after_value), body)
}

/// Graph's `error.code` and `error.message`, if the body is a Graph error (cut to 100 and 500
/// characters).
pub fn graph_error(body: &[u8]) -> Option<(String, String)> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let e = v.get("error")?;
    let code = e.get("code")?.as_str()?.chars().take(CODE_CHARS).collect();
    let message = e
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("")
        .chars()
        .take(MESSAGE_CHARS)
        .collect();
    Some((code, message))
}

pub(super) fn classify(
    status: StatusCode,
    retry_after: Option<Duration>,
    body: &[u8],
) -> DirectoryError {
    let (code, message) = graph_error(body).unwrap_or_else(|| {
        let text = String::from_utf8_lossy(body);
        let snippet: String = text.chars().take(200).collect();
        (
            status
                .canonical_reason()
                .unwrap_or("Unknown")
                .replace(' ', ""),
            snippet,
        )
    });
    match status.as_u16() {
        429 | 503 | 504 => DirectoryError::Throttled {
            status: status.as_u16(),
            retry_after,
            message: format!("{code}: {message}"),
        },
        s if s >= 500 => DirectoryError::Transient(format!("HTTP {s} {code}: {message}")),
        s => DirectoryError::Rejected {
            status: s,
            code,
            message,
        },
    }
}

/// `error: AADSTS…: message` from a token-endpoint error, without trace/correlation ids.
pub(super) fn token_error_message(status: StatusCode, body: &[u8]) -> String {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let error = v
        .get("error")
        .and_then(Value::as_str)
        .unwrap_or("unknown_error");
    let description = v
        .get("error_description")
        .and_then(Value::as_str)
        .unwrap_or("")
        .split(" Trace ID:")
        .next()
        .unwrap_or("")
        .split("\r\n")
        .next()
        .unwrap_or("")
        .trim();
    format!("HTTP {} {error}: {description}", status.as_u16())
}

/// What an addition's answer means: "already a member" is success too (wire doc §1.4).
pub(super) fn added(answer: Result<(), DirectoryError>) -> Result<MemberChange, DirectoryError> {
    match answer {
        Ok(()) => Ok(MemberChange::Added),
        Err(DirectoryError::Rejected {
            status: 400,
            message,
            ..
        }) if message.contains("already exist") => Ok(MemberChange::AlreadyMember),
        Err(e) => Err(e),
    }
}

/// What a removal's answer means: both shapes of "not a member" are success too (wire doc §3).
pub(super) fn removed(answer: Result<(), DirectoryError>) -> Result<MemberChange, DirectoryError> {
    match answer {
        Ok(()) => Ok(MemberChange::Removed),
        Err(DirectoryError::Rejected {
            status: 404, code, ..
        }) if code == "Request_ResourceNotFound" => Ok(MemberChange::NotMember),
        Err(DirectoryError::Rejected {
            status: 400,
            message,
            ..
        }) if message.contains("do not exist") => Ok(MemberChange::NotMember),
        Err(e) => Err(e),
    }
}

/// Whether a `checkMemberGroups` answer lists `group_id`.
pub(super) fn member_groups_contain(body: &[u8], group_id: &str) -> Result<bool, DirectoryError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| DirectoryError::Transient(format!("unexpected Graph response: {e}")))?;
    let groups = v.get("value").and_then(Value::as_array).ok_or_else(|| {
        DirectoryError::Transient("unexpected Graph response: no value".to_owned())
    })?;
    Ok(groups
        .iter()
        .filter_map(Value::as_str)
        .any(|g| g.eq_ignore_ascii_case(group_id)))
}

/// Whether a call spends Graph's write budget (every POST, PATCH, PUT and DELETE except the
/// read-only `checkMemberGroups`, and `sendMail`, which Exchange Online limits on its own).
pub(super) fn is_write(method: &Method, path: &str) -> bool {
    // A `$batch` is paced by the writes inside it.
    *method != Method::GET
        && !path.ends_with("/checkMemberGroups")
        && !path.ends_with("/$batch")
        && !path.ends_with("/sendMail")
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn retry_after(v: &str) -> Option<Duration> {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_str(v).unwrap());
        parse_retry_after(&h)
    }

    #[test]
    fn retry_after_parsing() {
        assert_eq!(retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(retry_after("0.25"), Some(Duration::from_millis(250)));
        assert_eq!(retry_after("2.128"), Some(Duration::from_millis(2128)));
        assert_eq!(retry_after("-1"), None);
        assert_eq!(retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after(&HeaderMap::new()), None);
    }

    #[test]
    fn classification() {
        let body = br#"{"error":{"code":"Request_BadRequest","message":"nope"}}"#;
        assert!(matches!(
            classify(StatusCode::BAD_REQUEST, None, body),
            DirectoryError::Rejected { status: 400, ref code, ref message } if code == "Request_BadRequest" && message == "nope"
        ));
        assert!(matches!(
            classify(StatusCode::GATEWAY_TIMEOUT, None, b"<html>"),
            DirectoryError::Throttled {
                status: 504,
                retry_after: None,
                ..
            }
        ));
        assert!(matches!(
            classify(StatusCode::BAD_GATEWAY, None, b""),
            DirectoryError::Transient(_)
        ));
    }

    #[test]
    fn user_segments() {
        assert_eq!(user_segment("a.b@contoso.com").unwrap(), "a.b@contoso.com");
        assert_eq!(
            user_segment("a#b@contoso.com").unwrap(),
            "a%23b@contoso.com"
        );
        assert!(user_segment("../groups").is_err());
        assert!(user_segment("$x@contoso.com").is_err());
    }

    #[test]
    fn token_errors_drop_trace_ids() {
        let body = br#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Trace ID: 1 Correlation ID: 2 Timestamp: 3"}"#;
        assert_eq!(
            token_error_message(StatusCode::UNAUTHORIZED, body),
            "HTTP 401 invalid_client: AADSTS7000215: Invalid client secret provided."
        );
    }

    /// Found by the parsers' properties (seed: fuzz/seeds/graph_error/found-retry-after-1e18): a `Retry-After` of 10^18
    /// seconds was taken as it came, stopping every write for good, and the pacer's
    /// `now + retry_after` overflowed (a panic).
    #[test]
    fn a_retry_after_is_capped() {
        let five_minutes = Duration::from_secs(300);
        assert_eq!(retry_after_value("1e18"), Some(five_minutes));
        assert_eq!(retry_after_value("86400"), Some(five_minutes));
        assert_eq!(
            retry_after_value("299.5"),
            Some(Duration::from_millis(299_500))
        );
        let e = classify_answer(429, Some("1e18"), b"");
        assert_eq!(e.retry_after(), Some(five_minutes));
        super::super::Pacer::new(crate::config::WriteBudget {
            writes: 1,
            per: Duration::from_secs(1),
        })
        .throttled(e.retry_after());
    }

    /// Found by the parsers' properties (seed: fuzz/seeds/graph_error/found-long-message): Graph's error code and message
    /// were kept whole, however long, into errors, logs and the audit trail.
    #[test]
    fn graph_error_texts_are_bounded() {
        let body = serde_json::json!({"error": {"code": "C".repeat(5000), "message": "m".repeat(100_000)}})
            .to_string();
        match classify_answer(400, None, body.as_bytes()) {
            DirectoryError::Rejected { code, message, .. } => {
                assert!(code.chars().count() <= 100, "{}", code.len());
                assert!(message.chars().count() <= 500, "{}", message.len());
            }
            other => panic!("{other:?}"),
        }
        let body = br#"{"error":{"code":"Request_BadRequest","message":"One or more added object references already exist for the following modified properties: 'members'."}}"#;
        assert!(matches!(
            added(Err(classify_answer(400, None, body))),
            Ok(MemberChange::AlreadyMember)
        ));
    }

    mod properties {
        use proptest::prelude::*;
        use serde_json::json;

        use super::{DirectoryError, classify_answer};

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            /// What the `graph_error` fuzz target checks: the delay asked for is at most five
            /// minutes, code and message are bounded, and only 429, 503 and 504 throttle.
            #[test]
            fn any_answer_is_classified_within_bounds(
                status in any::<u16>(),
                retry_after in prop_oneof!["[0-9]{1,25}(\\.[0-9]{1,5})?(e[0-9]{1,3})?", "\\PC{0,10}"],
                code in "\\PC{0,300}",
                message in prop_oneof!["\\PC{0,50}", Just("m".repeat(3000))],
                graph_shaped in any::<bool>(),
            ) {
                let body = if graph_shaped {
                    json!({"error": {"code": code, "message": message}}).to_string()
                } else {
                    format!("{code}{message}")
                };
                let e = classify_answer(status, Some(&retry_after), body.as_bytes());
                if let Some(d) = e.retry_after() {
                    prop_assert!(d <= std::time::Duration::from_secs(300));
                }
                prop_assert_eq!(matches!(e, DirectoryError::Throttled { .. }), matches!(status, 429 | 503 | 504));
                match &e {
                    DirectoryError::Rejected { code, message, .. } => {
                        prop_assert!(code.chars().count() <= 100);
                        prop_assert!(message.chars().count() <= 500);
                    }
                    DirectoryError::Throttled { message, .. } | DirectoryError::Transient(message) => {
                        prop_assert!(message.chars().count() <= 700);
                    }
                    DirectoryError::Token { .. } => {}
                }
            }
        }
    }
}
