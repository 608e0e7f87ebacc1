//! The service's answers in the API's contract types (`crate::contract`), one conversion each.

use crate::auth::Principal;
use crate::contract;
use crate::domain::extension::{Extension, ExtensionStatus};
use crate::domain::package::format_duration;
use crate::domain::package_rules::rules_in_words;
use crate::domain::sign_in::DeviceSignIn;
use crate::domain::{Approval, Decision, Package, Request, RequestStatus, Role, UserRef};

pub fn person(u: &UserRef) -> contract::Person {
    contract::Person {
        id: u.id.clone(),
        name: u.name.clone(),
        username: u.username.clone(),
    }
}

pub fn status(s: RequestStatus) -> contract::Status {
    use contract::Status as S;
    match s {
        RequestStatus::Pending => S::Pending,
        RequestStatus::Approved => S::Approved,
        RequestStatus::Active => S::Active,
        RequestStatus::Denied => S::Denied,
        RequestStatus::Cancelled => S::Cancelled,
        RequestStatus::Expired => S::Expired,
        RequestStatus::Ended => S::Ended,
        RequestStatus::Revoked => S::Revoked,
        RequestStatus::TimedOut => S::TimedOut,
        RequestStatus::Failed => S::Failed,
    }
}

fn approval(a: &Approval) -> contract::Approval {
    contract::Approval {
        approver: person(&a.approver),
        decision: match a.decision {
            Decision::Approve => contract::Verdict::Approved,
            Decision::Deny => contract::Verdict::Denied,
        },
        comment: a.comment.clone(),
        at: a.at,
    }
}

pub fn request(r: &Request) -> contract::Request {
    contract::Request {
        id: r.id.clone(),
        package: r.package.clone(),
        group_id: r.group_id.clone(),
        requester: person(&r.requester),
        asked_by: r.asked_by.as_ref().map(person),
        status: status(r.status),
        duration_minutes: r.duration_minutes,
        justification: r.justification.clone(),
        ticket: r.ticket.clone(),
        ticket_url: r.ticket_url.clone(),
        created_at: r.created_at,
        requested_start: r.requested_start,
        timeout_at: r.timeout_at,
        starts_at: r.starts_at,
        ends_at: r.ends_at,
        decided_at: r.decided_at,
        close_reason: r.close_reason.clone(),
        approvals: r.approvals.iter().map(approval).collect(),
        membership: contract::Membership {
            added_at: r.added_at,
            removed_at: r.removed_at,
        },
        emergency: r.is_break_glass(),
    }
}

/// What became of each person named in an ask on others' behalf.
pub fn on_behalf(outcomes: &[crate::service::OnBehalfOutcome]) -> contract::OnBehalfResults {
    contract::OnBehalfResults {
        results: outcomes
            .iter()
            .map(|o| match &o.result {
                Ok(r) => contract::OnBehalfResult {
                    on_behalf_of: o.named.clone(),
                    status: 201,
                    request: Some(request(r)),
                    error: None,
                },
                Err(e) => {
                    e.log();
                    contract::OnBehalfResult {
                        on_behalf_of: o.named.clone(),
                        status: e.status().as_u16(),
                        request: None,
                        error: Some(e.body().error),
                    }
                }
            })
            .collect(),
    }
}

pub fn extension(x: &Extension) -> contract::Extension {
    contract::Extension {
        id: x.id.clone(),
        request_id: x.request_id.clone(),
        minutes: x.minutes,
        justification: x.justification.clone(),
        status: match x.status {
            ExtensionStatus::Pending => contract::ExtensionStatus::Pending,
            ExtensionStatus::Approved => contract::ExtensionStatus::Approved,
            ExtensionStatus::Denied => contract::ExtensionStatus::Denied,
            ExtensionStatus::Lapsed => contract::ExtensionStatus::Lapsed,
        },
        requested_at: x.requested_at,
        ends_before: x.ends_before,
        ends_after: x.ends_after,
        decided_at: x.decided_at,
        approvals: x.approvals.iter().map(approval).collect(),
    }
}

