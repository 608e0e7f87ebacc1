//! The sign-in log reader: each entry of a page of `GET /beta/auditLogs/signIns` read on its
//! own (`graph::read_sign_in_entries`).
//!
//! Input: a JSON document, the page's `value` array (anything else is one entry).
//! Checked: nothing panics; every entry is either read or set aside, never lost; what is set
//! aside is named by a non-empty key and a bounded problem; what is read keeps the entry's id.

#![no_main]

use jitgate::graph::read_sign_in_entries;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(v) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let items = match v {
        Value::Array(items) => items,
        Value::Object(mut page) => match page.remove("value") {
            Some(Value::Array(items)) => items,
            _ => vec![Value::Object(page)],
        },
        other => vec![other],
    };
    let ids: Vec<Option<String>> = items
        .iter()
        .map(|i| i.get("id").and_then(Value::as_str).map(str::to_owned))
        .collect();
    let n = items.len();
    let log = read_sign_in_entries(items.clone());
    assert_eq!(log.sign_ins.len() + log.unreadable.len(), n, "an entry was lost");
    for u in &log.unreadable {
        assert!(!u.key.is_empty());
        assert!(u.problem.chars().count() <= 200, "{} chars", u.problem.len());
    }
    // What is read keeps the entry's own id.
    for s in &log.sign_ins {
        assert!(ids.iter().flatten().any(|id| id == &s.id), "{:?} is no entry's id", s.id);
    }
    // The same page read again reads the same.
    assert_eq!(read_sign_in_entries(items), log);
});
