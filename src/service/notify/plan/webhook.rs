//! The generic webhook's copy of every audit event: signed JSON, in the order of the trail.

use serde_json::{Value, json};

use crate::config::Settings;
use crate::domain::notification::Channel;
use crate::domain::{AuditAction, AuditEvent};
use crate::store::NewNotification;

/// The generic webhook's copy of `e`: every event, except the record of a webhook delivery
/// that failed (it would only fail again, and again).
pub(super) fn copy(settings: &Settings, e: &AuditEvent) -> Option<NewNotification> {
    settings.notify.webhook.as_ref()?;
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
        pace_key: None,
    })
}
