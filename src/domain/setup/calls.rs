//! One Graph call of the plan, and comparing what is found with what is wanted.

use serde_json::{Map, Value};

/// The HTTP method of a Graph write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Post,
    Patch,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Post => "POST",
            Method::Patch => "PATCH",
        }
    }
}

/// A Graph write: what `--dry-run` prints and a run makes.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub method: Method,
    /// Under the Graph version, e.g. `/applications/{id}`.
    pub path: String,
    pub body: Value,
    /// What it does, in words.
    pub what: String,
}

impl Call {
    pub(super) fn post(path: impl Into<String>, body: Value, what: impl Into<String>) -> Call {
        Call {
            method: Method::Post,
            path: path.into(),
            body,
            what: what.into(),
        }
    }
}

/// The members of `wanted` whose value `found` does not already have (an object member compared
/// as a whole, arrays as sets): what a `PATCH` must send. Empty when nothing differs.
pub(super) fn differing(wanted: &Value, found: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    if let Some(w) = wanted.as_object() {
        for (k, v) in w {
            if !same(v, found.get(k).unwrap_or(&Value::Null)) {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    out
}

/// Whether `found` already says what `wanted` says: every member `wanted` names, with arrays
/// compared as sets (Graph does not keep their order) and members `wanted` leaves out ignored.
pub(super) fn same(wanted: &Value, found: &Value) -> bool {
    match (wanted, found) {
        (Value::Object(w), Value::Object(_)) => w
            .iter()
            .all(|(k, v)| same(v, found.get(k).unwrap_or(&Value::Null))),
        (Value::Array(w), Value::Array(f)) => {
            w.len() == f.len()
                && w.iter().all(|x| f.iter().any(|y| same(x, y)))
                && f.iter().all(|y| w.iter().any(|x| same(x, y)))
        }
        (Value::String(w), Value::String(f)) => w.eq_ignore_ascii_case(f),
        _ => wanted == found,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_what_differs_is_sent() {
        let wanted = json!({"a": 1, "b": ["x", "y"], "c": {"d": true}});
        let found = json!({"a": 1, "b": ["y", "x"], "c": {"d": true, "e": 3}, "z": 0});
        assert!(differing(&wanted, &found).is_empty());
        let found = json!({"a": 2, "b": ["x"], "c": {"d": false}});
        let d = differing(&wanted, &found);
        assert_eq!(d.len(), 3);
        let found = json!({"a": 1, "b": ["x", "y", "z"], "c": {"d": true}});
        assert_eq!(differing(&wanted, &found).keys().collect::<Vec<_>>(), ["b"]);
    }
}
