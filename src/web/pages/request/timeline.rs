//! The timeline of a request: a label and a sentence for each audit event (the audit and
//! operations pages show them the same way).

use chrono::{DateTime, Utc};

use crate::web::pages::{minutes, when};

pub struct TimelineEntry {
    pub action: String,
    pub label: String,
    pub at: String,
    pub actor: String,
    pub note: String,
}

/// A sentence for an audit event's details; what was done through the requests API (which
/// device-code sign-ins reach) says so, with the address it came from.
pub fn describe(action: &str, details: &serde_json::Value) -> String {
    let note = sentence(action, details);
    if details.get("via").and_then(|v| v.as_str()) != Some("requests_api") {
        return note;
    }
    let from = details
        .get("from_ip")
        .and_then(|v| v.as_str())
        .map(|ip| format!(", IP {ip}"))
        .unwrap_or_default();
    let via = format!("from a device-code sign-in (the requests API){from}");
    if note.is_empty() {
        via
    } else {
        format!("{note} — {via}")
    }
}

fn sentence(action: &str, details: &serde_json::Value) -> String {
    let s = |k: &str| {
        details
            .get(k)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string()
    };
    match action {
        "request_created" => format!(
            "asked for {} — “{}”",
            details
                .get("duration_minutes")
                .and_then(|v| v.as_i64())
                .map(minutes)
                .unwrap_or_default(),
            s("justification")
        ),
        "request_approved" | "request_denied" => {
            let c = s("comment");
            if c.is_empty() {
                String::new()
            } else {
                format!("“{c}”")
            }
        }
        "membership_added" | "membership_removed" => {
            let throttled = details
                .get("throttled")
                .and_then(|v| v.as_i64())
                .unwrap_or(0);
            let mut note =
                if details.get("already_in_effect").and_then(|v| v.as_bool()) == Some(true) {
                    "the directory already had it so".to_string()
                } else {
                    format!(
                        "after {} attempt(s)",
                        details
                            .get("attempts")
                            .and_then(|v| v.as_i64())
                            .unwrap_or(1)
                    )
                };
            if throttled > 0 {
                note.push_str(&format!(", {throttled} throttled by Graph"));
            }
            note
        }
        "membership_verified" => match details.get("member_seen").and_then(|v| v.as_bool()) {
            Some(true) => format!(
                "Graph lists the member (read {} time(s))",
                details.get("reads").and_then(|v| v.as_i64()).unwrap_or(1)
            ),
            Some(false) => format!(
                "Graph no longer lists the member (read {} time(s))",
                details.get("reads").and_then(|v| v.as_i64()).unwrap_or(1)
            ),
            None => format!("could not read the membership back: {}", s("read_error")),
        },
        "drift_detected" => match s("kind").as_str() {
            "member_without_grant" => format!(
                "{} was in the group without an active grant ({})",
                if s("member_name").is_empty() {
                    s("member_id")
                } else {
                    s("member_name")
                },
                if s("action") == "remove" {
                    "removed"
                } else {
                    "reported only"
                }
            ),
            "grant_without_member" => {
                "the member was missing from the group; added again".to_string()
            }
            _ => String::new(),
        },
        "drift_removed" => format!(
            "{} removed from the group",
            if s("member_name").is_empty() {
                s("member_id")
            } else {
                s("member_name")
            }
        ),
        "sessions_revoked" => "every sign-in session of the user was revoked".to_string(),
        "extension_requested" => {
            let mut text = format!(
                "asked for {} more — “{}”",
                details
                    .get("minutes")
                    .and_then(|v| v.as_i64())
                    .map(minutes)
                    .unwrap_or_default(),
                s("justification")
            );
            if details.get("one_shot_end").is_some() {
                text.push_str(
                    " (after the first sign-in of a one-shot package: an approver decides)",
                );
            }
            text
        }
        "extension_approved" | "extension_denied" => {
            let mut parts = Vec::new();
            if details.get("self_extend").and_then(|v| v.as_bool()) == Some(true) {
                parts.push("extended by the requester (the package allows it)".to_string());
            }
            if !s("comment").is_empty() {
                parts.push(format!("“{}”", s("comment")));
            }
            if action == "extension_approved"
                && details.get("final").and_then(|v| v.as_bool()) == Some(true)
                && let Some(end) = details
                    .get("ends_at")
                    .and_then(|v| v.as_str())
                    .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            {
                parts.push(format!("now ends {}", when(end.with_timezone(&Utc))));
            }
            if details.get("lifts_one_shot_end").and_then(|v| v.as_bool()) == Some(true) {
                parts.push("past the one-shot end, lifted by this approval".to_string());
            }
            parts.join("; ")
        }
        "extension_lapsed" => "the grant ended before the extension was decided".to_string(),
        "device_code_sign_in" | "portal_sign_in" => format!(
            "{} at {} from {}: {}",
            s("app"),
            details
                .get("at")
                .and_then(|v| v.as_str())
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| when(t.with_timezone(&Utc)))
                .unwrap_or_default(),
            s("ip_address"),
            s("result")
        ),
        "grant_shortened" => s("reason"),
        "break_glass_used" => format!(
            "took it without approval for {} (use {} of {} allowed); review due {}",
            details
                .get("duration_minutes")
                .and_then(|v| v.as_i64())
                .map(minutes)
                .unwrap_or_default(),
            details
                .get("uses_in_window")
                .and_then(|v| v.as_u64())
                .unwrap_or(1),
            s("per_user"),
            details
                .get("review_due")
                .and_then(|v| v.as_str())
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| when(t.with_timezone(&Utc)))
                .unwrap_or_default(),
        ),
        "break_glass_reviewed" => format!(
            "{} — “{}”{}",
            s("verdict").replace('_', " "),
            s("comment"),
            if details.get("late").and_then(|v| v.as_bool()) == Some(true) {
                " (after its due time)"
            } else {
                ""
            }
        ),
        "notification_sent" => format!(
            "{} about {} to {}",
            s("channel"),
            s("event").replace('_', " "),
            details
                .get("recipients")
                .and_then(|v| v.as_array())
                .map(|a| a
                    .iter()
                    .filter_map(|v| v.as_str())
                    .collect::<Vec<_>>()
                    .join(", "))
                .unwrap_or_default()
        ),
        "notification_failed" => format!(
            "{} about {} failed: {}",
            s("channel"),
            s("event").replace('_', " "),
            s("error")
        ),
        "directory_error" => format!(
            "attempt {}: {}",
            details.get("attempt").and_then(|v| v.as_i64()).unwrap_or(0),
            s("error")
        ),
        "grant_expired" | "grant_ended" | "grant_revoked" | "grant_failed"
        | "request_cancelled" | "request_timed_out" => {
            let mut parts = vec![s("reason")];
            parts.push(s("membership_kept"));
            parts.retain(|p| !p.is_empty());
            parts.join("; ")
        }
        _ => String::new(),
    }
}

pub fn label(action: &str) -> String {
    let mut s = action.replace('_', " ");
    if let Some(first) = s.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    s
}
