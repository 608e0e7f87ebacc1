//! A package's rules, checked on the server at each stage of a request's life: when it is asked
//! for, at every approval (and denial, for where the decider is), at every extension, and again
//! just before the membership is added. A refusal names its rule, is recorded in the audit trail
//! (`request_refused`, with the rule, the stage and the client address) and counted in
//! `jitgate_policy_refusals_total{package,rule}`.
//!
//! - `outer`: the rules that need the directory or the caller's connection (`trusted_networks`,
//!   `eligible_groups`, `deny_privileged`), checked before any write transaction;
//! - `quotas`: the rules that count grants (`max_active`, `max_hours_per_user`), checked inside
//!   the write transaction that would grant, so that two approvals at once cannot both slip in;
//! - `auto_approving`: approving by rule, after a request is created;
//! - `before_start`: the rules again just before a scheduled grant starts;
//! - `refusals`: recording a refusal;
//! - `ticket_validator`: the package's ticket system asked about a request's ticket, at request
//!   and at each approval, outside any transaction.

mod auto_approving;
mod before_start;
mod outer;
mod quotas;
mod refusals;
mod ticket_validator;

pub(in crate::service) use before_start::StartCheck;
pub(in crate::service) use quotas::Taking;
pub(in crate::service) use ticket_validator::TicketAsk;

use crate::auth::Principal;
use crate::domain::policy::Stage;
use crate::domain::{Package, Request, UserRef};

/// What is being checked: a stage of `requester`'s request for `pkg`, done by `actor` (the
/// requester asking or extending, an approver deciding; nobody just before the add).
#[derive(Clone, Copy)]
pub(in crate::service) struct Ask<'a> {
    pub(in crate::service) stage: Stage,
    pub(in crate::service) pkg: &'a Package,
    pub(in crate::service) actor: Option<&'a Principal>,
    pub(in crate::service) requester: &'a UserRef,
    pub(in crate::service) request: Option<&'a Request>,
}

impl<'a> Ask<'a> {
    /// A person asking for `pkg` (no request yet) for `requester`: themself, or someone they
    /// ask on behalf of (whom every rule about the holder is then checked against; the rules
    /// about the one connected, `trusted_networks` and the step-up, against the asker).
    pub(in crate::service) fn asking(
        who: &'a Principal,
        requester: &'a UserRef,
        pkg: &'a Package,
    ) -> Ask<'a> {
        Ask {
            stage: Stage::Request,
            pkg,
            actor: Some(who),
            requester,
            request: None,
        }
    }

    /// `stage` of request `r`, by `actor`.
    pub(in crate::service) fn on(
        stage: Stage,
        pkg: &'a Package,
        actor: Option<&'a Principal>,
        r: &'a Request,
    ) -> Ask<'a> {
        Ask {
            stage,
            pkg,
            actor,
            requester: &r.requester,
            request: Some(r),
        }
    }

    /// Whether the one acting is the one who would hold the grant.
    fn by_requester(&self) -> bool {
        self.actor.is_some_and(|a| a.user.id == self.requester.id)
    }
}

impl crate::service::Portal {
    /// The rules before `who` decides request `id` (or its extension) at `stage`, read outside
    /// any transaction (a request's requester and package never change). Nothing is checked
    /// for someone the decision itself refuses (not an approver, their own request or one they
    /// asked for, a token that cannot decide), so that a refusal is never recorded for them.
    pub(in crate::service) async fn rules_for_decision(
        &self,
        who: &Principal,
        id: &crate::domain::RequestId,
        stage: Stage,
    ) -> crate::error::AppResult<serde_json::Value> {
        let nothing = Ok(serde_json::json!({}));
        if who.requests_only() {
            return nothing;
        }
        let Some((r, pkg)) = self.request_for_rules(id).await? else {
            return nothing;
        };
        if r.involves(&who.user.id) || !self.may_view(who, &r) {
            return nothing;
        }
        let ask = Ask::on(stage, pkg, Some(who), &r);
        let mut notes = self.check_outer(&ask).await?;
        // Only an approval that can still happen asks the ticket system.
        if stage == Stage::Approval && r.status == crate::domain::RequestStatus::Pending {
            let checked = self
                .check_ticket(
                    &ask,
                    TicketAsk {
                        ticket: r.ticket.as_deref(),
                        duration_minutes: r.duration_minutes,
                        justification: &r.justification,
                    },
                )
                .await?;
            if let Some(note) = checked.note {
                notes["ticket_check"] = serde_json::json!(note);
            }
        }
        Ok(notes)
    }

    /// The rules before the requester extends their own grant `id` (read outside any
    /// transaction; nothing is checked for anyone else, whom the extension refuses).
    pub(in crate::service) async fn rules_for_extension(
        &self,
        who: &Principal,
        id: &crate::domain::RequestId,
    ) -> crate::error::AppResult<()> {
        let Some((r, pkg)) = self.request_for_rules(id).await? else {
            return Ok(());
        };
        if r.requester.id != who.user.id {
            return Ok(());
        }
        self.check_outer(&Ask::on(Stage::Extension, pkg, Some(who), &r))
            .await
            .map(|_| ())
    }

    /// Request `id` and its package, when both still exist (otherwise the change itself
    /// answers 404 or 409, and no rule is read).
    async fn request_for_rules(
        &self,
        id: &crate::domain::RequestId,
    ) -> crate::error::AppResult<Option<(Request, &Package)>> {
        let Some(r) = self.store.get_request(id.as_str()).await? else {
            return Ok(None);
        };
        Ok(self.package(&r.package).map(|pkg| (r, pkg)))
    }
}
