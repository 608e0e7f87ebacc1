//! The API tests' fixture: the portal (started the one way tests start it) against the built-in
//! Entra emulator, with a hand-driven clock, on a fresh database (SQLite or PostgreSQL), and the
//! steps tests repeat.

#![allow(dead_code)]

use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, FixedOffset, Utc};
use jitgate::clock::ManualClock;
use jitgate::emulator::TokenSpec;
use jitgate::emulator::demo::{CLIENT_ID, EXCLUSION_GROUP_ID};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub use jitgate::clock::Clock as _;
pub use jitgate::emulator::demo::{ALEX, AVERY, DANA, JORDAN, MORGAN, RILEY};

use crate::common::db::{Fixture, TestDb};
use crate::common::portal::EmulatedPortal;

/// A second group for the lease test: two packages can grant the same group.
pub const GROUP: &str = EXCLUSION_GROUP_ID;

/// The configuration sections after `[entra]`: a sweep and a reconciliation that never
/// interfere (the reconciler runs once at start), four attempts for additions, and three
/// packages granting the same group, none reviewed (a test crossing midnight would otherwise
/// start access reviews; `reviews.rs` turns them on).
pub const SECTIONS: &str = r#"
[scheduler]
sweep = "0 0 * * * *"
max_add_attempts = 4

[reconcile]
every = "1d"

[[package]]
id = "device-code"
review_every = "off"
name = "Device code flow exemption"
group_id = "GROUP"
min_duration = "15m"
default_duration = "2h"
max_duration = "4h"

[[package]]
id = "device-code-ticketed"
review_every = "off"
name = "Device code flow exemption (ticketed, two approvals)"
group_id = "GROUP"
min_duration = "15m"
default_duration = "1h"
max_duration = "8h"
approvals_required = 2
ticket_required = true
manager_may_approve = true

[[package]]
id = "developers-only"
review_every = "off"
name = "Developers only"
group_id = "GROUP"
min_duration = "15m"
default_duration = "1h"
max_duration = "2h"
requester_role = "Developer"
"#;

/// The portal with the emulator, a hand-driven clock and an API client.
pub struct TestApp {
    portal: EmulatedPortal,
    pub clock: Arc<ManualClock>,
    pub http: reqwest::Client,
}

impl Deref for TestApp {
    type Target = EmulatedPortal;
    fn deref(&self) -> &EmulatedPortal {
        &self.portal
    }
}

impl DerefMut for TestApp {
    fn deref_mut(&mut self) -> &mut EmulatedPortal {
        &mut self.portal
    }
}

pub fn start_time() -> DateTime<Utc> {
    jitgate::domain::audit::truncate_millis(Utc::now())
}

impl Fixture for TestApp {
    async fn set_up(db: &TestDb) -> TestApp {
        TestApp::spawn_with(db, false).await
    }

    async fn tear_down(mut self) {
        self.portal.stop().await;
    }
}

impl TestApp {
    pub async fn spawn(db: &TestDb) -> TestApp {
        TestApp::spawn_with(db, false).await
    }

    /// With `demo`, the portal runs as `jitgate demo` does.
    pub async fn spawn_with(db: &TestDb, demo: bool) -> TestApp {
        TestApp::spawn_configured(db, demo, |s| s.to_string()).await
    }

    /// With the test configuration changed by `change` (given [`SECTIONS`]).
    pub async fn spawn_configured(
        db: &TestDb,
        demo: bool,
        change: impl Fn(&str) -> String,
    ) -> TestApp {
        TestApp::spawn_full(db, demo, change, &[]).await
    }

    /// With the test configuration changed by `change`, and settings from the environment `env`
    /// (`JITGATE_<SECTION>__<KEY>`).
    pub async fn spawn_with_env(
        db: &TestDb,
        change: impl Fn(&str) -> String,
        env: &[(&str, &str)],
    ) -> TestApp {
        TestApp::spawn_full(db, false, change, env).await
    }

