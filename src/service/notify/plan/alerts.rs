//! The admins' alerts: a directory change that keeps failing and group members jitgate did not
//! add (drift), about a request or about no request; once a day per person and kind.

use serde_json::Value;

use super::About;
use super::recipients::{Message, To};
use crate::domain::{AuditAction, NewAuditEvent, Request};
use crate::store::NewNotification;

/// A directory change about a request that keeps failing, or was given up: the admins.
pub(super) fn directory_error(a: &About, out: &mut Vec<NewNotification>) {
    let mut m = alert(a.e, Some(a.r));
    m.key = format!(
        "alert:directory_error:{}",
        a.e.details
            .get("directory_op")
            .and_then(Value::as_i64)
            .unwrap_or(0)
    );
    a.tell(out, To::Admins, true, m);
}

/// A member found in a group of the request's package without its grant: the admins.
pub(super) fn drift(a: &About, out: &mut Vec<NewNotification>) {
    let m = alert(a.e, Some(a.r));
    a.tell(out, To::Admins, true, m);
}

/// An alert for the admins about a directory failure or drift.
pub(super) fn alert(e: &NewAuditEvent, r: Option<&Request>) -> Message {
    let who = r
        .map(|r| format!("{} ({})", r.requester.name, r.requester.username))
        .or_else(|| e.subject_id.clone())
        .unwrap_or_default();
    let (subject, what) = if e.action == AuditAction::DriftDetected {
        (
            "jitgate found a group member it did not add".to_string(),
            format!("Reconciliation found {who} in a group jitgate manages without a grant."),
        )
    } else {
        (
            "jitgate could not complete a directory change".to_string(),
            format!("A directory change for {who} failed."),
        )
    };
    let details = serde_json::to_string_pretty(&e.details).unwrap_or_default();
    let subject_key = r
        .map(|r| r.id.clone())
        .or_else(|| e.subject_id.clone())
        .unwrap_or_default();
    Message {
        event: e.action.as_str().into(),
        // Once a day per person and kind.
        key: format!(
            "alert:{}:{subject_key}:{}",
            e.action.as_str(),
            e.at.format("%Y-%m-%d")
        ),
        subject,
        body: format!("{what}\n\nDetails:\n{details}\n\nSee the Operations page:"),
        not_before: e.at,
        only_if: None,
    }
}
