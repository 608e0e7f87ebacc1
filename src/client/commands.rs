//! Each client command: resolve the portal and the session, call the API, say what happened.

use std::future::Future;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::home::{CachedAccount, Home};
use super::output::{self, Out, minutes, short, span, when, when_relative};
use super::portal::{ApiError, Portal};
use super::session::{Session, portal_url};
use super::sign_in::{self, Authority};
use super::{
    ApproveArgs, Command, Common, DenyArgs, EndArgs, ExtendArgs, LoginArgs, RequestArgs, StatusArgs,
};
use crate::contract::{
    ApprovalQueue, ApproveBody, DenyBody, EndBody, ErrorBody, ErrorDetail, ExtendBody, Extended,
    ExtensionDecisionBody, ExtensionList, Me, NewRequest, PackageList, Request, RequestList,
    RequestQuery, SignInList, Status,
};

/// How often `--wait` asks the portal: one read of one request a second per waiting terminal.
const POLL: Duration = Duration::from_secs(1);

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
    }
}

pub async fn run(command: Command) -> i32 {
    let out = Out {
        format: common(&command).output,
    };
    let result = match command {
        Command::Login(a) => login(a, out).await,
        Command::Logout(c) => logout(c, out).await,
        Command::Packages(c) => packages(c, out).await,
        Command::Request(a) => request(a, out).await,
        Command::Status(a) => status(a, out).await,
        Command::Extend(a) => extend(a, out).await,
        Command::End(a) => end(a, out).await,
        Command::Approvals(c) => approvals(c, out).await,
        Command::Approve(a) => approve(a, out).await,
        Command::Deny(a) => deny(a, out).await,
    };
    match result {
        Ok(code) => code,
        Err(e) => report(&e, out),
    }
}

/// Which flag a field of the API's error body stands for.
fn flag_of(field: &str) -> &str {
    match field {
        "duration_minutes" | "minutes" => "--for",
        "justification" => "--reason",
        "ticket" => "--ticket",
        "starts_at" => "--start",
        "package" => "--package",
        "comment" => "--comment",
        "reason" => "--reason",
        other => other,
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
            },
        },
    };
    if out.json() {
        out.answer(&body, String::new);
    }
    out.live_done();
    let mut text = format!("jitgate: {}", body.error.message);
    for f in &body.error.fields {
        text.push_str(&format!("\n  {}: {}", flag_of(&f.field), f.message));
    }
    out.note(&text);
    match api {
        Some(ApiError::Refused { .. }) => 1,
        _ => 2,
    }
}

/// `30m`, `2h`, `1h 30m` in whole minutes.
fn parse_minutes(flag: &str, text: &str) -> anyhow::Result<i64> {
    let d = humantime::parse_duration(text.trim())
        .map_err(|e| anyhow!("{flag} '{text}' is not a duration like 30m, 2h or 1h 30m ({e})"))?;
    let m = i64::try_from(d.as_secs() / 60).unwrap_or(i64::MAX);
    if m < 1 || d.as_secs() % 60 != 0 {
        bail!("{flag} '{text}' must be a whole number of minutes, at least 1m");
    }
    Ok(m)
}

/// An RFC 3339 time, or a duration from now.
fn parse_start(text: &str, now: DateTime<Utc>) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text.trim()) {
        return Ok(t.with_timezone(&Utc));
    }
    let m = parse_minutes("--start", text).map_err(|_| {
        anyhow!("--start '{text}' is neither an RFC 3339 time (2026-12-01T09:30:00Z) nor a duration from now (30m)")
    })?;
    Ok(now + chrono::Duration::minutes(m))
}

async fn open(common: &Common) -> anyhow::Result<Session> {
    let home = Home::locate()?;
    let url = portal_url(common.portal.as_deref(), &home)?;
    Session::open(home, Portal::new(&url)?).await
}

// ---------------------------------------------------------------------------------------------
// Signing in and out
// ---------------------------------------------------------------------------------------------

#[derive(Serialize)]
struct SignedIn<'a> {
    portal: &'a str,
    account: &'a Me,
    /// When the access token expires (it is renewed silently until the refresh token lapses).
    expires_at: DateTime<Utc>,
    device_code: bool,
}

