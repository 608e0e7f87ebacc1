//! Who hears what: every audit event is appended through [`Outbox::record`], which queues, in
//! the same transaction, the notifications the event calls for. One place holds the rules:
//!
//! | event | who | channels |
//! |---|---|---|
//! | request created, extension asked | the people who may decide it | e-mail, the package's chat |
//! | still undecided after `escalate_after` | the deciders and `escalate_to` | e-mail, chat |
//! | approved, denied, timed out; extension decided or lapsed | the requester | e-mail |
//! | membership in effect | the requester | e-mail |
//! | `remind_before` the end | the requester | e-mail |
//! | ended (by someone else), expired, revoked | the requester | e-mail |
//! | grant failed | the requester and the admins | e-mail, admin chat |
//! | directory error, drift found | the admins | e-mail, admin chat |
//! | every event | the generic webhook | signed JSON |
//!
//! Reminders and escalations are queued for later with a condition the sender checks when they
//! come due: a reminder of an end that moved, or an escalation of a request already decided, is
//! skipped.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use crate::config::Settings;
use crate::domain::notification::Channel;
use crate::domain::package::format_duration;
use crate::domain::{AuditAction, AuditEvent, NewAuditEvent, Request, RequestStatus};
use crate::error::AppResult;
use crate::store::{NewNotification, StoreTx, ms};

/// Queues notifications with the audit events that cause them.
#[derive(Clone)]
pub(crate) struct Outbox {
    settings: Arc<Settings>,
}

/// A message to people or a chat channel, before it is addressed.
struct Message {
    /// What it tells of: an audit action, or `reminder`, `escalation`.
    event: String,
    /// Told once per key (and channel).
    key: String,
    subject: String,
    body: String,
    not_before: DateTime<Utc>,
    /// Checked when it comes due: `{"status": "pending"}`, `{"status": "active", "ends_at": ms}`.
    only_if: Option<Value>,
}

