//! Notifications (issue 9): queued in the transaction of the change they tell of, delivered by
//! the sender job, each recorded in the audit trail as sent or failed. E-mail goes through
//! Microsoft Graph (`[notify] email_from`).
//!
//! So far: a new request is e-mailed to the people who may decide it, and its decision
//! (approved, denied) to the requester.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::{Portal, event};
use crate::domain::notification::{Channel, NotificationOutcome};
use crate::domain::{AuditAction, Request};
use crate::error::AppResult;
use crate::graph::DirectoryError;
use crate::store::{NewNotification, Notification, StoreTx};

/// Attempts before a notification is given up.
pub const MAX_ATTEMPTS: i64 = 6;
/// How long a sender holds a claimed notification.
pub const LEASE: chrono::Duration = chrono::Duration::seconds(60);

/// An e-mail to queue: what it tells of, to whom, and what it says (the request's link is
/// added at the end).
struct Email {
    action: AuditAction,
    audience: serde_json::Value,
    subject: String,
    body: String,
}

/// Why a delivery did not happen.
#[derive(Debug)]
struct Undelivered {
    message: String,
    retriable: bool,
    retry_after: Option<chrono::Duration>,
}

impl From<DirectoryError> for Undelivered {
    fn from(e: DirectoryError) -> Undelivered {
        Undelivered {
            retriable: e.is_retriable(),
            retry_after: e
                .retry_after()
                .and_then(|d| chrono::Duration::from_std(d).ok()),
            message: e.to_string(),
        }
    }
}

impl Portal {
    /// Queues, in `tx`, an e-mail about `r`, once per (event, request), when e-mail is configured.
    async fn queue_email(
        &self,
        tx: &mut Box<dyn StoreTx>,
        r: &Request,
        email: Email,
        now: DateTime<Utc>,
    ) -> AppResult<()> {
        if self.settings.notify.email_from.is_none() {
            return Ok(());
        }
        tx.enqueue_notification(
            &NewNotification {
                dedupe_key: format!("{}:{}:email", email.action.as_str(), r.id),
                event: email.action.as_str().into(),
                request_id: Some(r.id.clone()),
                channel: Channel::Email,
                audience: email.audience,
                subject: email.subject,
                body: format!("{}\n{}\n", email.body, self.request_link(&r.id)),
                not_before: now,
            },
            now,
        )
        .await?;
        Ok(())
    }

    /// Queues, in `tx`, the e-mail telling the people who may decide `r` that it waits.
    pub(super) async fn queue_request_created(
        &self,
        tx: &mut Box<dyn StoreTx>,
        r: &Request,
        now: DateTime<Utc>,
    ) -> AppResult<()> {
        let ticket = r
            .ticket
            .as_deref()
            .map(|t| format!("Ticket: {t}\n"))
            .unwrap_or_default();
        let body = format!(
            "{} ({}) asks for {} for {} minutes.\n\nJustification: {}\n{ticket}\nDecide it in jitgate:",
            r.requester.name,
            r.requester.username,
            self.package_name(r),
            r.duration_minutes,
            r.justification,
        );
        let email = Email {
            action: AuditAction::RequestCreated,
            audience: json!({ "deciders": r.id }),
            subject: format!("{} asks for {}", r.requester.name, self.package_name(r)),
            body,
        };
        self.queue_email(tx, r, email, now).await
    }

    /// Queues, in `tx`, the e-mail telling the requester how `r` was decided: `action` is
    /// `request_approved` (every approval needed is in) or `request_denied`.
    pub(super) async fn queue_decided(
        &self,
        tx: &mut Box<dyn StoreTx>,
        r: &Request,
        action: AuditAction,
        by: &str,
        comment: Option<&str>,
        now: DateTime<Utc>,
    ) -> AppResult<()> {
        let pkg = self.package_name(r);
        let said = comment
            .map(|c| format!("\n\n{by} wrote: {c}"))
            .unwrap_or_default();
        let (subject, body) = if action == AuditAction::RequestDenied {
            (
                format!("Your request for {pkg} was denied"),
                format!("{by} denied your request for {pkg}.{said}\n\nThe request:"),
            )
        } else {
            let when = match (r.starts_at, r.ends_at) {
                (Some(s), Some(e)) if s <= now => format!(
                    "Your access starts now and ends at {} (UTC).",
                    e.format("%Y-%m-%d %H:%M")
                ),
                (Some(s), _) => format!(
                    "Your access starts at {} (UTC).",
                    s.format("%Y-%m-%d %H:%M")
                ),
                _ => String::new(),
            };
            (
                format!("Your request for {pkg} was approved"),
                format!(
                    "{by} approved your request for {pkg} ({} minutes). {when}{said}\n\nThe request:",
                    r.duration_minutes
                ),
            )
        };
        let email = Email {
            action,
            audience: json!({ "user": r.requester.id }),
            subject,
            body,
        };
        self.queue_email(tx, r, email, now).await
    }

