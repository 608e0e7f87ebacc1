//! How a request is shown: in lists and cards, and on its own page with its extensions and the
//! device-code sign-ins made during it.

use chrono::{DateTime, Utc};

use crate::domain::extension::{Extension, ExtensionStatus};
use crate::domain::{Approval, Decision, Request, RequestStatus, Role};
use crate::web::AppState;
use crate::web::pages::{minutes, relative, when};

/// A request as lists and cards show it.
pub struct RequestView {
    pub id: String,
    pub package: String,
    pub requester: String,
    pub requester_username: String,
    /// Who asked on the requester's behalf ("Name (upn)"), or empty.
    pub asked_by: String,
    pub status: String,
    pub duration: String,
    pub justification: String,
    pub ticket: String,
    /// The ticket's link from the ticket system (http or https only), or empty.
    pub ticket_url: String,
    pub created: String,
    pub age: String,
    pub starts: String,
    pub ends: String,
    pub ends_iso: String,
    pub decided_by: String,
    pub membership: String,
    pub reason: String,
    pub can_cancel: bool,
    pub can_end: bool,
    /// The requester's own active grant: it may be extended.
    pub can_extend: bool,
}

impl RequestView {
    pub fn new(
        app: &AppState,
        who: &crate::auth::Principal,
        r: &Request,
        now: DateTime<Utc>,
    ) -> RequestView {
        let own = r.requester.id == who.user.id;
        let decided_by = decisions(&r.approvals, true, |a| {
            format!(" ({})", relative(a.at, now))
        });
        let membership = match (r.added_at, r.removed_at) {
            (_, Some(t)) => format!("removed from the group {}", when(t)),
            (Some(t), None) => format!("in the group since {}", when(t)),
            (None, None) if r.status == RequestStatus::Active => "being added to the group…".into(),
            _ => String::new(),
        };
        let starts = match (r.starts_at, r.requested_start) {
            (Some(s), _) => when(s),
            (None, Some(s)) => format!("{} (asked for)", when(s)),
            (None, None) => "when approved".into(),
        };
        RequestView {
            id: r.id.clone(),
            package: app
                .portal
                .package(&r.package)
                .map_or(r.package.clone(), |p| p.name.clone()),
            requester: r.requester.name.clone(),
            requester_username: r.requester.username.clone(),
            asked_by: r
                .asked_by
                .as_ref()
                .map(|a| format!("{} ({})", a.name, a.username))
                .unwrap_or_default(),
            status: r.status.to_string(),
            duration: minutes(r.duration_minutes),
            justification: r.justification.clone(),
            ticket: r.ticket.clone().unwrap_or_default(),
            ticket_url: r
                .ticket_url
                .clone()
                .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
                .unwrap_or_default(),
            created: when(r.created_at),
            age: relative(r.created_at, now),
            starts,
            ends: r.ends_at.map(when).unwrap_or_default(),
            ends_iso: r
                .ends_at
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .unwrap_or_default(),
            decided_by,
            membership,
            reason: r.close_reason.clone().unwrap_or_default(),
            can_cancel: (own || r.was_asked_by(&who.user.id))
                && matches!(r.status, RequestStatus::Pending | RequestStatus::Approved),
            can_end: r.status == RequestStatus::Active
                && (own || r.was_asked_by(&who.user.id) || app.portal.has_role(who, Role::Admin)),
            can_extend: own
                && r.status == RequestStatus::Active
                && r.ends_at.is_some_and(|e| e > now),
        }
    }
}

/// An extension as the request's page lists it.
pub struct ExtensionRow {
    pub id: String,
    pub minutes: String,
    pub justification: String,
    pub status: String,
    pub asked: String,
    pub outcome: String,
}

impl ExtensionRow {
    pub fn new(x: &Extension, now: DateTime<Utc>) -> ExtensionRow {
        let decided = decisions(&x.approvals, false, |_| String::new());
        let outcome = match (x.status, x.ends_after) {
            (ExtensionStatus::Approved, Some(end)) if x.approvals.is_empty() => {
                format!("self-extended; now ends {}", when(end))
            }
            (ExtensionStatus::Approved, Some(end)) => format!("{decided}; now ends {}", when(end)),
            (ExtensionStatus::Lapsed, _) => "the grant ended before it was decided".into(),
            _ => decided,
        };
        ExtensionRow {
            id: x.id.clone(),
            minutes: minutes(x.minutes),
            justification: x.justification.clone(),
            status: x.status.as_str().into(),
            asked: relative(x.requested_at, now),
            outcome,
        }
    }
}

/// A device-code sign-in as the request's page lists it.
pub struct SignInRow {
    pub at: String,
    pub app: String,
    pub ip: String,
    pub result: String,
    pub ok: bool,
    /// Which grant it fell in, when listed as past use.
    pub request_id: String,
}

impl SignInRow {
    pub fn new(s: &crate::domain::sign_in::DeviceSignIn) -> SignInRow {
        SignInRow {
            at: when(s.at),
            app: s.app_name.clone(),
            ip: s.ip_address.clone(),
            result: s.result(),
            ok: s.succeeded(),
            request_id: s.request_id.clone().unwrap_or_default(),
        }
    }
}

/// Who decided, one entry per decision joined with " · ": "Approved by Ann" (or "approved",
/// without `capital`), then what `after` adds about it, then the comment if there is one.
fn decisions(approvals: &[Approval], capital: bool, after: impl Fn(&Approval) -> String) -> String {
    approvals
        .iter()
        .map(|a| {
            let verb = match (a.decision == Decision::Approve, capital) {
                (true, true) => "Approved",
                (true, false) => "approved",
                (false, true) => "Denied",
                (false, false) => "denied",
            };
            let decided = format!("{verb} by {}{}", a.approver.name, after(a));
            match &a.comment {
                Some(c) => format!("{decided}: “{c}”"),
                None => decided,
            }
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Duration};

    use super::decisions;
    use crate::domain::{Approval, Decision, UserRef};

    #[test]
    fn decisions_read_as_one_line() {
        let at = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let by = |name: &str, decision, comment: Option<&str>| Approval {
            approver: UserRef {
                id: name.to_lowercase(),
                name: name.into(),
                username: format!("{}@contoso.example", name.to_lowercase()),
            },
            decision,
            comment: comment.map(Into::into),
            at,
        };
        let list = [
            by("Ann", Decision::Approve, Some("ok")),
            by("Bob", Decision::Deny, None),
        ];
        let now = at + Duration::minutes(5);
        assert_eq!(
            decisions(&list, true, |a| format!(
                " ({})",
                super::relative(a.at, now)
            )),
            "Approved by Ann (5m ago): “ok” · Denied by Bob (5m ago)"
        );
        assert_eq!(
            decisions(&list, false, |_| String::new()),
            "approved by Ann: “ok” · denied by Bob"
        );
        assert_eq!(decisions(&[], true, |_| String::new()), "");
    }
}
