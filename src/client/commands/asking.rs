//! Asking for access: `jitgate request` makes a request and, with `--wait`, follows it until
//! access is in effect or the request ends without it; with `--on-behalf-of`, one request for
//! each person or device account named, each answered on its own line.

use std::time::Duration;

use anyhow::bail;
use chrono::{DateTime, Utc};

use super::flags::{parse_minutes, parse_start};
use super::{open, or_ctrl_c};
use crate::client::RequestArgs;
use crate::client::output::{self, Out, minutes, short, span, visible, when_relative};
use crate::client::session::Session;
use crate::contract::{NewRequest, OnBehalfResults, PackageList, Request, Status};

/// How often `--wait` asks the portal: one read of one request a second per waiting terminal.
const POLL: Duration = Duration::from_secs(1);

/// The one package open to the caller, when `--package` is left out.
async fn only_package(s: &mut Session) -> anyhow::Result<String> {
    let list: PackageList = s.get("/api/v1/packages", &()).await?;
    let open: Vec<_> = list.packages.iter().filter(|p| p.may_request).collect();
    match open.as_slice() {
        [one] => Ok(one.id.clone()),
        [] => bail!("no package is open to you on {}", s.portal().base()),
        many => bail!(
            "say which package with --package: {}",
            many.iter()
                .map(|p| format!("{} ({})", visible(&p.id), visible(&p.name)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// What happens next to a request just made or decided.
fn next_step(r: &Request, now: DateTime<Utc>) -> String {
    match r.status {
        Status::Pending => format!(
            "waiting for approval (it times out {})",
            when_relative(r.timeout_at, now)
        ),
        _ => output::state(r, now),
    }
}

/// The end of a wait, in a sentence.
fn outcome(r: &Request, now: DateTime<Utc>) -> String {
    let decider = r
        .approvals
        .iter()
        .rev()
        .map(|a| visible(&a.approver.name))
        .next()
        .unwrap_or_else(|| "an approver".to_string());
    match (r.status, r.ends_at) {
        (Status::Active, Some(end)) => format!(
            "Access granted (request {}): you are in the group until {}. `jitgate end` gives it back early.",
            short(&r.id),
            when_relative(end, now)
        ),
        (Status::Approved, Some(_)) => format!(
            "Approved by {decider} (request {}); access {}.",
            short(&r.id),
            output::state(r, now)
        ),
        (Status::Denied, _) => {
            let denial = r
                .approvals
                .iter()
                .find(|a| a.decision == crate::contract::Verdict::Denied);
            format!(
                "Denied by {}: {}",
                denial.map_or(decider, |a| visible(&a.approver.name)),
                visible(
                    denial
                        .and_then(|a| a.comment.as_deref())
                        .or(r.close_reason.as_deref())
                        .unwrap_or("no reason given")
                )
            )
        }
        _ => format!(
            "Request {} is {}{}.",
            short(&r.id),
            r.status.as_str().replace('_', " "),
            r.close_reason
                .as_deref()
                .map(|c| format!(": {}", visible(c)))
                .unwrap_or_default()
        ),
    }
}

/// Polls request `id` until access is in effect (0) or the request ended without it (1).
async fn wait_for_access(s: &mut Session, id: &str, out: Out) -> anyhow::Result<(Request, i32)> {
    let started = Utc::now();
    let mut said = String::new();
    let path = format!("/api/v1/requests/{id}");
    let stop = format!(
        "Stopped waiting; request {} stays as it is. `jitgate status {}` shows it.",
        short(id),
        short(id)
    );
    or_ctrl_c(
        async {
            loop {
                let r: Request = s.get(&path, &()).await?;
                let now = Utc::now();
                let state = output::state(&r, now);
                let phase = match r.status {
                    Status::Pending if r.approvals.is_empty() => "pending".to_string(),
                    _ => state.clone(),
                };
                if phase != said {
                    out.live_done();
                    out.note(&format!("{}: {}", short(&r.id), state));
                    said = phase;
                }
                match r.status {
                    Status::Active if r.membership.added_at.is_some() => return Ok((r, 0)),
                    st if st.is_final() => return Ok((r, 1)),
                    _ => {}
                }
                out.live(&format!(
                    "Waiting ({}), {} so far. Ctrl-C stops waiting.",
                    state,
                    span(now - started)
                ));
                tokio::time::sleep(POLL).await;
            }
        },
        stop,
    )
    .await
}

pub(super) async fn request(a: RequestArgs, out: Out) -> anyhow::Result<i32> {
    let duration = a
        .duration
        .as_deref()
        .map(|d| parse_minutes("--for", d))
        .transpose()?;
    let starts_at = a
        .start
        .as_deref()
        .map(|t| parse_start(t, Utc::now()))
        .transpose()?;
    let mut s = open(&a.common).await?;
    let package = match a.package {
        Some(p) => p,
        None => only_package(&mut s).await?,
    };
    let body = NewRequest {
        package,
        duration_minutes: duration,
        justification: a.reason,
        ticket: a.ticket,
        starts_at,
        emergency: a.emergency,
        on_behalf_of: a.on_behalf_of.clone(),
    };
    if !body.on_behalf_of.is_empty() {
        let answer: OnBehalfResults = s.post("/api/v1/requests", &body).await?;
        return Ok(on_behalf(&answer, out));
    }
    let r: Request = s.post("/api/v1/requests", &body).await?;
    let now = Utc::now();
    if r.emergency {
        out.note(
            "Break-glass: granted without approval. Every admin and approver has been told, and an approver will review it.",
        );
    }
    if !a.wait {
        out.answer(&r, || {
            format!(
                "Asked for {} for {} (request {}): {}.",
                visible(&r.package),
                minutes(r.duration_minutes),
                short(&r.id),
                next_step(&r, now)
            )
        });
        return Ok(0);
    }
    out.note(&format!(
        "Asked for {} for {} (request {}). Waiting until access is in effect; Ctrl-C stops waiting (the request stays).",
        visible(&r.package),
        minutes(r.duration_minutes),
        short(&r.id)
    ));
    let (r, code) = wait_for_access(&mut s, &r.id, out).await?;
    out.live_done();
    out.answer(&r, || outcome(&r, Utc::now()));
    Ok(code)
}

/// What became of each person asked for on their behalf: 0 when every request was made, 1 when
/// one or more were refused.
fn on_behalf(answer: &OnBehalfResults, out: Out) -> i32 {
    let now = Utc::now();
    out.answer(answer, || {
        answer
            .results
            .iter()
            .map(|one| match (&one.request, &one.error) {
                (Some(r), _) => format!(
                    "{}: asked for {} for {} (request {}): {}.",
                    visible(&one.on_behalf_of),
                    visible(&r.package),
                    minutes(r.duration_minutes),
                    short(&r.id),
                    next_step(r, now)
                ),
                (None, e) => format!(
                    "{}: refused ({}): {}",
                    visible(&one.on_behalf_of),
                    one.status,
                    visible(e.as_ref().map_or("no reason given", |e| e.message.as_str()))
                ),
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    if answer.results.iter().all(|r| r.request.is_some()) {
        0
    } else {
        1
    }
}
