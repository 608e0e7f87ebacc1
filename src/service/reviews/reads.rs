//! Campaigns and their items as each person may see them, and a campaign's export.
//!
//! Admins, auditors and a package's reviewers see its campaigns whole; anyone else sees only
//! the items they attest for themself (a self-attestation). Nothing through the requests API.

use serde_json::{Value, json};

use crate::auth::Principal;
use crate::domain::Role;
use crate::domain::review::{Campaign, ItemKind, ReviewBy, ReviewItem, may_review};
use crate::error::{AppError, AppResult};
use crate::service::Portal;
use crate::service::audit::csv_cell;

/// A campaign as `who` sees it.
pub struct CampaignView {
    pub campaign: Campaign,
    /// The items `who` may see, in order.
    pub items: Vec<ItemView>,
    /// Whether `who` sees the whole campaign (and may export it).
    pub whole: bool,
    /// Whether decisions are still taken.
    pub open: bool,
}

/// An item, and whether the person looking may decide it now.
pub struct ItemView {
    pub item: ReviewItem,
    pub may_decide: bool,
}

/// A campaign exported: its file name, type and content.
pub struct ReviewExport {
    pub file_name: String,
    pub content_type: &'static str,
    pub body: String,
}

impl Portal {
    /// Whether `who` sees campaign `c` whole: admins, auditors, the package's reviewers.
    fn sees_whole(&self, who: &Principal, c: &Campaign) -> bool {
        self.has_role(who, Role::Admin)
            || self.has_role(who, Role::Auditor)
            || self
                .package(&c.package)
                .is_some_and(|p| self.is_package_reviewer(who, p))
    }

    /// The campaigns `who` may see, newest first (at most 200), each with how many of the items
    /// `who` may decide still wait for a decision.
    pub async fn review_campaigns(&self, who: &Principal) -> AppResult<Vec<(Campaign, usize)>> {
        self.require_portal_reach(who, "Access reviews")?;
        let mut out = Vec::new();
        for c in self.store.list_campaigns(None, 200).await? {
            let whole = self.sees_whole(who, &c);
            if !whole && c.review_by != ReviewBy::SelfAttest {
                continue;
            }
            let view = self.view(who, c, whole).await?;
            if !view.whole && view.items.is_empty() {
                continue;
            }
            let waiting = view
                .items
                .iter()
                .filter(|i| i.may_decide && i.item.decision.is_none())
                .count();
            out.push((view.campaign, waiting));
        }
        Ok(out)
    }

    /// Campaign `id` as `who` sees it.
    pub async fn review_campaign(&self, who: &Principal, id: &str) -> AppResult<CampaignView> {
        self.require_portal_reach(who, "Access reviews")?;
        let not_found = || AppError::NotFound("There is no such access review.".into());
        let c = self.store.get_campaign(id).await?.ok_or_else(not_found)?;
        let whole = self.sees_whole(who, &c);
        let view = self.view(who, c, whole).await?;
        if !view.whole && view.items.is_empty() {
            return Err(not_found());
        }
        Ok(view)
    }

    async fn view(&self, who: &Principal, c: Campaign, whole: bool) -> AppResult<CampaignView> {
        let open = c.is_open_at(self.now());
        let reviewer = self
            .package(&c.package)
            .is_some_and(|p| self.is_package_reviewer(who, p));
        let items = self
            .store
            .campaign_items(&c.id)
            .await?
            .into_iter()
            .filter(|i| {
                whole
                    || (c.review_by == ReviewBy::SelfAttest
                        && i.kind == ItemKind::Person
                        && i.subject_id
                            .as_deref()
                            .is_some_and(|s| s.eq_ignore_ascii_case(&who.user.id)))
            })
            .map(|item| ItemView {
                may_decide: open
                    && !who.requests_only()
                    && may_review(
                        item.kind,
                        item.subject_id.as_deref(),
                        &who.user.id,
                        reviewer,
                        c.review_by,
                    )
                    .is_ok(),
                item,
            })
            .collect();
        Ok(CampaignView {
            campaign: c,
            items,
            whole,
            open,
        })
    }