    fn package_name(&self, r: &Request) -> String {
        self.package(&r.package)
            .map(|p| p.name.clone())
            .unwrap_or_else(|| r.package.clone())
    }

    fn request_link(&self, id: &str) -> String {
        self.settings
            .server
            .public_url
            .join(&format!("requests/{id}"))
            .map(|u| u.to_string())
            .unwrap_or_default()
    }

    /// Claims due notifications for the sender `owner`.
    pub async fn claim_notifications(
        &self,
        owner: &str,
        limit: i64,
    ) -> AppResult<Vec<Notification>> {
        Ok(self
            .store
            .claim_notifications(self.now(), owner, LEASE, limit)
            .await?)
    }

    /// When the next notification is due.
    pub async fn next_notification_at(&self) -> AppResult<Option<DateTime<Utc>>> {
        Ok(self.store.next_notification_at().await?)
    }

    /// Delivers a claimed notification and records the outcome: sent (once), tried again later,
    /// or failed for good; sent and failed are audit events.
    pub async fn deliver_notification(&self, n: &Notification) -> AppResult<()> {
        // Read before sending: the audience and the audit record both need it, and a read that
        // fails must not leave a message sent but unrecorded.
        let request = match &n.request_id {
            Some(id) => self.store.get_request(id).await?,
            None => None,
        };
        let delivered = self.send(n, request.as_ref()).await;
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let record = |action, details| {
            request
                .as_ref()
                .map(|r| event(None, action, r, now, details))
        };
        match delivered {
            Ok(recipients) => {
                tx.finish_notification(n.id, NotificationOutcome::Sent, now, None)
                    .await?;
                if let Some(e) = record(
                    AuditAction::NotificationSent,
                    json!({"notification": n.id, "event": n.event, "channel": n.channel, "recipients": recipients, "attempts": n.attempts}),
                ) {
                    tx.append_event(e).await?;
                }
                tracing::info!(
                    notification = n.id,
                    channel = n.channel.as_str(),
                    "notification sent"
                );
            }
            Err(u) if u.retriable && n.attempts < MAX_ATTEMPTS => {
                let delay = u
                    .retry_after
                    .unwrap_or_else(|| super::retry::backoff(n.attempts));
                tx.retry_notification(n.id, now + delay, &u.message).await?;
                tracing::warn!(notification = n.id, error = %u.message, "notification not delivered; trying again later");
            }
            Err(u) => {
                tx.finish_notification(n.id, NotificationOutcome::Failed, now, Some(&u.message))
                    .await?;
                if let Some(e) = record(
                    AuditAction::NotificationFailed,
                    json!({"notification": n.id, "event": n.event, "channel": n.channel, "error": u.message, "attempts": n.attempts}),
                ) {
                    tx.append_event(e).await?;
                }
                tracing::error!(notification = n.id, error = %u.message, "notification failed");
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Sends `n`; the recipients' addresses.
    async fn send(
        &self,
        n: &Notification,
        request: Option<&Request>,
    ) -> Result<Vec<String>, Undelivered> {
        let permanent = |message: String| Undelivered {
            message,
            retriable: false,
            retry_after: None,
        };
        match n.channel {
            Channel::Email => {
                let Some(from) = self.settings.notify.email_from.as_deref() else {
                    return Err(permanent(
                        "e-mail is not configured ([notify] email_from)".into(),
                    ));
                };
                let to = self.addresses(n, request).await?;
                if to.is_empty() {
                    return Err(permanent("nobody to send it to".into()));
                }
                self.directory
                    .send_mail(from, &to, &n.subject, &n.body)
                    .await?;
                Ok(to)
            }
            other => Err(permanent(format!(
                "the {} channel is not configured",
                other.as_str()
            ))),
        }
    }

    /// The e-mail addresses of a notification's audience, read from Graph now.
    async fn addresses(
        &self,
        n: &Notification,
        request: Option<&Request>,
    ) -> Result<Vec<String>, Undelivered> {
        let mut people = Vec::new();
        if let Some(id) = n.audience.get("user").and_then(|v| v.as_str())
            && let Some(u) = self.directory.get_user(id).await?
        {
            people.push(u);
        }
        if let Some(id) = n.audience.get("deciders").and_then(|v| v.as_str()) {
            let Some(r) = request.filter(|r| r.id == id) else {
                return Ok(Vec::new());
            };
            let pkg = self.package(&r.package);
            for u in self
                .directory
                .app_role_holders(&self.settings.roles.approver)
                .await?
            {
                if pkg.is_some_and(|p| r.may_be_decided_by(&u.id, true, p)) {
                    people.push(u);
                }
            }
            if let (Some(m), Some(p)) = (&r.manager_id, pkg)
                && r.may_be_decided_by(m, false, p)
                && let Some(u) = self.directory.get_user(m).await?
            {
                people.push(u);
            }
        }
        let mut to: Vec<String> = people
            .iter()
            .filter_map(|u| u.email().map(str::to_string))
            .collect();
        to.sort();
        to.dedup();
        Ok(to)
    }
}
