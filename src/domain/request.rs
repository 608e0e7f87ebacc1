//! Requests for access, their validation and the approval rules.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::ids::RequestId;
use super::package::{Package, format_duration};
use super::status::{RequestStatus, Transition};
pub use super::validation::{
    COMMENT_MAX, FieldError, JUSTIFICATION_MAX, JUSTIFICATION_MIN, NewRequestInput, START_SKEW,
    TICKET_MAX, ValidRequest, clean_comment, validate_new_request,
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRef {
    pub id: String,
    pub name: String,
    pub username: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Deny,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Deny => "deny",
        }
    }
    pub fn parse(s: &str) -> Option<Decision> {
        match s {
            "approve" => Some(Decision::Approve),
            "deny" => Some(Decision::Deny),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Approval {
    pub approver: UserRef,
    pub decision: Decision,
    pub comment: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub id: String,
    pub package: String,
    pub group_id: String,
    pub requester: UserRef,
    /// Who asked, when someone asked on the requester's behalf (an approver, an admin or a
    /// holder of the `requester_on_behalf` role); `None` when the requester asked.
    pub asked_by: Option<UserRef>,
    /// The requester's manager at request time, when the package lets managers approve.
    pub manager_id: Option<String>,
    pub status: RequestStatus,
    pub duration_minutes: i64,
    pub justification: String,
    pub ticket: Option<String>,
    /// The ticket's link, as the package's ticket validator gave it (http or https only).
    pub ticket_url: Option<String>,
    pub created_at: DateTime<Utc>,
    /// A later start the requester asked for; `None` means "as soon as approved".
    pub requested_start: Option<DateTime<Utc>>,
    /// When a pending request times out.
    pub timeout_at: DateTime<Utc>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    /// When the directory confirmed the membership, and when it confirmed its removal.
    pub added_at: Option<DateTime<Utc>>,
    pub removed_at: Option<DateTime<Utc>>,
    /// Why a grant ended early, was revoked, or failed.
    pub close_reason: Option<String>,
    pub approvals: Vec<Approval>,
}

/// Why someone may not decide a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecisionRefused {
    #[error("You cannot decide your own request.")]
    OwnRequest,
    #[error(
        "You asked for this request on the requester's behalf, so someone else must decide it."
    )]
    AskedByYou,
    #[error("You are not an approver for this request.")]
    NotAnApprover,
    #[error("You have already decided this request.")]
    AlreadyDecided,
    #[error("This request is {0} and can no longer be decided.")]
    NotPending(RequestStatus),
    #[error("No decision came before the request's time limit ({0}); it can no longer be decided.")]
    TimedOut(String),
    #[error("{0}")]
    Invalid(String),
}

impl Request {
    /// A new request, waiting for approval, from validated input.
    pub fn pending(
        id: RequestId,
        pkg: &Package,
        requester: UserRef,
        manager_id: Option<String>,
        valid: ValidRequest,
        created_at: DateTime<Utc>,
    ) -> Request {
        Request {
            id: id.to_string(),
            package: pkg.id.clone(),
            group_id: pkg.group_id.clone(),
            requester,
            asked_by: None,
            manager_id,
            status: RequestStatus::Pending,
            duration_minutes: valid.duration_minutes,
            justification: valid.justification,
            ticket: valid.ticket,
            ticket_url: None,
            created_at,
            requested_start: valid.requested_start,
            timeout_at: valid.timeout_at,
            starts_at: None,
            ends_at: None,
            decided_at: None,
            added_at: None,
            removed_at: None,
            close_reason: None,
            approvals: vec![],
        }
    }

    /// Whether `user_id` asked for this request on its requester's behalf.
    pub fn was_asked_by(&self, user_id: &str) -> bool {
        self.asked_by.as_ref().is_some_and(|a| a.id == user_id)
    }

    /// Whether `user_id` is the requester or asked for the request on their behalf.
    pub fn involves(&self, user_id: &str) -> bool {
        self.requester.id == user_id || self.was_asked_by(user_id)
    }

    /// Whether the user with `user_id` may decide this request, given whether they hold the approver role.
    pub fn may_be_decided_by(&self, user_id: &str, is_role_approver: bool, pkg: &Package) -> bool {
        user_id != self.requester.id
            && !self.was_asked_by(user_id)
            && (is_role_approver
                || (pkg.manager_may_approve && self.manager_id.as_deref() == Some(user_id)))
    }

