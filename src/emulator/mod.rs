//! A built-in, emulated Microsoft Entra ID tenant: OpenID Connect discovery and JWKS, an
//! authorize page where a demo user is picked, the token endpoint (authorization code + PKCE,
//! client credentials and the device code flow with its device-login page and Conditional
//! Access), the sign-in log and the Microsoft Graph endpoints jitgate uses.
//!
//! It only runs in `jitgate demo` and in tests, on a loopback listener it is handed. It
//! behaves like Entra on the wire (status codes, error bodies, paging, throttling), see
//! `entra-graph-wire.md`, and lets tests inject faults and inspect the Graph traffic.

mod batch;
mod conditions;
pub mod demo;
mod device;
mod graph_api;
mod graph_apps;
mod graph_users;
mod keys;
mod login;
mod mailbox;
mod public_client;
mod sign_ins;
mod wire;

pub use device::DeviceLogin;
pub use sign_ins::SignIn;

pub(crate) use login::service_principal_id;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use anyhow::Context as _;
use axum::Router;
use axum::routing::{any, get};
use serde_json::{Value, json};

use keys::SigningKey;

/// Audience of Microsoft Graph tokens (application id form).
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
/// Audience of Microsoft Graph tokens (URI form, used in app-only tokens).
pub const GRAPH_RESOURCE: &str = "https://graph.microsoft.com";

/// A user of the emulated tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoUser {
    /// Object id (GUID), the `oid` claim and Graph `id`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// User principal name (`preferred_username`).
    pub username: String,
    /// App role values put in the `roles` claim of ID and access tokens.
    pub roles: Vec<String>,
    /// Object id of the user's manager, if any.
    pub manager_id: Option<String>,
}

/// A message sent through the emulated Graph `sendMail`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SentMail {
    /// The sending mailbox's user principal name.
    pub from: String,
    /// Recipients' addresses.
    pub to: Vec<String>,
    pub subject: String,
    pub body: String,
    pub at: chrono::DateTime<chrono::Utc>,
}

/// A security group of the emulated tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoGroup {
    pub id: String,
    pub display_name: String,
}

/// What the emulated tenant contains and how its app registration is set up.
#[derive(Clone, Debug)]
pub struct EmulatorConfig {
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: String,
    /// Registered redirect URIs; exact match at authorize and at code redemption.
    pub redirect_uris: Vec<String>,
    pub users: Vec<DemoUser>,
    pub groups: Vec<DemoGroup>,
    /// `roles` of app-only Graph tokens.
    pub app_permissions: Vec<String>,
    /// When set, group memberships are loaded from and saved to this JSON file on every change.
    pub state_file: Option<PathBuf>,
    /// Client ids of public clients (no secret) that may use the device code flow.
    pub public_clients: Vec<String>,
}

/// A fault answered instead of a request (Graph, or the token endpoint, see [`Emulator::inject`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    /// HTTP method to match (case-insensitive); `None` matches any.
    pub method: Option<String>,
    /// Substring of the path with query to match; `None` matches any Graph request.
    pub path_contains: Option<String>,
    /// Status to answer with: 429 → `TooManyRequests`, 503 → `serviceNotAvailable`,
    /// 504 → `gatewayTimeout`, 401 → `InvalidAuthenticationToken`, others a generic error.
    pub status: u16,
    /// `Retry-After` header value, e.g. `"0.25"` or `"1"`; omitted when `None`.
    pub retry_after: Option<String>,
    /// How many matching requests get this fault.
    pub times: u32,
    /// Wait this long before answering (with `status`, or normally when `status` is 0).
    pub delay: Option<std::time::Duration>,
}

impl Fault {
    /// A fault for every request, `times` times.
    pub fn new(status: u16, times: u32) -> Self {
        Fault {
            method: None,
            path_contains: None,
            status,
            retry_after: None,
            times,
            delay: None,
        }
    }

    /// A call that hangs for `delay` and is then carried out normally (the caller may have given
    /// up by then: its change still happens, as with a real timeout).
    pub fn hang(delay: std::time::Duration, times: u32) -> Self {
        Fault {
            delay: Some(delay),
            ..Fault::new(0, times)
        }
    }

    /// Restricts the fault to one HTTP method.
    pub fn method(mut self, method: &str) -> Self {
        self.method = Some(method.to_owned());
        self
    }

    /// Restricts the fault to paths (with query) containing `fragment`.
    pub fn path_contains(mut self, fragment: &str) -> Self {
        self.path_contains = Some(fragment.to_owned());
        self
    }

