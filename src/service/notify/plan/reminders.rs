//! The reminder, the package's `remind_before` ahead of a grant's end, queued for then and
//! skipped if the end has moved by the time it comes due.

use serde_json::json;

use super::About;
use super::recipients::{Message, To};
use crate::domain::package::format_duration;
use crate::store::{NewNotification, ms};

/// The reminder before the end of the grant, when the package asks for one and there is time
/// for it.
pub(super) fn remind(a: &About, out: &mut Vec<NewNotification>) {
    let (r, pkg_name) = (a.r, a.pkg_name);
    let (Some(before), Some(end)) = (a.pkg.and_then(|p| p.remind_before), r.ends_at) else {
        return;
    };
    let due = end - before;
    if due <= a.now() {
        return;
    }
    let m = Message {
        event: "reminder".into(),
        key: format!("reminder:{}:{}", r.id, ms(end)),
        subject: format!(
            "Your access to {pkg_name} ends in {}",
            format_duration(before)
        ),
        body: format!(
            "Your grant of {pkg_name} ends at {}. If you need more time, extend it (it stays in effect while the extension is decided):",
            end.format("%Y-%m-%d %H:%M UTC")
        ),
        not_before: due,
        only_if: Some(json!({"status": "active", "ends_at": ms(end)})),
    };
    a.tell(out, To::Requester, false, m);
}