    /// Campaign `id` exported as `csv` or `json`, for admins, auditors and its reviewers.
    pub async fn export_review(
        &self,
        who: &Principal,
        id: &str,
        format: &str,
    ) -> AppResult<ReviewExport> {
        let view = self.review_campaign(who, id).await?;
        if !view.whole {
            return Err(AppError::Forbidden(
                "Exporting a review is for admins, auditors and its reviewers.".into(),
            ));
        }
        let c = &view.campaign;
        let base = format!(
            "access-review-{}-{}",
            c.package,
            c.starts_at.format("%Y-%m-%d")
        );
        match format {
            "json" => Ok(ReviewExport {
                file_name: format!("{base}.json"),
                content_type: "application/json",
                body: serde_json::to_string_pretty(&json!({
                    "campaign": c,
                    "items": view.items.iter().map(|i| &i.item).collect::<Vec<_>>(),
                }))
                .map_err(anyhow::Error::from)?,
            }),
            "csv" => Ok(ReviewExport {
                file_name: format!("{base}.csv"),
                content_type: "text/csv; charset=utf-8",
                body: csv(c, &view.items)?,
            }),
            other => Err(AppError::invalid_field(
                "format",
                format!(
                    "'{}' is not an export format: csv or json.",
                    other.chars().take(20).collect::<String>()
                ),
            )),
        }
    }
}

/// A short summary of what the reviewers looked at, for the CSV.
pub fn summary(item: &ReviewItem) -> String {
    let d = &item.details;
    match item.kind {
        ItemKind::Person => format!(
            "{} grant(s), {} in all, {} device-code sign-in(s)",
            d.get("grants")
                .and_then(Value::as_array)
                .map(|g| g.len())
                .unwrap_or(0),
            d.get("total").and_then(Value::as_str).unwrap_or("0m"),
            d.get("sign_ins").and_then(Value::as_i64).unwrap_or(0),
        ),
        ItemKind::Standing => d
            .get("username")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        ItemKind::Settings => d
            .pointer("/posture/detail")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
    }
}

fn csv(c: &Campaign, items: &[ItemView]) -> AppResult<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let time =
        |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| t.to_rfc3339()).unwrap_or_default();
    w.write_record([
        "campaign",
        "package",
        "period_start",
        "period_end",
        "due_at",
        "closed_at",
        "item",
        "kind",
        "subject_id",
        "subject_name",
        "summary",
        "decision",
        "justification",
        "reviewer",
        "decided_at",
        "outcome",
        "by_default",
    ])
    .map_err(anyhow::Error::from)?;
    for ItemView { item, .. } in items {
        w.write_record([
            c.id.clone(),
            csv_cell(&c.package),
            time(Some(c.period_start)),
            time(Some(c.period_end)),
            time(Some(c.due_at)),
            time(c.closed_at),
            item.id.to_string(),
            item.kind.as_str().to_string(),
            csv_cell(item.subject_id.as_deref().unwrap_or("")),
            csv_cell(&item.subject_name),
            csv_cell(&summary(item)),
            item.decision
                .map(|d| d.as_str().to_string())
                .unwrap_or_default(),
            csv_cell(item.justification.as_deref().unwrap_or("")),
            csv_cell(
                item.reviewer
                    .as_ref()
                    .map(|r| r.name.as_str())
                    .unwrap_or(""),
            ),
            time(item.decided_at),
            item.outcome
                .map(|o| o.as_str().to_string())
                .unwrap_or_default(),
            item.by_default.to_string(),
        ])
        .map_err(anyhow::Error::from)?;
    }
    let bytes = w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(String::from_utf8(bytes).map_err(anyhow::Error::from)?)
}
