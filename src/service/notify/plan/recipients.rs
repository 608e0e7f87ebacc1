//! Who hears a message (the requester, the deciders, the admins) and the e-mail and chat
//! notifications that carry it to them.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::config::Settings;
use crate::domain::Request;
use crate::domain::notification::Channel;
use crate::store::NewNotification;

/// A message to people or a chat channel, before it is addressed.
pub(super) struct Message {
    /// What it tells of: an audit action, or `reminder`, `escalation`.
    pub(super) event: String,
    /// Told once per key (and channel).
    pub(super) key: String,
    pub(super) subject: String,
    pub(super) body: String,
    pub(super) not_before: DateTime<Utc>,
    /// Checked when it comes due: `{"status": "pending"}`, `{"status": "active", "ends_at": ms}`.
    pub(super) only_if: Option<Value>,
}

/// Who hears a message.
pub(super) enum To {
    /// The requester, and whoever asked on their behalf (a copy: a device account may read no
    /// mail, and the one who asked for it follows what becomes of it).
    Requester,
    /// The requester alone.
    RequesterAlone,
    /// The people who may decide the request, and these extra addresses.
    Deciders(Vec<String>),
    /// The holders of the admin role.
    Admins,
    /// The requester and the admins.
    RequesterAndAdmins,
    /// Everyone who must know at once: the people who may decide the request, the admins and
    /// these extra addresses; in chat, the package's own channel and the global one.
    Everyone(Vec<String>),
    /// The requester's manager (read from the directory when it is sent) and the requester.
    ManagerAndRequester,
}

/// The e-mail (when configured) and chat messages (when `chat` and a channel is set) of `m`.
pub(super) fn queue(
    settings: &Settings,
    out: &mut Vec<NewNotification>,
    r: Option<&Request>,
    to: &To,
    chat: bool,
    m: Message,
) {
    let notify = &settings.notify;
    let link = match r {
        Some(r) => link(settings, &format!("requests/{}", r.id)),
        None => link(settings, "operations"),
    };
    let asker = r.and_then(|r| r.asked_by.as_ref()).map(|a| a.id.as_str());
    let mut audience = match to {
        To::Requester | To::RequesterAlone => json!({"user": r.map(|r| &r.requester.id)}),
        To::Deciders(extra) => json!({"deciders": r.map(|r| &r.id), "addresses": extra}),
        To::Admins => json!({"admins": true}),
        To::RequesterAndAdmins => json!({"user": r.map(|r| &r.requester.id), "admins": true}),
        To::Everyone(extra) => {
            json!({"deciders": r.map(|r| &r.id), "admins": true, "addresses": extra})
        }
        To::ManagerAndRequester => {
            json!({"user": r.map(|r| &r.requester.id), "manager_of": r.map(|r| &r.requester.id)})
        }
    };
    if let Some(asker) = asker.filter(|_| matches!(to, To::Requester | To::RequesterAndAdmins)) {
        audience["addresses"] = json!([asker]);
    }
    if let Some(cond) = &m.only_if {
        audience["only_if"] = cond.clone();
    }
    audience["link"] = json!(link);
    let admin = matches!(to, To::Admins | To::RequesterAndAdmins);
    // A decider is sent at most one e-mail a minute about the same person: the deciders'
    // e-mails about one requester are paced together (what comes meanwhile goes as a digest).
    let pace_key = match (to, r) {
        (To::Deciders(_), Some(r)) => Some(format!("deciders:{}", r.requester.id)),
        _ => None,
    };
    let base = |channel: Channel, audience: Value, body: String| NewNotification {
        dedupe_key: format!("{}:{}", m.key, channel.as_str()),
        event: m.event.clone(),
        request_id: r.map(|r| r.id.clone()),
        channel,
        audience,
        subject: m.subject.clone(),
        body,
        not_before: m.not_before,
        pace_key: pace_key.clone().filter(|_| channel == Channel::Email),
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
    let everywhere = matches!(to, To::Everyone(_));
    for (channel, own, global) in [
        (Channel::Teams, &notify.package_teams, &notify.teams_webhook),
        (Channel::Slack, &notify.package_slack, &notify.slack_webhook),
    ] {
        let mut targets = Vec::new();
        match r.map(|r| r.package.as_str()) {
            Some(p) if everywhere && own.contains_key(p) => targets.push(format!("package:{p}")),
            _ => {}
        }
        if everywhere {
            if global.is_some() {
                targets.push("global".to_string());
            }
        } else {
            match pkg {
                Some(p) if own.contains_key(p) => targets.push(format!("package:{p}")),
                _ if global.is_some() => targets.push("global".to_string()),
                _ => {}
            }
        }
        for target in targets {
            let mut a = audience.clone();
            a["chat"] = json!(target);
            let mut n = base(channel, a, m.body.trim_end_matches(':').to_string());
            if everywhere {
                n.dedupe_key = format!("{}:{}:{target}", m.key, channel.as_str());
            }
            out.push(n);
        }
    }
}

/// The portal's public address of `path`.
pub(super) fn link(settings: &Settings, path: &str) -> String {
    settings
        .server
        .public_url
        .join(path)
        .map(|u| u.to_string())
        .unwrap_or_default()
}
