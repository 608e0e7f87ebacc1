//! The Graph error parser: an answer that is not a success (status, `Retry-After`, body) read
//! by `graph::classify_answer`, and the same body read as a `$batch` response, each answer by
//! `graph::read_batch_answer`.
//!
//! Input: two bytes of status, the `Retry-After` value up to the first newline, then the body.
//! Checked: nothing panics; the delay asked for is at most five minutes, and the pacer takes it;
//! the error's code and message are bounded; 429, 503 and 504 (only they) are throttling; a
//! batch answer is a success only for a 2xx status as sent.

#![no_main]

use std::time::Duration;

use jitgate::config::WriteBudget;
use jitgate::graph::{DirectoryError, Pacer, classify_answer, read_batch_answer};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const MAX_DELAY: Duration = Duration::from_secs(300);

fn check(e: &DirectoryError) {
    if let Some(d) = e.retry_after() {
        assert!(d <= MAX_DELAY, "Retry-After {d:?}");
        Pacer::new(WriteBudget {
            writes: 1,
            per: Duration::from_secs(1),
        })
        .throttled(Some(d));
    }
    match e {
        DirectoryError::Rejected { code, message, .. } => {
            assert!(code.chars().count() <= 100, "code of {} chars", code.len());
            assert!(message.chars().count() <= 500, "message of {} chars", message.len());
        }
        DirectoryError::Throttled { message, .. } | DirectoryError::Transient(message) => {
            assert!(message.chars().count() <= 700, "message of {} chars", message.len());
        }
        DirectoryError::Token { .. } => {}
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let status = u16::from_be_bytes([data[0], data[1]]);
    let rest = &data[2..];
    let (retry_after, body) = match rest.iter().position(|b| *b == b'\n') {
        Some(i) => (std::str::from_utf8(&rest[..i]).ok(), &rest[i + 1..]),
        None => (None, rest),
    };
    let e = classify_answer(status, retry_after, body);
    check(&e);
    let throttling = matches!(e, DirectoryError::Throttled { .. });
    assert_eq!(throttling, matches!(status, 429 | 503 | 504), "status {status}: {e:?}");

    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    for r in v
        .get("responses")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some((_, answer)) = read_batch_answer(r) else {
            continue;
        };
        match answer {
            Ok(_) => {
                let sent = r.get("status").and_then(Value::as_u64);
                assert!(
                    sent.is_some_and(|s| (200..300).contains(&s)),
                    "status {sent:?} read as a success"
                );
            }
            Err(e) => check(&e),
        }
    }
});
