//! The rules that count grants, checked in the write transaction that would grant (writes are
//! serialized, so two approvals at once cannot both take the last place): `max_active` when an
//! approval opens or schedules a grant, `max_hours_per_user` at the request, at each approval
//! and at each extension.

use chrono::{DateTime, Duration, Utc};

use super::Ask;
use crate::domain::policy::Refusal;
use crate::domain::policy::quota::Span;
use crate::domain::policy::slots::{self, Holder};
use crate::error::AppResult;
use crate::service::Portal;
use crate::store::StoreTx;

/// The time a grant would take: its window, or only how much more of it (an extension).
#[derive(Debug, Clone, Copy)]
pub(in crate::service) enum Taking {
    /// A new grant from `start` to `end`: it needs a place and counts in the hours.
    Grant {
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    },
    /// More time on a running grant: counts in the hours only.
    More(Duration),
}

impl Portal {
    /// The first quota `ask` taking `taking` would break, if any (read in `tx`).
    pub(in crate::service) async fn quota_refusal(
        &self,
        tx: &mut dyn StoreTx,
        ask: &Ask<'_>,
        taking: Taking,
    ) -> AppResult<Option<Refusal>> {
        let pkg = ask.pkg;
        let now = self.now();
        let own = ask.request.map(|r| r.id.as_str());
        // A break-glass grant is approved as it is asked for: it needs a place like any approval.
        let approving = matches!(
            ask.stage,
            crate::domain::policy::Stage::Approval | crate::domain::policy::Stage::BreakGlass
        );
        if let (Some(max), Taking::Grant { start, end }, true) = (pkg.max_active, taking, approving)
        {
            let holders: Vec<Holder> = tx
                .grant_spans(&pkg.id, None, now)
                .await?
                .into_iter()
                .filter(|g| Some(g.request_id.as_str()) != own)
                .map(|g| Holder {
                    name: g.name,
                    starts_at: g.starts_at,
                    ends_at: g.ends_at,
                })
                .collect();
            if let Err(r) = slots::check(max, &holders, start, end) {
                return Ok(Some(r));
            }
        }
        if let Some(quota) = pkg.max_hours_per_user {
            let spans: Vec<Span> = tx
                .grant_spans(&pkg.id, Some(&ask.requester.id), now - quota.window)
                .await?
                .into_iter()
                .filter(|g| Some(g.request_id.as_str()) != own || matches!(taking, Taking::More(_)))
                .map(|g| (g.starts_at, g.ends_at))
                .collect();
            let more = match taking {
                Taking::Grant { start, end } => end - start,
                Taking::More(d) => d,
            };
            if let Err(mut r) = quota.check(&spans, more, now) {
                if !ask.by_requester() {
                    r.message = format!(
                        "{} has reached this package's limit: {}",
                        ask.requester.name,
                        r.message.replacen("You have", "they have", 1)
                    );
                }
                return Ok(Some(r));
            }
        }
        Ok(None)
    }
}
