//! The command-line client, in the same binary: `jitgate login`, `packages`, `request`, `status`,
//! `extend`, `end`, `approvals`, `approve`, `deny`, `break-glass-review` and `logout`, for requesters and approvers, against a
//! portal's JSON API in the API's own types (`crate::contract`). It signs in to Entra ID as a
//! public client (`sign_in`), keeps its tokens in a file only its owner can read (`home`) and
//! imports nothing of the portal's insides.
//!
//! `commands/` holds the commands, one module per command group; they call the API through a
//! signed-in `session` (which renews its tokens) over `portal`, and say what happened through
//! `output`. `loopback` receives the browser's answer when signing in on this machine; `trust`
//! checks what a portal publishes about signing in before anything is sent, and decides what
//! to show and ask about it. `challenge` reads a claims challenge (a step-up the portal asks
//! for), and `interactive` runs a sign-in the person completes, for `jitgate login` and for a
//! step-up.

mod challenge;
mod commands;
mod home;
mod interactive;
mod loopback;
mod output;
mod portal;
mod session;
mod sign_in;
mod trust;

use clap::{Args, Subcommand};

pub use output::Format;

/// Options every client command takes.
#[derive(Debug, Clone, Args)]
pub struct Common {
    /// The portal, e.g. https://jit.contoso.example (`jitgate login --portal` remembers it).
    #[arg(long, env = "JITGATE_PORTAL")]
    pub portal: Option<String>,
    /// `human` (default): sentences and tables; `json`: one JSON document, the API's types.
    #[arg(long, value_enum, default_value = "human", env = "JITGATE_OUTPUT")]
    pub output: Format,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign in to a portal (in the browser, or with --device-code on a machine without one).
    Login(LoginArgs),
    /// Forget this machine's sign-in to the portal.
    Logout(Common),
    /// The packages, their limits, and whether you may request each.
    Packages(Common),
    /// Ask for a package for a while: `jitgate request --package device-code-exemption --for 2h --reason "…" --wait`.
    Request(RequestArgs),
    /// Your open requests and grants, or one request in detail.
    Status(StatusArgs),
    /// Ask for more time on an active grant.
    Extend(ExtendArgs),
    /// End a grant now (yours; an admin's ends anyone's, as a revocation).
    End(EndArgs),
    /// What waits for your decision (approvers).
    Approvals(Common),
    /// Approve a pending request, or the extension waiting on a grant.
    Approve(ApproveArgs),
    /// Deny a pending request, or the extension waiting on a grant, with a reason.
    Deny(DenyArgs),
    /// Access reviews: `jitgate reviews list`, `jitgate reviews show <id>`,
    /// `jitgate reviews decide <id> <item> --decision Deny --reason "…"`.
    Reviews(ReviewsArgs),
    /// Review a break-glass grant (taken without approval): justified or not, with a comment
    /// (approvers of its package, not the one who took it).
    BreakGlassReview(BreakGlassReviewArgs),
}