    async fn spawn_full(
        db: &TestDb,
        demo: bool,
        change: impl Fn(&str) -> String,
        env: &[(&str, &str)],
    ) -> TestApp {
        let clock = Arc::new(ManualClock::new(start_time()));
        let sections = change(SECTIONS).replace("\"GROUP\"", &format!("\"{GROUP}\""));
        let env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let portal =
            EmulatedPortal::spawn_with_env(&db.url, &sections, env, clock.clone(), demo).await;
        let t = TestApp {
            portal,
            clock,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        };
        // Tests start once the reconciliation at start is over, so that what they change in
        // the directory behind the portal's back is not reconciled before they look.
        let admin = principal(ALEX, &["Admin"]);
        eventually("the first reconciliation", || async {
            t.portal()
                .operations(&admin)
                .await
                .is_ok_and(|o| o.reconciliation.last_at.is_some())
        })
        .await;
        t
    }

    /// Stops the portal (its jobs and server) and returns the service on a fresh connection to
    /// the same database, with nothing running in the background: for tests that play the
    /// background jobs themselves, or that need them behind.
    pub async fn without_jobs(&mut self) -> jitgate::service::Portal {
        let settings = self.settings();
        self.stop().await;
        let store = jitgate::store::connect(&settings.database_url)
            .await
            .unwrap();
        let directory = Arc::new(jitgate::graph::GraphClient::new(
            jitgate::graph::GraphSettings::from_settings(&settings),
            reqwest::Client::new(),
        ));
        jitgate::service::Portal::new(Arc::new(settings), store, directory, self.clock.clone())
    }

    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    pub fn token(&self, user: &str) -> String {
        self.emulator
            .mint_token(TokenSpec::new(user, &format!("api://{CLIENT_ID}")))
    }

    /// A call to `path` as `user` (None: anonymous) through `client`, not yet sent.
    pub fn on(
        &self,
        client: &reqwest::Client,
        user: Option<&str>,
        method: Method,
        path: &str,
    ) -> reqwest::RequestBuilder {
        let req = client.request(method, format!("{}{path}", self.url));
        match user {
            Some(u) => req.bearer_auth(self.token(u)),
            None => req,
        }
    }

    /// As [`Self::on`], through the fixture's own client (no cookies, redirects not followed).
    pub fn http_as(
        &self,
        user: Option<&str>,
        method: Method,
        path: &str,
    ) -> reqwest::RequestBuilder {
        self.on(&self.http, user, method, path)
    }

    /// `GET path` as `user` (None: anonymous): the whole response, for its headers.
    pub async fn fetch(&self, user: Option<&str>, path: &str) -> reqwest::Response {
        self.http_as(user, Method::GET, path).send().await.unwrap()
    }

    /// Calls the API as `user` (None: anonymous). Returns the status and the JSON body (Null if none).
    pub async fn call(
        &self,
        user: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http_as(user, method, path);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// `GET path` as `user` (None: anonymous), whatever the answer.
    pub async fn try_get(&self, user: Option<&str>, path: &str) -> (StatusCode, Value) {
        self.call(user, Method::GET, path, None).await
    }

    /// `GET path` as `user`, which must answer 200; the body.
    pub async fn get(&self, user: &str, path: &str) -> Value {
        self.try_get(Some(user), path)
            .await
            .expect_status(StatusCode::OK, &format!("GET {path}"))
    }

    pub async fn post(&self, user: &str, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Some(user), Method::POST, path, Some(body)).await
    }

    /// `POST /api/v1/requests/{id}/{action}` (approve, deny, cancel, end) as `user`.
    pub async fn act(
        &self,
        user: &str,
        id: &str,
        action: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        self.post(user, &format!("/api/v1/requests/{id}/{action}"), body)
            .await
    }

