//! Asking for access: a new request, checked against the package (eligibility, the form's
//! rules, its step-up, one open request or grant per package, its ticket system, how often one
//! may ask, no revocation by an access review), with the requester's manager looked up where the package lets managers decide;
//! for oneself, or on someone else's behalf ([`OnBehalf`]: the rules about the holder are then
//! theirs). An emergency ask (break-glass, only for oneself) passes the same rules and
//! break-glass's own, and is then granted at once by `break_glass/`.

use serde_json::json;

use crate::auth::Principal;
use crate::domain::limits::AskKind;
use crate::domain::policy::{Refusal, Rule, Stage};
use crate::domain::request::validate_new_request;
use crate::domain::validation::FieldError;
use crate::domain::{AuditAction, NewRequestInput, Request, RequestId, RequestStatus, UserRef};
use crate::error::{AppError, AppResult};
use crate::service::Portal;
use crate::service::event;
use crate::service::policy::{Ask, Taking, TicketAsk};
use crate::store::RequestFilter;

impl Portal {
    #[tracing::instrument(skip_all, fields(user = %who.user.id, package = %input.package))]
    pub async fn create_request(
        &self,
        who: &Principal,
        input: NewRequestInput,
    ) -> AppResult<Request> {
        self.ask(who, input, None).await
    }

    /// A new request for `pkg` by `who`, for themself or, with `on_behalf`, for that person:
    /// every rule about the one who would hold the grant (eligibility, the directory's rules,
    /// one open request, the quotas, the ticket) is checked against them, the rules about the
    /// one connected (`trusted_networks`, the step-up) against `who`.
    pub(super) async fn ask(
        &self,
        who: &Principal,
        input: NewRequestInput,
        on_behalf: Option<&OnBehalf>,
    ) -> AppResult<Request> {
        let pkg = self.package(input.package.trim()).ok_or_else(|| {
            AppError::invalid_field(
                "package",
                format!("There is no package '{}'.", input.package.trim()),
            )
        })?;
        let (requester, roles) = match on_behalf {
            Some(b) => (&b.user, b.roles.as_slice()),
            None => (&who.user, who.raw_roles.as_slice()),
        };
        if !pkg.is_eligible(roles) {
            return Err(AppError::Forbidden(match on_behalf {
                Some(b) => format!(
                    "{} is not eligible to hold {}: only holders of the app role {} may.",
                    b.user.name,
                    pkg.name,
                    pkg.requester_role.as_deref().unwrap_or_default()
                ),
                None => format!("You are not eligible to request {}.", pkg.name),
            }));
        }
        let now = self.now();
        // Whose eligibility an access review may have revoked: the one who would hold it.
        let whose = match on_behalf {
            Some(b) => format!("{}'s", b.user.name),
            None => "your".to_string(),
        };
        let emergency = input.emergency;
        if emergency && on_behalf.is_some() {
            return Err(AppError::invalid_field(
                "emergency",
                "Break-glass is for oneself: it cannot be asked on someone else's behalf.",
            ));
        }
        let mut ask = Ask::asking(who, requester, pkg);
        if emergency {
            ask.stage = Stage::BreakGlass;
        }
        // Refused asks count toward the hour's limit too (each is an audit event): beyond it,
        // 429 before any rule is read, so that a flood of refused asks cannot flood the trail.
        // Checked again in the transaction that adds the request.
        let tx = self.store.begin().await?;
        let mut tx = self
            .within_ask_limit(tx, who, requester, pkg, AskKind::Request, None)
            .await?;
        // A person an access review revoked is refused until an admin restores them.
        self.refuse_if_revoked(&mut *tx, pkg, &requester.id, &whose)
            .await?;
        drop(tx);
        let valid = match validate_new_request(pkg, &input, now) {
            Ok(v) => v,
            Err(fields) => return Err(self.invalid_ask(&ask, &input, fields).await),
        };
        // The rules no sign-in can satisfy refuse first: nobody is sent to sign in again only
        // to be refused for where they ask from.
        let mut notes = self.check_outer(&ask).await?;
        if emergency {
            let more = self.check_break_glass(&ask).await?;
            notes["break_glass"] = more;
        }
        self.require_step_up(who, pkg)?;

        let open = RequestFilter {
            statuses: vec![
                RequestStatus::Pending,
                RequestStatus::Approved,
                RequestStatus::Active,
            ],
            package: Some(pkg.id.clone()),
            requester_id: Some(requester.id.clone()),
            ..Default::default()
        };
        if self.store.count_requests(&open).await? > 0 {
            return Err(open_conflict(&pkg.name, on_behalf));
        }
        let checked = self
            .check_ticket(
                &ask,
                TicketAsk {
                    ticket: valid.ticket.as_deref(),
                    duration_minutes: valid.duration_minutes,
                    justification: &valid.justification,
                },
            )
            .await?;

        let manager_id = if pkg.manager_may_approve {
            match self.directory.get_manager(&requester.id).await {
                Ok(m) => m.map(|m| m.id),
                Err(e) => {
                    tracing::warn!(user = %requester.id, error = %e, "could not look up the requester's manager");
                    None
                }
            }
        } else {
            None
        };

        let mut r = Request::pending(
            RequestId::new(),
            pkg,
            requester.clone(),
            manager_id,
            valid,
            crate::domain::audit::truncate_millis(now),
        );
        r.ticket_url = checked.url;
        r.asked_by = on_behalf.map(|_| who.user.clone());
        let created = json!({
            "package": r.package,
            "group_id": r.group_id,
            "duration_minutes": r.duration_minutes,
            "justification": r.justification,
            "ticket": r.ticket,
            "requested_start": r.requested_start,
            "manager_id": r.manager_id,
            "policy": notes,
            "ticket_url": r.ticket_url,
            "ticket_check": checked.note,
            "asked_by": r.asked_by.as_ref().map(person),
            "on_behalf_of": r.asked_by.as_ref().map(|_| person(&r.requester)),
        });
        if emergency {
            let mut created = created;
            created["break_glass"] = json!(true);
            return self.take_break_glass(&ask, r, created).await;
        }
        let tx = self.store.begin().await?;
        let mut tx = self
            .within_ask_limit(tx, who, requester, pkg, AskKind::Request, None)
            .await?;
        self.refuse_if_revoked(&mut *tx, pkg, &requester.id, &whose)
            .await?;
        let start = r.requested_start.unwrap_or(now).max(now);
        let taking = Taking::Grant {
            start,
            end: start + chrono::Duration::minutes(r.duration_minutes),
        };
        if let Some(refusal) = self.quota_refusal(&mut *tx, &ask, taking).await? {
            self.record_refusal(&mut *tx, &ask, &refusal).await?;
            tx.commit().await?;
            return Err(AppError::refused(refusal));
        }
        tx.insert_request(&r).await.map_err(|e| match e {
            crate::store::StoreError::Conflict(_) => open_conflict(&pkg.name, on_behalf),
            other => other.into(),
        })?;
        self.outbox
            .record(
                &mut *tx,
                event(Some(who), AuditAction::RequestCreated, &r, now, created),
                Some(&r),
            )
            .await?;
        tx.commit().await?;
        self.notify();
        tracing::info!(request = %r.id, package = %r.package, user = %r.requester.id, asked_by = %who.user.id, "request created");
        Ok(self.try_auto_approve(who, r).await)
    }
}

