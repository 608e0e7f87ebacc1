//! Real `jitgate serve` processes against the emulated tenant (served by the test process on
//! loopback), driven through the JSON API as people would, and killed with SIGKILL.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use jitgate::emulator::demo::{CLIENT_ID, EXCLUSION_GROUP_ID};
use jitgate::emulator::{DemoUser, Emulator, EmulatorConfig, TokenSpec};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub const BIN: &str = env!("CARGO_BIN_EXE_jitgate");
pub const GROUP: &str = EXCLUSION_GROUP_ID;

/// The object id of generated user `i`.
pub fn user_id(i: usize) -> String {
    format!("10000000-0000-4000-8000-{i:012}")
}

/// The demo tenant with `n` more users (requesters without roles), on loopback.
pub async fn tenant(n: usize) -> Emulator {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut cfg = EmulatorConfig::demo();
    for i in 0..n {
        cfg.users.push(DemoUser {
            id: user_id(i),
            name: format!("User {i}"),
            username: format!("user{i}@contoso.example"),
            roles: Vec::new(),
            manager_id: None,
        });
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    Emulator::start(cfg, listener).await.unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One `jitgate serve` process (restartable on the same port).
pub struct Server {
    pub url: String,
    config: PathBuf,
    log: PathBuf,
    child: Option<Child>,
    pub kills: usize,
}

impl Server {
    /// Writes the configuration (`sections` after `[entra]`) into `dir` and starts the process.
    pub async fn start(
        dir: &std::path::Path,
        name: &str,
        db_url: &str,
        emu: &Emulator,
        sections: &str,
    ) -> Server {
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        let config = dir.join(format!("{name}.toml"));
        let head = jitgate::demo::emulator_sections(&url, &emu.base_url(), db_url).replace(
            "listen = \"127.0.0.1:0\"",
            &format!("listen = \"127.0.0.1:{port}\""),
        );
        std::fs::write(&config, format!("{head}\n{sections}")).unwrap();
        let mut s = Server {
            url,
            config,
            log: dir.join(format!("{name}.log")),
            child: None,
            kills: 0,
        };
        s.spawn().await;
        s
    }

    async fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new(BIN)
            .args(["serve", "--config"])
            .arg(&self.config)
            .env("RUST_LOG", "warn")
            .env_remove("JITGATE_CONFIG")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = reqwest::get(format!("{}/healthz", self.url)).await
                && r.status() == StatusCode::OK
            {
                return;
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("jitgate serve exited ({status}): {}", self.log_text());
            }
            assert!(
                Instant::now() < deadline,
                "jitgate serve did not start: {}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL: no shutdown, work in flight just stops.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap();
            c.wait().unwrap();
            self.kills += 1;
        }
    }

    /// Kills the process and starts it again at once.
    pub async fn kill_and_restart(&mut self) {
        self.kill();
        self.spawn().await;
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The JSON API as people use it, retrying while the server is down (a call whose answer was
/// lost in a crash is sent again; the API's answers make that safe).
#[derive(Clone)]
pub struct People {
    emu: Emulator,
    http: reqwest::Client,
}

impl People {
    pub fn new(emu: &Emulator) -> People {
        People {
            emu: emu.clone(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .unwrap(),
        }
    }

    /// A token for `user` to the portal's API.
    pub fn token(&self, user: &str) -> String {
        self.emu
            .mint_token(TokenSpec::new(user, &format!("api://{CLIENT_ID}")))
    }

    pub async fn call(
        &self,
        base: &str,
        user: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let token = self
            .emu
            .mint_token(TokenSpec::new(user, &format!("api://{CLIENT_ID}")));
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let mut req = self
                .http
                .request(method.clone(), format!("{base}{path}"))
                .bearer_auth(&token);
            if let Some(b) = &body {
                req = req.json(b);
            }
            match req.send().await {
                Ok(r) if !r.status().is_server_error() => {
                    let status = r.status();
                    let v = r.json().await.unwrap_or(Value::Null);
                    return (status, v);
                }
                _ => {
                    assert!(Instant::now() < deadline, "{method} {path} never answered");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }

    /// Asks for `minutes` of package `p`; returns the request's id.
    pub async fn request(&self, base: &str, user: &str, minutes: i64) -> String {
        let body = json!({"package": "p", "duration_minutes": minutes, "justification": "convergence test"});
        let (status, v) = self
            .call(base, user, Method::POST, "/api/v1/requests", Some(body))
            .await;
        match status {
            StatusCode::CREATED => v["id"].as_str().unwrap().to_string(),
            // Made before a crash swallowed the answer.
            StatusCode::CONFLICT => {
                let (_, mine) = self
                    .call(
                        base,
                        user,
                        Method::GET,
                        "/api/v1/requests?mine=true&status=pending",
                        None,
                    )
                    .await;
                mine["requests"][0]["id"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{v}"))
                    .to_string()
            }
            other => panic!("asking failed: {other} {v}"),
        }
    }

    /// Approves (an earlier approval whose answer was lost counts).
    pub async fn approve(&self, base: &str, approver: &str, id: &str) {
        let (status, v) = self
            .call(
                base,
                approver,
                Method::POST,
                &format!("/api/v1/requests/{id}/approve"),
                Some(json!({})),
            )
            .await;
        assert!(
            status == StatusCode::OK || status == StatusCode::CONFLICT,
            "{status} {v}"
        );
    }

    /// Ends a grant early (as its requester, `own`) or revokes it (as an admin).
    pub async fn end(&self, base: &str, who: &str, id: &str, own: bool) {
        let action = if own { "end" } else { "revoke" };
        let (status, v) = self
            .call(
                base,
                who,
                Method::POST,
                &format!("/api/v1/requests/{id}/{action}"),
                Some(json!({"reason": "done"})),
            )
            .await;
        assert!(
            status == StatusCode::OK || status == StatusCode::CONFLICT,
            "{status} {v}"
        );
    }

    /// Every request, as an admin sees them.
    pub async fn all(&self, base: &str, admin: &str) -> Vec<Value> {
        let mut out = Vec::new();
        loop {
            let (_, v) = self
                .call(
                    base,
                    admin,
                    Method::GET,
                    &format!("/api/v1/requests?limit=1000&offset={}", out.len()),
                    None,
                )
                .await;
            let page = v["requests"].as_array().cloned().unwrap_or_default();
            let n = page.len();
            out.extend(page);
            if n < 1000 {
                return out;
            }
        }
    }

    /// Audit events with `action`, all of them (a JSON Lines export).
    pub async fn events(&self, base: &str, auditor: &str, action: &str) -> Vec<Value> {
        let token = self
            .emu
            .mint_token(TokenSpec::new(auditor, &format!("api://{CLIENT_ID}")));
        let body = self
            .http
            .get(format!("{base}/api/v1/audit?format=jsonl&action={action}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        body.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

/// An RFC 3339 instant of a JSON value.
pub fn at(v: &Value) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("not a time: {v}")))
        .unwrap()
}

/// Restarts the PostgreSQL server behind `db_url` the hard way (`pg_ctlcluster … restart -m
/// immediate`: every connection drops, every session lock goes), and waits until it answers
/// again. Where the cluster cannot be restarted from here (no `pg_ctlcluster`, not root), every
/// connection to the test database is terminated instead, which is what the portal sees of a
/// restart but for the server's start time; that is said loudly. Returns how long it was away.
pub async fn restart_postgres(db_url: &str) -> Duration {
    use sqlx::Connection;
    let started = Instant::now();
    let version = std::fs::read_dir("/etc/postgresql")
        .ok()
        .and_then(|mut d| d.next())
        .and_then(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned());
    let restarted = version.is_some_and(|v| {
        Command::new("pg_ctlcluster")
            .args([
                "--skip-systemctl-redirect",
                &v,
                "main",
                "restart",
                "-m",
                "immediate",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    if !restarted {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "restarting PostgreSQL is required under CI (pg_ctlcluster, as root)"
        );
        eprintln!(
            "NOT RESTARTING PostgreSQL (pg_ctlcluster failed here): terminating every connection to the test database instead"
        );
        let mut c = sqlx::PgConnection::connect(db_url).await.unwrap();
        sqlx::query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .execute(&mut c)
        .await
        .unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(mut c) = sqlx::PgConnection::connect(db_url).await
            && sqlx::query("SELECT 1").execute(&mut c).await.is_ok()
        {
            return started.elapsed();
        }
        assert!(Instant::now() < deadline, "PostgreSQL did not come back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Directory writes the emulator received: member additions (their bodies, which name the
/// member, are not kept: a count), and member removals per user.
pub fn member_writes(emu: &Emulator) -> (usize, std::collections::HashMap<String, usize>) {
    let mut adds = 0;
    let mut removes = std::collections::HashMap::new();
    for c in emu.graph_requests() {
        if c.method == "DELETE" && c.path.contains("/members/") {
            let user = c.path.split('/').nth(5).unwrap_or("").to_string();
            *removes.entry(user).or_default() += 1;
        } else if c.method == "POST" && c.path.contains("/members/$ref") {
            adds += 1;
        }
    }
    (adds, removes)
}
