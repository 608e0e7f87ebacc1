//! Campaigns, their items and decisions, and what an item becomes when its campaign closes.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::UserRef;
use crate::domain::review_settings::{ReviewBy, ReviewDefault};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignStatus {
    /// Taking decisions until its due date.
    Open,
    /// Due, its results applied.
    Closed,
}

impl CampaignStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CampaignStatus::Open => "open",
            CampaignStatus::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<CampaignStatus> {
        match s {
            "open" => Some(CampaignStatus::Open),
            "closed" => Some(CampaignStatus::Closed),
            _ => None,
        }
    }
}

/// One review of one package for one period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Campaign {
    pub id: String,
    pub package: String,
    pub package_name: String,
    /// The period reviewed: grants held from `period_start` up to `period_end` (the start).
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub starts_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub status: CampaignStatus,
    pub closed_at: Option<DateTime<Utc>>,
    /// `review_by` and `review_default` as they were at the start.
    pub review_by: ReviewBy,
    pub review_default: ReviewDefault,
    /// How many of the reminders (see [`super::reminders`]) went out.
    pub reminders_sent: i64,
}

impl Campaign {
    /// Whether decisions are still taken at `now`.
    pub fn is_open_at(&self, now: DateTime<Utc>) -> bool {
        self.status == CampaignStatus::Open && now < self.due_at
    }
}

impl Serialize for ReviewBy {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl Serialize for ReviewDefault {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// What an item is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// The package's settings and Conditional Access posture, as `jitgate check` sees them.
    Settings,
    /// A standing member: keep or remove.
    Standing,
    /// A person who held a grant in the period: keep eligible or revoke.
    Person,
}

impl ItemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Settings => "settings",
            ItemKind::Standing => "standing",
            ItemKind::Person => "person",
        }
    }

    pub fn parse(s: &str) -> Option<ItemKind> {
        match s {
            "settings" => Some(ItemKind::Settings),
            "standing" => Some(ItemKind::Standing),
            "person" => Some(ItemKind::Person),
            _ => None,
        }
    }
}

/// A reviewer's answer, in Entra's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ReviewDecision {
    Approve,
    Deny,
    DontKnow,
}

impl ReviewDecision {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewDecision::Approve => "Approve",
            ReviewDecision::Deny => "Deny",
            ReviewDecision::DontKnow => "DontKnow",
        }
    }

    /// `Approve`, `Deny`, `DontKnow` (Entra's spelling; case and a "Don't know" accepted).
    pub fn parse(s: &str) -> Option<ReviewDecision> {
        let k: String = s
            .chars()
            .filter(|c| c.is_ascii_alphabetic())
            .collect::<String>()
            .to_ascii_lowercase();
        match k.as_str() {
            "approve" => Some(ReviewDecision::Approve),
            "deny" => Some(ReviewDecision::Deny),
            "dontknow" => Some(ReviewDecision::DontKnow),
            _ => None,
        }
    }

    /// In words, for pages and reports.
    pub fn label(self) -> &'static str {
        match self {
            ReviewDecision::Approve => "Approve",
            ReviewDecision::Deny => "Deny",
            ReviewDecision::DontKnow => "Don't know",
        }
    }
}

/// What closing a campaign made of an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The settings snapshot confirmed.
    Confirmed,
    /// Kept: a standing member stays, a person stays eligible.
    Kept,
    /// A standing member taken out of the standing members and the group.
    Removed,
    /// A person refused further requests until an admin restores them.
    Revoked,
    /// Flagged in the report, nothing changed: undecided or "Don't know" under
    /// `review_default = "report"`, settings not confirmed.
    Reported,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Confirmed => "confirmed",
            Outcome::Kept => "kept",
            Outcome::Removed => "removed",
            Outcome::Revoked => "revoked",
            Outcome::Reported => "reported",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        [
            Outcome::Confirmed,
            Outcome::Kept,
            Outcome::Removed,
            Outcome::Revoked,
            Outcome::Reported,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
    }
}

/// One thing a campaign asks its reviewers about.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReviewItem {
    pub id: i64,
    pub campaign_id: String,
    pub kind: ItemKind,
    /// The standing member's or person's object id (none for the settings).
    pub subject_id: Option<String>,
    /// How the subject is shown (a name, or the package's name for the settings).
    pub subject_name: String,
    /// What the reviewers look at: grants, hours, justifications and sign-ins of a person; the
    /// settings and posture snapshot.
    pub details: serde_json::Value,
    pub decision: Option<ReviewDecision>,
    pub justification: Option<String>,
    pub reviewer: Option<UserRef>,
    pub decided_at: Option<DateTime<Utc>>,
    pub outcome: Option<Outcome>,
    /// Whether the outcome came from `review_default` (nobody decided, or "Don't know").
    pub by_default: bool,
}