fn open_conflict(package: &str, on_behalf: Option<&OnBehalf>) -> AppError {
    AppError::Conflict(match on_behalf {
        Some(b) => format!(
            "{} already has an open request or an active grant for {package}.",
            b.user.name
        ),
        None => format!("You already have an open request or an active grant for {package}."),
    })
}

/// A person as the audit trail names them.
fn person(u: &UserRef) -> serde_json::Value {
    json!({"id": u.id, "name": u.name, "username": u.username})
}

/// Whom a request asked on someone's behalf is for: the person as the directory has them, and
/// the app roles they hold now (read from the directory, since they are not the one signed in).
#[derive(Debug, Clone)]
pub struct OnBehalf {
    pub user: UserRef,
    pub roles: Vec<String>,
}

impl Portal {
    /// What to answer for a request the form's rules refuse: a ticket of the wrong form is the
    /// package's `ticket_pattern` refusing (recorded like every rule's refusal); anything else
    /// is plain invalid input.
    async fn invalid_ask(
        &self,
        ask: &Ask<'_>,
        input: &NewRequestInput,
        fields: Vec<FieldError>,
    ) -> AppError {
        let wrong_form = ask.pkg.ticket_pattern.as_ref().and_then(|rule| {
            let t = input.ticket.as_deref()?.trim();
            (!t.is_empty() && !rule.accepts(t)).then(|| (t.to_string(), rule.pattern().to_string()))
        });
        let Some((ticket, pattern)) = wrong_form else {
            return AppError::invalid(fields);
        };
        let refused = AppError::refused_fields(Rule::TicketPattern, fields);
        let refusal = Refusal::new(
            Rule::TicketPattern,
            refused.to_string(),
            json!({"ticket": ticket.chars().take(100).collect::<String>(), "pattern": pattern}),
        );
        let _ = self.refuse(ask, refusal).await;
        refused
    }
}
