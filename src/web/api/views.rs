//! The API's JSON shapes, one `Serialize` struct per answer. Audit events use the service's
//! export record, so the API and the exports cannot drift apart.

use serde::Serialize;

use crate::auth::Principal;
use crate::domain::audit::timestamp;
use crate::domain::{Decision, Package, Request, RequestStatus, Role, UserRef};
use crate::service::EventRecord;

#[derive(Serialize)]
pub struct RequestView<'a> {
    pub id: &'a str,
    pub package: &'a str,
    pub group_id: &'a str,
    pub requester: &'a UserRef,
    pub status: RequestStatus,
    pub duration_minutes: i64,
    pub justification: &'a str,
    pub ticket: &'a Option<String>,
    pub created_at: String,
    pub requested_start: Option<String>,
    pub timeout_at: String,
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
    pub decided_at: Option<String>,
    pub close_reason: &'a Option<String>,
    pub approvals: Vec<ApprovalView<'a>>,
    pub membership: MembershipView,
}

#[derive(Serialize)]
pub struct ApprovalView<'a> {
    pub approver: &'a UserRef,
    /// `approved` or `denied`.
    pub decision: &'static str,
    pub comment: &'a Option<String>,
    pub at: String,
}

/// When the requester was put in the group and taken out, as the directory confirmed.
#[derive(Serialize)]
pub struct MembershipView {
    pub added_at: Option<String>,
    pub removed_at: Option<String>,
}

impl<'a> From<&'a Request> for RequestView<'a> {
    fn from(r: &'a Request) -> RequestView<'a> {
        RequestView {
            id: &r.id,
            package: &r.package,
            group_id: &r.group_id,
            requester: &r.requester,
            status: r.status,
            duration_minutes: r.duration_minutes,
            justification: &r.justification,
            ticket: &r.ticket,
            created_at: timestamp(r.created_at),
            requested_start: r.requested_start.map(timestamp),
            timeout_at: timestamp(r.timeout_at),
            starts_at: r.starts_at.map(timestamp),
            ends_at: r.ends_at.map(timestamp),
            decided_at: r.decided_at.map(timestamp),
            close_reason: &r.close_reason,
            approvals: r
                .approvals
                .iter()
                .map(|a| ApprovalView {
                    approver: &a.approver,
                    decision: match a.decision {
                        Decision::Approve => "approved",
                        Decision::Deny => "denied",
                    },
                    comment: &a.comment,
                    at: timestamp(a.at),
                })
                .collect(),
            membership: MembershipView {
                added_at: r.added_at.map(timestamp),
                removed_at: r.removed_at.map(timestamp),
            },
        }
    }
}

#[derive(Serialize)]
pub struct RequestList<'a> {
    pub requests: Vec<RequestView<'a>>,
}

#[derive(Serialize)]
pub struct EventList<'a> {
    pub events: Vec<EventRecord<'a>>,
    /// Pass as `cursor` for the next (older) page; `null` on the last page.
    pub next_cursor: Option<i64>,
}

#[derive(Serialize)]
pub struct MeView<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub username: &'a str,
    /// The portal roles: `approver`, `auditor`, `admin`.
    pub roles: Vec<&'static str>,
    /// The app role values the token carried, as issued.
    pub app_roles: &'a [String],
}

impl<'a> MeView<'a> {
    pub fn new(who: &'a Principal, roles: impl IntoIterator<Item = Role>) -> MeView<'a> {
        MeView {
            id: &who.user.id,
            name: &who.user.name,
            username: &who.user.username,
            roles: roles.into_iter().map(Role::as_str).collect(),
            app_roles: &who.raw_roles,
        }
    }
}

#[derive(Serialize)]
pub struct PackageView<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    pub group_id: &'a str,
    pub min_duration_minutes: i64,
    pub default_duration_minutes: i64,
    pub max_duration_minutes: i64,
    pub duration_presets_minutes: Vec<i64>,
    pub approvals_required: u32,
    pub ticket_required: bool,
    pub manager_may_approve: bool,
    pub approval_timeout_minutes: i64,
    /// Whether the caller is eligible to request it.
    pub may_request: bool,
}

impl<'a> PackageView<'a> {
    pub fn new(p: &'a Package, who: &Principal) -> PackageView<'a> {
        PackageView {
            id: &p.id,
            name: &p.name,
            description: &p.description,
            group_id: &p.group_id,
            min_duration_minutes: p.min_duration.num_minutes(),
            default_duration_minutes: p.default_duration.num_minutes(),
            max_duration_minutes: p.max_duration.num_minutes(),
            duration_presets_minutes: p.duration_presets.iter().map(|d| d.num_minutes()).collect(),
            approvals_required: p.approvals_required,
            ticket_required: p.ticket_required,
            manager_may_approve: p.manager_may_approve,
            approval_timeout_minutes: p.approval_timeout.num_minutes(),
            may_request: p.is_eligible(&who.raw_roles),
        }
    }
}

#[derive(Serialize)]
pub struct PackageList<'a> {
    pub packages: Vec<PackageView<'a>>,
}
