//! Who may decide an item of a campaign: its reviewers (the package's deciders, or its
//! `reviewers` groups), never about themself; with self-attestation, each person alone about
//! themself, while standing members and the settings stay with the reviewers.

use super::items::ItemKind;
use crate::domain::review_settings::ReviewBy;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReviewerRefusal {
    /// Not one of the package's reviewers.
    NotReviewer,
    /// The item is about the reviewer.
    OwnItem,
    /// Self-attestation: only the person the item is about answers it.
    OthersAttest,
}

impl ReviewerRefusal {
    pub fn message(&self) -> &'static str {
        match self {
            ReviewerRefusal::NotReviewer => {
                "Only the package's reviewers decide this item of its access review."
            }
            ReviewerRefusal::OwnItem => {
                "Nobody reviews themself: another reviewer decides this item."
            }
            ReviewerRefusal::OthersAttest => {
                "This review is a self-attestation: only the person it is about answers this item."
            }
        }
    }
}

/// Whether `reviewer_id` (one of the package's reviewers when `is_reviewer`) may decide an item
/// of `kind` about `subject_id` in a campaign reviewed `by`.
pub fn may_review(
    kind: ItemKind,
    subject_id: Option<&str>,
    reviewer_id: &str,
    is_reviewer: bool,
    by: ReviewBy,
) -> Result<(), ReviewerRefusal> {
    let own = subject_id.is_some_and(|s| s.eq_ignore_ascii_case(reviewer_id));
    if kind == ItemKind::Person && by == ReviewBy::SelfAttest {
        return if own {
            Ok(())
        } else {
            Err(ReviewerRefusal::OthersAttest)
        };
    }
    if !is_reviewer {
        return Err(ReviewerRefusal::NotReviewer);
    }
    if own {
        return Err(ReviewerRefusal::OwnItem);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reviewers_decide_others_never_themselves() {
        let by = ReviewBy::Deciders;
        assert_eq!(
            may_review(ItemKind::Person, Some("dana"), "morgan", true, by),
            Ok(())
        );
        assert_eq!(
            may_review(ItemKind::Person, Some("Morgan"), "morgan", true, by),
            Err(ReviewerRefusal::OwnItem)
        );
        assert_eq!(
            may_review(ItemKind::Person, Some("dana"), "riley", false, by),
            Err(ReviewerRefusal::NotReviewer)
        );
        assert_eq!(
            may_review(ItemKind::Standing, Some("device"), "morgan", true, by),
            Ok(())
        );
        assert_eq!(
            may_review(ItemKind::Settings, None, "riley", false, by),
            Err(ReviewerRefusal::NotReviewer)
        );
    }

    #[test]
    fn self_attestation_is_the_persons_own_and_nobody_elses() {
        let by = ReviewBy::SelfAttest;
        assert_eq!(
            may_review(ItemKind::Person, Some("dana"), "dana", false, by),
            Ok(())
        );
        assert_eq!(
            may_review(ItemKind::Person, Some("dana"), "morgan", true, by),
            Err(ReviewerRefusal::OthersAttest)
        );
        // Standing members and the settings stay with the reviewers.
        assert_eq!(
            may_review(ItemKind::Standing, Some("device"), "dana", false, by),
            Err(ReviewerRefusal::NotReviewer)
        );
        assert_eq!(
            may_review(ItemKind::Settings, None, "morgan", true, by),
            Ok(())
        );
    }
}
