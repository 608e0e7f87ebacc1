//! Recording a rule's refusal: an audit event `request_refused` (who acted, about whom, the
//! rule, the stage, the client address and the rule's facts) in a transaction of its own, a
//! count in `jitgate_policy_refusals_total`, and the error the caller answers with.

use serde_json::json;

use super::Ask;
use crate::domain::policy::Refusal;
use crate::domain::{AuditAction, NewAuditEvent};
use crate::error::{AppError, AppResult};
use crate::service::{Portal, VIA_REQUESTS_API};
use crate::store::StoreTx;

impl Portal {
    /// Records `refusal` of `ask` in a transaction of its own and answers with it.
    pub(in crate::service) async fn refuse(&self, ask: &Ask<'_>, refusal: Refusal) -> AppError {
        let recorded = async {
            let mut tx = self.store.begin().await?;
            self.record_refusal(&mut *tx, ask, &refusal).await?;
            tx.commit().await?;
            AppResult::Ok(())
        }
        .await;
        if let Err(e) = recorded {
            // The refusal stands whether or not it could be recorded.
            tracing::error!(error = %e, rule = refusal.rule.key(), "could not record a refusal");
        }
        AppError::refused(refusal)
    }

    /// Records `refusal` of `ask` in `tx` (which the caller commits).
    pub(in crate::service) async fn record_refusal(
        &self,
        tx: &mut dyn StoreTx,
        ask: &Ask<'_>,
        refusal: &Refusal,
    ) -> AppResult<()> {
        self.metrics.policy_refused(&ask.pkg.id, refusal.rule);
        let actor = ask.actor;
        tracing::warn!(
            package = %ask.pkg.id,
            rule = refusal.rule.key(),
            stage = ask.stage.as_str(),
            requester = %ask.requester.id,
            actor = actor.map(|a| a.user.id.as_str()).unwrap_or("jitgate"),
            "refused by a package rule"
        );
        let mut details = json!({
            "package": ask.pkg.id,
            "rule": refusal.rule.key(),
            "stage": ask.stage.as_str(),
            "message": refusal.message,
            "facts": refusal.facts,
            "client_ip": actor.and_then(|a| a.client_ip.clone()),
        });
        if actor.is_some_and(|a| a.requests_only()) {
            details["via"] = json!(VIA_REQUESTS_API);
        }
        let (actor_id, actor_name) = match actor {
            Some(a) => (a.user.id.clone(), a.user.name.clone()),
            None => ("system".to_string(), "jitgate".to_string()),
        };
        let e = NewAuditEvent {
            at: self.now(),
            actor_id,
            actor_name,
            action: AuditAction::RequestRefused,
            request_id: ask.request.map(|r| r.id.clone()),
            subject_id: Some(ask.requester.id.clone()),
            details,
            client_ip: actor.and_then(|a| a.client_ip.clone()),
            user_agent: actor.and_then(|a| a.user_agent.clone()),
        };
        self.outbox.record(tx, e, ask.request).await?;
        Ok(())
    }
}