    /// Creates a request as `user` from the JSON `body` (it must be created); returns its id.
    pub async fn create(&self, user: &str, body: Value) -> String {
        let v = self
            .post(user, "/api/v1/requests", body)
            .await
            .expect_status(StatusCode::CREATED, "creating a request");
        v["id"].as_str().unwrap().to_string()
    }

    /// Creates a request as `user` and returns its id.
    pub async fn request(&self, user: &str, package: &str, minutes: i64) -> String {
        self.create(user, json!({"package": package, "duration_minutes": minutes, "justification": "deploying the CI runner", "ticket": "INC-1"}))
            .await
    }

    /// Approves as `approver` (it must succeed); the request as it is now.
    pub async fn approve(&self, approver: &str, id: &str) -> Value {
        self.act(approver, id, "approve", json!({"comment": "ok"}))
            .await
            .expect_status(StatusCode::OK, "approving")
    }

    /// A request of `user`'s, approved by `approver`, with the member added to the group.
    pub async fn granted(&self, user: &str, package: &str, minutes: i64, approver: &str) -> String {
        let id = self.request(user, package, minutes).await;
        self.approve(approver, &id).await;
        wait_added(self, &id).await;
        id
    }

    /// Approving as `user` without a comment, whatever the answer.
    pub async fn try_approve(&self, user: &str, id: &str) -> (StatusCode, Value) {
        self.act(user, id, "approve", json!({})).await
    }

    /// Denying as `user`, with `comment` if any.
    pub async fn deny(&self, user: &str, id: &str, comment: Option<&str>) -> (StatusCode, Value) {
        self.act(user, id, "deny", field("comment", comment)).await
    }

    /// Cancelling as `user`.
    pub async fn cancel(&self, user: &str, id: &str) -> (StatusCode, Value) {
        self.act(user, id, "cancel", json!({})).await
    }

    /// Ending one's own grant as `user`, with `reason` if any.
    pub async fn end(&self, user: &str, id: &str, reason: Option<&str>) -> (StatusCode, Value) {
        self.act(user, id, "end", field("reason", reason)).await
    }

    /// Revoking as `user` (an admin), with `reason` if any.
    pub async fn revoke(&self, user: &str, id: &str, reason: Option<&str>) -> (StatusCode, Value) {
        self.act(user, id, "revoke", field("reason", reason)).await
    }

    pub async fn status_of(&self, id: &str) -> Value {
        self.get(AVERY, &format!("/api/v1/requests/{id}")).await
    }

    /// Member additions and removals the emulator saw (method, path).
    pub fn member_writes(&self) -> usize {
        self.emulator
            .graph_requests()
            .iter()
            .filter(|c| c.path.contains("/members") && c.method != "GET")
            .count()
    }

    /// The audit events `GET /api/v1/audit?{query}` lists (to Avery, an auditor), newest first.
    pub async fn events(&self, query: &str) -> Vec<Value> {
        let path = match query {
            "" => "/api/v1/audit".to_string(),
            q => format!("/api/v1/audit?{q}"),
        };
        let v = self.get(AVERY, &path).await;
        v["events"].as_array().unwrap().clone()
    }

    /// The actions of the audit events about `request`, oldest first.
    pub async fn audit_actions(&self, request: &str) -> Vec<String> {
        let events = self.events(&format!("request={request}&limit=1000")).await;
        events
            .iter()
            .rev()
            .map(|e| e["action"].as_str().unwrap().to_string())
            .collect()
    }

    pub async fn audit_count(&self) -> usize {
        self.events("limit=1000").await.len()
    }

    pub async fn verify(&self) -> Value {
        self.get(AVERY, "/api/v1/audit/verify").await
    }
}

/// `{key: value}`, or `{}` without a value.
fn field(key: &str, value: Option<&str>) -> Value {
    match value {
        Some(v) => json!({ key: v }),
        None => json!({}),
    }
}

/// Checking an answer's status in one step.
pub trait Answer {
    /// Asserts the status (`what` says what was done); returns the body.
    fn expect_status(self, status: StatusCode, what: &str) -> Value;
}

