//! Access reviews: the reviewers told when a campaign starts (each person too, when they attest
//! for themself), reminded halfway and two days before the due date while items wait, and told
//! with the admins when it closes. E-mail, and the package's chat for the start and the close.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::at;
use super::recipients::link;
use crate::config::Settings;
use crate::domain::NewAuditEvent;
use crate::domain::notification::Channel;
use crate::domain::review::Campaign;
use crate::store::NewNotification;

/// One message about campaign `campaign` (of `package`) to `audience`: by e-mail, and in the
/// package's (or the global) chat when `chat`.
#[allow(clippy::too_many_arguments)]
fn queue(
    settings: &Settings,
    out: &mut Vec<NewNotification>,
    campaign: &str,
    package: &str,
    key: String,
    event: &str,
    audience: Value,
    chat: bool,
    subject: String,
    body: String,
    not_before: DateTime<Utc>,
) {
    let link = link(settings, &format!("reviews/{campaign}"));
    let mut audience = audience;
    audience["link"] = json!(link);
    let base = |channel: Channel, audience: Value, body: String| NewNotification {
        dedupe_key: format!("{key}:{}", channel.as_str()),
        event: event.to_string(),
        request_id: None,
        channel,
        audience,
        subject: subject.clone(),
        body,
        not_before,
        pace_key: None,
    };
    let notify = &settings.notify;
    if notify.email() {
        out.push(base(
            Channel::Email,
            audience.clone(),
            format!("{body}\n{link}\n"),
        ));
    }
    if !chat {
        return;
    }
    for (channel, own, global) in [
        (Channel::Teams, &notify.package_teams, &notify.teams_webhook),
        (Channel::Slack, &notify.package_slack, &notify.slack_webhook),
    ] {
        let target = if own.contains_key(package) {
            format!("package:{package}")
        } else if global.is_some() {
            "global".to_string()
        } else {
            continue;
        };
        let mut a = audience.clone();
        a["chat"] = json!(target);
        out.push(base(channel, a, body.clone()));
    }
}

fn text<'a>(e: &'a NewAuditEvent, key: &str) -> &'a str {
    e.details.get(key).and_then(Value::as_str).unwrap_or("")
}

fn attesters(e: &NewAuditEvent) -> Vec<String> {
    e.details
        .get("attesters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

/// What an undecided item becomes, in words.
fn default_words(default: &str) -> &'static str {
    match default {
        "keep" => "kept as they are",
        "remove" => "removed (standing members) or revoked (people)",
        _ => "reported, and nothing changed",
    }
}

/// A campaign started: its reviewers, and each person who attests for themself.
pub(super) fn started(settings: &Settings, e: &NewAuditEvent, out: &mut Vec<NewNotification>) {
    let (campaign, package) = (text(e, "campaign"), text(e, "package"));
    let name = text(e, "package_name");
    let due = at(e
        .details
        .get("due_at")
        .and_then(Value::as_str)
        .and_then(|t| t.parse().ok()));
    let default = default_words(text(e, "review_default"));
    let items = e.details.get("items").and_then(Value::as_i64).unwrap_or(0);
    queue(
        settings,
        out,
        campaign,
        package,
        format!("review_started:{campaign}"),
        "review_started",
        json!({"reviewers": package}),
        true,
        format!("Access review of {name}: please review by {due}"),
        format!(
            "An access review of {name} has started: {items} items to decide (its settings, its standing members and the people who held it). Decide each by {due}; items left undecided are then {default}:"
        ),
        e.at,
    );
    for person in attesters(e) {
        queue(
            settings,
            out,
            campaign,
            package,
            format!("review_started:{campaign}:{person}"),
            "review_started",
            json!({"user": person}),
            false,
            format!("Access review of {name}: do you still need it?"),
            format!(
                "An access review of {name} asks you to attest that you still need to be eligible for it. Answer by {due}; without an answer you are {default}:"
            ),
            e.at,
        );
    }
}

/// A reminder of campaign `c`: to its reviewers while items of theirs wait, and to each of
/// `waiting` (people who attest for themself and have not).
pub(crate) fn reminder(
    settings: &Settings,
    c: &Campaign,
    which: &str,
    reviewers_waiting: bool,
    waiting: &[String],
    now: DateTime<Utc>,
) -> Vec<NewNotification> {
    let mut out = Vec::new();
    let due = at(Some(c.due_at));
    let default = default_words(c.review_default.as_str());
    let name = &c.package_name;
    if reviewers_waiting {
        queue(
            settings,
            &mut out,
            &c.id,
            &c.package,
            format!("review_reminder:{}:{which}", c.id),
            "review_reminder",
            json!({"reviewers": c.package}),
            false,
            format!("Reminder: the access review of {name} is due {due}"),
            format!(
                "Items of the access review of {name} are still undecided. Decide them by {due}; items left undecided are then {default}:"
            ),
            now,
        );
    }
    for person in waiting {
        queue(
            settings,
            &mut out,
            &c.id,
            &c.package,
            format!("review_reminder:{}:{which}:{person}", c.id),
            "review_reminder",
            json!({"user": person}),
            false,
            format!("Reminder: do you still need {name}? Answer by {due}"),
            format!(
                "The access review of {name} still waits for your answer. Answer by {due}; without an answer you are {default}:"
            ),
            now,
        );
    }
    out
}

/// A campaign closed, its results applied: its reviewers and the admins.
pub(super) fn closed(settings: &Settings, e: &NewAuditEvent, out: &mut Vec<NewNotification>) {
    let (campaign, package) = (text(e, "campaign"), text(e, "package"));
    let name = text(e, "package_name");
    let n = |k: &str| e.details.get(k).and_then(Value::as_i64).unwrap_or(0);
    queue(
        settings,
        out,
        campaign,
        package,
        format!("review_closed:{campaign}"),
        "review_closed",
        json!({"reviewers": package, "admins": true}),
        true,
        format!("Access review of {name} closed"),
        format!(
            "The access review of {name} is closed and its results applied: {} removed, {} revoked, {} reported, {} undecided. Its report:",
            n("removed"),
            n("revoked"),
            n("reported"),
            n("undecided"),
        ),
        e.at,
    );
}