    /// Whether the user may decide this request at `now`: not their own, their role, still
    /// pending and before its time limit (the scheduler may not have timed it out yet), not
    /// decided by them already.
    pub fn check_decider(
        &self,
        user_id: &str,
        is_role_approver: bool,
        pkg: &Package,
        now: DateTime<Utc>,
    ) -> Result<(), DecisionRefused> {
        self.check_decision(&self.approvals, user_id, is_role_approver, pkg, || {
            if self.status != RequestStatus::Pending {
                return Err(DecisionRefused::NotPending(self.status));
            }
            if now >= self.timeout_at {
                return Err(DecisionRefused::TimedOut(
                    self.timeout_at.format("%Y-%m-%d %H:%M UTC").to_string(),
                ));
            }
            Ok(())
        })
    }

    /// The checks of a decision about this request, or about an extension of its grant, in
    /// order: not the user's own, the user one of its deciders, `still_open` (what is decided
    /// can still be decided), and not already decided by them among `approvals`.
    pub(super) fn check_decision(
        &self,
        approvals: &[Approval],
        user_id: &str,
        is_role_approver: bool,
        pkg: &Package,
        still_open: impl FnOnce() -> Result<(), DecisionRefused>,
    ) -> Result<(), DecisionRefused> {
        if user_id == self.requester.id {
            return Err(DecisionRefused::OwnRequest);
        }
        if self.was_asked_by(user_id) {
            return Err(DecisionRefused::AskedByYou);
        }
        if !self.may_be_decided_by(user_id, is_role_approver, pkg) {
            return Err(DecisionRefused::NotAnApprover);
        }
        still_open()?;
        if approvals.iter().any(|a| a.approver.id == user_id) {
            return Err(DecisionRefused::AlreadyDecided);
        }
        Ok(())
    }

    /// The count of approvals recorded so far.
    pub fn approval_count(&self) -> u32 {
        approvals_in(&self.approvals)
    }

