//! Messages about grants: the membership in effect (and the reminder before its end), a grant
//! that could not be given (to the requester and the admins), and a grant ended by someone
//! else, expired or revoked.

use super::recipients::To;
use super::{About, at, reminders};
use crate::domain::AuditAction;
use crate::store::NewNotification;

/// The membership is in place: the requester, and the reminder before the end.
pub(super) fn in_effect(a: &About, out: &mut Vec<NewNotification>) {
    let pkg_name = a.pkg_name;
    let m = a.msg(
        "membership_added",
        format!("Your access to {pkg_name} is in effect"),
        format!(
            "You are now a member of {pkg_name}'s group, until {}.\n\nThe grant:",
            at(a.r.ends_at)
        ),
    );
    a.tell(out, To::Requester, false, m);
    reminders::remind(a, out);
}

/// The membership could not be put in place: the requester and the admins.
pub(super) fn failed(a: &About, out: &mut Vec<NewNotification>) {
    let (r, pkg_name) = (a.r, a.pkg_name);
    let why = r
        .close_reason
        .as_deref()
        .unwrap_or("the directory refused it");
    let m = a.msg(
        "grant_failed",
        format!("Access to {pkg_name} could not be given"),
        format!(
            "{}'s membership for {pkg_name} could not be put in place: {why}.\n\nThe grant:",
            r.requester.name
        ),
    );
    a.tell(out, To::RequesterAndAdmins, true, m);
}

/// Expired, revoked, or ended by someone else: the requester.
pub(super) fn ended(a: &About, out: &mut Vec<NewNotification>) {
    let (e, pkg_name, by) = (a.e, a.pkg_name, a.by());
    let (word, how) = match e.action {
        AuditAction::GrantExpired => ("expired", "Your time is up".to_string()),
        AuditAction::GrantRevoked => ("revoked", format!("{by} revoked it")),
        _ => ("ended", format!("{by} ended it")),
    };
    let reason =
        a.r.close_reason
            .as_deref()
            .map(|c| format!(" ({c})"))
            .unwrap_or_default();
    let m = a.msg(
        e.action.as_str(),
        format!("Your access to {pkg_name} {word}"),
        format!(
            "{how}{reason}: your membership for {pkg_name} is being removed. Ask again if you need more time.\n\nThe grant:"
        ),
    );
    a.tell(out, To::Requester, false, m);
}
