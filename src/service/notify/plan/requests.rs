//! Messages about requests: asked for (to the people who may decide it, and again to them and
//! the package's `escalate_to` when still undecided after `escalate_after`), approved, denied
//! or timed out (to the requester).

use chrono::Duration;
use serde_json::json;

use super::recipients::{Message, To};
use super::{About, at};
use crate::domain::package::format_duration;
use crate::store::NewNotification;

/// Asked for: the deciders now, and the escalation for later.
pub(super) fn created(a: &About, out: &mut Vec<NewNotification>) {
    let (r, pkg_name) = (a.r, a.pkg_name);
    let ticket = r
        .ticket
        .as_deref()
        .map(|t| format!("Ticket: {t}\n"))
        .unwrap_or_default();
    let on_behalf = r
        .asked_by
        .as_ref()
        .map(|by| format!("{} ({}) asked on their behalf. ", by.name, by.username))
        .unwrap_or_default();
    let body = format!(
        "{} ({}) asks for {pkg_name} for {}.\n{on_behalf}\nJustification: {}\n{ticket}\nDecide it in jitgate:",
        r.requester.name,
        r.requester.username,
        format_duration(Duration::minutes(r.duration_minutes)),
        r.justification,
    );
    let subject = match &r.asked_by {
        Some(by) => format!("{} asks for {pkg_name} for {}", by.name, r.requester.name),
        None => format!("{} asks for {pkg_name}", r.requester.name),
    };
    a.tell(
        out,
        To::Deciders(Vec::new()),
        true,
        a.msg("request_created", subject.clone(), body.clone()),
    );
    if let Some(after) = a.pkg.and_then(|p| p.escalate_after) {
        let extra = a.pkg.map(|p| p.escalate_to.clone()).unwrap_or_default();
        let m = Message {
            event: "escalation".into(),
            key: format!("escalation:{}", r.id),
            subject: format!("Still waiting: {subject}"),
            body: format!(
                "This request has waited {} without a decision. It times out at {}.\n\n{body}",
                format_duration(after),
                at(Some(r.timeout_at)),
            ),
            not_before: a.now() + after,
            only_if: Some(json!({"status": "pending"})),
        };
        a.tell(out, To::Deciders(extra), true, m);
    }
}

/// Approved (when no more approvals are needed): the requester, with when access starts.
pub(super) fn approved(a: &About, out: &mut Vec<NewNotification>) {
    let (r, pkg_name, by, said) = (a.r, a.pkg_name, a.by(), a.said());
    let when = match (r.starts_at, r.ends_at) {
        (Some(s), Some(e)) if s <= a.now() => {
            format!("Your access starts now and ends at {}.", at(Some(e)))
        }
        (Some(s), _) => format!("Your access starts at {}.", at(Some(s))),
        _ => String::new(),
    };
    let m = a.msg(
        "request_approved",
        format!("Your request for {pkg_name} was approved"),
        format!(
            "{by} approved your request for {pkg_name} ({}). {when}{said}\n\nThe request:",
            format_duration(Duration::minutes(r.duration_minutes))
        ),
    );
    a.tell(out, To::Requester, false, m);
}

/// Denied: the requester.
pub(super) fn denied(a: &About, out: &mut Vec<NewNotification>) {
    let (pkg_name, by, said) = (a.pkg_name, a.by(), a.said());
    let m = a.msg(
        "request_denied",
        format!("Your request for {pkg_name} was denied"),
        format!("{by} denied your request for {pkg_name}.{said}\n\nThe request:"),
    );
    a.tell(out, To::Requester, false, m);
}

/// Nobody decided it in time: the requester.
pub(super) fn timed_out(a: &About, out: &mut Vec<NewNotification>) {
    let pkg_name = a.pkg_name;
    let m = a.msg(
        "request_timed_out",
        format!("Your request for {pkg_name} timed out"),
        format!(
            "Nobody decided your request for {pkg_name} before its time limit ({}). You may ask again.\n\nThe request:",
            at(Some(a.r.timeout_at))
        ),
    );
    a.tell(out, To::Requester, false, m);
}
