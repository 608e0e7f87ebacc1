//! The caller's own requests and grants: `jitgate status` lists them or shows one in detail,
//! `jitgate extend` asks for more time on a grant and `jitgate end` gives one back early.

use anyhow::bail;
use chrono::Utc;
use serde::Serialize;

use super::flags::parse_minutes;
use super::pick::{pick, whole_guid};
use super::{act, open};
use crate::client::output::{self, Out, minutes, short, visible, when, when_relative};
use crate::client::session::Session;
use crate::client::{EndArgs, ExtendArgs, StatusArgs};
use crate::contract::{
    EXTENSION_MIN_MINUTES, EndBody, ExtendBody, Extended, ExtensionList, Request, RequestList,
    RequestQuery, SignInList,
};

async fn mine(s: &mut Session, statuses: Option<&str>, limit: i64) -> anyhow::Result<Vec<Request>> {
    let q = RequestQuery {
        status: statuses.map(str::to_string),
        mine: Some(true),
        limit: Some(limit),
        ..Default::default()
    };
    let list: RequestList = s.get("/api/v1/requests", &q).await?;
    Ok(list.requests)
}

/// The caller's request named by `given`: an id, or the start of the id of one of theirs.
async fn own_request(s: &mut Session, given: &str) -> anyhow::Result<String> {
    if let Some(id) = whole_guid(given) {
        return Ok(id);
    }
    let all = mine(s, None, 1000).await?;
    Ok(pick(&all, given, "your requests")?.id.clone())
}

/// The caller's grant named by `given` (an id or its start), or their one active grant.
async fn own_grant(s: &mut Session, given: Option<&str>) -> anyhow::Result<String> {
    match given {
        Some(given) => own_request(s, given).await,
        None => {
            let active = mine(s, Some("active"), 100).await?;
            match active.as_slice() {
                [one] => Ok(one.id.clone()),
                [] => bail!("you have no active grant"),
                many => bail!(
                    "you have {} active grants; name one: {}",
                    many.len(),
                    many.iter()
                        .map(|r| format!("{} ({})", short(&r.id), visible(&r.package)))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }
        }
    }
}

#[derive(Serialize)]
struct Detail {
    request: Request,
    extensions: Vec<crate::contract::Extension>,
    sign_ins: Vec<crate::contract::SignIn>,
}

pub(super) async fn status(a: StatusArgs, out: Out) -> anyhow::Result<i32> {
    let mut s = open(&a.common).await?;
    let now = Utc::now();
    let Some(given) = a.id else {
        let list = if a.all {
            mine(&mut s, None, 20).await?
        } else {
            mine(&mut s, Some("pending,approved,active"), 100).await?
        };
        let who = visible(&s.account().name);
        out.answer(
            &RequestList {
                requests: list.clone(),
            },
            || {
                if list.is_empty() {
                    return format!(
                        "{who}: no open requests or grants. `jitgate request --package <id> --for 2h --reason \"…\"` asks for one."
                    );
                }
                let mut lines = vec![format!("{who}:")];
                lines.extend(list.iter().map(|r| output::request_line(r, now)));
                lines.join("\n")
            },
        );
        return Ok(0);
    };
    let id = own_request(&mut s, &given).await?;
    let request: Request = s.get(&format!("/api/v1/requests/{id}"), &()).await?;
    let extensions: ExtensionList = s
        .get(&format!("/api/v1/requests/{id}/extensions"), &())
        .await?;
    let sign_ins: SignInList = s
        .get(&format!("/api/v1/requests/{id}/sign-ins"), &())
        .await?;
    let detail = Detail {
        request,
        extensions: extensions.extensions,
        sign_ins: sign_ins.sign_ins,
    };
    out.answer(&detail, || {
        let mut text = output::request_details(&detail.request, &detail.extensions, now);
        for si in &detail.sign_ins {
            let result = if si.error_code == 0 {
                "signed in".to_string()
            } else {
                format!("failed ({})", si.error_code)
            };
            text.push_str(&format!(
                "\nSign-in   {} {} from {}: {result}",
                when(si.at, now),
                visible(&si.app_name),
                visible(&si.ip_address)
            ));
        }
        text
    });
    Ok(0)
}

pub(super) async fn extend(a: ExtendArgs, out: Out) -> anyhow::Result<i32> {
    let minutes_more = parse_minutes("--for", &a.duration)?;
    if minutes_more < EXTENSION_MIN_MINUTES {
        bail!(
            "--for '{}' is too short: an extension is at least {EXTENSION_MIN_MINUTES} minutes",
            a.duration
        );
    }
    let mut s = open(&a.common).await?;
    let id = own_grant(&mut s, a.id.as_deref()).await?;
    let body = ExtendBody {
        minutes: minutes_more,
        justification: a.reason,
    };
    act(&mut s, &id, "extend", &body, out, |x: &Extended| {
        let now = Utc::now();
        match (x.extension.status, x.request.ends_at) {
            (crate::contract::ExtensionStatus::Approved, Some(end)) => format!(
                "Extended by {}: access now ends {}.",
                minutes(x.extension.minutes),
                when_relative(end, now)
            ),
            _ => format!(
                "Asked for {} more on request {}; an approver must decide before it ends {}.",
                minutes(x.extension.minutes),
                short(&x.request.id),
                x.request
                    .ends_at
                    .map(|e| when_relative(e, now))
                    .unwrap_or_default()
            ),
        }
    })
    .await
}

pub(super) async fn end(a: EndArgs, out: Out) -> anyhow::Result<i32> {
    let mut s = open(&a.common).await?;
    let id = own_grant(&mut s, a.id.as_deref()).await?;
    let me = s.account().username.clone();
    let body = EndBody { reason: a.reason };
    act(&mut s, &id, "end", &body, out, |r: &Request| {
        format!(
            "Request {} {}: jitgate is taking {} out of the group now.",
            short(&r.id),
            r.status.as_str(),
            if r.requester.username == me {
                "you".to_string()
            } else {
                visible(&r.requester.name)
            }
        )
    })
    .await
}
