//! The application service: every use case of the portal, reads included, shared by the JSON
//! API, the pages, the background jobs and the command line. Each use case checks the caller's
//! role itself, so no entry point can forget it. Each state change commits together with the
//! directory operation it implies and its audit events.
//!
//! The service's state (settings, store, directory) is private: callers above it go through
//! these methods.
//!
//! This file holds [`Portal`] itself, who may see and decide a request, and `event` (an audit
//! event about a request). The rest, by what it does:
//!
//! - `requests/`: use cases on requests, one file each: asking, deciding, ending, reading
//!   (with `list_cache.rs`, the lists as last read), and `starting.rs`, the start of a change
//!   and of a decision, which `extensions.rs` shares;
//! - `extensions.rs`: extensions of live grants, asked for and decided;
//! - `ask_limits.rs`: how often one person may ask for a package (429 beyond), checked in the
//!   transaction that adds the ask;
//! - `step_up.rs`: a package's authentication context (step-up MFA), checked at request, at
//!   each approval and at extension ([`Portal::require_step_up`]);
//! - `queue.rs`: the approvals queue;
//! - `lifecycle.rs`: opening and closing the access window, for people and the scheduler;
//! - `deadlines.rs`: later starts, expiries and approval time-outs, when they come due;
//! - `directory/`: the directory outbox: `claims.rs` claims operations under a lease,
//!   `answers.rs` records what Graph answered, handing a change made to `done.rs`, a failure
//!   to `failed.rs` and an answer after a lost lease to `late.rs`; `attempt.rs` holds what the
//!   worker hands back;
//! - `retry.rs`: when a failed directory operation is tried again;
//! - `reconcile.rs`: drift reconciliation of the groups;
//! - `drift_watch.rs`: the fast drift check between reconciliations (Graph's delta query, and
//!   members watched after a write whose outcome is unknown);
//! - `sessions.rs`: browser sessions' limits and the refresh of roles;
//! - `break_glass/`: emergency access without approval (break-glass), and its review;
//! - `credential_expiry`: the admins alerted 30 and 7 days before the Entra certificate ends;
//! - `policy/`: a package's rules (groups, networks, privileged accounts, places, hours) at
//!   each stage, and their refusals;
//! - `privileged.rs`: the directory roles a person holds (cached per `role_refresh`), and what
//!   a package's `deny_privileged` makes of them;
//! - `bearers.rs`: the same refresh of account state and roles for bearer tokens;
//! - `sign_ins.rs`: device-code sign-ins read from Entra's log;
//! - `demo_device.rs`: the demo's device code flow panel;
//! - `audit/`: the auditors' reads of the audit trail; `chain.rs` verifies the chain against
//!   the anchors `read_back.rs` reads, `anchors.rs` anchors its head outside the database,
//!   `export.rs` exports it;
//! - `notify/`: the notifications each audit event calls for, and their delivery;
//! - `reviews/`: access reviews: campaigns started, reminded and closed by the scheduler,
//!   decided by reviewers, applied at the due date, and the revocations they leave;
//! - `metrics.rs`: the Prometheus metrics;
//! - `operations.rs`: the background jobs' heartbeats, readiness, the admins' overview;
//! - `setup.rs`: `jitgate setup`, registering jitgate in a tenant with an admin's Graph token.
//!
//! Imports between them run one way: `extensions.rs` uses `requests/`; `requests/` uses
//! `lifecycle.rs` and `break_glass/`; `break_glass/` uses `lifecycle.rs` and `policy/`; `directory/` uses `lifecycle.rs`, `retry.rs`, `drift_watch.rs` and `notify/`; `deadlines.rs`
//! and `lifecycle.rs` use `notify/`.

mod ask_limits;
pub mod audit;
mod bearers;
mod break_glass;
mod credential_expiry;
mod deadlines;
mod demo_device;
pub mod directory;
mod drift_watch;
mod extensions;
pub(crate) mod lifecycle;
pub mod metrics;
pub mod notify;
mod operations;
mod policy;
mod privileged;
mod queue;
mod reconcile;
mod requests;
pub mod retry;
mod reviews;
pub mod sessions;
pub mod setup;
mod sign_ins;
mod step_up;

pub use audit::{ChainStatus, EventPage, ExportChunk, ExportFormat, ExportStream, event_record};
pub use break_glass::BreakGlassEntry;
pub use demo_device::DeviceCodeTry;
pub use drift_watch::Suspect;
pub use extensions::{ExtendInput, ExtensionEntry};
pub use operations::{Heartbeat, Operations, Readiness, Reconciliation};
pub use queue::QueueEntry;
pub use requests::{DecisionInput, ListQuery, MAX_ON_BEHALF, OnBehalf, OnBehalfOutcome};
pub use reviews::{CampaignView, ItemView, ReviewExport};
pub use sign_ins::SignInReading;

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::Notify;