    /// Records an approval (already checked with [`Request::check_decider`]). Returns the transition it
    /// completes, if the required number of approvals is now reached, and sets the access window.
    ///
    /// `shorten_to_minutes` lets the approver shorten (never lengthen) the duration.
    pub fn approve(
        &mut self,
        approval: Approval,
        pkg: &Package,
        shorten_to_minutes: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<Option<Transition>, DecisionRefused> {
        if let Some(minutes) = shorten_to_minutes {
            if minutes > self.duration_minutes {
                return Err(DecisionRefused::Invalid(format!(
                    "An approver may shorten the duration but not lengthen it beyond the {} minutes requested.",
                    self.duration_minutes
                )));
            }
            if minutes < pkg.min_duration.num_minutes() {
                return Err(DecisionRefused::Invalid(format!(
                    "The duration cannot be shorter than {}.",
                    format_duration(pkg.min_duration)
                )));
            }
            self.duration_minutes = minutes;
        }
        self.approvals.push(approval);
        if self.approval_count() < pkg.approvals_required.max(1) {
            return Ok(None);
        }
        self.approved(now).map(Some)
    }

    /// Records an approval by a package's auto-approval rule, which counts as every approval
    /// the package needs (the configuration refuses a rule that counts as fewer); returns the
    /// transition and sets the access window.
    pub fn approve_by_rule(
        &mut self,
        approval: Approval,
        now: DateTime<Utc>,
    ) -> Result<Transition, DecisionRefused> {
        if self.status != RequestStatus::Pending {
            return Err(DecisionRefused::NotPending(self.status));
        }
        self.approvals.push(approval);
        self.approved(now)
    }

    /// The approvals are complete: the access window opens now or at the requested start.
    fn approved(&mut self, now: DateTime<Utc>) -> Result<Transition, DecisionRefused> {
        let start = match self.requested_start {
            Some(at) if at > now => at,
            _ => now,
        };
        self.decided_at = Some(now);
        self.starts_at = Some(start);
        self.ends_at = Some(start + Duration::minutes(self.duration_minutes));
        let t = Transition::Approve {
            starts_now: start <= now,
        };
        self.status = self
            .status
            .apply(t)
            .map_err(|e| DecisionRefused::Invalid(e.to_string()))?;
        Ok(t)
    }
}

/// How many of `approvals` approve.
pub(super) fn approvals_in(approvals: &[Approval]) -> u32 {
    approvals
        .iter()
        .filter(|a| a.decision == Decision::Approve)
        .count() as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::{now, pkg, user, valid};

    fn pending(requested_start: Option<DateTime<Utc>>) -> Request {
        Request::pending(
            RequestId::new(),
            &pkg(),
            user("dana"),
            Some("morgan".into()),
            valid(requested_start),
            now(),
        )
    }

    fn approval(id: &str) -> Approval {
        Approval {
            approver: user(id),
            decision: Decision::Approve,
            comment: None,
            at: now(),
        }
    }

    #[test]
    fn nobody_decides_their_own_request() {
        let r = pending(None);
        assert_eq!(
            r.check_decider("dana", true, &pkg(), now()),
            Err(DecisionRefused::OwnRequest)
        );
        assert_eq!(
            r.check_decider("alex", false, &pkg(), now()),
            Err(DecisionRefused::NotAnApprover)
        );
        assert_eq!(r.check_decider("alex", true, &pkg(), now()), Ok(()));
    }

    #[test]
    fn no_decision_at_or_after_the_time_limit() {
        let r = pending(None);
        let limit = r.timeout_at;
        assert_eq!(
            r.check_decider("alex", true, &pkg(), limit - Duration::seconds(1)),
            Ok(())
        );
        for at in [limit, limit + Duration::minutes(5)] {
            assert!(matches!(
                r.check_decider("alex", true, &pkg(), at),
                Err(DecisionRefused::TimedOut(_))
            ));
        }
    }

    #[test]
    fn manager_may_approve_only_when_the_package_says_so() {
        let r = pending(None);
        let mut p = pkg();
        assert_eq!(
            r.check_decider("morgan", false, &p, now()),
            Err(DecisionRefused::NotAnApprover)
        );
        p.manager_may_approve = true;
        assert_eq!(r.check_decider("morgan", false, &p, now()), Ok(()));
        assert_eq!(
            r.check_decider("someone-else", false, &p, now()),
            Err(DecisionRefused::NotAnApprover)
        );
    }

    #[test]
    fn approval_starts_the_clock_now() {
        let mut r = pending(None);
        let t = r
            .approve(approval("alex"), &pkg(), None, now() + Duration::minutes(5))
            .unwrap();
        assert_eq!(t, Some(Transition::Approve { starts_now: true }));
        assert_eq!(r.status, RequestStatus::Active);
        assert_eq!(r.starts_at, Some(now() + Duration::minutes(5)));
        assert_eq!(r.ends_at, Some(now() + Duration::minutes(125)));
        assert_eq!(
            r.check_decider("sam", true, &pkg(), now()),
            Err(DecisionRefused::NotPending(RequestStatus::Active))
        );
    }

    #[test]
    fn approval_of_a_later_start_waits() {
        let start = now() + Duration::hours(3);
        let mut r = pending(Some(start));
        let t = r.approve(approval("alex"), &pkg(), None, now()).unwrap();
        assert_eq!(t, Some(Transition::Approve { starts_now: false }));
        assert_eq!(r.status, RequestStatus::Approved);
        assert_eq!(
            (r.starts_at, r.ends_at),
            (Some(start), Some(start + Duration::hours(2)))
        );
    }

    #[test]
    fn a_late_approval_of_a_later_start_starts_now_with_the_full_duration() {
        let mut r = pending(Some(now() + Duration::hours(1)));
        let later = now() + Duration::hours(2);
        r.approve(approval("alex"), &pkg(), None, later).unwrap();
        assert_eq!(r.status, RequestStatus::Active);
        assert_eq!(r.ends_at, Some(later + Duration::hours(2)));
    }

    #[test]
    fn two_approvals_when_two_are_required() {
        let mut p = pkg();
        p.approvals_required = 2;
        let mut r = pending(None);
        assert_eq!(r.approve(approval("alex"), &p, None, now()).unwrap(), None);
        assert_eq!(r.status, RequestStatus::Pending);
        assert_eq!(
            r.check_decider("alex", true, &p, now()),
            Err(DecisionRefused::AlreadyDecided)
        );
        assert_eq!(
            r.approve(approval("sam"), &p, None, now()).unwrap(),
            Some(Transition::Approve { starts_now: true })
        );
        assert_eq!(r.status, RequestStatus::Active);
    }

    #[test]
    fn approvers_may_shorten_but_not_lengthen() {
        let mut r = pending(None);
        assert!(matches!(
            r.approve(approval("alex"), &pkg(), Some(121), now()),
            Err(DecisionRefused::Invalid(_))
        ));
        assert!(matches!(
            r.approve(approval("alex"), &pkg(), Some(10), now()),
            Err(DecisionRefused::Invalid(_))
        ));
        assert!(r.approvals.is_empty(), "a refused approval records nothing");
        r.approve(approval("alex"), &pkg(), Some(30), now())
            .unwrap();
        assert_eq!(r.duration_minutes, 30);
        assert_eq!(r.ends_at, Some(now() + Duration::minutes(30)));
    }

    #[test]
    fn comments() {
        assert_eq!(
            clean_comment(Some("  ok  "), false).unwrap().as_deref(),
            Some("ok")
        );
        assert_eq!(clean_comment(Some("   "), false).unwrap(), None);
        assert!(clean_comment(None, true).is_err());
        assert!(clean_comment(Some(&"x".repeat(1001)), false).is_err());
    }
}