#[derive(Debug, Args)]
pub struct BreakGlassReviewArgs {
    #[command(flatten)]
    pub common: Common,
    /// The grant's id, or the first characters of it.
    pub id: String,
    /// What you found.
    #[arg(long, value_enum)]
    pub verdict: ReviewVerdict,
    /// Why (required): e.g. the incident it was for, or what was missing.
    #[arg(long)]
    pub comment: String,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ReviewVerdict {
    Justified,
    NotJustified,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    #[command(flatten)]
    pub common: Common,
    /// Sign in with a code entered on another device's browser (RFC 8628), for headless
    /// machines, containers and SSH sessions.
    #[arg(long)]
    pub device_code: bool,
    /// Do not open a browser; print the sign-in address instead.
    #[arg(long)]
    pub no_browser: bool,
    /// Sign in to this tenant (id or domain) instead of the one the portal names.
    #[arg(long)]
    pub tenant: Option<String>,
    /// Sign in at this sign-in service although it is not one of Microsoft Entra's (an emulated
    /// or test tenant; `http://` only on this machine). The portal must name the same one.
    #[arg(long, value_name = "URL", env = "JITGATE_AUTHORITY_HOST")]
    pub authority_host: Option<String>,
    /// Accept the tenant and app the portal names without asking (first sign-in, or a change):
    /// for scripts, once they have been checked.
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct RequestArgs {
    #[command(flatten)]
    pub common: Common,
    /// The package's id (`jitgate packages` lists them). May be left out when only one package
    /// is open to you.
    #[arg(long)]
    pub package: Option<String>,
    /// How long, like `2h`, `90m`, `1h 30m` (default: the package's).
    #[arg(long = "for", value_name = "DURATION")]
    pub duration: Option<String>,
    /// Why you need it (the justification approvers read).
    #[arg(long)]
    pub reason: String,
    /// A ticket or change number, where the package asks for one.
    #[arg(long)]
    pub ticket: Option<String>,
    /// Start later: an RFC 3339 time, or a duration from now (`30m`).
    #[arg(long)]
    pub start: Option<String>,
    /// Wait until access is in effect (or refused), showing its progress; Ctrl-C stops waiting.
    #[arg(long, conflicts_with = "on_behalf_of")]
    pub wait: bool,
    /// Break-glass, where the package allows it and you are in its break-glass group: access at
    /// once, without approval, for at most the package's `break_glass_max`; every admin and
    /// approver is told at once and an approver reviews it afterwards. Needs a browser sign-in
    /// (`jitgate login` without --device-code); only for yourself.
    #[arg(long, conflicts_with_all = ["start", "on_behalf_of"])]
    pub emergency: bool,
    /// Ask on others' behalf (approvers, admins and holders of the requester-on-behalf role):
    /// people or device accounts by user principal name or object id, comma-separated; one
    /// request each.
    #[arg(
        long,
        value_name = "UPN,...",
        value_delimiter = ',',
        requires = "package"
    )]
    pub on_behalf_of: Vec<String>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub common: Common,
    /// A request's id, or the first characters of it.
    pub id: Option<String>,
    /// Your closed requests too (the last 20).
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct ExtendArgs {
    #[command(flatten)]
    pub common: Common,
    /// The grant (default: your one active grant).
    pub id: Option<String>,
    /// How much longer, like `30m` or `1h`: at least 5 minutes, and the grant's total from its
    /// start within its package's limit.
    #[arg(long = "for", value_name = "DURATION")]
    pub duration: String,
    /// Why.
    #[arg(long)]
    pub reason: String,
}

#[derive(Debug, Args)]
pub struct EndArgs {
    #[command(flatten)]
    pub common: Common,
    /// The grant (default: your one active grant).
    pub id: Option<String>,
    /// Why (required when an admin revokes someone else's grant).
    #[arg(long)]
    pub reason: Option<String>,
}

#[derive(Debug, Args)]
pub struct ApproveArgs {
    #[command(flatten)]
    pub common: Common,
    /// The request's id, or the first characters of it.
    pub id: String,
    #[arg(long)]
    pub comment: Option<String>,
    /// Grant less than asked, like `1h` (never more).
    #[arg(long = "for", value_name = "DURATION")]
    pub duration: Option<String>,
}

#[derive(Debug, Args)]
pub struct DenyArgs {
    #[command(flatten)]
    pub common: Common,
    /// The request's id, or the first characters of it.
    pub id: String,
    /// Why (required).
    #[arg(long, alias = "reason")]
    pub comment: String,
}

#[derive(Debug, Args)]
pub struct ReviewsArgs {
    #[command(subcommand)]
    pub command: ReviewsCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum ReviewsCommand {
    /// The access reviews you review or attest in, newest first, with what waits for you.
    List(Common),
    /// One review's items: what was reviewed, the decisions, and (once closed) the results.
    Show(ShowReviewArgs),
    /// Decide an item: Approve, Deny or DontKnow, with a justification.
    Decide(DecideReviewArgs),
}

#[derive(Debug, Args)]
pub struct ShowReviewArgs {
    #[command(flatten)]
    pub common: Common,
    /// The review's id (`jitgate reviews list` shows them).
    pub id: String,
}

#[derive(Debug, Args)]
pub struct DecideReviewArgs {
    #[command(flatten)]
    pub common: Common,
    /// The review's id.
    pub id: String,
    /// The item's number (`jitgate reviews show` lists them).
    pub item: i64,
    /// Approve, Deny or DontKnow.
    #[arg(long)]
    pub decision: String,
    /// Why (required).
    #[arg(long, alias = "justification")]
    pub reason: String,
}

/// Runs a client command; the process's exit status: 0 done, 1 refused or ended without
/// access, 2 any other failure, 130 cancelled with Ctrl-C.
pub async fn run(command: Command) -> i32 {
    commands::run(command).await
}
