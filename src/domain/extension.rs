//! Extensions of a live grant: more time without a gap. The requester asks while the grant is
//! active; approvers decide as they decide requests (unless the package lets requesters extend
//! themselves); an approval moves the end, and the membership is never removed in between. A
//! decision that comes after the end finds the grant ended: the extension lapses. A one-shot
//! package's first sign-in caps the grant at its one-shot end: from then on only an approver's
//! approval moves the end, and one that moves it past that end lifts the cap, on the record.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::package::{Package, format_duration};
use super::request::{Approval, Decision, DecisionRefused, Request, approvals_in};
use super::status::RequestStatus;
use super::validation::{FieldError, check_justification};

/// The shortest extension one may ask for, in minutes.
pub const EXTENSION_MIN_MINUTES: i64 = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExtensionStatus {
    /// Waiting for its approvals.
    Pending,
    /// The end moved.
    Approved,
    Denied,
    /// The grant ended before the extension was decided.
    Lapsed,
}

impl ExtensionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ExtensionStatus::Pending => "pending",
            ExtensionStatus::Approved => "approved",
            ExtensionStatus::Denied => "denied",
            ExtensionStatus::Lapsed => "lapsed",
        }
    }

    pub fn parse(s: &str) -> Option<ExtensionStatus> {
        [
            ExtensionStatus::Pending,
            ExtensionStatus::Approved,
            ExtensionStatus::Denied,
            ExtensionStatus::Lapsed,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// An extension asked for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Extension {
    pub id: String,
    pub request_id: String,
    pub minutes: i64,
    pub justification: String,
    pub status: ExtensionStatus,
    pub requested_at: DateTime<Utc>,
    /// The grant's end when it was asked for.
    pub ends_before: DateTime<Utc>,
    /// The end it moved to, once approved.
    pub ends_after: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub approvals: Vec<Approval>,
}

/// The one-shot end that caps a grant of `pkg` once its first successful device-code sign-in
/// (at `first_sign_in`) was seen: `end_after_first_sign_in` after it. `None` for a package that
/// is not one-shot, or before that sign-in.
pub fn one_shot_cap(pkg: &Package, first_sign_in: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    Some(first_sign_in? + pkg.end_after_first_sign_in?)
}

/// Whether an extension takes effect at once, without an approver: where the package lets
/// requesters extend themselves (`self_extend`), but never once a one-shot end caps the grant
/// (`cap`, see [`one_shot_cap`]): past it, only an approver moves the end.
pub fn takes_effect_at_once(pkg: &Package, cap: Option<DateTime<Utc>>) -> bool {
    pkg.self_extend && cap.is_none()
}

/// Checks an extension of `r` by `minutes`, asked by `user_id` at `now`: the requester's own
/// active grant, nothing else waiting, and the total from the start within the package's limit.
pub fn validate_extension(
    r: &Request,
    pkg: &Package,
    user_id: &str,
    minutes: i64,
    justification: &str,
    pending: bool,
    now: DateTime<Utc>,
) -> Result<(i64, String), ExtensionRefused> {
    if r.requester.id != user_id {
        return Err(ExtensionRefused::NotYours);
    }
    let (Some(start), Some(end)) = (r.starts_at, r.ends_at) else {
        return Err(ExtensionRefused::NotActive(r.status));
    };
    if r.status != RequestStatus::Active || end <= now {
        return Err(ExtensionRefused::NotActive(r.status));
    }
    if pending {
        return Err(ExtensionRefused::AlreadyAsked);
    }
    let mut errors = Vec::new();
    let longest = pkg.longest_grant();
    let room = (start + longest - end).num_minutes();
    if minutes < EXTENSION_MIN_MINUTES {
        errors.push(FieldError::new(
            "minutes",
            format!("An extension is at least {EXTENSION_MIN_MINUTES} minutes."),
        ));
    } else if minutes > room {
        errors.push(FieldError::new(
            "minutes",
            if room < EXTENSION_MIN_MINUTES {
                format!(
                    "This grant already lasts as long as {} allows ({} from its start).",
                    pkg.name,
                    format_duration(longest)
                )
            } else {
                format!(
                    "{} allows at most {} from the grant's start: at most {room} more minutes.",
                    pkg.name,
                    format_duration(longest)
                )
            },
        ));
    }
    let justification = check_justification(justification).map_err(|e| errors.push(e));
    match justification {
        Ok(j) if errors.is_empty() => Ok((minutes, j)),
        _ => Err(ExtensionRefused::Invalid(errors)),
    }
}

/// Why an extension cannot be asked for.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExtensionRefused {
    #[error("Only the requester can extend their grant.")]
    NotYours,
    #[error("Only an active grant can be extended; this one is {0}.")]
    NotActive(RequestStatus),
    #[error("An extension of this grant is already waiting for a decision.")]
    AlreadyAsked,
    #[error("The extension is not valid.")]
    Invalid(Vec<FieldError>),
}