async fn login(args: LoginArgs, out: Out) -> anyhow::Result<i32> {
    let home = Home::locate()?;
    let url = portal_url(args.common.portal.as_deref(), &home)?;
    let portal = Portal::new(&url)?;
    let published = portal.cli_sign_in().await?;
    let authority = Authority::from_portal(&published, args.tenant.as_deref());
    authority.base()?;
    let http = sign_in::http()?;
    let tokens = if args.device_code {
        let (prompt, poll) = sign_in::device_code(&authority, &http).await?;
        out.note(&prompt.message);
        out.note(&format!(
            "The code expires at {} (15 minutes). Waiting for the sign-in; Ctrl-C cancels.",
            when(prompt.expires_at, Utc::now())
        ));
        or_ctrl_c(poll, "Cancelled: nothing was signed in.").await?
    } else {
        let no_browser = args.no_browser;
        let show = move |url: &str| {
            if no_browser || webbrowser::open(url).is_err() {
                out.note(&format!(
                    "Open this address in a browser on this machine to sign in:\n\n  {url}\n"
                ));
            } else {
                out.note(&format!(
                    "Your browser was opened to sign in. If it did not open, go to:\n\n  {url}\n"
                ));
            }
            out.note("Waiting for the sign-in; Ctrl-C cancels.");
        };
        or_ctrl_c(
            sign_in::browser(&authority, &http, show),
            "Cancelled: nothing was signed in.",
        )
        .await?
    };
    let me: Me = portal
        .get(&tokens.access_token, "/api/v1/me", &())
        .await
        .context("signed in to Entra ID, but the portal refused the token")?;
    let account = CachedAccount {
        authority_host: authority.authority_host.clone(),
        tenant_id: authority.tenant_id.clone(),
        client_id: authority.client_id.clone(),
        scopes: authority.scopes.clone(),
        name: me.name.clone(),
        username: me.username.clone(),
        access_token: tokens.access_token,
        expires_at: tokens.expires_at,
        refresh_token: tokens.refresh_token,
        device_code: args.device_code,
    };
    let mut cache = home.tokens()?;
    cache
        .portals
        .insert(portal.base().to_string(), account.clone());
    home.save_tokens(&cache)?;
    let mut config = home.config()?;
    if config.portal.as_deref() != Some(portal.base()) {
        config.portal = Some(portal.base().to_string());
        home.save_config(&config)?;
    }
    let answer = SignedIn {
        portal: portal.base(),
        account: &me,
        expires_at: account.expires_at,
        device_code: args.device_code,
    };
    out.answer(&answer, || {
        let roles = if me.roles.is_empty() {
            "requester".to_string()
        } else {
            me.roles.join(", ")
        };
        format!(
            "Signed in to {} as {} ({}); roles: {roles}.",
            portal.base(),
            me.name,
            me.username
        )
    });
    Ok(0)
}

async fn logout(c: Common, out: Out) -> anyhow::Result<i32> {
    let home = Home::locate()?;
    let url = portal_url(c.portal.as_deref(), &home)?;
    let base = Portal::new(&url)?.base().to_string();
    let mut cache = home.tokens()?;
    let was = cache.portals.remove(&base).is_some();
    home.save_tokens(&cache)?;
    #[derive(Serialize)]
    struct SignedOut<'a> {
        portal: &'a str,
        signed_out: bool,
    }
    out.answer(
        &SignedOut {
            portal: &base,
            signed_out: was,
        },
        || {
            if was {
                format!("Signed out of {base} on this machine (its tokens are deleted).")
            } else {
                format!("You were not signed in to {base} on this machine.")
            }
        },
    );
    Ok(0)
}

// ---------------------------------------------------------------------------------------------
// Requesting
// ---------------------------------------------------------------------------------------------