pub fn sign_in(s: &DeviceSignIn) -> contract::SignIn {
    contract::SignIn {
        id: s.id.clone(),
        at: s.at,
        user_id: s.user_id.clone(),
        user_principal_name: s.user_principal_name.clone(),
        app_id: s.app_id.clone(),
        app_name: s.app_name.clone(),
        ip_address: s.ip_address.clone(),
        conditional_access: s.conditional_access.clone(),
        error_code: s.error_code,
        failure_reason: s.failure_reason.clone(),
        request_id: s.request_id.clone(),
    }
}

pub fn me(who: &Principal, roles: impl IntoIterator<Item = Role>) -> contract::Me {
    contract::Me {
        reach: if who.requests_only() {
            "requests"
        } else {
            "portal"
        }
        .into(),
        id: who.user.id.clone(),
        name: who.user.name.clone(),
        username: who.user.username.clone(),
        roles: roles.into_iter().map(|r| r.as_str().to_string()).collect(),
        app_roles: who.raw_roles.clone(),
    }
}

pub fn package(p: &Package, who: &Principal, time_zone: &str) -> contract::Package {
    contract::Package {
        id: p.id.clone(),
        name: p.name.clone(),
        description: p.description.clone(),
        group_id: p.group_id.clone(),
        min_duration_minutes: p.min_duration.num_minutes(),
        default_duration_minutes: p.default_duration.num_minutes(),
        max_duration_minutes: p.max_duration.num_minutes(),
        duration_presets_minutes: p.duration_presets.iter().map(|d| d.num_minutes()).collect(),
        approvals_required: p.approvals_required,
        ticket_required: p.ticket_required,
        ticket_pattern: p.ticket_pattern.as_ref().map(|r| r.pattern().to_string()),
        ticket_hint: p.ticket_hint.clone(),
        ticket_validated: p.ticket_validator.is_some(),
        auth_context: p.auth_context.clone(),
        manager_may_approve: p.manager_may_approve,
        approval_timeout_minutes: p.approval_timeout.num_minutes(),
        self_extend: p.self_extend,
        end_after_first_sign_in_minutes: p.end_after_first_sign_in.map(|d| d.num_minutes()),
        may_request: p.is_eligible(&who.raw_roles),
        deny_privileged: p.deny_privileged,
        privileged_exception: p.deny_privileged && p.is_privileged_exception(&who.user.id),
        eligible_groups: p.eligible_groups.clone(),
        trusted_networks: p.trusted_networks.list(),
        max_active: p.max_active,
        max_hours_per_user: p.max_hours_per_user.map(|q| {
            format!(
                "{}/{}",
                format_duration(q.limit).replace(' ', ""),
                format_duration(q.window).replace(' ', "")
            )
        }),
        auto_approve: p
            .auto_approve
            .iter()
            .map(|r| contract::AutoApproveRule {
                name: r.name.clone(),
                groups: r.groups.clone(),
                max_duration_minutes: r.max_duration.map(|d| d.num_minutes()),
                hours: r.hours.as_ref().map(|h| h.as_str().to_string()),
                time_zone: time_zone.to_string(),
                ticket_required: r.ticket_required,
            })
            .collect(),
        break_glass: p.break_glass.as_ref().map(|b| contract::BreakGlassPolicy {
            groups: b.groups.clone(),
            max_minutes: b.max.num_minutes(),
            review_within_minutes: b.review_within.num_minutes(),
            per_user: b.per_user.describe().replace(' ', ""),
        }),
        rules: rules_in_words(p)
            .into_iter()
            .map(|(rule, text)| contract::PackageRule {
                rule: rule.to_string(),
                text,
            })
            .collect(),
    }
}

pub fn break_glass_use(u: &crate::domain::break_glass::BreakGlassUse) -> contract::BreakGlassUse {
    use crate::domain::break_glass::Verdict;
    contract::BreakGlassUse {
        request_id: u.request_id.clone(),
        package: u.package.clone(),
        requester_id: u.requester_id.clone(),
        used_at: u.used_at,
        review_due: u.review_due,
        review: u.review.as_ref().map(|r| contract::BreakGlassReview {
            reviewer: person(&r.reviewer),
            verdict: match r.verdict {
                Verdict::Justified => contract::BreakGlassVerdict::Justified,
                Verdict::NotJustified => contract::BreakGlassVerdict::NotJustified,
            },
            comment: r.comment.clone(),
            at: r.at,
        }),
    }
}
