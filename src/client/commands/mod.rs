//! The client's commands, one module per command group: each resolves the portal and the
//! session, calls the API and says what happened. This module dispatches a command to its group
//! and turns failures into words and exit statuses; what several groups share lives here
//! (finding the portal and opening the session, posting an action on a request, stopping on
//! Ctrl-C) or in a helper the groups import (`flags`, `pick`).
//!
//! - `signing_in`: `jitgate login` and `jitgate logout`.
//! - `packages`: `jitgate packages`.
//! - `asking`: `jitgate request`, and following it with `--wait`.
//! - `own_grants`: `jitgate status`, `extend` and `end`, on the caller's own requests and grants.
//! - `decisions`: `jitgate approvals`, `approve` and `deny`, for approvers.
//! - `access_reviews`: `jitgate reviews list`, `show` and `decide`, for access reviews.
//! - `reviews`: `jitgate break-glass-review`, for approvers.
//! - `flags`: durations and start times as typed, and which flag an API error field stands for.
//! - `pick`: which request an id, or its first characters, names.

mod access_reviews;
mod asking;
mod decisions;
mod flags;
mod own_grants;
mod packages;
mod pick;
mod reviews;
mod signing_in;

use std::future::Future;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::home::Home;
use super::output::{Out, visible};
use super::portal::{ApiError, Portal};
use super::session::{Session, portal_url};
use super::{Command, Common};
use crate::contract::{ErrorBody, ErrorDetail};
use flags::flag_of;

/// Ctrl-C, with what to tell the person.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Cancelled(String);

/// Runs `f` until it ends or Ctrl-C is pressed.
async fn or_ctrl_c<T>(
    f: impl Future<Output = anyhow::Result<T>>,
    cancelled: impl Into<String>,
) -> anyhow::Result<T> {
    tokio::select! {
        r = f => r,
        _ = tokio::signal::ctrl_c() => Err(Cancelled(cancelled.into()).into()),
    }
}

fn common(c: &Command) -> &Common {
    match c {
        Command::Login(a) => &a.common,
        Command::Logout(c) | Command::Approvals(c) | Command::Packages(c) => c,
        Command::Request(a) => &a.common,
        Command::Status(a) => &a.common,
        Command::Extend(a) => &a.common,
        Command::End(a) => &a.common,
        Command::Approve(a) => &a.common,
        Command::Deny(a) => &a.common,
        Command::Reviews(a) => access_reviews::common(a),
        Command::BreakGlassReview(a) => &a.common,
    }
}

pub async fn run(command: Command) -> i32 {
    let out = Out {
        format: common(&command).output,
    };
    let result = match command {
        Command::Login(a) => signing_in::login(a, out).await,
        Command::Logout(c) => signing_in::logout(c, out).await,
        Command::Packages(c) => packages::packages(c, out).await,
        Command::Request(a) => asking::request(a, out).await,
        Command::Status(a) => own_grants::status(a, out).await,
        Command::Extend(a) => own_grants::extend(a, out).await,
        Command::End(a) => own_grants::end(a, out).await,
        Command::Approvals(c) => decisions::approvals(c, out).await,
        Command::Approve(a) => decisions::approve(a, out).await,
        Command::Deny(a) => decisions::deny(a, out).await,
        Command::Reviews(a) => access_reviews::run(a, out).await,
        Command::BreakGlassReview(a) => reviews::break_glass_review(a, out).await,
    };
    match result {
        Ok(code) => code,
        Err(e) => report(&e, out),
    }
}

/// Says what went wrong (and, with `--output json`, prints the API's error body); the exit
/// status.
fn report(e: &anyhow::Error, out: Out) -> i32 {
    if let Some(c) = e.downcast_ref::<Cancelled>() {
        out.live_done();
        out.note(&c.0);
        return 130;
    }
    let api = e.downcast_ref::<ApiError>();
    let body = match api {
        Some(a) => a.body(),
        None => ErrorBody {
            error: ErrorDetail {
                code: "failed".into(),
                message: format!("{e:#}"),
                fields: vec![],
                rule: None,
            },
        },
    };
    if out.json() {
        out.answer(&body, String::new);
    }
    out.live_done();
    // The message may carry the portal's or Entra's words, and what was typed: shown visibly.
    let mut text = format!("jitgate: {}", visible(&body.error.message));
    for f in &body.error.fields {
        text.push_str(&format!(
            "\n  {}: {}",
            visible(flag_of(&f.field)),
            visible(&f.message)
        ));
    }
    out.note(&text);
    match api {
        Some(ApiError::Refused { .. }) => 1,
        _ => 2,
    }
}

/// This machine's client home, and the portal the command names (`--portal`, else the one
/// `jitgate login` remembered).
fn home_and_portal(common: &Common) -> anyhow::Result<(Home, Portal)> {
    let home = Home::locate()?;
    let url = portal_url(common.portal.as_deref(), &home)?;
    let portal = Portal::new(&url)?;
    Ok((home, portal))
}

/// The caller's session with the portal the command names.
async fn open(common: &Common) -> anyhow::Result<Session> {
    let (home, portal) = home_and_portal(common)?;
    let out = Out {
        format: common.output,
    };
    Session::open(home, portal, out).await
}

/// Posts `body` to request `id`'s `action` (`end`, `extend`, `approve`, `extension/deny`, …)
/// and answers with what the portal returns, `say` putting it in words.
async fn act<T: DeserializeOwned + Serialize>(
    s: &mut Session,
    id: &str,
    action: &str,
    body: &impl Serialize,
    out: Out,
    say: impl FnOnce(&T) -> String,
) -> anyhow::Result<i32> {
    let answer: T = s
        .post(&format!("/api/v1/requests/{id}/{action}"), body)
        .await?;
    out.answer(&answer, || say(&answer));
    Ok(0)
}
