//! Messages about break-glass: the alert when access is taken without approval (every admin
//! and everyone who may decide the package's requests, on every channel, at once, with a
//! subject that starts with "BREAK-GLASS:"), a reminder halfway to the review's due time, the
//! escalation when it is due (to them, the admins and the package's `escalate_to`), both
//! skipped once reviewed; and the review, told to the requester, and when "not justified" to
//! the requester's manager and the admins too.

use chrono::Duration;
use serde_json::{Value, json};

use super::recipients::{Message, To};
use super::{About, at};
use crate::domain::package::format_duration;
use crate::store::NewNotification;

/// The review's due time, as the event recorded it.
fn review_due(a: &About) -> Option<chrono::DateTime<chrono::Utc>> {
    a.e.details
        .get("review_due")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
}

/// Access taken without approval: everyone at once; a reminder and the escalation for later.
pub(super) fn used(a: &About, out: &mut Vec<NewNotification>) {
    let (r, pkg_name) = (a.r, a.pkg_name);
    let due = review_due(a).unwrap_or(a.now() + Duration::hours(24));
    let ticket = r
        .ticket
        .as_deref()
        .map(|t| format!("Ticket: {t}\n"))
        .unwrap_or_default();
    let subject = format!(
        "BREAK-GLASS: {} took {pkg_name} without approval",
        r.requester.name
    );
    let body = format!(
        "{} ({}) used break-glass: {pkg_name} for {}, granted at once without anyone's approval, until {}.\n\nJustification: {}\n{ticket}\nAn approver of {pkg_name} must review it (justified or not) by {}. Review it in jitgate:",
        r.requester.name,
        r.requester.username,
        format_duration(Duration::minutes(r.duration_minutes)),
        at(r.ends_at),
        r.justification,
        at(Some(due)),
    );
    a.tell(
        out,
        To::Everyone(Vec::new()),
        true,
        a.msg("break_glass_used", subject.clone(), body.clone()),
    );
    let unreviewed = Some(json!({"break_glass_unreviewed": true}));
    let half = (due - a.now()) / 2;
    if half > Duration::zero() {
        let m = Message {
            event: "break_glass_reminder".into(),
            key: format!("break_glass_reminder:{}", r.id),
            subject: format!("Review needed: {subject}"),
            body: format!(
                "Nobody has reviewed this break-glass access yet; the review is due by {}.\n\n{body}",
                at(Some(due))
            ),
            not_before: a.now() + half,
            only_if: unreviewed.clone(),
        };
        a.tell(out, To::Everyone(Vec::new()), false, m);
    }
    let extra = a.pkg.map(|p| p.escalate_to.clone()).unwrap_or_default();
    let m = Message {
        event: "break_glass_escalation".into(),
        key: format!("break_glass_escalation:{}", r.id),
        subject: format!("Review overdue: {subject}"),
        body: format!(
            "This break-glass access was due for review by {} and nobody has reviewed it.\n\n{body}",
            at(Some(due))
        ),
        not_before: due,
        only_if: unreviewed,
    };
    a.tell(out, To::Everyone(extra), true, m);
}

/// Reviewed: the requester; a "not justified" also the requester's manager and the admins.
pub(super) fn reviewed(a: &About, out: &mut Vec<NewNotification>) {
    let (r, pkg_name, by) = (a.r, a.pkg_name, a.by());
    let verdict = a.text("verdict");
    let comment =
        a.e.details
            .get("comment")
            .and_then(Value::as_str)
            .unwrap_or("");
    if verdict == "not_justified" {
        let m = a.msg(
            "break_glass_not_justified",
            format!(
                "BREAK-GLASS not justified: {} and {pkg_name}",
                r.requester.name
            ),
            format!(
                "{by} reviewed the break-glass access {} ({}) took to {pkg_name} on {} and found it not justified.\n\n{by} wrote: {comment}\n\nJustification given: {}\n\nThe request:",
                r.requester.name,
                r.requester.username,
                at(r.starts_at),
                r.justification,
            ),
        );
        a.tell(out, To::ManagerAndRequester, false, m);
        let m = a.msg(
            "break_glass_not_justified_admins",
            format!(
                "BREAK-GLASS not justified: {} and {pkg_name}",
                r.requester.name
            ),
            format!(
                "{by} found the break-glass access {} took to {pkg_name} not justified.\n\n{by} wrote: {comment}\n\nThe request:",
                r.requester.name
            ),
        );
        a.tell(out, To::Admins, true, m);
    } else {
        let m = a.msg(
            "break_glass_reviewed",
            format!("Your break-glass access to {pkg_name} was reviewed"),
            format!(
                "{by} reviewed the break-glass access you took to {pkg_name} and found it justified.\n\n{by} wrote: {comment}\n\nThe request:"
            ),
        );
        a.tell(out, To::Requester, false, m);
    }
}
