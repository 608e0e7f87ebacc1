//! The pure core: what a request, a grant and its audit trail are, and the rules they follow.
//! No I/O here, and nothing from the rest of the crate.
//!
//! - `status`: the request lifecycle as a state machine;
//! - `request`: requests, their approvals and who may decide them;
//! - `extension`: extensions of a live grant;
//! - `validation`: checking what people submit, field by field;
//! - `break_glass`: a grant taken in an emergency without approval, and its review;
//! - `package`: an access package (one group and its policy);
//! - `durations`: durations as configuration spells them;
//! - `package_rules`: a package's rules in words, for the form, the API and the command line;
//! - `limits`: how often one person may ask for a package, and for how long one more waits;
//! - `policy/`: a package's rules on who may hold it, from where and how much (its own folder);
//! - `privileged`: whether holders of Entra directory roles may ask for a package;
//! - `ticket`: the form a package expects its tickets in (a pattern the whole ticket matches);
//! - `step_up`: a package's authentication context (step-up MFA) and the claims challenge for it;
//! - `review/`: access reviews: campaigns, their items, decisions and schedule;
//! - `review_settings`: a package's review settings (how often, by whom, the default);
//! - `sign_in`: device-code sign-ins as jitgate keeps them;
//! - `notification`: who is told what, through which channel;
//! - `ids`: identifiers parsed once at the edge;
//! - `audit/`: the keyed, anchored audit chain (its own folder, one file per part).

pub mod audit;
pub mod break_glass;
pub mod durations;
pub mod extension;
pub mod ids;
pub mod limits;
pub mod notification;
pub mod package;
pub mod package_rules;
pub mod policy;
pub mod privileged;
pub mod request;
pub mod review;
pub mod review_settings;
pub mod sign_in;
pub mod status;
pub mod step_up;
pub mod ticket;
pub mod validation;

pub use audit::{AuditAction, AuditEvent, NewAuditEvent};
pub use ids::RequestId;
pub use package::Package;
pub use request::{Approval, Decision, NewRequestInput, Request, UserRef};
pub use status::{RequestStatus, Transition, TransitionError};

/// A role granted through the `roles` claim of the user's token (Entra app roles).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Approver,
    Auditor,
    Admin,
    /// May ask for access on someone else's behalf (approvers and admins may too).
    RequesterOnBehalf,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Approver => "approver",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
            Role::RequesterOnBehalf => "requester_on_behalf",
        }
    }
}

/// What the domain's tests share: a fixed "now", an example package, users and a request's
/// validated input.
#[cfg(test)]
pub(crate) mod fixtures {
    use chrono::{DateTime, Duration, TimeZone, Utc};

    use super::Package;
    use super::request::{UserRef, ValidRequest};

    pub fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap()
    }

    pub fn pkg() -> Package {
        Package::example("device-code", "group")
    }

    /// The user `id`, named `id`, signing in as `id@example.com`.
    pub fn user(id: &str) -> UserRef {
        UserRef {
            id: id.into(),
            name: id.into(),
            username: format!("{id}@example.com"),
        }
    }

    /// Two hours asked for, starting at `requested_start` (or once approved), timing out a day
    /// from now.
    pub fn valid(requested_start: Option<DateTime<Utc>>) -> ValidRequest {
        ValidRequest {
            duration_minutes: 120,
            justification: "deploying the CI runner".into(),
            ticket: None,
            requested_start,
            timeout_at: now() + Duration::hours(24),
        }
    }
}
