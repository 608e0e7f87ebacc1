//! Spawns the real portal on a random port against the built-in Entra emulator, with a hand-driven
//! clock and a fresh database (SQLite or PostgreSQL).

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use jitgate::clock::{Clock, ManualClock};
use jitgate::config::Settings;
use jitgate::emulator::demo::{CLIENT_ID, EXCLUSION_GROUP_ID};
use jitgate::emulator::{Emulator, EmulatorConfig, TokenSpec};
use jitgate::graph::GraphClient;
use jitgate::startup::App;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::net::TcpListener;

pub use jitgate::clock::Clock as _;
pub use jitgate::emulator::demo::{ALEX, AVERY, DANA, JORDAN, MORGAN, RILEY};

use crate::common::db::TestDb;

/// A second group for the lease test: two packages can grant the same group.
pub const GROUP: &str = EXCLUSION_GROUP_ID;

pub fn settings_toml(portal_url: &str, emulator: &Emulator, db_url: &str) -> String {
    let head = jitgate::demo::emulator_sections(portal_url, &emulator.base_url(), db_url);
    format!(
        r#"{head}
[scheduler]
sweep = "0 0 * * * *"
max_add_attempts = 4

[[package]]
id = "device-code"
name = "Device code flow exemption"
group_id = "{GROUP}"
min_duration = "15m"
default_duration = "2h"
max_duration = "4h"

[[package]]
id = "device-code-ticketed"
name = "Device code flow exemption (ticketed, two approvals)"
group_id = "{GROUP}"
min_duration = "15m"
default_duration = "1h"
max_duration = "8h"
approvals_required = 2
ticket_required = true
manager_may_approve = true

[[package]]
id = "developers-only"
name = "Developers only"
group_id = "{GROUP}"
min_duration = "15m"
default_duration = "1h"
max_duration = "2h"
requester_role = "Developer"
"#
    )
}

pub struct TestApp {
    pub app: Option<App>,
    pub url: String,
    pub emulator: Emulator,
    pub clock: Arc<ManualClock>,
    pub http: reqwest::Client,
    db_url: String,
}

pub fn start_time() -> DateTime<Utc> {
    jitgate::domain::audit::truncate_millis(Utc::now())
}

impl TestApp {
    pub async fn spawn(db: &TestDb) -> TestApp {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let mut cfg = EmulatorConfig::demo();
        cfg.redirect_uris = vec![format!("{url}/auth/callback")];
        let emulator = Emulator::start(cfg, TcpListener::bind("127.0.0.1:0").await.unwrap())
            .await
            .unwrap();
        let clock = Arc::new(ManualClock::new(start_time()));
        let mut t = TestApp {
            app: None,
            url: url.clone(),
            emulator,
            clock,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            db_url: db.url.clone(),
        };
        t.boot(listener).await;
        t
    }

    async fn boot(&mut self, listener: TcpListener) {
        let settings =
            Settings::from_toml(&settings_toml(&self.url, &self.emulator, &self.db_url), [])
                .unwrap();
        let directory = Arc::new(GraphClient::new(
            settings.entra.graph_settings(),
            reqwest::Client::new(),
        ));
        let clock: Arc<dyn Clock> = self.clock.clone();
        self.app = Some(
            App::build(settings, listener, clock, directory)
                .await
                .unwrap(),
        );
    }

    /// Stops the portal (as a crash would: background work just ends) and starts a new one on the same database.
    pub async fn stop(&mut self) {
        if let Some(app) = self.app.take() {
            app.stop().await;
        }
    }

