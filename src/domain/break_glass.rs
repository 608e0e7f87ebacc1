//! A break-glass grant as jitgate keeps it: taken at once without approval, recorded with an
//! approver of record that says nobody approved, and reviewed afterwards by one of the
//! package's approvers ("justified" or "not justified", with a comment), never by the person
//! who used it.

use chrono::{DateTime, Utc};

use super::request::{Approval, Decision, Request, UserRef};
use super::validation::{COMMENT_MAX, FieldError};

/// The approver of record of a break-glass grant: not a person.
pub const APPROVER_ID: &str = "break-glass";

/// The approval a break-glass grant is recorded with: by [`APPROVER_ID`], saying nobody approved.
pub fn approval_of_record(at: DateTime<Utc>, review_due: DateTime<Utc>) -> Approval {
    Approval {
        approver: UserRef {
            id: APPROVER_ID.into(),
            name: "nobody (break-glass)".into(),
            username: APPROVER_ID.into(),
        },
        decision: Decision::Approve,
        comment: Some(format!(
            "Emergency access without approval (break-glass); an approver must review it by {}.",
            review_due.format("%Y-%m-%d %H:%M UTC")
        )),
        at,
    }
}

impl Request {
    /// Whether this grant was taken with break-glass (its approver of record).
    pub fn is_break_glass(&self) -> bool {
        self.approvals.iter().any(|a| a.approver.id == APPROVER_ID)
    }
}

/// An approver's verdict on a break-glass grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Justified,
    NotJustified,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Justified => "justified",
            Verdict::NotJustified => "not_justified",
        }
    }

    pub fn parse(s: &str) -> Option<Verdict> {
        match s.trim() {
            "justified" => Some(Verdict::Justified),
            "not_justified" | "not-justified" => Some(Verdict::NotJustified),
            _ => None,
        }
    }

    /// In words: "justified", "not justified".
    pub fn in_words(self) -> &'static str {
        match self {
            Verdict::Justified => "justified",
            Verdict::NotJustified => "not justified",
        }
    }
}

/// A review of a break-glass grant.
#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    pub reviewer: UserRef,
    pub verdict: Verdict,
    pub comment: String,
    pub at: DateTime<Utc>,
}

/// One use of break-glass: the grant, when it was taken, when its review is due, and the
/// review once made.
#[derive(Debug, Clone, PartialEq)]
pub struct BreakGlassUse {
    pub request_id: String,
    pub package: String,
    pub requester_id: String,
    pub used_at: DateTime<Utc>,
    pub review_due: DateTime<Utc>,
    pub review: Option<Review>,
}

impl BreakGlassUse {
    /// Whether its review is late at `now`.
    pub fn overdue(&self, now: DateTime<Utc>) -> bool {
        self.review.is_none() && now >= self.review_due
    }
}

/// Why someone may not review a break-glass grant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewRefused {
    #[error("You cannot review your own break-glass access: another approver must.")]
    OwnGrant,
    #[error("Only an approver of this package may review its break-glass access.")]
    NotAnApprover,
    #[error("This break-glass access was reviewed already.")]
    AlreadyReviewed,
}

/// Whether `reviewer` may review `used`: not the one who used it, one of the package's
/// approvers, and not reviewed yet.
pub fn check_reviewer(
    used: &BreakGlassUse,
    reviewer_id: &str,
    is_package_approver: bool,
) -> Result<(), ReviewRefused> {
    if reviewer_id.eq_ignore_ascii_case(&used.requester_id) {
        return Err(ReviewRefused::OwnGrant);
    }
    if !is_package_approver {
        return Err(ReviewRefused::NotAnApprover);
    }
    if used.review.is_some() {
        return Err(ReviewRefused::AlreadyReviewed);
    }
    Ok(())
}

/// A review's comment: required, trimmed, at most [`COMMENT_MAX`] characters, no control
/// characters but line breaks and tabs.
pub fn check_review_comment(raw: &str) -> Result<String, FieldError> {
    let c = raw.trim();
    if c.chars().filter(|c| !c.is_whitespace()).count() < 3 {
        return Err(FieldError::new(
            "comment",
            "Say why, in a comment: a review needs one.",
        ));
    }
    if c.chars().count() > COMMENT_MAX {
        return Err(FieldError::new(
            "comment",
            format!("The comment is too long (at most {COMMENT_MAX} characters)."),
        ));
    }
    if c.chars()
        .any(|ch| ch.is_control() && ch != '\n' && ch != '\t' && ch != '\r')
    {
        return Err(FieldError::new(
            "comment",
            "The comment contains control characters.",
        ));
    }
    Ok(c.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::now;

    fn used() -> BreakGlassUse {
        BreakGlassUse {
            request_id: "r1".into(),
            package: "device-code".into(),
            requester_id: "dana".into(),
            used_at: now(),
            review_due: now() + chrono::Duration::hours(24),
            review: None,
        }
    }

    #[test]
    fn only_another_approver_reviews_once() {
        let u = used();
        assert_eq!(
            check_reviewer(&u, "DANA", true),
            Err(ReviewRefused::OwnGrant)
        );
        assert_eq!(
            check_reviewer(&u, "riley", false),
            Err(ReviewRefused::NotAnApprover)
        );
        assert_eq!(check_reviewer(&u, "morgan", true), Ok(()));
        let mut done = u.clone();
        done.review = Some(Review {
            reviewer: crate::domain::fixtures::user("morgan"),
            verdict: Verdict::Justified,
            comment: "the queue was stuck".into(),
            at: now(),
        });
        assert_eq!(
            check_reviewer(&done, "sam", true),
            Err(ReviewRefused::AlreadyReviewed)
        );
        assert!(!done.overdue(now() + chrono::Duration::days(2)));
        assert!(u.overdue(now() + chrono::Duration::hours(24)));
        assert!(!u.overdue(now() + chrono::Duration::hours(23)));
    }

    #[test]
    fn a_review_needs_a_comment_and_a_known_verdict() {
        assert!(check_review_comment("  ").is_err());
        assert!(check_review_comment("ok").is_err());
        assert!(check_review_comment("bad\u{7}bell").is_err());
        assert!(check_review_comment(&"x".repeat(COMMENT_MAX + 1)).is_err());
        assert_eq!(
            check_review_comment(" the incident INC1 was real \n").unwrap(),
            "the incident INC1 was real"
        );
        assert_eq!(Verdict::parse("not_justified"), Some(Verdict::NotJustified));
        assert_eq!(Verdict::parse("justified"), Some(Verdict::Justified));
        assert_eq!(Verdict::parse("maybe"), None);
    }

    #[test]
    fn the_approver_of_record_marks_the_grant() {
        let mut r = Request::pending(
            crate::domain::RequestId::new(),
            &crate::domain::fixtures::pkg(),
            crate::domain::fixtures::user("dana"),
            None,
            crate::domain::fixtures::valid(None),
            now(),
        );
        assert!(!r.is_break_glass());
        r.approve_by_rule(approval_of_record(now(), now()), now())
            .unwrap();
        assert!(r.is_break_glass());
        assert_eq!(r.status, crate::domain::RequestStatus::Active);
    }
}