async fn packages(c: Common, out: Out) -> anyhow::Result<i32> {
    let mut s = open(&c).await?;
    let list: PackageList = s.get("/api/v1/packages", &()).await?;
    out.answer(&list, || {
        let mut lines = Vec::new();
        for p in &list.packages {
            let mut rules = vec![format!(
                "{} to {} (default {})",
                minutes(p.min_duration_minutes),
                minutes(p.max_duration_minutes),
                minutes(p.default_duration_minutes)
            )];
            if p.approvals_required > 1 {
                rules.push(format!("{} approvals", p.approvals_required));
            }
            if p.ticket_required {
                rules.push("a ticket".into());
            }
            if let Some(m) = p.end_after_first_sign_in_minutes {
                rules.push(format!("ends {} after the first sign-in", minutes(m)));
            }
            lines.push(format!(
                "{:<24}  {}{}\n{:<24}  {}",
                p.id,
                p.name,
                if p.may_request {
                    ""
                } else {
                    "  (not open to you)"
                },
                "",
                rules.join(", ")
            ));
        }
        if lines.is_empty() {
            "This portal has no packages.".into()
        } else {
            lines.join("\n")
        }
    });
    Ok(0)
}

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
                .map(|p| format!("{} ({})", p.id, p.name))
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
        .map(|a| a.approver.name.as_str())
        .next()
        .unwrap_or("an approver");
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
                denial.map_or(decider, |a| a.approver.name.as_str()),
                denial
                    .and_then(|a| a.comment.as_deref())
                    .or(r.close_reason.as_deref())
                    .unwrap_or("no reason given")
            )
        }
        _ => format!(
            "Request {} is {}{}.",
            short(&r.id),
            r.status.as_str().replace('_', " "),
            r.close_reason
                .as_deref()
                .map(|c| format!(": {c}"))
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

async fn request(a: RequestArgs, out: Out) -> anyhow::Result<i32> {
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
    };
    let r: Request = s.post("/api/v1/requests", &body).await?;
    let now = Utc::now();
    if !a.wait {
        out.answer(&r, || {
            format!(
                "Asked for {} for {} (request {}): {}.",
                r.package,
                minutes(r.duration_minutes),
                short(&r.id),
                next_step(&r, now)
            )
        });
        return Ok(0);
    }
    out.note(&format!(
        "Asked for {} for {} (request {}). Waiting until access is in effect; Ctrl-C stops waiting (the request stays).",
        r.package,
        minutes(r.duration_minutes),
        short(&r.id)
    ));
    let (r, code) = wait_for_access(&mut s, &r.id, out).await?;
    out.live_done();
    out.answer(&r, || outcome(&r, Utc::now()));
    Ok(code)
}

fn is_guid(s: &str) -> bool {
    uuid::Uuid::try_parse(s.trim()).is_ok()
}

