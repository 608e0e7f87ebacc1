//! Notifications: queued with the audit events that cause them ([`plan`]), delivered by the
//! sender job, each delivery to people recorded in the audit trail as sent or failed. E-mail goes
//! through Microsoft Graph (`[notify] email_from`) or SMTP; chat through Teams and Slack
//! webhooks; every audit event to the generic webhook, signed per Standard Webhooks.
//!
//! This file is the sender's side: claiming due notifications, delivering each and recording
//! the outcome. `plan/` decides what each audit event calls for (`Outbox`); `channels.rs`
//! holds the outbound channels; `audience.rs` finds who an e-mail reaches, read from the
//! directory when it is sent; `digest.rs` paces the deciders' e-mails about one person (at
//! most one a minute, what comes meanwhile as one digest). `channels.rs`, `audience.rs` and
//! `digest.rs` use only this file.

mod audience;
mod channels;
mod digest;
mod plan;

pub(crate) use channels::Channels;
pub(crate) use plan::Outbox;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::{Portal, event};
use crate::auth::Principal;
use crate::domain::notification::{Channel, NotificationOutcome};
use crate::domain::{AuditAction, Request, RequestId, Role};
use crate::error::AppResult;
use crate::graph::DirectoryError;
use crate::store::Notification;

/// Attempts before a notification is given up.
pub const MAX_ATTEMPTS: i64 = 6;
/// How long a sender holds a claimed notification.
pub const LEASE: chrono::Duration = chrono::Duration::seconds(60);

/// Why a delivery did not happen.
#[derive(Debug, Clone)]
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
    /// The notifications queued about request `id` (delivered, skipped, failed or waiting),
    /// oldest first: for auditors and admins.
    pub async fn notifications_for(
        &self,
        who: &Principal,
        id: &RequestId,
    ) -> AppResult<Vec<Notification>> {
        self.require_any(who, &[Role::Auditor, Role::Admin], "Who was told what")?;
        Ok(self.store.notifications_for(id.as_str()).await?)
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

    /// Delivers a claimed notification and records the outcome: sent (once), skipped (it no
    /// longer applies), tried again later, or failed for good. Deliveries to people are audit
    /// events (`notification_sent`, `notification_failed`); the webhook's copies of audit events
    /// are not (each would call for another), except a webhook given up.
    pub async fn deliver_notification(&self, n: &Notification) -> AppResult<()> {
        if let Some(key) = n
            .pace_key
            .as_deref()
            .filter(|_| n.channel == Channel::Email)
        {
            return self.deliver_paced(n, key).await;
        }
        // Read before sending: the condition, the audience and the audit record all need it,
        // and a read that fails must not leave a message sent but unrecorded.
        let request = match &n.request_id {
            Some(id) => self.store.get_request(id).await?,
            None => None,
        };
        if !still_applies(n, request.as_ref()) || self.reviewed_since(n).await? {
            return self.skip(n).await;
        }
        let delivered = self.send(n, request.as_ref()).await;
        self.record_delivery(n, request.as_ref(), delivered, 1)
            .await
    }

    /// Whether `n` is a reminder or escalation of a break-glass review (`only_if`
    /// `break_glass_unreviewed`) whose review has been made since it was queued.
    async fn reviewed_since(&self, n: &Notification) -> AppResult<bool> {
        let waits = n
            .audience
            .get("only_if")
            .and_then(|c| c.get("break_glass_unreviewed"))
            .is_some();
        let Some(id) = n.request_id.as_deref().filter(|_| waits) else {
            return Ok(false);
        };
        Ok(self
            .store
            .break_glass_use(id)
            .await?
            .is_none_or(|u| u.review.is_some()))
    }

    /// Marks `n` skipped: it no longer applies.
    async fn skip(&self, n: &Notification) -> AppResult<()> {
        let mut tx = self.store.begin().await?;
        tx.finish_notification(n.id, NotificationOutcome::Skipped, self.now(), None)
            .await?;
        tx.commit().await?;
        tracing::info!(notification = n.id, event = %n.event, "notification no longer applies; skipped");
        Ok(())
    }

    /// Records what became of delivering `n` (about `request`): sent (as one of a digest of
    /// `together` when more than one), tried again later, or failed for good.
    async fn record_delivery(
        &self,
        n: &Notification,
        request: Option<&Request>,
        delivered: Result<Vec<String>, Undelivered>,
        together: usize,
    ) -> AppResult<()> {
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let event = |action, details| match request {
            Some(r) => event(None, action, r, now, details),
            None => crate::domain::NewAuditEvent {
                at: now,
                actor_id: "system".into(),
                actor_name: "jitgate".into(),
                action,
                request_id: None,
                subject_id: None,
                details,
                client_ip: None,
                user_agent: None,
            },
        };
        match delivered {
            Ok(recipients) => {
                tx.finish_notification(n.id, NotificationOutcome::Sent, now, None)
                    .await?;
                if n.channel != Channel::Webhook {
                    let mut details = json!({"notification": n.id, "event": n.event, "channel": n.channel, "recipients": recipients, "attempts": n.attempts});
                    if together > 1 {
                        details["digest_of"] = json!(together);
                    }
                    let e = event(AuditAction::NotificationSent, details);
                    self.outbox.record(&mut *tx, e, request).await?;
                }
                tracing::info!(
                    notification = n.id,
                    channel = n.channel.as_str(),
                    "notification sent"
                );
            }
            Err(u) if u.retriable && n.attempts < max_attempts(n.channel) => {
                let delay = u
                    .retry_after
                    .unwrap_or_else(|| super::retry::backoff(n.attempts));
                tx.retry_notification(n.id, now + delay, &u.message).await?;
                tracing::warn!(notification = n.id, channel = n.channel.as_str(), error = %u.message, "notification not delivered; trying again later");
            }
            Err(u) => {
                tx.finish_notification(n.id, NotificationOutcome::Failed, now, Some(&u.message))
                    .await?;
                let e = event(
                    AuditAction::NotificationFailed,
                    json!({"notification": n.id, "event": n.event, "channel": n.channel, "error": u.message, "attempts": n.attempts}),
                );
                self.outbox.record(&mut *tx, e, request).await?;
                tracing::error!(notification = n.id, channel = n.channel.as_str(), error = %u.message, "notification failed");
            }
        }
        tx.commit().await?;
        self.wake.sender.notify_one();
        Ok(())
    }

    /// Sends `n`; who received it (addresses, or the channel).
    async fn send(
        &self,
        n: &Notification,
        request: Option<&Request>,
    ) -> Result<Vec<String>, Undelivered> {
        let notify = &self.settings.notify;
        match n.channel {
            Channel::Email => {
                let to = self.addresses(n, request).await?;
                self.send_email(&to, &n.subject, &n.body).await?;
                Ok(to)
            }
            Channel::Teams | Channel::Slack => {
                let target = n
                    .audience
                    .get("chat")
                    .and_then(|v| v.as_str())
                    .unwrap_or("");
                let (own, global) = if n.channel == Channel::Teams {
                    (&notify.package_teams, &notify.teams_webhook)
                } else {
                    (&notify.package_slack, &notify.slack_webhook)
                };
                let url = match target.strip_prefix("package:") {
                    Some(p) => own.get(p),
                    None => global.as_ref(),
                };
                let Some(url) = url else {
                    return Err(permanent(format!(
                        "the {} channel '{target}' is no longer configured",
                        n.channel.as_str()
                    )));
                };
                let link = n.audience.get("link").and_then(|v| v.as_str());
                self.channels
                    .chat(n.channel, &url.0, &n.subject, &n.body, link)
                    .await?;
                Ok(vec![format!("{}:{target}", n.channel.as_str())])
            }
            Channel::Webhook => {
                let Some(hook) = &notify.webhook else {
                    return Err(permanent(
                        "the webhook is no longer configured ([notify] webhook_url)",
                    ));
                };
                let id = n
                    .audience
                    .get("webhook")
                    .and_then(|v| v.as_str())
                    .unwrap_or("");
                self.channels
                    .webhook(hook, id, self.now().timestamp(), n.body.as_bytes())
                    .await?;
                Ok(vec!["webhook".into()])
            }
        }
    }
}