use crate::auth::Principal;
use crate::clock::Clock;
use crate::config::Settings;
use crate::domain::{AuditAction, NewAuditEvent, Package, Request, Role};
use crate::error::{AppError, AppResult};
use crate::graph::Directory;
use crate::store::Store;

/// Wakes the background jobs when there is new work.
#[derive(Default)]
pub(crate) struct Wakers {
    pub(crate) worker: Notify,
    pub(crate) scheduler: Notify,
    pub(crate) sender: Notify,
}

#[derive(Clone)]
pub struct Portal {
    settings: Arc<Settings>,
    store: Arc<dyn Store>,
    directory: Arc<dyn Directory>,
    clock: Arc<dyn Clock>,
    pub(crate) wake: Arc<Wakers>,
    chain: Arc<audit::ChainWatch>,
    metrics: Arc<metrics::Metrics>,
    /// Request lists as last read (see [`Portal::list_requests_cached`]).
    lists: Arc<std::sync::Mutex<requests::ListCache>>,
    /// Approver-group memberships as last read, by user (see [`Portal::with_groups`]).
    groups: Arc<std::sync::Mutex<std::collections::HashMap<String, sessions::GroupReading>>>,
    /// Account states and app roles as last read for bearer tokens, by user (see
    /// [`Portal::check_bearer`]).
    bearers: Arc<std::sync::Mutex<std::collections::HashMap<String, bearers::AccessReading>>>,
    /// Directory roles as last read, by user (see [`Portal::privileged_roles`]).
    privileged: Arc<std::sync::Mutex<std::collections::HashMap<String, privileged::RoleReading>>>,
    /// Queues the notifications each audit event calls for.
    outbox: notify::Outbox,
    /// Where notifications other than Graph e-mail go.
    channels: Arc<notify::Channels>,
    /// The sign-in log entries the last reading could not read (see
    /// [`Portal::record_sign_ins`]).
    unreadable_sign_ins: Arc<std::sync::Mutex<sign_ins::UnreadableSeen>>,
}

