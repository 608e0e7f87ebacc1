//! The rules again just before a scheduled grant starts (and its membership is added): a person
//! who left the eligible groups or took up a directory role since the approval is refused, and
//! the grant fails with the reason instead of starting. A directory that cannot be read holds
//! the start back until it can (fail closed).

use std::collections::HashMap;

use super::Ask;
use crate::domain::policy::{Refusal, Stage};
use crate::domain::{Request, RequestStatus, Transition};
use crate::error::AppResult;
use crate::service::{Portal, lifecycle};
use crate::store::{DueItem, DueKind, StoreTx};

/// What the rules said of each scheduled start: refused, or held back (unreadable).
pub(in crate::service) enum StartCheck {
    Refused(Refusal),
    HeldBack,
}

impl Portal {
    /// The rules for the starts among `items`, read before the transaction that starts them.
    pub(in crate::service) async fn check_starts(
        &self,
        items: &[DueItem],
    ) -> HashMap<String, StartCheck> {
        let mut out = HashMap::new();
        for item in items.iter().filter(|i| i.kind == DueKind::Start) {
            let Ok(Some(r)) = self.store.get_request(&item.request_id).await else {
                continue;
            };
            let Some(pkg) = self.package(&r.package) else {
                continue;
            };
            match self
                .outer_refusal(&Ask::on(Stage::BeforeAdd, pkg, None, &r))
                .await
            {
                Ok(Ok(_)) => {}
                Ok(Err(refusal)) => {
                    out.insert(r.id.clone(), StartCheck::Refused(refusal));
                }
                Err(e) => {
                    tracing::warn!(request = %r.id, error = %e, "a scheduled start waits: its rules cannot be checked");
                    out.insert(r.id.clone(), StartCheck::HeldBack);
                }
            }
        }
        out
    }

    /// Fails scheduled grant `r` instead of starting it, for `refusal` (inside `tx`).
    pub(in crate::service) async fn refuse_start(
        &self,
        tx: &mut dyn StoreTx,
        r: &mut Request,
        refusal: &Refusal,
    ) -> AppResult<bool> {
        if r.status != RequestStatus::Approved {
            return Ok(false);
        }
        let Some(pkg) = self.package(&r.package) else {
            return Ok(false);
        };
        let now = self.now();
        let reason = format!("Not started: {}", refusal.message);
        lifecycle::close(
            &self.outbox,
            tx,
            r,
            Transition::Fail,
            None,
            Some(reason),
            now,
        )
        .await?;
        self.record_refusal(tx, &Ask::on(Stage::BeforeAdd, pkg, None, r), refusal)
            .await?;
        Ok(true)
    }
}
