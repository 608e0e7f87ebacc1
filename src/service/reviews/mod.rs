//! Access reviews: campaigns that recertify, per package and period, its standing members, the
//! people who held its grants and its settings (see [`crate::domain::review`]).
//!
//! This file holds who reviews a package and the standing members in force (the file's list
//! less those a review removed, while the file's list is unchanged). Beside it:
//! - `schedule.rs`: the scheduler's pass: campaigns started when due, reminders, closing;
//! - `gathering.rs`: what a new campaign asks about (settings snapshot, standing members,
//!   the people who held a grant in the period with their grants and sign-ins);
//! - `deciding.rs`: a reviewer's decision on one item;
//! - `closing.rs`: a due campaign closed, its results applied (overrides, removals through
//!   the directory outbox, revocations), each an audit event;
//! - `reads.rs`: campaigns and items as each person may see them, and their export;
//! - `revocations.rs`: people a review revoked, refused when they ask, and restored by admins.
//!
//! Imports run one way: `schedule.rs` uses `gathering.rs` and `closing.rs`; all use this file.

mod closing;
mod deciding;
mod gathering;
mod reads;
mod revocations;
mod schedule;

pub use reads::{CampaignView, ItemView, ReviewExport};

use serde_json::{Value, json};

use crate::auth::Principal;
use crate::domain::review::{Campaign, standing_hash};
use crate::domain::{AuditAction, NewAuditEvent, Package};
use crate::error::AppResult;
use crate::service::Portal;
use crate::store::StandingOverride;

impl Portal {
    /// Whether `who` reviews `pkg`: members of its `reviewers` groups when it names any, else
    /// its deciders (the approver role where it applies, its approver groups). Never through
    /// the requests API.
    pub fn is_package_reviewer(&self, who: &Principal, pkg: &Package) -> bool {
        if who.requests_only() {
            return false;
        }
        if pkg.review.reviewers.is_empty() {
            return self.is_package_approver(who, pkg);
        }
        pkg.review
            .reviewers
            .iter()
            .any(|g| who.groups.iter().any(|m| m.eq_ignore_ascii_case(g)))
    }

    /// The overrides of `pkg`'s standing members still in force: recorded while the file listed
    /// the members it lists now (an admin changing the list ends them).
    pub(crate) async fn overrides_in_force(
        &self,
        pkg: &Package,
    ) -> AppResult<Vec<StandingOverride>> {
        let hash = standing_hash(&pkg.standing_members);
        Ok(self
            .store
            .standing_overrides(Some(&pkg.id))
            .await?
            .into_iter()
            .filter(|o| o.file_hash == hash)
            .collect())
    }

    /// `pkg`'s standing members in force: the file's, less those a review removed.
    pub(crate) async fn standing_in_force(&self, pkg: &Package) -> AppResult<Vec<String>> {
        let removed = self.overrides_in_force(pkg).await?;
        Ok(pkg
            .standing_members
            .iter()
            .filter(|m| !removed.iter().any(|o| o.member_id.eq_ignore_ascii_case(m)))
            .cloned()
            .collect())
    }
}

/// An audit event about a campaign: by `actor` (the system when `None`), about `subject` (a
/// person or account) when it has one, with the campaign and package in its details.
pub(crate) fn review_event(
    actor: Option<&Principal>,
    action: AuditAction,
    c: &Campaign,
    subject: Option<&str>,
    at: chrono::DateTime<chrono::Utc>,
    mut details: Value,
) -> NewAuditEvent {
    if let Some(d) = details.as_object_mut() {
        d.insert("campaign".into(), json!(c.id));
        d.insert("package".into(), json!(c.package));
    }
    let (actor_id, actor_name) = match actor {
        Some(p) => (p.user.id.clone(), p.user.name.clone()),
        None => ("system".to_string(), "jitgate".to_string()),
    };
    NewAuditEvent {
        at,
        actor_id,
        actor_name,
        action,
        request_id: None,
        subject_id: subject.map(str::to_string),
        details,
        client_ip: actor.and_then(|p| p.client_ip.clone()),
        user_agent: actor.and_then(|p| p.user_agent.clone()),
    }
}