    pub async fn start_again(&mut self) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        self.url = format!("http://{}", listener.local_addr().unwrap());
        self.boot(listener).await;
    }

    pub fn portal(&self) -> &jitgate::service::Portal {
        &self.app.as_ref().unwrap().portal
    }

    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    pub fn token(&self, user: &str) -> String {
        self.emulator
            .mint_token(TokenSpec::new(user, &format!("api://{CLIENT_ID}")))
    }

    /// Calls the API as `user` (None: anonymous). Returns the status and the JSON body (Null if none).
    pub async fn call(
        &self,
        user: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.url));
        if let Some(u) = user {
            req = req.bearer_auth(self.token(u));
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn get(&self, user: &str, path: &str) -> Value {
        let (s, v) = self.call(Some(user), Method::GET, path, None).await;
        assert_eq!(s, StatusCode::OK, "GET {path}: {v}");
        v
    }

    pub async fn post(&self, user: &str, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Some(user), Method::POST, path, Some(body)).await
    }

    /// Creates a request as `user` and returns its id.
    pub async fn request(&self, user: &str, package: &str, minutes: i64) -> String {
        let (s, v) = self
            .post(user, "/api/v1/requests", json!({"package": package, "duration_minutes": minutes, "justification": "deploying the CI runner", "ticket": "INC-1"}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        v["id"].as_str().unwrap().to_string()
    }

    pub async fn approve(&self, approver: &str, id: &str) -> Value {
        let (s, v) = self
            .post(
                approver,
                &format!("/api/v1/requests/{id}/approve"),
                json!({"comment": "ok"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v
    }

    pub async fn status_of(&self, id: &str) -> Value {
        self.get(AVERY, &format!("/api/v1/requests/{id}")).await
    }

    pub fn is_member(&self, user: &str) -> bool {
        self.emulator.members(GROUP).iter().any(|m| m == user)
    }

    /// Member additions and removals the emulator saw (method, path).
    pub fn member_writes(&self) -> usize {
        self.emulator
            .graph_requests()
            .iter()
            .filter(|c| c.path.contains("/members") && c.method != "GET")
            .count()
    }

    pub async fn audit_actions(&self, request: &str) -> Vec<String> {
        let v = self
            .get(
                AVERY,
                &format!("/api/v1/audit?request={request}&limit=1000"),
            )
            .await;
        let mut a: Vec<String> = v["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap().to_string())
            .collect();
        a.reverse();
        a
    }

    pub async fn audit_count(&self) -> usize {
        let v = self.get(AVERY, "/api/v1/audit?limit=1000").await;
        v["events"].as_array().unwrap().len()
    }

    pub async fn verify(&self) -> Value {
        self.get(AVERY, "/api/v1/audit/verify").await
    }
}

/// Waits (bounded) for background work to reach a state. Time in the portal only moves with the clock.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + StdDuration::from_secs(15);
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

/// The details of the newest `action` event about request `id`.
pub async fn event_details(t: &TestApp, id: &str, action: &str) -> serde_json::Value {
    let v = t
        .get(
            AVERY,
            &format!("/api/v1/audit?request={id}&action={action}"),
        )
        .await;
    v["events"][0]["details"].clone()
}

pub async fn wait_status(t: &TestApp, id: &str, status: &str) {
    eventually(&format!("request {id} to be {status}"), || async {
        t.status_of(id).await["status"] == status
    })
    .await;
}

/// Runs `$body(t: TestApp)` on a fresh SQLite and a fresh PostgreSQL database.
#[macro_export]
macro_rules! api_test {
    ($($name:ident => $body:path;)+) => {
        $(
            mod $name {
                use super::*;
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let db = $crate::common::db::TestDb::new($crate::common::db::Backend::Sqlite).await.unwrap();
                    let mut t = $crate::helpers::TestApp::spawn(&db).await;
                    $body(&mut t).await;
                    t.stop().await;
                    db.cleanup().await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let Some(db) = $crate::common::db::TestDb::new($crate::common::db::Backend::Postgres).await else { return };
                    let mut t = $crate::helpers::TestApp::spawn(&db).await;
                    $body(&mut t).await;
                    t.stop().await;
                    db.cleanup().await;
                }
            }
        )+
    };
}