    /// Sets the `Retry-After` header value.
    pub fn retry_after(mut self, value: &str) -> Self {
        self.retry_after = Some(value.to_owned());
        self
    }
}

/// Random failures of Graph writes (for convergence tests): each write fails with probability
/// `rate`, as a 429 (Retry-After 0.2 s), a 503, or a call that hangs for `hang` and is then
/// carried out (the caller may have timed out by then); never more than `max_in_a_row` times
/// in a row for the same path. Seeded, so a run can be repeated.
#[derive(Clone, Debug)]
pub struct Chaos {
    pub rate: f64,
    pub hang: std::time::Duration,
    pub max_in_a_row: u32,
    pub seed: u64,
}

/// How Graph answers the removal of a user who is not a member (wire doc §3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NotMemberStyle {
    /// 404 `Request_ResourceNotFound` naming the group id.
    #[default]
    NotFound404,
    /// 400 `Request_BadRequest` "One or more removed object references do not exist…".
    BadRequest400,
}

/// One logged Graph call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GraphCall {
    pub method: String,
    /// Path with query, as sent.
    pub path: String,
    pub status: u16,
    /// The `client-request-id` header the caller sent, if any.
    pub client_request_id: Option<String>,
}

/// Claims of a token minted directly by a test (see [`Emulator::mint_token`]).
#[derive(Clone, Debug)]
pub struct TokenSpec {
    /// Object id of the user (`oid`); need not be a configured user.
    pub user_id: String,
    /// `aud` claim.
    pub audience: String,
    /// `iss` claim; defaults to [`Emulator::issuer`].
    pub issuer: Option<String>,
    /// Lifetime from now; negative for an already expired token.
    pub expires_in_secs: i64,
    /// `roles` claim; defaults to the user's roles (omitted when empty).
    pub roles: Option<Vec<String>>,
}

impl TokenSpec {
    /// A one-hour token for `user_id` with audience `audience`.
    pub fn new(user_id: &str, audience: &str) -> Self {
        TokenSpec {
            user_id: user_id.to_owned(),
            audience: audience.to_owned(),
            issuer: None,
            expires_in_secs: 3600,
            roles: None,
        }
    }
}

/// A running emulated tenant. Cheap to clone.
#[derive(Clone)]
pub struct Emulator {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    config: EmulatorConfig,
    base_url: String,
    key: SigningKey,
    foreign_key: OnceLock<SigningKey>,
    state: Mutex<State>,
    server: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// Authorize parameters carried from the sign-in page to its POST.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AuthorizeParams {
    client_id: String,
    redirect_uri: String,
    scope: String,
    state: String,
    nonce: String,
    code_challenge: String,
    code_challenge_method: String,
}

pub(crate) struct PendingPage {
    params: AuthorizeParams,
    created: chrono::DateTime<chrono::Utc>,
}

pub(crate) struct CodeGrant {
    params: AuthorizeParams,
    user_id: String,
    issued: chrono::DateTime<chrono::Utc>,
    redeemed: bool,
}

#[derive(Default)]
pub(crate) struct State {
    /// group id (lower case) → member ids, in insertion order.
    members: BTreeMap<String, Vec<String>>,
    faults: VecDeque<Fault>,
    not_member_style: NotMemberStyle,
    calls: Vec<GraphCall>,
    pages: HashMap<String, PendingPage>,
    codes: HashMap<String, CodeGrant>,
    token_requests: u64,
    conditions: conditions::Conditions,
    /// `revokeSignInSessions` calls: user id and when.
    revocations: Vec<(String, chrono::DateTime<chrono::Utc>)>,
    /// Messages sent with `sendMail`, in order.
    mail: Vec<SentMail>,
    /// App roles changed since start (user id, lower case → role values).
    roles: HashMap<String, Vec<String>>,
    /// Accounts disabled since start (user ids, lower case).
    disabled: std::collections::HashSet<String>,
    /// Added to the wall clock for the emulator's notion of now (see [`Emulator::advance`]).
    clock_offset: chrono::Duration,
    /// Device codes handed out by `/devicecode`.
    device: device::DeviceFlows,
    /// Whether the "Block device code flow" policy is switched off.
    device_code_policy_off: bool,
    /// Whether that policy also covers the portal's own API (by default the API is among its
    /// excluded applications, so the command line can sign in with a device code).
    device_code_policy_covers_portal: bool,
    /// Refresh tokens handed out, by token.
    refresh: HashMap<String, public_client::RefreshGrant>,
    /// Recorded sign-ins, oldest first.
    sign_ins: Vec<SignIn>,
    /// How long a sign-in takes to show in the Graph sign-in log.
    sign_in_log_delay: std::time::Duration,
}