impl Portal {
    pub fn new(
        settings: Arc<Settings>,
        store: Arc<dyn Store>,
        directory: Arc<dyn Directory>,
        clock: Arc<dyn Clock>,
    ) -> Portal {
        Portal {
            outbox: notify::Outbox::new(settings.clone()),
            channels: Arc::new(notify::Channels::new(&settings.notify)),
            settings,
            store,
            directory,
            clock,
            wake: Arc::new(Wakers::default()),
            chain: Arc::default(),
            metrics: Arc::default(),
            lists: Arc::default(),
            groups: Arc::default(),
            bearers: Arc::default(),
            privileged: Arc::default(),
            unreadable_sign_ins: Arc::default(),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Sleeps until `t` on the portal's clock.
    pub async fn sleep_until(&self, t: DateTime<Utc>) {
        self.clock.sleep_until(t).await
    }

    /// `sqlite` or `postgres`.
    /// Closes the store's connections (the process is stopping).
    pub async fn close(&self) {
        self.store.close().await;
    }

    pub fn backend(&self) -> &'static str {
        self.store.backend()
    }

    /// Whether this is `jitgate demo` (the pages show a banner).
    pub fn is_demo(&self) -> bool {
        self.settings.demo
    }

    /// In demo mode, the emulated tenant's mailbox page (what the demo users were sent).
    pub fn demo_mailbox(&self) -> Option<String> {
        self.settings
            .demo
            .then(|| self.settings.entra.graph_url.join("mailbox").ok())
            .flatten()
            .map(|u| u.to_string())
    }

    /// Reverse proxies whose `X-Forwarded-For` is believed (`[server] trusted_proxies`).
    pub fn trusted_proxies(&self) -> &[ipnet::IpNet] {
        &self.settings.server.trusted_proxies
    }

    /// The tenant and the app registrations (no secret leaves through here: the client secret
    /// is a `SecretString`).
    pub fn entra(&self) -> &crate::config::EntraSettings {
        &self.settings.entra
    }

    /// How the portal is served (public URL, cookies, session limits).
    pub fn server(&self) -> &crate::config::ServerSettings {
        &self.settings.server
    }

    /// Where the portal is served (`[server] public_url`).
    pub fn public_url(&self) -> &url::Url {
        &self.settings.server.public_url
    }

    /// The configured packages, in configuration order.
    pub fn packages(&self) -> &[Package] {
        &self.settings.packages
    }

    pub fn package(&self, id: &str) -> Option<&Package> {
        self.settings.package(id)
    }

    /// Whether any package lets the requester's manager decide (managers may then have approvals to see).
    pub fn managers_may_approve(&self) -> bool {
        self.settings.packages.iter().any(|p| p.manager_may_approve)
    }

    /// The portal roles `who` holds under the configured app role values.
    pub fn roles_of(&self, who: &Principal) -> BTreeSet<Role> {
        who.roles(&self.settings.roles)
    }

    pub fn has_role(&self, who: &Principal, role: Role) -> bool {
        self.roles_of(who).contains(&role)
    }

    /// Refuses a sign-in through the requests API (which device-code sign-ins reach) for
    /// `what`: such a sign-in may only ask for access and act on the person's own requests.
    pub fn require_portal_reach(&self, who: &Principal, what: &str) -> AppResult<()> {
        if who.requests_only() {
            return Err(AppError::Forbidden(format!(
                "{what} needs a sign-in to jitgate itself: this token is for the jitgate requests \
                 API, which device-code sign-ins reach, and may only ask for access and act on \
                 your own requests. Sign in with a browser (`jitgate login` without \
                 --device-code) and try again."
            )));
        }
        Ok(())
    }

    /// Refuses `who` unless they hold one of `roles`, naming the roles.
    pub fn require_any(&self, who: &Principal, roles: &[Role], what: &str) -> AppResult<()> {
        self.require_portal_reach(who, what)?;
        if roles.iter().any(|r| self.has_role(who, *r)) {
            return Ok(());
        }
        let names = roles
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(" or ");
        Err(AppError::Forbidden(format!(
            "{what} is for the {names} role."
        )))
    }

    /// Whether `who` may see this request: its requester, who asked on their behalf, anyone who
    /// may decide it, auditors and admins; through the requests API, only its requester.
    pub fn may_view(&self, who: &Principal, r: &Request) -> bool {
        if who.requests_only() {
            return r.requester.id == who.user.id;
        }
        r.involves(&who.user.id)
            || self.has_role(who, Role::Auditor)
            || self.has_role(who, Role::Admin)
            || self.may_decide(who, r)
            || r.manager_id.as_deref() == Some(who.user.id.as_str())
    }

    /// Whether `who` may decide this request (never through the requests API).
    pub fn may_decide(&self, who: &Principal, r: &Request) -> bool {
        if who.requests_only() {
            return false;
        }
        match self.package(&r.package) {
            Some(pkg) => r.may_be_decided_by(&who.user.id, self.is_package_approver(who, pkg), pkg),
            None => false,
        }
    }

    /// Whether `who` is one of `pkg`'s approvers: the approver role where it applies to the
    /// package, or membership of one of its approver groups. The one rule the approvals page,
    /// the badge, decisions and notifications follow.
    pub fn is_package_approver(&self, who: &Principal, pkg: &Package) -> bool {
        if who.requests_only() {
            return false;
        }
        (pkg.approver_role_applies && self.has_role(who, Role::Approver))
            || pkg
                .approver_groups
                .iter()
                .any(|g| who.groups.iter().any(|m| m.eq_ignore_ascii_case(g)))
    }

    /// Whether `who` approves for at least one package.
    pub fn approves_anything(&self, who: &Principal) -> bool {
        self.settings
            .packages
            .iter()
            .any(|p| self.is_package_approver(who, p))
    }

    fn notify(&self) {
        self.wake.worker.notify_one();
        self.wake.scheduler.notify_one();
        self.wake.sender.notify_one();
    }

    /// Waits until something may have been queued for the sender, or `timeout` passed.
    pub async fn sender_wait(&self, timeout: std::time::Duration) {
        let _ = tokio::time::timeout(timeout, self.wake.sender.notified()).await;
    }
}

/// The `via` of an audit event caused through the requests API.
pub const VIA_REQUESTS_API: &str = "requests_api";

/// An audit event about `r`, by `actor` (or the system when `None`). What a person does through
/// the requests API (which device-code sign-ins reach) says so: `"via": "requests_api"`.
pub(crate) fn event(
    actor: Option<&Principal>,
    action: AuditAction,
    r: &Request,
    at: DateTime<Utc>,
    mut details: serde_json::Value,
) -> NewAuditEvent {
    if let Some(p) = actor.filter(|p| p.requests_only())
        && let Some(d) = details.as_object_mut()
    {
        d.insert("via".into(), serde_json::json!(VIA_REQUESTS_API));
        if let Some(ip) = &p.client_ip {
            d.insert("from_ip".into(), serde_json::json!(ip));
        }
    }
    let (actor_id, actor_name) = match actor {
        Some(p) => (p.user.id.clone(), p.user.name.clone()),
        None => ("system".to_string(), "jitgate".to_string()),
    };
    NewAuditEvent {
        at,
        actor_id,
        actor_name,
        action,
        request_id: Some(r.id.clone()),
        subject_id: Some(r.requester.id.clone()),
        details,
        client_ip: actor.and_then(|p| p.client_ip.clone()),
        user_agent: actor.and_then(|p| p.user_agent.clone()),
    }
}

/// An event by the system about a person or a directory object, not about a request.
pub(crate) fn system_event(
    action: AuditAction,
    subject: &str,
    at: DateTime<Utc>,
    details: serde_json::Value,
) -> NewAuditEvent {
    NewAuditEvent {
        at,
        actor_id: "system".to_string(),
        actor_name: "jitgate".to_string(),
        action,
        request_id: None,
        subject_id: Some(subject.to_string()),
        details,
        client_ip: None,
        user_agent: None,
    }
}
