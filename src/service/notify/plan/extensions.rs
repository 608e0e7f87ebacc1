//! Messages about extensions: asked for (to the people who may decide it), approved or denied
//! by someone else, and lapsed (to the requester); an approval also moves the reminder.

use chrono::Duration;
use serde_json::Value;

use super::recipients::{Message, To};
use super::{About, at, reminders};
use crate::domain::AuditAction;
use crate::domain::package::format_duration;
use crate::store::NewNotification;

/// Asked for (and not self-extended): the deciders.
pub(super) fn requested(a: &About, out: &mut Vec<NewNotification>) {
    let (r, pkg_name) = (a.r, a.pkg_name);
    let minutes =
        a.e.details
            .get("minutes")
            .and_then(Value::as_i64)
            .unwrap_or(0);
    let x = a.text("extension");
    let m = Message {
        event: "extension_requested".into(),
        key: format!("extension_requested:{x}"),
        subject: format!(
            "{} asks to extend {pkg_name} by {}",
            r.requester.name,
            format_duration(Duration::minutes(minutes))
        ),
        body: format!(
            "{} ({}) asks for {} more of {pkg_name}; the grant ends at {} now.\n\nJustification: {}\n\nDecide it in jitgate:",
            r.requester.name,
            r.requester.username,
            format_duration(Duration::minutes(minutes)),
            at(r.ends_at),
            a.text("justification"),
        ),
        not_before: a.now(),
        only_if: None,
    };
    a.tell(out, To::Deciders(Vec::new()), true, m);
}

/// Approved or denied: the requester (unless they decided it themselves), and, once approved,
/// the reminder before the new end.
pub(super) fn decided(a: &About, out: &mut Vec<NewNotification>) {
    let (e, r, pkg_name, by, said) = (a.e, a.r, a.pkg_name, a.by(), a.said());
    let x = a.text("extension");
    let approved = e.action == AuditAction::ExtensionApproved;
    let mut m = a.msg(
        e.action.as_str(),
        format!(
            "Your extension of {pkg_name} was {}",
            if approved { "approved" } else { "denied" }
        ),
        if approved {
            format!(
                "Your grant of {pkg_name} now ends at {}.{said}\n\nThe grant:",
                at(r.ends_at)
            )
        } else {
            format!(
                "{by} denied your extension of {pkg_name}; the grant still ends at {}.{said}\n\nThe grant:",
                at(r.ends_at)
            )
        },
    );
    m.key = format!("{}:{x}", e.action.as_str());
    if e.actor_id != r.requester.id {
        a.tell(out, To::Requester, false, m);
    }
    if approved {
        reminders::remind(a, out);
    }
}

/// The grant ended before anyone decided it: the requester.
pub(super) fn lapsed(a: &About, out: &mut Vec<NewNotification>) {
    let pkg_name = a.pkg_name;
    let x = a.text("extension");
    let mut m = a.msg(
        "extension_lapsed",
        format!("Your extension of {pkg_name} was not decided in time"),
        format!(
            "Your grant of {pkg_name} ended before anyone decided its extension.\n\nThe grant:"
        ),
    );
    m.key = format!("extension_lapsed:{x}");
    a.tell(out, To::Requester, false, m);
}
