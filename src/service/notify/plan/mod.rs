//! Who hears what: every audit event is appended through [`Outbox::record`], which queues, in
//! the same transaction, the notifications the event calls for. One place holds the rules:
//!
//! | event | who | channels |
//! |---|---|---|
//! | request created, extension asked | the people who may decide it | e-mail, the package's chat |
//! | the same, through the requests API (device-code sign-ins) | the requester, with the address | e-mail |
//! | request asked on someone's behalf | that person (the requester) | e-mail |
//! | still undecided after `escalate_after` | the deciders and `escalate_to` | e-mail, chat |
//! | approved, denied, timed out; extension decided or lapsed | the requester | e-mail |
//! | membership in effect | the requester | e-mail |
//! | `remind_before` the end | the requester | e-mail |
//! | ended (by someone else), expired, revoked | the requester | e-mail |
//! | grant failed | the requester and the admins | e-mail, admin chat |
//! | directory error, drift found | the admins | e-mail, admin chat |
//! | break-glass used (access without approval) | the deciders and the admins | e-mail, the package's chat and the admin chat |
//! | break-glass unreviewed halfway to its due time; at its due time | the same (and `escalate_to` when due) | e-mail (and chat when due) |
//! | break-glass reviewed | the requester; "not justified": also the manager and the admins | e-mail, admin chat |
//! | access review started, reminders, closed | its reviewers (and each person attesting for themself; the admins at the close) | e-mail, the package's chat |
//! | every event | the generic webhook | signed JSON |
//!
//! Reminders and escalations are queued for later with a condition the sender checks when they
//! come due: a reminder of an end that moved, or an escalation of a request already decided, is
//! skipped.
//!
//! Here each event's action is matched to the file that words its messages: `requests.rs`
//! (asked for, with its escalation; approved, denied, timed out), `grants.rs` (in effect,
//! failed, ended), `reminders.rs` (the reminder before a grant's end), `extensions.rs` (asked
//! for, decided, lapsed), `alerts.rs` (the admins' alerts of directory failures and drift),
//! `reviews.rs` (access reviews) and
//! `break_glass.rs` (access taken without approval, its reminder and escalation, its review),
//! `webhook.rs` (the generic webhook's copy of every event); `in_your_name.rs` tells a requester
//! of every request and extension asked in their name through the requests API or on their
//! behalf by someone else (whom every later message to the requester is copied to). `recipients.rs` turns a message
//! and who hears it into the e-mail and chat notifications that carry it.

mod alerts;
mod break_glass;
mod credential;
mod extensions;
mod grants;
mod in_your_name;
mod recipients;
mod reminders;
mod requests;
mod reviews;
mod webhook;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use recipients::{Message, To};

use crate::config::Settings;
use crate::domain::{AuditAction, AuditEvent, NewAuditEvent, Package, Request, RequestStatus};
use crate::error::AppResult;
use crate::store::{NewNotification, StoreTx};

/// Queues notifications with the audit events that cause them.
#[derive(Clone)]
pub(crate) struct Outbox {
    settings: Arc<Settings>,
}

impl Outbox {
    pub(crate) fn new(settings: Arc<Settings>) -> Outbox {
        Outbox { settings }
    }

    /// Appends `e` (about `r`, when it is about a request) and queues what it calls for.
    pub(crate) async fn record(
        &self,
        tx: &mut dyn StoreTx,
        e: NewAuditEvent,
        r: Option<&Request>,
    ) -> AppResult<AuditEvent> {
        let at = e.at;
        let planned = match r {
            Some(r) => self.plan(&e, r),
            None => self.plan_system(&e),
        };
        let sealed = tx.append_event(e).await?;
        for n in planned {
            tx.enqueue_notification(&n, at).await?;
        }
        if let Some(n) = webhook::copy(&self.settings, &sealed) {
            tx.enqueue_notification(&n, at).await?;
        }
        Ok(sealed)
    }

    /// Queues the admins' alert that the client secret `label` ends at `end`, for the
    /// `threshold` (days) it has come within: once per secret and threshold.
    pub(crate) async fn secret_expiring(
        &self,
        tx: &mut dyn StoreTx,
        label: &str,
        end: DateTime<Utc>,
        threshold: i64,
        now: DateTime<Utc>,
    ) -> AppResult<usize> {
        let mut queued = 0;
        for n in credential::secret_expiring(&self.settings, label, end, threshold, now) {
            if tx.enqueue_notification(&n, now).await?.is_some() {
                queued += 1;
            }
        }
        Ok(queued)
    }

    /// Queues the admins' alert that the certificate `thumbprint` ends at `not_after`, for the
    /// `threshold` (days) it has come within: once per certificate and threshold.
    pub(crate) async fn credential_expiring(
        &self,
        tx: &mut dyn StoreTx,
        thumbprint: &str,
        subject: &str,
        not_after: DateTime<Utc>,
        threshold: i64,
        now: DateTime<Utc>,
    ) -> AppResult<usize> {
        let mut queued = 0;
        for n in credential::expiring(
            &self.settings,
            thumbprint,
            subject,
            not_after,
            threshold,
            now,
        ) {
            if tx.enqueue_notification(&n, now).await?.is_some() {
                queued += 1;
            }
        }
        Ok(queued)
    }