impl State {
    /// The emulator's notion of now: the wall clock plus [`Emulator::advance`]s.
    pub(crate) fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now() + self.clock_offset
    }
}

impl Emulator {
    /// Serves the emulated tenant on `listener` (which must be bound to a loopback address).
    /// The signing key (RSA 2048) is generated here.
    pub async fn start(
        config: EmulatorConfig,
        listener: tokio::net::TcpListener,
    ) -> anyhow::Result<Emulator> {
        let addr = listener.local_addr()?;
        anyhow::ensure!(
            addr.ip().is_loopback(),
            "the Entra emulator only listens on loopback addresses, not {addr}"
        );
        let base_url = format!("http://{addr}");
        let members = match &config.state_file {
            Some(path) => load_state(path)?,
            None => BTreeMap::new(),
        };
        let key = tokio::task::spawn_blocking(SigningKey::generate)
            .await
            .context("generating the emulator signing key")??;
        let inner = Arc::new(Inner {
            config,
            base_url,
            key,
            foreign_key: OnceLock::new(),
            state: Mutex::new(State {
                members,
                ..State::default()
            }),
            server: Mutex::new(None),
        });
        let emulator = Emulator { inner };
        let app = emulator.router();
        let handle = tokio::spawn(async move {
            let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
            if let Err(err) = axum::serve(listener, app).await {
                tracing::warn!(error = %err, "Entra emulator server stopped");
            }
        });
        *emulator
            .inner
            .server
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(handle);
        tracing::debug!(base_url = %emulator.inner.base_url, tenant = %emulator.inner.config.tenant_id, "Entra emulator started");
        Ok(emulator)
    }

    fn router(&self) -> Router {
        Router::new()
            .route(
                "/{tenant}/v2.0/.well-known/openid-configuration",
                get(login::discovery),
            )
            .route("/{tenant}/discovery/v2.0/keys", get(login::jwks))
            .route(
                "/{tenant}/oauth2/v2.0/authorize",
                get(login::authorize_page).post(login::authorize_submit),
            )
            .route("/{tenant}/oauth2/v2.0/token", any(login::token))
            .route("/{tenant}/oauth2/v2.0/devicecode", any(device::device_code))
            .route(
                "/{tenant}/oauth2/deviceauth",
                get(device::page).post(device::page_submit),
            )
            .route("/mailbox", get(mailbox::page))
            .route("/v1.0/$batch", any(batch::handle))
            .route("/v1.0/{*rest}", any(graph_api::handle))
            .route("/beta/{*rest}", any(graph_api::handle))
            .with_state(self.clone())
    }