/// The one request among `candidates` whose id is or starts with `given`.
fn pick<'a>(candidates: &'a [Request], given: &str, what: &str) -> anyhow::Result<&'a Request> {
    let needle = given.trim().to_ascii_lowercase();
    if needle.len() < 4 {
        bail!("'{given}' is too short to name a request: give at least its first 4 characters");
    }
    let found: Vec<&Request> = candidates
        .iter()
        .filter(|r| r.id.starts_with(&needle))
        .collect();
    match found.as_slice() {
        [one] => Ok(one),
        [] => bail!("none of {what} has an id starting with '{given}'"),
        many => bail!(
            "'{given}' names {} of {what}; give more of the id: {}",
            many.len(),
            many.iter()
                .map(|r| short(&r.id))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

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

/// The caller's grant named by `given` (an id or its start), or their one active grant.
async fn own_grant(s: &mut Session, given: Option<&str>) -> anyhow::Result<String> {
    match given {
        Some(id) if is_guid(id) => Ok(id.trim().to_string()),
        Some(prefix) => {
            let all = mine(s, None, 1000).await?;
            Ok(pick(&all, prefix, "your requests")?.id.clone())
        }
        None => {
            let active = mine(s, Some("active"), 100).await?;
            match active.as_slice() {
                [one] => Ok(one.id.clone()),
                [] => bail!("you have no active grant"),
                many => bail!(
                    "you have {} active grants; name one: {}",
                    many.len(),
                    many.iter()
                        .map(|r| format!("{} ({})", short(&r.id), r.package))
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

async fn status(a: StatusArgs, out: Out) -> anyhow::Result<i32> {
    let mut s = open(&a.common).await?;
    let now = Utc::now();
    let Some(given) = a.id else {
        let list = if a.all {
            mine(&mut s, None, 20).await?
        } else {
            mine(&mut s, Some("pending,approved,active"), 100).await?
        };
        let who = s.account().name.clone();
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
    let id = if is_guid(&given) {
        given.trim().to_string()
    } else {
        let all = mine(&mut s, None, 1000).await?;
        pick(&all, &given, "your requests")?.id.clone()
    };
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
                si.app_name,
                si.ip_address
            ));
        }
        text
    });
    Ok(0)
}

async fn extend(a: ExtendArgs, out: Out) -> anyhow::Result<i32> {
    let minutes_more = parse_minutes("--for", &a.duration)?;
    let mut s = open(&a.common).await?;
    let id = own_grant(&mut s, a.id.as_deref()).await?;
    let x: Extended = s
        .post(
            &format!("/api/v1/requests/{id}/extend"),
            &ExtendBody {
                minutes: minutes_more,
                justification: a.reason,
            },
        )
        .await?;
    let now = Utc::now();
    out.answer(&x, || match (x.extension.status, x.request.ends_at) {
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
    });
    Ok(0)
}

async fn end(a: EndArgs, out: Out) -> anyhow::Result<i32> {
    let mut s = open(&a.common).await?;
    let id = own_grant(&mut s, a.id.as_deref()).await?;
    let r: Request = s
        .post(
            &format!("/api/v1/requests/{id}/end"),
            &EndBody { reason: a.reason },
        )
        .await?;
    out.answer(&r, || {
        format!(
            "Request {} {}: jitgate is taking {} out of the group now.",
            short(&r.id),
            r.status.as_str(),
            if r.requester.username == s.account().username {
                "you"
            } else {
                r.requester.name.as_str()
            }
        )
    });
    Ok(0)
}

// ---------------------------------------------------------------------------------------------
// Deciding
// ---------------------------------------------------------------------------------------------

async fn approvals(c: Common, out: Out) -> anyhow::Result<i32> {
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
                r.requester.name,
                r.requester.username,
                r.package,
                minutes(r.duration_minutes),
                r.justification
            );
            if let Some(t) = &r.ticket {
                line.push_str(&format!("  ticket {t}"));
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
                x.request.requester.name,
                x.request.requester.username,
                x.request.package,
                minutes(x.extension.minutes),
                x.extension.justification,
                x.request
                    .ends_at
                    .map(|e| when_relative(e, now))
                    .unwrap_or_default()
            ));
        }
        if lines.is_empty() {
            "Nothing waits for your decision.".to_string()
        } else {
            lines.push(
                "\n`jitgate approve ID` or `jitgate deny ID --comment \"…\"` decides.".into(),
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
    let r = if is_guid(given) {
        let id = given.trim().to_ascii_lowercase();
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

async fn approve(a: ApproveArgs, out: Out) -> anyhow::Result<i32> {
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
        let x: Extended = s
            .post(
                &format!("/api/v1/requests/{id}/extension/approve"),
                &ExtensionDecisionBody { comment: a.comment },
            )
            .await?;
        out.answer(&x, || {
            format!(
                "Approved the extension of request {} by {}; access {}.",
                short(&id),
                minutes(x.extension.minutes),
                output::state(&x.request, now)
            )
        });
        return Ok(0);
    }
    let r: Request = s
        .post(
            &format!("/api/v1/requests/{id}/approve"),
            &ApproveBody {
                comment: a.comment,
                duration_minutes: duration,
            },
        )
        .await?;
    out.answer(&r, || {
        format!(
            "Approved request {} of {} for {}: {}.",
            short(&r.id),
            r.requester.name,
            minutes(r.duration_minutes),
            output::state(&r, now)
        )
    });
    Ok(0)
}

async fn deny(a: DenyArgs, out: Out) -> anyhow::Result<i32> {
    let mut s = open(&a.common).await?;
    let (id, extension) = in_queue(&mut s, &a.id).await?;
    if extension {
        let x: Extended = s
            .post(
                &format!("/api/v1/requests/{id}/extension/deny"),
                &ExtensionDecisionBody {
                    comment: Some(a.comment),
                },
            )
            .await?;
        out.answer(&x, || {
            format!(
                "Denied the extension of request {}; the grant still ends as planned.",
                short(&id)
            )
        });
        return Ok(0);
    }
    let r: Request = s
        .post(
            &format!("/api/v1/requests/{id}/deny"),
            &DenyBody {
                comment: Some(a.comment),
            },
        )
        .await?;
    out.answer(&r, || {
        format!("Denied request {} of {}.", short(&r.id), r.requester.name)
    });
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_starts() {
        assert_eq!(parse_minutes("--for", "2h").unwrap(), 120);
        assert_eq!(parse_minutes("--for", "1h 30m").unwrap(), 90);
        assert_eq!(parse_minutes("--for", "90m").unwrap(), 90);
        assert!(parse_minutes("--for", "30s").is_err());
        assert!(
            parse_minutes("--for", "two hours")
                .unwrap_err()
                .to_string()
                .contains("--for")
        );
        let now = Utc::now();
        assert_eq!(
            parse_start("30m", now).unwrap(),
            now + chrono::Duration::minutes(30)
        );
        assert_eq!(
            parse_start("2026-12-01T09:30:00Z", now)
                .unwrap()
                .to_rfc3339(),
            "2026-12-01T09:30:00+00:00"
        );
        assert!(parse_start("tomorrow", now).is_err());
        assert_eq!(flag_of("duration_minutes"), "--for");
        assert_eq!(flag_of("justification"), "--reason");
    }
}
