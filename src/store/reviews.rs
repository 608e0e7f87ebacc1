//! What access reviews keep: the [`ReviewStore`] reads and [`ReviewTx`] writes every store has
//! beside its own (the two are supertraits of [`Store`](super::Store) and
//! [`StoreTx`](super::StoreTx)), and the rows they trade in.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::StoreResult;
use crate::domain::review::{Campaign, ItemKind, Outcome, ReviewDecision, ReviewItem};
use crate::domain::{Request, UserRef};

/// An item to add to a campaign.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReviewItem {
    pub campaign_id: String,
    pub kind: ItemKind,
    pub subject_id: Option<String>,
    pub subject_name: String,
    pub details: serde_json::Value,
}

/// A standing member a review removed: no longer standing while the file's list of the
/// package's standing members keeps the fingerprint `file_hash`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StandingOverride {
    pub package: String,
    pub member_id: String,
    pub member_name: String,
    pub file_hash: String,
    pub campaign_id: String,
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// A person a review revoked for a package: refused further requests until restored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Revocation {
    pub package: String,
    pub user_id: String,
    pub user_name: String,
    pub campaign_id: String,
    pub reason: String,
    pub revoked_at: DateTime<Utc>,
    pub restored_at: Option<DateTime<Utc>>,
    pub restored_by: Option<String>,
    pub restore_reason: Option<String>,
}

#[async_trait]
pub trait ReviewStore: Send + Sync {
    /// Every package's first sight of its review settings (package, when).
    async fn review_schedules(&self) -> StoreResult<Vec<(String, DateTime<Utc>)>>;
    /// Campaigns, newest start first: of one package, or of all; at most `limit`.
    async fn list_campaigns(&self, package: Option<&str>, limit: i64)
    -> StoreResult<Vec<Campaign>>;
    /// Open campaigns, the first due first.
    async fn open_campaigns(&self) -> StoreResult<Vec<Campaign>>;
    async fn get_campaign(&self, id: &str) -> StoreResult<Option<Campaign>>;
    /// A campaign's items, in the order they were added.
    async fn campaign_items(&self, campaign_id: &str) -> StoreResult<Vec<ReviewItem>>;
    /// The package's grants (membership added) whose window overlaps `from`..`to`, oldest first,
    /// without their approvals.
    async fn grants_in_period(
        &self,
        package: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<Request>>;
    /// Standing members reviews removed: of one package, or of all.
    async fn standing_overrides(&self, package: Option<&str>)
    -> StoreResult<Vec<StandingOverride>>;
    /// Revocations by reviews, newest first: of one package or all, only those in force when
    /// `in_force`.
    async fn revocations(
        &self,
        package: Option<&str>,
        in_force: bool,
    ) -> StoreResult<Vec<Revocation>>;
}

#[async_trait]
pub trait ReviewTx: Send {
    /// Records `first_seen` as when the package's reviews were first configured, unless an
    /// earlier time is known.
    async fn note_review_schedule(
        &mut self,
        package: &str,
        first_seen: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// `Conflict` when the package already has a campaign starting then.
    async fn insert_campaign(&mut self, c: &Campaign) -> StoreResult<()>;
    async fn insert_review_item(&mut self, item: &NewReviewItem) -> StoreResult<i64>;
    async fn campaign_in_tx(&mut self, id: &str) -> StoreResult<Option<Campaign>>;
    async fn review_item(&mut self, id: i64) -> StoreResult<Option<ReviewItem>>;
    async fn items_in_tx(&mut self, campaign_id: &str) -> StoreResult<Vec<ReviewItem>>;
    async fn decide_review_item(
        &mut self,
        id: i64,
        decision: ReviewDecision,
        justification: &str,
        reviewer: &UserRef,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    async fn set_item_outcome(
        &mut self,
        id: i64,
        outcome: Outcome,
        by_default: bool,
    ) -> StoreResult<()>;
    async fn close_campaign(&mut self, id: &str, at: DateTime<Utc>) -> StoreResult<()>;
    async fn set_reminders_sent(&mut self, id: &str, n: i64) -> StoreResult<()>;
    /// Records (or replaces) the override of a standing member.
    async fn put_standing_override(&mut self, o: &StandingOverride) -> StoreResult<()>;
    /// Records (or renews) a revocation.
    async fn put_revocation(&mut self, r: &Revocation) -> StoreResult<()>;
    /// The package's revocation of `user_id` in force, if any.
    async fn revocation_in_force(
        &mut self,
        package: &str,
        user_id: &str,
    ) -> StoreResult<Option<Revocation>>;
    /// Ends the revocation in force; `false` when there was none.
    async fn restore_revocation(
        &mut self,
        package: &str,
        user_id: &str,
        by: &str,
        reason: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;
}