    /// Stops serving (the state stays readable). Used by `jitgate demo` on shutdown.
    pub fn shutdown(&self) {
        if let Some(handle) = self
            .inner
            .server
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            handle.abort();
        }
    }

    /// `http://127.0.0.1:PORT`: both the authority host and the Graph base URL.
    pub fn base_url(&self) -> String {
        self.inner.base_url.clone()
    }

    /// The tenant's issuer, `{base}/{tenant}/v2.0`.
    pub fn issuer(&self) -> String {
        format!(
            "{}/{}/v2.0",
            self.inner.base_url, self.inner.config.tenant_id
        )
    }

    pub fn config(&self) -> &EmulatorConfig {
        &self.inner.config
    }

    /// Current member ids of a group.
    pub fn members(&self, group_id: &str) -> Vec<String> {
        self.state()
            .members
            .get(&group_id.to_ascii_lowercase())
            .cloned()
            .unwrap_or_default()
    }

    /// Member ids of a group as reads see them (older than the read lag).
    pub(crate) fn visible_members(&self, group_id: &str) -> Vec<String> {
        let mut st = self.state();
        let group = group_id.to_ascii_lowercase();
        let current = st.members.get(&group).cloned().unwrap_or_default();
        let mut seen: Vec<String> = current
            .iter()
            .filter(|u| st.conditions.seen(&group, u, true))
            .cloned()
            .collect();
        let now = tokio::time::Instant::now();
        seen.extend(
            st.conditions
                .unseen
                .iter()
                .filter(|((g, u), (before, at))| {
                    *g == group && *before && now < *at && !current.contains(u)
                })
                .map(|((_, u), _)| u.clone()),
        );
        seen
    }

    /// Whether reads show `user_id` in `group_id`.
    pub(crate) fn visible_member(&self, group_id: &str, user_id: &str) -> bool {
        let mut st = self.state();
        let group = group_id.to_ascii_lowercase();
        let user = user_id.to_ascii_lowercase();
        let now = st.members.get(&group).is_some_and(|m| m.contains(&user));
        st.conditions.seen(&group, &user, now)
    }

    /// Adds or removes a member behind jitgate's back (persisted like any other change).
    pub fn set_member(&self, group_id: &str, user_id: &str, member: bool) {
        let mut state = self.state();
        let changed = set_membership(&mut state, group_id, user_id, member);
        if changed {
            self.persist(&state);
        }
    }

    /// Queues a fault; faults are matched in queue order and each match consumes one of its
    /// `times`. A fault without `path_contains` matches Graph requests only; one whose
    /// `path_contains` matches `/{tenant}/oauth2/v2.0/token` also hits the token endpoint
    /// (answered with an AADSTS body). Faulted requests change nothing.
    pub fn inject(&self, fault: Fault) {
        if fault.times > 0 {
            self.state().faults.push_back(fault);
        }
    }

    /// Every Graph call waits this long before it is answered (Graph's round-trip time).
    pub fn set_latency(&self, latency: std::time::Duration) {
        self.state().conditions.latency = latency;
    }

    /// Enforces Graph's write limit per app and tenant: `writes` per `per` as a token bucket;
    /// a write beyond it is answered 429 with Graph's body and a `Retry-After`.
    pub fn set_write_budget(&self, writes: u32, per: std::time::Duration) {
        self.state().conditions.budget = Some(conditions::WriteBucket::new(writes, per));
    }

    /// Membership changes stay invisible to reads (member lists, `checkMemberGroups`) this long.
    pub fn set_read_lag(&self, lag: std::time::Duration) {
        self.state().conditions.read_lag = lag;
    }

    /// Makes writes fail at random (see [`Chaos`]); `None` stops it.
    pub fn set_chaos(&self, chaos: Option<Chaos>) {
        use rand::SeedableRng;
        self.state().conditions.chaos = chaos.map(|c| conditions::ChaosState {
            rng: rand::rngs::StdRng::seed_from_u64(c.seed),
            chaos: c,
            in_a_row: HashMap::new(),
            failed: 0,
        });
    }

    /// Writes chaos has failed so far.
    pub fn chaos_failures(&self) -> u64 {
        self.state()
            .conditions
            .chaos
            .as_ref()
            .map_or(0, |c| c.failed)
    }

    /// Writes the budget let through, and writes it answered 429.
    pub fn write_counts(&self) -> (u64, u64) {
        let st = self.state();
        (
            st.conditions.accepted_writes,
            st.conditions.throttled_writes,
        )
    }

    /// Assigns `user` exactly these app roles from now on (tokens and Graph's app role
    /// assignments alike), as an administrator would in the enterprise application.
    pub fn set_roles(&self, user: &str, roles: &[&str]) {
        self.state().roles.insert(
            user.to_ascii_lowercase(),
            roles.iter().map(|r| (*r).to_owned()).collect(),
        );
    }

    /// Enables or disables `user`'s account: a disabled account cannot sign in, and Graph
    /// shows `accountEnabled: false`.
    pub fn set_account_enabled(&self, user: &str, enabled: bool) {
        let id = user.to_ascii_lowercase();
        let mut st = self.state();
        if enabled {
            st.disabled.remove(&id);
        } else {
            st.disabled.insert(id);
        }
    }

    /// The app roles `user` holds now.
    pub(crate) fn roles_of(&self, user: &DemoUser) -> Vec<String> {
        self.state()
            .roles
            .get(&user.id.to_ascii_lowercase())
            .cloned()
            .unwrap_or_else(|| user.roles.clone())
    }

    pub(crate) fn account_enabled(&self, user: &DemoUser) -> bool {
        !self
            .state()
            .disabled
            .contains(&user.id.to_ascii_lowercase())
    }

    /// The messages sent with `sendMail` so far, in order.
    pub fn mail(&self) -> Vec<SentMail> {
        self.state().mail.clone()
    }

    /// Users whose sign-in sessions were revoked, in order.
    pub fn revocations(&self) -> Vec<String> {
        self.state()
            .revocations
            .iter()
            .map(|(u, _)| u.clone())
            .collect()
    }

    /// The emulator's notion of now: the wall clock plus everything [`Emulator::advance`] added.
    /// Device codes and the sign-in log run on it; tokens and Graph use the wall clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.state().now()
    }

    /// Moves the emulator's notion of now forward by `by` (a negative value is ignored).
    /// Device codes expire and poll intervals pass without waiting.
    pub fn advance(&self, by: chrono::Duration) {
        if by > chrono::Duration::zero() {
            self.state().clock_offset += by;
        }
    }

    /// A sign-in shows in the Graph sign-in log only this long after it happened (on the
    /// emulator's clock), as in Entra. Zero by default.
    pub fn set_sign_in_log_delay(&self, delay: std::time::Duration) {
        self.state().sign_in_log_delay = delay;
    }

    /// Every recorded sign-in, oldest first, whatever the log delay.
    pub fn sign_ins(&self) -> Vec<SignIn> {
        self.state().sign_ins.clone()
    }

    /// The device-login page, the `verification_uri` of the device code flow.
    pub fn device_login_url(&self) -> String {
        format!(
            "{}/{}/oauth2/deviceauth",
            self.inner.base_url, self.inner.config.tenant_id
        )
    }

    /// Completes the device-login page for `user_code` as the user `user_id` (from 127.0.0.1).
    /// Conditional Access decides now; the sign-in is logged. `Err` for an unknown, expired or
    /// used code and for an unknown or disabled user.
    pub fn complete_device_login(
        &self,
        user_code: &str,
        user_id: &str,
    ) -> Result<DeviceLogin, String> {
        device::complete(self, user_code, user_id, device::LOCAL_IP).map_err(|e| e.to_string())
    }

    /// Denies the device login for `user_code` as `user_id`: the device gets
    /// `authorization_declined`, and the attempt is logged.
    pub fn decline_device_login(&self, user_code: &str, user_id: &str) -> Result<(), String> {
        device::decline(self, user_code, user_id, device::LOCAL_IP).map_err(|e| e.to_string())
    }

    /// Switches the "Block device code flow" Conditional Access policy on (the default) or
    /// off; Graph shows its `state` accordingly.
    pub fn set_device_code_policy_enabled(&self, enabled: bool) {
        self.state().device_code_policy_off = !enabled;
    }

    /// Whether the "Block device code flow" policy excludes the portal's own API (the default,
    /// as the README asks of a tenant whose people use the command line) or covers it too.
    pub fn set_device_code_policy_excludes_portal(&self, excluded: bool) {
        self.state().device_code_policy_covers_portal = !excluded;
    }

    /// Drops all queued faults.
    pub fn clear_faults(&self) {
        self.state().faults.clear();
    }

    pub fn set_not_member_style(&self, style: NotMemberStyle) {
        self.state().not_member_style = style;
    }

    /// All Graph calls so far, in order.
    pub fn graph_requests(&self) -> Vec<GraphCall> {
        self.state().calls.clone()
    }

    /// Number of requests made to the token endpoint so far (all grant types, failures included).
    pub fn token_requests(&self) -> u64 {
        self.state().token_requests
    }

    /// Signs a token with the tenant's key.
    pub fn mint_token(&self, t: TokenSpec) -> String {
        let claims = self.spec_claims(&t);
        self.inner.key.sign(&claims)
    }

    /// Same claims as [`Emulator::mint_token`], signed by a key that is not in the JWKS.
    pub fn mint_foreign_token(&self, t: TokenSpec) -> String {
        let claims = self.spec_claims(&t);
        let key = self.inner.foreign_key.get_or_init(|| {
            SigningKey::generate().expect("generating a second RSA key cannot fail")
        });
        key.sign(&claims)
    }

    fn spec_claims(&self, t: &TokenSpec) -> Value {
        let now = chrono::Utc::now().timestamp();
        let user = self.user(&t.user_id);
        let roles = t
            .roles
            .clone()
            .or_else(|| user.map(|u| self.roles_of(u)))
            .unwrap_or_default();
        // An already expired token was issued an hour before it expired.
        let issued = if t.expires_in_secs < 0 {
            now + t.expires_in_secs - 3600
        } else {
            now
        };
        let mut claims = json!({
            "aud": t.audience,
            "iss": t.issuer.clone().unwrap_or_else(|| self.issuer()),
            "iat": issued,
            "nbf": issued,
            "exp": now + t.expires_in_secs,
            "oid": t.user_id,
            "sub": self.pairwise_sub(&t.user_id),
            "tid": self.inner.config.tenant_id,
            "azp": self.inner.config.client_id,
            "ver": "2.0",
            "uti": wire::random_token(16),
        });
        if let Some(u) = user {
            claims["name"] = json!(u.name);
            claims["preferred_username"] = json!(u.username);
        }
        if !roles.is_empty() {
            claims["roles"] = json!(roles);
        }
        if t.audience.starts_with("api://") || t.audience == self.inner.config.client_id {
            claims["scp"] = json!("access_as_user");
        }
        claims
    }

    // ---- internals shared by the handlers ----

    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn user(&self, id_or_upn: &str) -> Option<&DemoUser> {
        self.inner.config.users.iter().find(|u| {
            u.id.eq_ignore_ascii_case(id_or_upn) || u.username.eq_ignore_ascii_case(id_or_upn)
        })
    }

    pub(crate) fn group(&self, id: &str) -> Option<&DemoGroup> {
        self.inner
            .config
            .groups
            .iter()
            .find(|g| g.id.eq_ignore_ascii_case(id))
    }

    /// Stable pairwise subject for the portal's app: base64url(SHA-256(oid ‖ client id)).
    pub(crate) fn pairwise_sub(&self, oid: &str) -> String {
        self.pairwise_sub_for(oid, &self.inner.config.client_id)
    }

    /// Stable pairwise subject of `oid` for the app `client_id`.
    pub(crate) fn pairwise_sub_for(&self, oid: &str, client_id: &str) -> String {
        use base64::Engine;
        use sha2::Digest;
        let digest =
            sha2::Sha256::digest(format!("{}|{}", oid.to_ascii_lowercase(), client_id).as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
    }

    /// Consumes one use of the first queued fault matching `method` and `path` (with query).
    /// Faults without `path_contains` only match Graph requests (`graph`).
    pub(crate) fn take_fault(&self, method: &str, path: &str, graph: bool) -> Option<Fault> {
        let mut st = self.state();
        let idx = st.faults.iter().position(|f| {
            f.times > 0
                && f.method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(method))
                && match &f.path_contains {
                    Some(fragment) => path.contains(fragment.as_str()),
                    None => graph,
                }
        })?;
        let fault = &mut st.faults[idx];
        fault.times -= 1;
        let out = fault.clone();
        if fault.times == 0 {
            st.faults.remove(idx);
        }
        Some(out)
    }

    pub(crate) fn persist(&self, state: &State) {
        if let Some(path) = &self.inner.config.state_file
            && let Err(err) = save_state(path, &state.members)
        {
            tracing::warn!(error = %err, path = %path.display(), "could not save emulator state");
        }
    }
}

