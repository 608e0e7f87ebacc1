//! A package's access review settings, and the fingerprint of its standing members as the file lists
//! them (what an override recorded by a review is tied to).

use chrono::Duration;
use sha2::{Digest, Sha256};

/// Who reviews the people who held a grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewBy {
    /// The package's deciders (or its `reviewers` groups).
    Deciders,
    /// Each person attests for themself; standing members and the settings are reviewed by the
    /// deciders.
    SelfAttest,
}

impl ReviewBy {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewBy::Deciders => "deciders",
            ReviewBy::SelfAttest => "self",
        }
    }

    pub fn parse(s: &str) -> Option<ReviewBy> {
        match s.trim() {
            "deciders" => Some(ReviewBy::Deciders),
            "self" => Some(ReviewBy::SelfAttest),
            _ => None,
        }
    }
}

/// What an item nobody decided by the due date becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewDefault {
    /// Kept, as if approved.
    Keep,
    /// Removed (a standing member) or revoked (a person), as if denied.
    Remove,
    /// Flagged in the report; nothing changed.
    Report,
}

impl ReviewDefault {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewDefault::Keep => "keep",
            ReviewDefault::Remove => "remove",
            ReviewDefault::Report => "report",
        }
    }

    pub fn parse(s: &str) -> Option<ReviewDefault> {
        match s.trim() {
            "keep" => Some(ReviewDefault::Keep),
            "remove" => Some(ReviewDefault::Remove),
            "report" => Some(ReviewDefault::Report),
            _ => None,
        }
    }
}

/// `review_every`, `review_within`, `reviewers`, `review_by`, `review_default`.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewSettings {
    /// A campaign starts this long after the previous one started; `None`: never reviewed.
    pub every: Option<Duration>,
    /// A campaign is due this long after it starts.
    pub within: Duration,
    /// Entra group object ids (lower case) whose members (transitively) review; none: the
    /// package's deciders.
    pub reviewers: Vec<String>,
    pub by: ReviewBy,
    pub default: ReviewDefault,
}

impl Default for ReviewSettings {
    fn default() -> Self {
        ReviewSettings {
            every: Some(Duration::days(365)),
            within: Duration::days(14),
            reviewers: Vec::new(),
            by: ReviewBy::Deciders,
            default: ReviewDefault::Report,
        }
    }
}

/// The fingerprint of a standing-member list as the file has it (order and case ignored): an
/// override a review recorded holds while the file's list keeps this fingerprint, and lapses
/// once an admin changes the list.
pub fn standing_hash(members: &[String]) -> String {
    let mut ids: Vec<String> = members
        .iter()
        .map(|m| m.trim().to_ascii_lowercase())
        .collect();
    ids.sort();
    ids.dedup();
    hex::encode(Sha256::digest(ids.join(",").as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standing_hash_ignores_order_and_case_but_not_members() {
        let a = standing_hash(&["B".into(), "a".into()]);
        assert_eq!(a, standing_hash(&["a".into(), "b".into()]));
        assert_ne!(a, standing_hash(&["a".into()]));
        assert_ne!(a, standing_hash(&["a".into(), "b".into(), "c".into()]));
    }

    #[test]
    fn names_round_trip() {
        for b in [ReviewBy::Deciders, ReviewBy::SelfAttest] {
            assert_eq!(ReviewBy::parse(b.as_str()), Some(b));
        }
        for d in [
            ReviewDefault::Keep,
            ReviewDefault::Remove,
            ReviewDefault::Report,
        ] {
            assert_eq!(ReviewDefault::parse(d.as_str()), Some(d));
        }
        assert_eq!(ReviewBy::parse("managers"), None);
        assert_eq!(ReviewDefault::parse("delete"), None);
    }
}
