//! Approving by rule: after a request is created, the package's `[[package.auto_approve]]`
//! rules are tried in order and the first that matches approves it, recorded as an approval by
//! `policy:<rule name>` with the facts the rule matched on, and told like a person's approval.
//! The request has passed every rule for asking; the quotas are counted again as for any
//! approval, and when one refuses (no place free, no hours left) the refusal is recorded and
//! the request waits for a person. A request asked with a token for the requests API (the one a
//! device-code sign-in, and so a phished one, can hold) is never approved by rule, nor is one
//! asked on someone else's behalf: a person decides it.

use chrono::Duration;
use serde_json::{Value, json};

use super::{Ask, Taking};
use crate::auth::Principal;
use crate::domain::policy::Stage;
use crate::domain::policy::auto_approve::{AutoApprove, Facts};
use crate::domain::{
    Approval, AuditAction, Decision, Package, Request, RequestId, RequestStatus, Transition,
    UserRef,
};
use crate::error::AppResult;
use crate::service::{Portal, event, lifecycle};

impl Portal {
    /// `r` approved by the first of its package's rules that matches, else as it is.
    pub(in crate::service) async fn try_auto_approve(
        &self,
        who: &Principal,
        r: Request,
    ) -> Request {
        let Some(pkg) = self.package(&r.package) else {
            return r;
        };
        if pkg.auto_approve.is_empty() || r.status != RequestStatus::Pending {
            return r;
        }
        if who.requests_only() {
            tracing::info!(request = %r.id, "asked through the requests API: no rule approves it, a person decides");
            return r;
        }
        if r.asked_by.is_some() {
            // The rules know the requester, not why someone else asked for them: a person
            // decides what is asked on someone's behalf (and neither the one who asked nor the
            // one it is for may be that person).
            tracing::info!(request = %r.id, "asked on someone's behalf: no rule approves it, a person decides");
            return r;
        }
        let now = self.now();
        let zone = &self.settings.server.time_zone;
        for rule in &pkg.auto_approve {
            let in_groups = rule.groups.is_empty()
                || match self
                    .directory
                    .member_groups_among(&r.requester.id, &rule.groups)
                    .await
                {
                    Ok(g) => !g.is_empty(),
                    Err(e) => {
                        tracing::warn!(request = %r.id, rule = %rule.name, error = %e, "could not read a rule's groups; the rule does not apply");
                        false
                    }
                };
            let facts = Facts {
                duration: Duration::minutes(r.duration_minutes),
                has_ticket: r.ticket.is_some(),
                in_groups,
                local: zone.local(now),
                time_zone: zone.name.clone(),
            };
            match rule.judge(&facts) {
                Ok(facts) => {
                    return match self.approve_by_rule(&r, pkg, rule, facts).await {
                        Ok(approved) => approved,
                        Err(e) => {
                            e.log();
                            tracing::warn!(request = %r.id, rule = %rule.name, error = %e, "approving by rule failed; the request waits for a person");
                            r
                        }
                    };
                }
                Err(why) => {
                    tracing::debug!(request = %r.id, rule = %rule.name, why, "rule does not apply")
                }
            }
        }
        r
    }

    async fn approve_by_rule(
        &self,
        pending: &Request,
        pkg: &Package,
        rule: &AutoApprove,
        facts: Value,
    ) -> AppResult<Request> {
        let now = self.now();
        let id = RequestId::parse(&pending.id).ok_or_else(|| {
            crate::error::AppError::NotFound(format!("There is no request '{}'.", pending.id))
        })?;
        let (mut tx, mut r) = self.begin_change(&id).await?;
        if r.status != RequestStatus::Pending {
            return Ok(r);
        }
        let by = UserRef {
            id: format!("policy:{}", rule.name),
            name: format!("rule {}", rule.name),
            username: format!("policy:{}", rule.name),
        };
        let approval = Approval {
            approver: by.clone(),
            decision: Decision::Approve,
            comment: Some(format!("Approved by rule {}.", rule.name)),
            at: now,
        };
        let transition = r.approve_by_rule(approval.clone(), now)?;
        let (start, end) = (r.starts_at.unwrap_or(now), r.ends_at.unwrap_or(now));
        let ask = Ask::on(Stage::Approval, pkg, None, &r);
        if let Some(refusal) = self
            .quota_refusal(&mut *tx, &ask, Taking::Grant { start, end })
            .await?
        {
            drop(tx);
            let ask = Ask::on(Stage::Approval, pkg, None, pending);
            let _ = self.refuse(&ask, refusal).await;
            return Ok(pending.clone());
        }
        tx.insert_approval(&r.id, &approval).await?;
        tx.update_request(&r, now).await?;
        let mut e = event(
            None,
            AuditAction::RequestApproved,
            &r,
            now,
            json!({
                "comment": approval.comment,
                "by_rule": rule.name,
                "rule_facts": facts,
                "approvals": rule.approvals,
                "approvals_required": pkg.approvals_required,
                "duration_minutes": r.duration_minutes,
                "starts_at": r.starts_at,
                "ends_at": r.ends_at,
            }),
        );
        e.actor_id = by.id.clone();
        e.actor_name = by.name.clone();
        self.outbox.record(&mut *tx, e, Some(&r)).await?;
        if transition == (Transition::Approve { starts_now: true }) {
            lifecycle::open_window(&self.outbox, &mut *tx, &r, now).await?;
        }
        tx.commit().await?;
        self.notify();
        tracing::info!(request = %r.id, rule = %rule.name, status = %r.status, "request approved by rule");
        Ok(r)
    }
}