impl Extension {
    pub fn approval_count(&self) -> u32 {
        approvals_in(&self.approvals)
    }

    /// Whether `user_id` may decide this extension of `r` now; when the grant has ended (or
    /// reached its end) the extension can only lapse.
    pub fn check_decider(
        &self,
        r: &Request,
        user_id: &str,
        is_package_approver: bool,
        pkg: &Package,
        now: DateTime<Utc>,
    ) -> Result<(), DecisionRefused> {
        r.check_decision(&self.approvals, user_id, is_package_approver, pkg, || {
            if self.status != ExtensionStatus::Pending {
                return Err(DecisionRefused::Invalid(format!(
                    "This extension is {} and can no longer be decided.",
                    self.status.as_str()
                )));
            }
            if self.has_lapsed(r, now) {
                return Err(DecisionRefused::Invalid(
                    "The grant ended before this extension was decided; it has lapsed.".into(),
                ));
            }
            Ok(())
        })
    }

    /// Whether the grant it extends has ended (or reached its end) while it waited.
    pub fn has_lapsed(&self, r: &Request, now: DateTime<Utc>) -> bool {
        r.status != RequestStatus::Active || r.ends_at.is_none_or(|end| end <= now)
    }

    /// Records a decision (already checked). An approval that completes the approvals needed
    /// moves `r`'s end and returns `true`; a denial ends the extension.
    pub fn decide(
        &mut self,
        r: &mut Request,
        approval: Approval,
        pkg: &Package,
        now: DateTime<Utc>,
    ) -> bool {
        let decision = approval.decision;
        self.approvals.push(approval);
        match decision {
            Decision::Deny => {
                self.status = ExtensionStatus::Denied;
                self.decided_at = Some(now);
                false
            }
            Decision::Approve if self.approval_count() >= pkg.approvals_required.max(1) => {
                self.grant(r, now);
                true
            }
            Decision::Approve => false,
        }
    }

    /// Whether, approved, it moved the grant's end past the one-shot end `cap` (lifting it).
    pub fn lifts(&self, cap: Option<DateTime<Utc>>) -> bool {
        self.status == ExtensionStatus::Approved
            && self.ends_after.zip(cap).is_some_and(|(end, cap)| end > cap)
    }