impl Portal {
    /// One e-mail to `to` (several: all in Bcc), through Graph or SMTP.
    async fn send_email(
        &self,
        to: &[String],
        subject: &str,
        body: &str,
    ) -> Result<(), Undelivered> {
        let notify = &self.settings.notify;
        if to.is_empty() {
            return Err(permanent("nobody to send it to"));
        }
        if let Some(from) = notify.email_from.as_deref() {
            self.directory.send_mail(from, to, subject, body).await?;
        } else if notify.smtp.is_some() {
            self.channels.smtp(subject, body, to).await?;
        } else {
            return Err(permanent(
                "e-mail is not configured ([notify] email_from or [notify.smtp])",
            ));
        }
        Ok(())
    }
}

/// Attempts before a notification is given up: people's messages after a few hours of
/// backoff; the webhook's ordered copy of the audit trail much later (a SIEM down for a day
/// should still receive everything).
fn max_attempts(channel: Channel) -> i64 {
    match channel {
        Channel::Webhook => MAX_ATTEMPTS * 4,
        _ => MAX_ATTEMPTS,
    }
}

fn permanent(message: impl Into<String>) -> Undelivered {
    Undelivered {
        message: message.into(),
        retriable: false,
        retry_after: None,
    }
}

/// Whether a notification queued for later (a reminder, an escalation) still applies to the
/// request as it is now.
fn still_applies(n: &Notification, r: Option<&Request>) -> bool {
    let Some(cond) = n.audience.get("only_if") else {
        return true;
    };
    let Some(r) = r else {
        return false;
    };
    if let Some(status) = cond.get("status").and_then(|v| v.as_str())
        && r.status.as_str() != status
    {
        return false;
    }
    if let Some(end) = cond.get("ends_at").and_then(|v| v.as_i64())
        && r.ends_at.map(crate::store::ms) != Some(end)
    {
        return false;
    }
    true
}
