//! Device-code sign-ins as jitgate keeps them: read from Entra's sign-in log, each tied to the
//! grant whose window it fell in (what the exemption was used for), or to none (someone blocked
//! by Conditional Access who may need an exemption).

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::package::Package;
use super::request::Request;

/// Entra's error code for a sign-in blocked by Conditional Access.
pub const BLOCKED_BY_CONDITIONAL_ACCESS: i64 = 53003;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceSignIn {
    /// The sign-in log entry's id.
    pub id: String,
    pub at: DateTime<Utc>,
    pub user_id: String,
    pub user_principal_name: String,
    pub app_id: String,
    pub app_name: String,
    pub ip_address: String,
    /// `success`, `failure` or `notApplied`, as Entra says.
    pub conditional_access: String,
    /// 0: signed in.
    pub error_code: i64,
    pub failure_reason: Option<String>,
    /// The grant whose window it fell in (never for a sign-in to jitgate itself).
    pub request_id: Option<String>,
    /// The application signed in to (the sign-in log's `resourceId`).
    pub resource_id: String,
    /// A sign-in to jitgate's own APIs (the requests API, which the device-code block excludes,
    /// or the portal's): how a token for jitgate is obtained, no use of an exemption.
    pub to_portal: bool,
}

impl DeviceSignIn {
    pub fn succeeded(&self) -> bool {
        self.error_code == 0
    }

    pub fn blocked(&self) -> bool {
        self.error_code == BLOCKED_BY_CONDITIONAL_ACCESS
    }

    /// "signed in", "blocked by Conditional Access", or Entra's reason.
    pub fn result(&self) -> String {
        if self.succeeded() {
            "signed in".into()
        } else if self.blocked() {
            "blocked by Conditional Access".into()
        } else {
            match &self.failure_reason {
                Some(r) => format!("failed ({}): {r}", self.error_code),
                None => format!("failed ({})", self.error_code),
            }
        }
    }
}

/// For a one-shot package (`end_after_first_sign_in`): the end a grant takes after its first
/// successful device-code sign-in at `first`, when that is earlier than its end now. Never
/// before `now` (the log may tell of the sign-in late: the grant then ends at once).
pub fn one_shot_end(
    r: &Request,
    pkg: &Package,
    first: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let after: Duration = pkg.end_after_first_sign_in?;
    let end = r.ends_at?;
    let shortened = (first + after).max(now);
    (shortened < end).then_some(shortened)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::{now, pkg};
    use crate::domain::ids::RequestId;
    use crate::domain::request::{UserRef, ValidRequest};

    fn grant() -> Request {
        let valid = ValidRequest {
            duration_minutes: 120,
            justification: "deploying the CI runner".into(),
            ticket: None,
            requested_start: None,
            timeout_at: now() + Duration::hours(24),
        };
        let user = UserRef {
            id: "dana".into(),
            name: "Dana".into(),
            username: "dana@example.com".into(),
        };
        let mut r = Request::pending(RequestId::new(), &pkg(), user, None, valid, now());
        r.starts_at = Some(now());
        r.ends_at = Some(now() + Duration::hours(2));
        r
    }

    #[test]
    fn one_shot_windows_end_after_the_first_sign_in() {
        let r = grant();
        let mut p = pkg();
        assert_eq!(
            one_shot_end(&r, &p, now(), now()),
            None,
            "not a one-shot package"
        );
        p.end_after_first_sign_in = Some(Duration::minutes(10));
        let first = now() + Duration::minutes(30);
        assert_eq!(
            one_shot_end(&r, &p, first, first + Duration::minutes(3)),
            Some(first + Duration::minutes(10))
        );
        // Learnt of late: it ends now, not in the past.
        let late = first + Duration::minutes(25);
        assert_eq!(one_shot_end(&r, &p, first, late), Some(late));
        // Never later than the end it has.
        let near_end = now() + Duration::minutes(115);
        assert_eq!(one_shot_end(&r, &p, near_end, near_end), None);
    }

    #[test]
    fn results_read_plainly() {
        let mut s = DeviceSignIn {
            id: "1".into(),
            at: now(),
            user_id: "dana".into(),
            user_principal_name: "dana@example.com".into(),
            app_id: "app".into(),
            app_name: "Azure CLI".into(),
            ip_address: "203.0.113.7".into(),
            conditional_access: "success".into(),
            error_code: 0,
            failure_reason: None,
            request_id: None,
            resource_id: "00000003-0000-0000-c000-000000000000".into(),
            to_portal: false,
        };
        assert_eq!(s.result(), "signed in");
        s.error_code = BLOCKED_BY_CONDITIONAL_ACCESS;
        assert_eq!(s.result(), "blocked by Conditional Access");
        s.error_code = 50126;
        s.failure_reason = Some("Invalid username or password.".into());
        assert_eq!(s.result(), "failed (50126): Invalid username or password.");
    }
}