/// What an item becomes at close: from its decision, or, undecided or "Don't know", from the
/// campaign's `review_default`. A settings snapshot is confirmed only by an Approve; anything
/// else about it is reported (nothing in the file is changed by a review). Returns the outcome
/// and whether the default made it.
pub fn outcome_at_close(
    kind: ItemKind,
    decision: Option<ReviewDecision>,
    default: ReviewDefault,
) -> (Outcome, bool) {
    let denied = match kind {
        ItemKind::Settings => Outcome::Reported,
        ItemKind::Standing => Outcome::Removed,
        ItemKind::Person => Outcome::Revoked,
    };
    let approved = match kind {
        ItemKind::Settings => Outcome::Confirmed,
        _ => Outcome::Kept,
    };
    match decision {
        Some(ReviewDecision::Approve) => (approved, false),
        Some(ReviewDecision::Deny) => (denied, false),
        None | Some(ReviewDecision::DontKnow) => {
            let o = match (kind, default) {
                (ItemKind::Settings, _) | (_, ReviewDefault::Report) => Outcome::Reported,
                (_, ReviewDefault::Keep) => Outcome::Kept,
                (_, ReviewDefault::Remove) => denied,
            };
            (o, true)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_read_entras_words() {
        assert_eq!(
            ReviewDecision::parse("Approve"),
            Some(ReviewDecision::Approve)
        );
        assert_eq!(ReviewDecision::parse("deny"), Some(ReviewDecision::Deny));
        assert_eq!(
            ReviewDecision::parse("DontKnow"),
            Some(ReviewDecision::DontKnow)
        );
        assert_eq!(
            ReviewDecision::parse("Don't know"),
            Some(ReviewDecision::DontKnow)
        );
        assert_eq!(ReviewDecision::parse("maybe"), None);
        assert_eq!(ReviewDecision::parse(""), None);
    }

    #[test]
    fn decisions_decide_and_the_default_fills_in() {
        use ItemKind::*;
        use ReviewDecision::*;
        let d = ReviewDefault::Report;
        assert_eq!(
            outcome_at_close(Standing, Some(Deny), d),
            (Outcome::Removed, false)
        );
        assert_eq!(
            outcome_at_close(Person, Some(Deny), d),
            (Outcome::Revoked, false)
        );
        assert_eq!(
            outcome_at_close(Person, Some(Approve), d),
            (Outcome::Kept, false)
        );
        assert_eq!(
            outcome_at_close(Settings, Some(Approve), d),
            (Outcome::Confirmed, false)
        );
        assert_eq!(
            outcome_at_close(Settings, Some(Deny), d),
            (Outcome::Reported, false)
        );
        assert_eq!(outcome_at_close(Person, None, d), (Outcome::Reported, true));
        assert_eq!(
            outcome_at_close(Person, Some(DontKnow), d),
            (Outcome::Reported, true)
        );
        let keep = ReviewDefault::Keep;
        assert_eq!(
            outcome_at_close(Standing, None, keep),
            (Outcome::Kept, true)
        );
        let remove = ReviewDefault::Remove;
        assert_eq!(
            outcome_at_close(Standing, None, remove),
            (Outcome::Removed, true)
        );
        assert_eq!(
            outcome_at_close(Person, Some(DontKnow), remove),
            (Outcome::Revoked, true)
        );
        // The settings are never changed by a default: unconfirmed, they are reported.
        assert_eq!(
            outcome_at_close(Settings, None, remove),
            (Outcome::Reported, true)
        );
        assert_eq!(
            outcome_at_close(Settings, None, keep),
            (Outcome::Reported, true)
        );
    }

    #[test]
    fn names_round_trip() {
        for o in [
            Outcome::Confirmed,
            Outcome::Kept,
            Outcome::Removed,
            Outcome::Revoked,
            Outcome::Reported,
        ] {
            assert_eq!(Outcome::parse(o.as_str()), Some(o));
        }
        for k in [ItemKind::Settings, ItemKind::Standing, ItemKind::Person] {
            assert_eq!(ItemKind::parse(k.as_str()), Some(k));
        }
        for s in [CampaignStatus::Open, CampaignStatus::Closed] {
            assert_eq!(CampaignStatus::parse(s.as_str()), Some(s));
        }
    }
}