/// Who hears a message.
enum To {
    /// The requester.
    Requester,
    /// The people who may decide the request, and these extra addresses.
    Deciders(Vec<String>),
    /// The holders of the admin role.
    Admins,
    /// The requester and the admins.
    RequesterAndAdmins,
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
        if let Some(n) = self.webhook(&sealed) {
            tx.enqueue_notification(&n, at).await?;
        }
        Ok(sealed)
    }

    /// The generic webhook's copy of `e`: every event, except the record of a webhook delivery
    /// that failed (it would only fail again, and again).
    fn webhook(&self, e: &AuditEvent) -> Option<NewNotification> {
        self.settings.notify.webhook.as_ref()?;
        let details: Value = serde_json::from_str(&e.details).unwrap_or(Value::Null);
        if e.action == AuditAction::NotificationFailed.as_str()
            && details.get("channel").and_then(Value::as_str) == Some("webhook")
        {
            return None;
        }
        let payload = json!({
            "type": format!("jitgate.{}", e.action),
            "timestamp": e.at,
            "data": {
                "seq": e.seq,
                "at": e.at,
                "action": e.action,
                "actor": {"id": e.actor_id, "name": e.actor_name},
                "request_id": e.request_id,
                "subject_id": e.subject_id,
                "details": details,
                "client_ip": e.client_ip,
                "hash": e.hash,
                "prev_hash": e.prev_hash,
            },
        });
        Some(NewNotification {
            dedupe_key: format!("webhook:{}", e.seq),
            event: e.action.clone(),
            request_id: e.request_id.clone(),
            channel: Channel::Webhook,
            audience: json!({"webhook": format!("evt_{}", e.seq)}),
            subject: e.action.clone(),
            body: payload.to_string(),
            not_before: e.at,
        })
    }

    /// Events about a request.
    fn plan(&self, e: &NewAuditEvent, r: &Request) -> Vec<NewNotification> {
        let pkg = self.settings.packages.iter().find(|p| p.id == r.package);
        let pkg_name = pkg.map(|p| p.name.as_str()).unwrap_or(&r.package);
        let now = e.at;
        let d = &e.details;
        let at = |t: Option<DateTime<Utc>>| {
            t.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_default()
        };
        let by = &e.actor_name;
        let said = d
            .get("comment")
            .and_then(Value::as_str)
            .map(|c| format!("\n\n{by} wrote: {c}"))
            .unwrap_or_default();
        let msg = |event: &str, subject: String, body: String| Message {
            event: event.to_string(),
            key: format!("{event}:{}", r.id),
            subject,
            body,
            not_before: now,
            only_if: None,
        };
        let mut out = Vec::new();
        match e.action {
            AuditAction::RequestCreated => {
                let ticket = r
                    .ticket
                    .as_deref()
                    .map(|t| format!("Ticket: {t}\n"))
                    .unwrap_or_default();
                let body = format!(
                    "{} ({}) asks for {pkg_name} for {}.\n\nJustification: {}\n{ticket}\nDecide it in jitgate:",
                    r.requester.name,
                    r.requester.username,
                    format_duration(Duration::minutes(r.duration_minutes)),
                    r.justification,
                );
                let subject = format!("{} asks for {pkg_name}", r.requester.name);
                self.tell(
                    &mut out,
                    r,
                    To::Deciders(Vec::new()),
                    true,
                    msg("request_created", subject.clone(), body.clone()),
                );
                if let Some(after) = pkg.and_then(|p| p.escalate_after) {
                    let extra = pkg.map(|p| p.escalate_to.clone()).unwrap_or_default();
                    let m = Message {
                        event: "escalation".into(),
                        key: format!("escalation:{}", r.id),
                        subject: format!("Still waiting: {subject}"),
                        body: format!(
                            "This request has waited {} without a decision. It times out at {}.\n\n{body}",
                            format_duration(after),
                            at(Some(r.timeout_at)),
                        ),
                        not_before: now + after,
                        only_if: Some(json!({"status": "pending"})),
                    };
                    self.tell(&mut out, r, To::Deciders(extra), true, m);
                }
            }
            AuditAction::RequestApproved if r.status != RequestStatus::Pending => {
                let when = match (r.starts_at, r.ends_at) {
                    (Some(s), Some(e)) if s <= now => {
                        format!("Your access starts now and ends at {}.", at(Some(e)))
                    }
                    (Some(s), _) => format!("Your access starts at {}.", at(Some(s))),
                    _ => String::new(),
                };
                let m = msg(
                    "request_approved",
                    format!("Your request for {pkg_name} was approved"),
                    format!(
                        "{by} approved your request for {pkg_name} ({}). {when}{said}\n\nThe request:",
                        format_duration(Duration::minutes(r.duration_minutes))
                    ),
                );
                self.tell(&mut out, r, To::Requester, false, m);
            }
            AuditAction::RequestDenied => {
                let m = msg(
                    "request_denied",
                    format!("Your request for {pkg_name} was denied"),
                    format!("{by} denied your request for {pkg_name}.{said}\n\nThe request:"),
                );
                self.tell(&mut out, r, To::Requester, false, m);
            }
            AuditAction::RequestTimedOut => {
                let m = msg(
                    "request_timed_out",
                    format!("Your request for {pkg_name} timed out"),
                    format!(
                        "Nobody decided your request for {pkg_name} before its time limit ({}). You may ask again.\n\nThe request:",
                        at(Some(r.timeout_at))
                    ),
                );
                self.tell(&mut out, r, To::Requester, false, m);
            }
            AuditAction::MembershipAdded => {
                let m = msg(
                    "membership_added",
                    format!("Your access to {pkg_name} is in effect"),
                    format!(
                        "You are now a member of {pkg_name}'s group, until {}.\n\nThe grant:",
                        at(r.ends_at)
                    ),
                );
                self.tell(&mut out, r, To::Requester, false, m);
                self.remind(
                    &mut out,
                    r,
                    pkg_name,
                    pkg.and_then(|p| p.remind_before),
                    now,
                );
            }
            AuditAction::GrantFailed => {
                let why = r
                    .close_reason
                    .as_deref()
                    .unwrap_or("the directory refused it");
                let m = msg(
                    "grant_failed",
                    format!("Access to {pkg_name} could not be given"),
                    format!(
                        "{}'s membership for {pkg_name} could not be put in place: {why}.\n\nThe grant:",
                        r.requester.name
                    ),
                );
                self.tell(&mut out, r, To::RequesterAndAdmins, true, m);
            }
            AuditAction::GrantExpired | AuditAction::GrantRevoked | AuditAction::GrantEnded
                if e.actor_id != r.requester.id =>
            {
                let (word, how) = match e.action {
                    AuditAction::GrantExpired => ("expired", "Your time is up".to_string()),
                    AuditAction::GrantRevoked => ("revoked", format!("{by} revoked it")),
                    _ => ("ended", format!("{by} ended it")),
                };
                let reason = r
                    .close_reason
                    .as_deref()
                    .map(|c| format!(" ({c})"))
                    .unwrap_or_default();
                let m = msg(
                    e.action.as_str(),
                    format!("Your access to {pkg_name} {word}"),
                    format!(
                        "{how}{reason}: your membership for {pkg_name} is being removed. Ask again if you need more time.\n\nThe grant:"
                    ),
                );
                self.tell(&mut out, r, To::Requester, false, m);
            }
            // Failed additions reach the admins as grant_failed; a removal that keeps failing
            // (access that is not taken away) or a revocation given up is worth an alert.
            AuditAction::DirectoryError
                if d.get("operation").and_then(Value::as_str) != Some("add")
                    && (d.get("final") == Some(&json!(true))
                        || d.get("attempt").and_then(Value::as_i64) >= Some(3)) =>
            {
                let mut m = self.alert(e, Some(r));
                m.key = format!(
                    "alert:directory_error:{}",
                    d.get("directory_op").and_then(Value::as_i64).unwrap_or(0)
                );
                self.tell(&mut out, r, To::Admins, true, m);
            }
            AuditAction::DriftDetected => {
                let m = self.alert(e, Some(r));
                self.tell(&mut out, r, To::Admins, true, m);
            }
            // A self-extension asks nobody: its approval follows at once.
            AuditAction::ExtensionRequested if d.get("self_extend") != Some(&json!(true)) => {
                let minutes = d.get("minutes").and_then(Value::as_i64).unwrap_or(0);
                let x = d.get("extension").and_then(Value::as_str).unwrap_or("");
                let m = Message {
                    event: "extension_requested".into(),
                    key: format!("extension_requested:{x}"),
                    subject: format!(
                        "{} asks to extend {pkg_name} by {}",
                        r.requester.name,
                        format_duration(Duration::minutes(minutes))
                    ),
                    body: format!(
                        "{} ({}) asks for {} more of {pkg_name}; the grant ends at {} now.\n\nJustification: {}\n\nDecide it in jitgate:",
                        r.requester.name,
                        r.requester.username,
                        format_duration(Duration::minutes(minutes)),
                        at(r.ends_at),
                        d.get("justification").and_then(Value::as_str).unwrap_or(""),
                    ),
                    not_before: now,
                    only_if: None,
                };
                self.tell(&mut out, r, To::Deciders(Vec::new()), true, m);
            }
            AuditAction::ExtensionApproved | AuditAction::ExtensionDenied => {
                let x = d.get("extension").and_then(Value::as_str).unwrap_or("");
                let approved = e.action == AuditAction::ExtensionApproved;
                let mut m = msg(
                    e.action.as_str(),
                    format!(
                        "Your extension of {pkg_name} was {}",
                        if approved { "approved" } else { "denied" }
                    ),
                    if approved {
                        format!(
                            "Your grant of {pkg_name} now ends at {}.{said}\n\nThe grant:",
                            at(r.ends_at)
                        )
                    } else {
                        format!(
                            "{by} denied your extension of {pkg_name}; the grant still ends at {}.{said}\n\nThe grant:",
                            at(r.ends_at)
                        )
                    },
                );
                m.key = format!("{}:{x}", e.action.as_str());
                if e.actor_id != r.requester.id {
                    self.tell(&mut out, r, To::Requester, false, m);
                }
                if approved {
                    self.remind(
                        &mut out,
                        r,
                        pkg_name,
                        pkg.and_then(|p| p.remind_before),
                        now,
                    );
                }
            }
            AuditAction::ExtensionLapsed => {
                let x = d.get("extension").and_then(Value::as_str).unwrap_or("");
                let mut m = msg(
                    "extension_lapsed",
                    format!("Your extension of {pkg_name} was not decided in time"),
                    format!(
                        "Your grant of {pkg_name} ended before anyone decided its extension.\n\nThe grant:"
                    ),
                );
                m.key = format!("extension_lapsed:{x}");
                self.tell(&mut out, r, To::Requester, false, m);
            }
            _ => {}
        }
        out
    }

    /// Events about no request: drift of someone who holds no grant, directory errors.
    fn plan_system(&self, e: &NewAuditEvent) -> Vec<NewNotification> {
        let mut out = Vec::new();
        if matches!(
            e.action,
            AuditAction::DriftDetected | AuditAction::DirectoryError
        ) {
            let m = self.alert(e, None);
            self.queue(&mut out, None, &To::Admins, true, m);
        }
        out
    }

    /// An alert for the admins about a directory failure or drift.
    fn alert(&self, e: &NewAuditEvent, r: Option<&Request>) -> Message {
        let who = r
            .map(|r| format!("{} ({})", r.requester.name, r.requester.username))
            .or_else(|| e.subject_id.clone())
            .unwrap_or_default();
        let (subject, what) = if e.action == AuditAction::DriftDetected {
            (
                "jitgate found a group member it did not add".to_string(),
                format!("Reconciliation found {who} in a group jitgate manages without a grant."),
            )
        } else {
            (
                "jitgate could not complete a directory change".to_string(),
                format!("A directory change for {who} failed."),
            )
        };
        let details = serde_json::to_string_pretty(&e.details).unwrap_or_default();
        let subject_key = r
            .map(|r| r.id.clone())
            .or_else(|| e.subject_id.clone())
            .unwrap_or_default();
        Message {
            event: e.action.as_str().into(),
            // Once a day per person and kind.
            key: format!(
                "alert:{}:{subject_key}:{}",
                e.action.as_str(),
                e.at.format("%Y-%m-%d")
            ),
            subject,
            body: format!("{what}\n\nDetails:\n{details}\n\nSee the Operations page:"),
            not_before: e.at,
            only_if: None,
        }
    }

    /// The reminder `before` the end of `r`, when there is time for it.
    fn remind(
        &self,
        out: &mut Vec<NewNotification>,
        r: &Request,
        pkg_name: &str,
        before: Option<Duration>,
        now: DateTime<Utc>,
    ) {
        let (Some(before), Some(end)) = (before, r.ends_at) else {
            return;
        };
        let due = end - before;
        if due <= now {
            return;
        }
        let m = Message {
            event: "reminder".into(),
            key: format!("reminder:{}:{}", r.id, ms(end)),
            subject: format!(
                "Your access to {pkg_name} ends in {}",
                format_duration(before)
            ),
            body: format!(
                "Your grant of {pkg_name} ends at {}. If you need more time, extend it (it stays in effect while the extension is decided):",
                end.format("%Y-%m-%d %H:%M UTC")
            ),
            not_before: due,
            only_if: Some(json!({"status": "active", "ends_at": ms(end)})),
        };
        self.tell(out, r, To::Requester, false, m);
    }

    fn tell(&self, out: &mut Vec<NewNotification>, r: &Request, to: To, chat: bool, m: Message) {
        self.queue(out, Some(r), &to, chat, m);
    }

    /// The e-mail (when configured) and chat messages (when `chat` and a channel is set) of `m`.
    fn queue(
        &self,
        out: &mut Vec<NewNotification>,
        r: Option<&Request>,
        to: &To,
        chat: bool,
        m: Message,
    ) {
        let notify = &self.settings.notify;
        let link = match r {
            Some(r) => self.link(&format!("requests/{}", r.id)),
            None => self.link("operations"),
        };
        let mut audience = match to {
            To::Requester => json!({"user": r.map(|r| &r.requester.id)}),
            To::Deciders(extra) => json!({"deciders": r.map(|r| &r.id), "addresses": extra}),
            To::Admins => json!({"admins": true}),
            To::RequesterAndAdmins => json!({"user": r.map(|r| &r.requester.id), "admins": true}),
        };
        if let Some(cond) = &m.only_if {
            audience["only_if"] = cond.clone();
        }
        audience["link"] = json!(link);
        let admin = matches!(to, To::Admins | To::RequesterAndAdmins);
        let base = |channel: Channel, audience: Value, body: String| NewNotification {
            dedupe_key: format!("{}:{}", m.key, channel.as_str()),
            event: m.event.clone(),
            request_id: r.map(|r| r.id.clone()),
            channel,
            audience,
            subject: m.subject.clone(),
            body,
            not_before: m.not_before,
        };
        if notify.email() {
            out.push(base(
                Channel::Email,
                audience.clone(),
                format!("{}\n{link}\n", m.body),
            ));
        }
        if !chat {
            return;
        }
        // A package's own channel for its requests; the global one for admin alerts and
        // packages without their own. The URL itself (a credential) stays in the settings.
        let pkg = r.map(|r| r.package.as_str()).filter(|_| !admin);
        for (channel, own, global) in [
            (Channel::Teams, &notify.package_teams, &notify.teams_webhook),
            (Channel::Slack, &notify.package_slack, &notify.slack_webhook),
        ] {
            let target = match pkg {
                Some(p) if own.contains_key(p) => format!("package:{p}"),
                _ if global.is_some() => "global".to_string(),
                _ => continue,
            };
            let mut a = audience.clone();
            a["chat"] = json!(target);
            out.push(base(channel, a, m.body.trim_end_matches(':').to_string()));
        }
    }

    fn link(&self, path: &str) -> String {
        self.settings
            .server
            .public_url
            .join(path)
            .map(|u| u.to_string())
            .unwrap_or_default()
    }
}
