//! Messages to a requester about what was asked in their name: through the requests API, the
//! one jitgate resource that device-code sign-ins reach (a token phished from them could ask for
//! an exemption, so they hear of every request and extension asked that way, with where from),
//! and by someone else on their behalf (an approver, an admin, a holder of the
//! `requester_on_behalf` role).

use chrono::Duration;
use serde_json::Value;

use super::recipients::{Message, To};
use super::{About, at};
use crate::domain::AuditAction;
use crate::domain::UserRef;
use crate::domain::package::format_duration;
use crate::store::NewNotification;

/// A request or an extension asked through the requests API: the requester, always.
pub(super) fn asked(a: &About, out: &mut Vec<NewNotification>) {
    let (e, r, pkg_name) = (a.e, a.r, a.pkg_name);
    let (what, key, minutes, justification) = if e.action == AuditAction::ExtensionRequested {
        let minutes = e
            .details
            .get("minutes")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        (
            "an extension of",
            format!("asked_in_your_name:{}", a.text("extension")),
            minutes,
            a.text("justification").to_string(),
        )
    } else {
        (
            "",
            format!("asked_in_your_name:{}", r.id),
            r.duration_minutes,
            r.justification.clone(),
        )
    };
    let from = match (&e.client_ip, &e.user_agent) {
        (Some(ip), Some(agent)) => format!("from IP address {ip} ({agent})"),
        (Some(ip), None) => format!("from IP address {ip}"),
        _ => "from an unknown address".to_string(),
    };
    let asked = format!(
        "{what}{}{pkg_name} for {}",
        if what.is_empty() { "" } else { " " },
        format_duration(Duration::minutes(minutes))
    );
    let m = Message {
        event: "asked_in_your_name".into(),
        key,
        subject: format!("A device-code sign-in as you asked for {asked}"),
        body: format!(
            "Someone signed in as you with the device code flow asked jitgate for {asked} at {}, {from}.\n\nJustification: {justification}\n\nIf that was you, nothing needs doing. If it was not, cancel it at once and tell your security team: someone may hold a token of yours.\n\nThe request:",
            at(Some(e.at)),
        ),
        not_before: a.now(),
        only_if: None,
    };
    a.tell(out, To::Requester, false, m);
}

/// A request someone else asked for on the requester's behalf: the requester, always.
pub(super) fn asked_on_behalf(a: &About, asker: &UserRef, out: &mut Vec<NewNotification>) {
    let (e, r, pkg_name) = (a.e, a.r, a.pkg_name);
    let asked = format!(
        "{pkg_name} for {}",
        format_duration(Duration::minutes(r.duration_minutes))
    );
    let m = Message {
        event: "asked_on_your_behalf".into(),
        key: format!("asked_on_your_behalf:{}", r.id),
        subject: format!("{} asked for {asked} for you", asker.name),
        body: format!(
            "{} ({}) asked jitgate for {asked} on your behalf at {}.\n\nJustification: {}\n\nAn approver decides it; you will hear the decision. If you did not expect it, tell your security team.\n\nThe request:",
            asker.name,
            asker.username,
            at(Some(e.at)),
            r.justification,
        ),
        not_before: a.now(),
        only_if: None,
    };
    a.tell(out, To::RequesterAlone, false, m);
}