/// Changes one membership; returns whether anything changed.
pub(crate) fn set_membership(
    state: &mut State,
    group_id: &str,
    user_id: &str,
    member: bool,
) -> bool {
    let group = group_id.to_ascii_lowercase();
    let user = user_id.to_ascii_lowercase();
    let list = state.members.entry(group).or_default();
    let present = list.iter().position(|m| m.eq_ignore_ascii_case(&user));
    let changed = match (member, present) {
        (true, None) => {
            list.push(user.clone());
            true
        }
        (false, Some(i)) => {
            list.remove(i);
            true
        }
        _ => false,
    };
    if changed {
        state.conditions.changed(group_id, &user, !member);
    }
    changed
}

#[derive(serde::Serialize, serde::Deserialize)]
struct StateFile {
    members: BTreeMap<String, Vec<String>>,
}

fn load_state(path: &Path) -> anyhow::Result<BTreeMap<String, Vec<String>>> {
    match std::fs::read(path) {
        Ok(bytes) => {
            let file: StateFile = serde_json::from_slice(&bytes)
                .with_context(|| format!("reading emulator state {}", path.display()))?;
            Ok(file
                .members
                .into_iter()
                .map(|(g, m)| {
                    (
                        g.to_ascii_lowercase(),
                        m.into_iter().map(|u| u.to_ascii_lowercase()).collect(),
                    )
                })
                .collect())
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(err) => Err(err).with_context(|| format!("reading emulator state {}", path.display())),
    }
}

fn save_state(path: &Path, members: &BTreeMap<String, Vec<String>>) -> anyhow::Result<()> {
    let body = serde_json::to_vec_pretty(&StateFile {
        members: members.clone(),
    })?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, body)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}