    /// Events about a request, each handed to the file that words its messages.
    fn plan(&self, e: &NewAuditEvent, r: &Request) -> Vec<NewNotification> {
        let pkg = self.settings.packages.iter().find(|p| p.id == r.package);
        let a = About {
            settings: &self.settings,
            e,
            r,
            pkg,
            pkg_name: pkg.map(|p| p.name.as_str()).unwrap_or(&r.package),
        };
        let d = &e.details;
        let mut out = Vec::new();
        match e.action {
            // Break-glass asks nobody and needs no approval told: its own alert says it all.
            AuditAction::RequestCreated | AuditAction::RequestApproved
                if d.get("break_glass") == Some(&json!(true)) => {}
            AuditAction::RequestCreated => requests::created(&a, &mut out),
            AuditAction::RequestApproved if r.status != RequestStatus::Pending => {
                requests::approved(&a, &mut out)
            }
            AuditAction::BreakGlassUsed => break_glass::used(&a, &mut out),
            AuditAction::BreakGlassReviewed => break_glass::reviewed(&a, &mut out),
            AuditAction::RequestDenied => requests::denied(&a, &mut out),
            AuditAction::RequestTimedOut => requests::timed_out(&a, &mut out),
            AuditAction::MembershipAdded => grants::in_effect(&a, &mut out),
            AuditAction::GrantFailed => grants::failed(&a, &mut out),
            AuditAction::GrantExpired | AuditAction::GrantRevoked | AuditAction::GrantEnded
                if e.actor_id != r.requester.id =>
            {
                grants::ended(&a, &mut out)
            }
            // Failed additions reach the admins as grant_failed; a removal that keeps failing
            // (access that is not taken away) or a revocation given up is worth an alert.
            AuditAction::DirectoryError
                if d.get("operation").and_then(Value::as_str) != Some("add")
                    && (d.get("final") == Some(&json!(true))
                        || d.get("attempt").and_then(Value::as_i64) >= Some(3)) =>
            {
                alerts::directory_error(&a, &mut out)
            }
            AuditAction::DriftDetected => alerts::drift(&a, &mut out),
            // A self-extension asks nobody: its approval follows at once.
            AuditAction::ExtensionRequested if d.get("self_extend") != Some(&json!(true)) => {
                extensions::requested(&a, &mut out)
            }
            AuditAction::ExtensionApproved | AuditAction::ExtensionDenied => {
                extensions::decided(&a, &mut out)
            }
            AuditAction::ExtensionLapsed => extensions::lapsed(&a, &mut out),
            _ => {}
        }
        // Asked through the requests API, which device-code sign-ins reach: the requester hears
        // of it, whoever else does.
        if matches!(
            e.action,
            AuditAction::RequestCreated | AuditAction::ExtensionRequested
        ) && d.get("via").and_then(Value::as_str) == Some(crate::service::VIA_REQUESTS_API)
        {
            in_your_name::asked(&a, &mut out);
        }
        // Asked by someone else on the requester's behalf: the requester hears of it.
        if e.action == AuditAction::RequestCreated
            && let Some(asker) = &r.asked_by
        {
            in_your_name::asked_on_behalf(&a, asker, &mut out);
        }
        out
    }

    /// The reminder `which` of campaign `c`: to its reviewers when `reviewers_waiting`, and to
    /// each of `waiting` (people who attest for themself and have not yet).
    pub(crate) fn review_reminder(
        &self,
        c: &crate::domain::review::Campaign,
        which: &str,
        reviewers_waiting: bool,
        waiting: &[String],
        now: DateTime<Utc>,
    ) -> Vec<NewNotification> {
        reviews::reminder(&self.settings, c, which, reviewers_waiting, waiting, now)
    }

    /// Events about no request: drift of someone who holds no grant, directory errors.
    fn plan_system(&self, e: &NewAuditEvent) -> Vec<NewNotification> {
        let mut out = Vec::new();
        if matches!(
            e.action,
            AuditAction::DriftDetected | AuditAction::DirectoryError
        ) {
            let m = alerts::alert(e, None);
            recipients::queue(&self.settings, &mut out, None, &To::Admins, true, m);
        }
        match e.action {
            AuditAction::ReviewStarted => reviews::started(&self.settings, e, &mut out),
            AuditAction::ReviewClosed => reviews::closed(&self.settings, e, &mut out),
            _ => {}
        }
        out
    }
}

/// An event about a request, with what every message about it draws on.
struct About<'a> {
    settings: &'a Settings,
    e: &'a NewAuditEvent,
    r: &'a Request,
    /// The request's package, while it is configured.
    pkg: Option<&'a Package>,
    /// The package's name (its id, once it is no longer configured).
    pkg_name: &'a str,
}

impl About<'_> {
    /// When the event happened.
    fn now(&self) -> DateTime<Utc> {
        self.e.at
    }

    /// Who did it.
    fn by(&self) -> &str {
        &self.e.actor_name
    }

    /// The event's detail `key` as text (empty without it).
    fn text(&self, key: &str) -> &str {
        self.e
            .details
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    /// The actor's comment, as a paragraph to end a message with (nothing without one).
    fn said(&self) -> String {
        let by = self.by();
        self.e
            .details
            .get("comment")
            .and_then(Value::as_str)
            .map(|c| format!("\n\n{by} wrote: {c}"))
            .unwrap_or_default()
    }

    /// A message sent now, told once per `event` and request.
    fn msg(&self, event: &str, subject: String, body: String) -> Message {
        Message {
            event: event.to_string(),
            key: format!("{event}:{}", self.r.id),
            subject,
            body,
            not_before: self.now(),
            only_if: None,
        }
    }

    /// Queues `m` for `to`: by e-mail, and in chat when `chat`.
    fn tell(&self, out: &mut Vec<NewNotification>, to: To, chat: bool, m: Message) {
        recipients::queue(self.settings, out, Some(self.r), &to, chat, m);
    }
}

/// An instant as messages write it (`2026-11-22 09:00 UTC`); empty for none.
fn at(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}