impl Answer for (StatusCode, Value) {
    #[track_caller]
    fn expect_status(self, status: StatusCode, what: &str) -> Value {
        let (s, v) = self;
        assert_eq!(s, status, "{what}: {v}");
        v
    }
}

/// The `Location` a response sends the client to (empty when none).
pub fn redirect_to(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// A time in an answer (RFC 3339).
pub fn at(v: &Value) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("not a time: {v}")))
        .unwrap_or_else(|e| panic!("not RFC 3339: {v}: {e}"))
}

/// Sending a request and reading its body as text, in one step.
pub trait BodyText {
    fn body_text(self) -> impl std::future::Future<Output = String> + Send;
}

impl BodyText for reqwest::RequestBuilder {
    async fn body_text(self) -> String {
        self.send().await.unwrap().text().await.unwrap()
    }
}

/// Someone signed in, as the service sees them (for calling it without HTTP in front).
pub fn principal(id: &str, roles: &[&str]) -> jitgate::auth::Principal {
    jitgate::auth::Principal::new(
        jitgate::domain::UserRef {
            id: id.into(),
            name: id.into(),
            username: format!("{id}@contoso.example"),
        },
        roles.iter().map(|r| r.to_string()).collect(),
    )
}

/// Waits (bounded) for background work to reach a state. Time in the portal only moves with the clock.
pub async fn eventually<F, Fut>(what: &str, check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    eventually_within(15, what, check).await
}

/// [`eventually`] with a deadline of `secs` seconds, for what waits on a real timeout.
pub async fn eventually_within<F, Fut>(secs: u64, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + StdDuration::from_secs(secs);
    loop {
        if check().await {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(StdDuration::from_millis(10)).await;
    }
}

/// Waits until the worker has added the member and committed it.
pub async fn wait_added(t: &TestApp, id: &str) {
    eventually(&format!("request {id}'s member to be added"), || async {
        !t.status_of(id).await["membership"]["added_at"].is_null()
    })
    .await;
}

/// Waits until the worker has removed the member and committed it.
pub async fn wait_removed(t: &TestApp, id: &str) {
    eventually(&format!("request {id}'s member to be removed"), || async {
        !t.status_of(id).await["membership"]["removed_at"].is_null()
    })
    .await;
}

/// Waits until `user` is in the demo tenant's exclusion group.
pub async fn wait_in_group(t: &TestApp, user: &str) {
    eventually(&format!("{user} to be added to the group"), || async {
        t.is_member(user)
    })
    .await;
}

/// Moves the clock on by `step` until `check` holds (bounded): for retries whose exact schedule
/// the test does not know (they are recorded a moment after Graph answers).
pub async fn advance_until<F, Fut>(t: &TestApp, step: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..500 {
        if check().await {
            return;
        }
        t.advance(step);
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// Waits until `user` is out of the demo tenant's exclusion group.
pub async fn wait_out_of_group(t: &TestApp, user: &str) {
    eventually(&format!("{user} to be removed from the group"), || async {
        !t.is_member(user)
    })
    .await;
}

/// The details of the newest `action` event about request `id`.
pub async fn event_details(t: &TestApp, id: &str, action: &str) -> Value {
    let events = t.events(&format!("request={id}&action={action}")).await;
    let newest = events
        .first()
        .unwrap_or_else(|| panic!("no {action} event about request {id}"));
    newest["details"].clone()
}

pub async fn wait_status(t: &TestApp, id: &str, status: &str) {
    eventually(&format!("request {id} to be {status}"), || async {
        t.status_of(id).await["status"] == status
    })
    .await;
}

/// The value of the metric `series` (name and labels, as `/metrics` prints them), if exported.
pub async fn metric(t: &TestApp, series: &str) -> Option<String> {
    let text = reqwest::get(format!("{}/metrics", t.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line = format!("{series} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&line))
        .map(str::to_string)
}
