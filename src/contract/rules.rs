//! Rules on what callers send that the API enforces, stated once here so that the OpenAPI
//! document can carry them (patterns, bounds) and the handlers, the form and the command line
//! agree with it.

use serde::{Deserialize, Deserializer};

/// Text with no control characters but tab, line feed and carriage return (comments,
/// justifications, reasons).
pub const PLAIN_TEXT: &str = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$";

/// Plain text with at least one character that is neither white space nor a control character
/// (a reason that is required).
pub const SOME_TEXT: &str = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$";

/// Plain text with at least three characters that are neither white space nor control
/// characters (a break-glass review's comment).
pub const THREE_VISIBLE: &str = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$";

/// An access review's decision, in Entra's words.
pub const REVIEW_DECISION: &str = "^(Approve|Deny|DontKnow)$";

/// One line with no control characters at all (a ticket reference).
pub const ONE_LINE: &str = r"^[^\u0000-\u001F\u007F-\u009F]*$";

/// Which property of which body carries which pattern: `(schema, property, pattern)`.
pub const TEXT_PATTERNS: &[(&str, &str, &str)] = &[
    ("NewRequest", "justification", PLAIN_TEXT),
    ("NewRequest", "ticket", ONE_LINE),
    ("ApproveBody", "comment", PLAIN_TEXT),
    ("DenyBody", "comment", SOME_TEXT),
    ("EndBody", "reason", PLAIN_TEXT),
    ("RevokeBody", "reason", SOME_TEXT),
    ("ExtendBody", "justification", PLAIN_TEXT),
    ("ExtensionDecisionBody", "comment", PLAIN_TEXT),
    ("ReviewDecisionBody", "decision", REVIEW_DECISION),
    ("ReviewDecisionBody", "justification", SOME_TEXT),
    ("BreakGlassReviewBody", "comment", THREE_VISIBLE),
    ("RestoreBody", "reason", SOME_TEXT),
];

/// An integer as JSON may write it: `120` or `120.0` (JSON Schema counts both as integers).
/// A fraction or a number beyond `i64` is refused.
pub mod whole {
    use super::*;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        let n = serde_json::Number::deserialize(d)?;
        to_i64(&n).ok_or_else(|| serde::de::Error::custom(format!("{n} is not a whole number")))
    }

    pub fn to_i64(n: &serde_json::Number) -> Option<i64> {
        if let Some(i) = n.as_i64() {
            return Some(i);
        }
        let f = n.as_f64()?;
        // i64::MAX as f64 rounds up to 2^63, which is out of range: compare with `<`.
        (f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64).then_some(f as i64)
    }

    /// The same, for an optional field (`null` or absent is `None`).
    pub mod option {
        use super::*;

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
            match Option::<serde_json::Number>::deserialize(d)? {
                None => Ok(None),
                Some(n) => to_i64(&n)
                    .map(Some)
                    .ok_or_else(|| serde::de::Error::custom(format!("{n} is not a whole number"))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::whole;

    #[derive(serde::Deserialize)]
    struct Body {
        #[serde(with = "whole")]
        n: i64,
        #[serde(default, with = "whole::option")]
        m: Option<i64>,
    }

    fn n(json: &str) -> Result<(i64, Option<i64>), String> {
        serde_json::from_str::<Body>(json)
            .map(|b| (b.n, b.m))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn whole_numbers_may_be_written_with_a_zero_fraction() {
        assert_eq!(n(r#"{"n": 120}"#), Ok((120, None)));
        assert_eq!(n(r#"{"n": 100001.0, "m": 5.0}"#), Ok((100001, Some(5))));
        assert_eq!(n(r#"{"n": -3, "m": null}"#), Ok((-3, None)));
        assert!(
            n(r#"{"n": 1.5}"#)
                .unwrap_err()
                .contains("not a whole number")
        );
        assert!(n(r#"{"n": 1e300}"#).is_err());
        assert!(n(r#"{"n": "12"}"#).is_err());
    }
}
