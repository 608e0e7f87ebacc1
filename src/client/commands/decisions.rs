//! Deciding on others' requests: `jitgate approvals` shows what waits for the caller's decision,
//! `jitgate approve` and `jitgate deny` decide a pending request or the extension waiting on a
//! grant.

use anyhow::bail;
use chrono::Utc;

use super::flags::parse_minutes;
use super::pick::{pick, whole_guid};
use super::{act, open};
use crate::client::output::{self, Out, minutes, short, span, visible, when_relative};
use crate::client::session::Session;
use crate::client::{ApproveArgs, Common, DenyArgs};
use crate::contract::{
    ApprovalQueue, ApproveBody, DenyBody, Extended, ExtensionDecisionBody, Request, Status,
};

pub(super) async fn approvals(c: Common, out: Out) -> anyhow::Result<i32> {
    let mut s = open(&c).await?;
    let q: ApprovalQueue = s.get("/api/v1/approvals", &()).await?;
    let now = Utc::now();
    out.answer(&q, || {
        let mut lines = Vec::new();
        for e in q.requests.iter().filter(|e| e.may_decide) {
            let r = &e.request;
            let mut line = format!(
                "{}  {} ({})  {}  {}  \"{}\"",
                short(&r.id),
                visible(&r.requester.name),
                visible(&r.requester.username),
                visible(&r.package),
                minutes(r.duration_minutes),
                visible(&r.justification)
            );
            if let Some(t) = &r.ticket {
                line.push_str(&format!("  ticket {}", visible(t)));
            }
            if let Some(by) = &r.asked_by {
                line.push_str(&format!(
                    "\n          asked on their behalf by {} ({})",
                    visible(&by.name),
                    visible(&by.username)
                ));
            }
            line.push_str(&format!(
                "\n          asked {} ago; {} grant(s){} in the last 30 days",
                span(now - r.created_at),
                e.recent_grants,
                e.recent_sign_ins
                    .map(|n| format!(", {n} device-code sign-in(s)"))
                    .unwrap_or_default()
            ));
            if e.approvals_required > 1 {
                line.push_str(&format!(
                    "; needs {} approvals, has {}",
                    e.approvals_required,
                    r.approvals.len()
                ));
            }
            lines.push(line);
        }
        for x in q.extensions.iter().filter(|x| x.may_decide) {
            lines.push(format!(
                "{}  {} ({})  {}  extension +{}  \"{}\"  (ends {})",
                short(&x.request.id),
                visible(&x.request.requester.name),
                visible(&x.request.requester.username),
                visible(&x.request.package),
                minutes(x.extension.minutes),
                visible(&x.extension.justification),
                x.request
                    .ends_at
                    .map(|e| when_relative(e, now))
                    .unwrap_or_default()
            ));
        }
        for b in &q.break_glass {
            lines.push(format!(
                "{}  {} ({})  {}  BREAK-GLASS (no approval), review due {}{}  \"{}\"",
                short(&b.request.id),
                visible(&b.request.requester.name),
                visible(&b.request.requester.username),
                visible(&b.request.package),
                when_relative(b.review_due, now),
                if b.overdue { " (OVERDUE)" } else { "" },
                visible(&b.request.justification)
            ));
        }
        if lines.is_empty() {
            "Nothing waits for your decision.".to_string()
        } else {
            lines.push(
                "\n`jitgate approve ID` or `jitgate deny ID --comment \"…\"` decides; `jitgate break-glass-review ID --verdict … --comment \"…\"` reviews.".into(),
            );
            lines.join("\n")
        }
    });
    Ok(0)
}

/// What `given` names in the caller's queue: a pending request (false) or the extension
/// waiting on a grant (true).
async fn in_queue(s: &mut Session, given: &str) -> anyhow::Result<(String, bool)> {
    let q: ApprovalQueue = s.get("/api/v1/approvals", &()).await?;
    let candidates: Vec<Request> = q
        .requests
        .into_iter()
        .map(|e| e.request)
        .chain(q.extensions.into_iter().map(|x| x.request))
        .collect();
    let r = if let Some(id) = whole_guid(given) {
        match candidates.iter().find(|r| r.id == id) {
            Some(r) => r,
            // Not waiting for the caller: the portal says why when it is decided.
            None => return Ok((id, false)),
        }
    } else {
        pick(&candidates, given, "the requests waiting for you")?
    };
    // A grant in the queue is there for the extension waiting on it.
    Ok((r.id.clone(), r.status == Status::Active))
}

pub(super) async fn approve(a: ApproveArgs, out: Out) -> anyhow::Result<i32> {
    let duration = a
        .duration
        .as_deref()
        .map(|d| parse_minutes("--for", d))
        .transpose()?;
    let mut s = open(&a.common).await?;
    let (id, extension) = in_queue(&mut s, &a.id).await?;
    let now = Utc::now();
    if extension {
        if duration.is_some() {
            bail!("--for shortens a request, not an extension");
        }
        let body = ExtensionDecisionBody { comment: a.comment };
        return act(
            &mut s,
            &id,
            "extension/approve",
            &body,
            out,
            |x: &Extended| {
                format!(
                    "Approved the extension of request {} by {}; access {}.",
                    short(&id),
                    minutes(x.extension.minutes),
                    output::state(&x.request, now)
                )
            },
        )
        .await;
    }
    let body = ApproveBody {
        comment: a.comment,
        duration_minutes: duration,
    };
    act(&mut s, &id, "approve", &body, out, |r: &Request| {
        format!(
            "Approved request {} of {} for {}: {}.",
            short(&r.id),
            visible(&r.requester.name),
            minutes(r.duration_minutes),
            output::state(r, now)
        )
    })
    .await
}

pub(super) async fn deny(a: DenyArgs, out: Out) -> anyhow::Result<i32> {
    let mut s = open(&a.common).await?;
    let (id, extension) = in_queue(&mut s, &a.id).await?;
    if extension {
        let body = DenyBody {
            comment: a.comment.clone(),
        };
        return act(&mut s, &id, "extension/deny", &body, out, |_: &Extended| {
            format!(
                "Denied the extension of request {}; the grant still ends as planned.",
                short(&id)
            )
        })
        .await;
    }
    let body = DenyBody { comment: a.comment };
    act(&mut s, &id, "deny", &body, out, |r: &Request| {
        format!(
            "Denied request {} of {}.",
            short(&r.id),
            visible(&r.requester.name)
        )
    })
    .await
}