    /// Moves the end of `r` by the extension (approved, or self-extended).
    pub fn grant(&mut self, r: &mut Request, now: DateTime<Utc>) {
        let end = r.ends_at.unwrap_or(now) + Duration::minutes(self.minutes);
        r.ends_at = Some(end);
        self.status = ExtensionStatus::Approved;
        self.decided_at = Some(now);
        self.ends_after = Some(end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::{now, pkg, user, valid};
    use crate::domain::ids::RequestId;

    /// dana's grant: active from now for two hours (the package allows four).
    fn active() -> Request {
        let valid = valid(None);
        let mut r = Request::pending(RequestId::new(), &pkg(), user("dana"), None, valid, now());
        r.status = RequestStatus::Active;
        r.starts_at = Some(now());
        r.ends_at = Some(now() + Duration::hours(2));
        r
    }

    fn asked(r: &Request, minutes: i64) -> Extension {
        Extension {
            id: "x".into(),
            request_id: r.id.clone(),
            minutes,
            justification: "the migration is slower".into(),
            status: ExtensionStatus::Pending,
            requested_at: now(),
            ends_before: r.ends_at.unwrap(),
            ends_after: None,
            decided_at: None,
            approvals: vec![],
        }
    }

    fn approval(id: &str, decision: Decision) -> Approval {
        Approval {
            approver: user(id),
            decision,
            comment: None,
            at: now(),
        }
    }

    #[test]
    fn the_total_from_the_start_stays_within_the_package() {
        let r = active();
        let p = pkg();
        let why = "the migration is slower";
        assert_eq!(
            validate_extension(&r, &p, "dana", 120, why, false, now()),
            Ok((120, why.to_string()))
        );
        let Err(ExtensionRefused::Invalid(e)) =
            validate_extension(&r, &p, "dana", 121, why, false, now())
        else {
            panic!("over the limit")
        };
        assert_eq!(e[0].field, "minutes");
        assert!(e[0].message.contains("at most 120 more minutes"), "{e:?}");
        let mut p = pkg();
        p.max_extension = Some(Duration::hours(1));
        assert!(validate_extension(&r, &p, "dana", 180, why, false, now()).is_ok());
        assert!(validate_extension(&r, &p, "dana", 181, why, false, now()).is_err());
        assert!(matches!(
            validate_extension(&r, &p, "dana", 4, why, false, now()),
            Err(ExtensionRefused::Invalid(_))
        ));
        assert!(matches!(
            validate_extension(&r, &p, "dana", 30, "  ", false, now()),
            Err(ExtensionRefused::Invalid(_))
        ));
    }

    #[test]
    fn only_the_requesters_live_grant_without_another_waiting() {
        let r = active();
        let why = "the migration is slower";
        assert_eq!(
            validate_extension(&r, &pkg(), "alex", 30, why, false, now()),
            Err(ExtensionRefused::NotYours)
        );
        assert_eq!(
            validate_extension(&r, &pkg(), "dana", 30, why, true, now()),
            Err(ExtensionRefused::AlreadyAsked)
        );
        let late = r.ends_at.unwrap();
        assert_eq!(
            validate_extension(&r, &pkg(), "dana", 30, why, false, late),
            Err(ExtensionRefused::NotActive(RequestStatus::Active))
        );
        let mut ended = active();
        ended.status = RequestStatus::Ended;
        assert!(matches!(
            validate_extension(&ended, &pkg(), "dana", 30, why, false, now()),
            Err(ExtensionRefused::NotActive(RequestStatus::Ended))
        ));
    }

    #[test]
    fn an_approval_moves_the_end_a_denial_does_not() {
        let mut r = active();
        let end = r.ends_at.unwrap();
        let mut x = asked(&r, 30);
        assert_eq!(
            x.check_decider(&r, "dana", true, &pkg(), now()),
            Err(DecisionRefused::OwnRequest)
        );
        assert_eq!(
            x.check_decider(&r, "alex", false, &pkg(), now()),
            Err(DecisionRefused::NotAnApprover)
        );
        x.check_decider(&r, "alex", true, &pkg(), now()).unwrap();
        assert!(x.decide(&mut r, approval("alex", Decision::Approve), &pkg(), now()));
        assert_eq!(r.ends_at, Some(end + Duration::minutes(30)));
        assert_eq!(x.status, ExtensionStatus::Approved);
        assert_eq!(x.ends_after, r.ends_at);

        let mut y = asked(&r, 30);
        assert!(!y.decide(&mut r, approval("alex", Decision::Deny), &pkg(), now()));
        assert_eq!(y.status, ExtensionStatus::Denied);
        assert_eq!(r.ends_at, Some(end + Duration::minutes(30)));
    }

    #[test]
    fn two_approvals_when_two_are_required() {
        let mut p = pkg();
        p.approvals_required = 2;
        let mut r = active();
        let mut x = asked(&r, 30);
        assert!(!x.decide(&mut r, approval("alex", Decision::Approve), &p, now()));
        assert_eq!(x.status, ExtensionStatus::Pending);
        assert_eq!(
            x.check_decider(&r, "alex", true, &p, now()),
            Err(DecisionRefused::AlreadyDecided)
        );
        assert!(x.decide(&mut r, approval("sam", Decision::Approve), &p, now()));
    }

    #[test]
    fn a_decision_after_the_end_finds_it_lapsed() {
        let r = active();
        let x = asked(&r, 30);
        let end = r.ends_at.unwrap();
        assert!(!x.has_lapsed(&r, end - Duration::seconds(1)));
        assert!(x.has_lapsed(&r, end));
        assert!(matches!(
            x.check_decider(&r, "alex", true, &pkg(), end),
            Err(DecisionRefused::Invalid(_))
        ));
    }

    /// Issue 19, item 4: a one-shot package's first sign-in ends self-extension; an approver's
    /// approval past the one-shot end lifts it.
    #[test]
    fn after_a_one_shot_first_sign_in_only_an_approver_extends() {
        let mut p = pkg();
        p.self_extend = true;
        let first = now() + Duration::minutes(5);
        assert_eq!(
            one_shot_cap(&p, Some(first)),
            None,
            "not a one-shot package"
        );
        assert!(takes_effect_at_once(&p, one_shot_cap(&p, Some(first))));
        p.end_after_first_sign_in = Some(Duration::minutes(10));
        assert_eq!(one_shot_cap(&p, None), None, "no sign-in yet");
        assert!(takes_effect_at_once(&p, one_shot_cap(&p, None)));
        let cap = one_shot_cap(&p, Some(first));
        assert_eq!(cap, Some(first + Duration::minutes(10)));
        assert!(!takes_effect_at_once(&p, cap));
        p.self_extend = false;
        assert!(!takes_effect_at_once(&p, None));

        let mut r = active();
        r.ends_at = cap;
        let mut x = asked(&r, 30);
        assert!(!x.lifts(cap), "not approved yet");
        assert!(x.decide(&mut r, approval("alex", Decision::Approve), &p, now()));
        assert!(x.lifts(cap));
        assert!(!x.lifts(None));
        assert!(!x.lifts(Some(first + Duration::hours(1))));
    }

    #[test]
    fn statuses_round_trip() {
        for s in ["pending", "approved", "denied", "lapsed"] {
            assert_eq!(ExtensionStatus::parse(s).unwrap().as_str(), s);
        }
        assert_eq!(ExtensionStatus::parse("late"), None);
    }
}
