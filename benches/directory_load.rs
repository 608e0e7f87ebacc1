//! Directory work under load, against the built-in Entra emulator on the real clock.
//!
//! - `burst`: 300 requests approved at once (one-minute grants), so 300 grants also end within
//!   the same second: approval → member added and `ends_at` → member removed, p50/p99/max.
//! - `budget`: Graph's write limit enforced (3,000 writes per 150 s, 150 ms per call): 5,000
//!   grants end at once. How long until the last removal, against what the budget allows (a full
//!   bucket of 3,000, then 20 a second: 100 s), none given up, and the share of calls throttled.
//!
//! `cargo bench --bench directory_load -- burst` (or `budget`, or both when none is named);
//! SQLite by default, `JITGATE_BENCH_POSTGRES=postgres://…/db` for PostgreSQL (an empty database).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use jitgate::clock::SystemClock;
use jitgate::config::Settings;
use jitgate::emulator::demo::{AVERY, CLIENT_ID, EXCLUSION_GROUP_ID, MORGAN};
use jitgate::emulator::{DemoUser, Emulator, EmulatorConfig, TokenSpec};
use jitgate::graph::{GraphClient, GraphSettings};
use jitgate::startup::App;
use serde_json::{Value, json};
use tokio::net::TcpListener;

fn percentile(sorted: &[i64], p: f64) -> i64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn summary(name: &str, mut v: Vec<i64>) -> i64 {
    v.sort();
    let p99 = percentile(&v, 0.99);
    println!(
        "  {name}: n={} p50={} ms p99={} ms max={} ms",
        v.len(),
        percentile(&v, 0.5),
        p99,
        v[v.len() - 1]
    );
    p99
}

struct Bench {
    emulator: Emulator,
    users: Vec<String>,
    db_url: String,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Bench {
    async fn new(n: usize) -> anyhow::Result<Bench> {
        let dir = tempfile::tempdir()?;
        let db_url = std::env::var("JITGATE_BENCH_POSTGRES").unwrap_or_else(|_| {
            format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("bench.db").display()
            )
        });
        let mut cfg = EmulatorConfig::demo();
        let users: Vec<String> = (0..n)
            .map(|i| format!("00000000-0000-4000-8000-{:012}", i + 1))
            .collect();
        for (i, id) in users.iter().enumerate() {
            cfg.users.push(DemoUser {
                id: id.clone(),
                name: format!("Bench {i}"),
                username: format!("bench{i}@example.com"),
                roles: vec![],
                manager_id: None,
            });
        }
        let emulator = Emulator::start(cfg, TcpListener::bind("127.0.0.1:0").await?).await?;
        Ok(Bench {
            emulator,
            users,
            db_url,
            http: reqwest::Client::new(),
            _dir: dir,
        })
    }

    /// The portal on the bench database with `directory` settings.
    async fn portal(&self, directory: &str) -> anyhow::Result<(App, String)> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let head = jitgate::demo::emulator_sections(&url, &self.emulator.base_url(), &self.db_url);
        let toml = format!(
            r#"{head}
[directory]
{directory}

[reconcile]
every = "1d"

[[package]]
id = "p"
name = "Bench"
group_id = "{EXCLUSION_GROUP_ID}"
min_duration = "1m"
default_duration = "1m"
max_duration = "1h"
"#
        );
        let settings = Settings::from_toml(&toml, [])?;
        let directory = Arc::new(GraphClient::new(
            GraphSettings::from_settings(&settings),
            reqwest::Client::new(),
        ));
        Ok((
            App::build(settings, listener, Arc::new(SystemClock), directory).await?,
            url,
        ))
    }

    fn token(&self, u: &str) -> String {
        self.emulator
            .mint_token(TokenSpec::new(u, &format!("api://{CLIENT_ID}")))
    }

    async fn post(&self, url: String, user: &str, body: Value) -> anyhow::Result<Value> {
        let r = self
            .http
            .post(&url)
            .bearer_auth(self.token(user))
            .json(&body)
            .send()
            .await?;
        anyhow::ensure!(r.status().is_success(), "{url}: {}", r.status());
        Ok(r.json().await?)
    }

    /// Asks for a grant for each user (`starts_at` when given), 16 at a time; their ids.
    async fn ask(
        &self,
        url: &str,
        starts_at: Option<chrono::DateTime<Utc>>,
    ) -> anyhow::Result<Vec<String>> {
        let mut ids = Vec::new();
        for chunk in self.users.chunks(16) {
            let mut calls = Vec::new();
            for u in chunk {
                let mut body = json!({"package": "p", "duration_minutes": 1, "justification": "load benchmark grant"});
                if let Some(s) = starts_at {
                    body["starts_at"] = json!(s);
                }
                calls.push(self.post(format!("{url}/api/v1/requests"), u, body));
            }
            for r in futures_util::future::join_all(calls).await {
                ids.push(r?["id"].as_str().unwrap().to_string());
            }
        }
        Ok(ids)
    }

    async fn events(&self, url: &str, action: &str) -> anyhow::Result<Vec<Value>> {
        let body = self
            .http
            .get(format!("{url}/api/v1/audit?format=jsonl&action={action}"))
            .bearer_auth(self.token(AVERY))
            .send()
            .await?
            .text()
            .await?;
        Ok(body
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect())
    }

    async fn wait_for(
        &self,
        url: &str,
        action: &str,
        n: usize,
        limit: Duration,
    ) -> anyhow::Result<Vec<Value>> {
        let deadline = Instant::now() + limit;
        loop {
            let e = self.events(url, action).await?;
            if e.len() >= n {
                return Ok(e);
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "only {} of {n} {action} in time",
                e.len()
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

async fn burst(backend: &str) -> anyhow::Result<()> {
    const N: usize = 300;
    let b = Bench::new(N).await?;
    let (app, url) = b.portal("").await?;
    let ids = b.ask(&url, None).await?;
    // Every approval at once.
    let started = Instant::now();
    let approvals: Vec<_> = ids
        .iter()
        .map(|id| {
            b.post(
                format!("{url}/api/v1/requests/{id}/approve"),
                MORGAN,
                json!({}),
            )
        })
        .collect();
    for r in futures_util::future::join_all(approvals).await {
        r?;
    }
    println!(
        "burst ({backend}): {N} approvals sent in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    let added = b
        .wait_for(&url, "membership_added", N, Duration::from_secs(60))
        .await?;
    let lag = |e: &Vec<Value>| {
        e.iter()
            .map(|e| e["details"]["delay_ms"].as_i64().unwrap())
            .collect::<Vec<_>>()
    };
    let add_p99 = summary("approval -> member added (verified)", lag(&added));
    let removed = b
        .wait_for(&url, "membership_removed", N, Duration::from_secs(120))
        .await?;
    let rm_p99 = summary("ends_at -> member removed (verified)", lag(&removed));
    let ends: Vec<_> = b
        .events(&url, "grant_expired")
        .await?
        .iter()
        .map(|e| e["at"].as_str().unwrap().to_string())
        .collect();
    println!(
        "  the {} grants expired between {} and {}",
        ends.len(),
        ends.iter().min().unwrap(),
        ends.iter().max().unwrap()
    );
    println!("  p99 within 1 s: {}", add_p99 <= 1000 && rm_p99 <= 1000);
    app.stop().await;
    Ok(())
}

async fn budget(backend: &str) -> anyhow::Result<()> {
    const N: usize = 5000;
    let b = Bench::new(N).await?;
    // Setting up: everyone asks for one minute starting at the same moment, and is approved.
    let (app, url) = b
        .portal("write_budget = \"1000000/1s\"\nconcurrency = 16")
        .await?;
    let start = Utc::now() + chrono::Duration::seconds(150);
    let ids = b.ask(&url, Some(start)).await?;
    for chunk in ids.chunks(16) {
        let calls: Vec<_> = chunk
            .iter()
            .map(|id| {
                b.post(
                    format!("{url}/api/v1/requests/{id}/approve"),
                    MORGAN,
                    json!({}),
                )
            })
            .collect();
        for r in futures_util::future::join_all(calls).await {
            r?;
        }
    }
    println!("budget ({backend}): {N} grants set up, starting at {start}");
    b.wait_for(&url, "membership_added", N, Duration::from_secs(300))
        .await?;
    app.stop().await;
    // The grants end a minute after they start: the real portal, Graph's limit and latency.
    let end = start + chrono::Duration::minutes(1);
    let wait = (end - Utc::now() - chrono::Duration::seconds(10))
        .to_std()
        .unwrap_or_default();
    tokio::time::sleep(wait).await;
    b.emulator.set_write_budget(3000, Duration::from_secs(150));
    b.emulator.set_latency(Duration::from_millis(150));
    let (before_ok, before_429) = b.emulator.write_counts();
    let calls_before = b.emulator.graph_requests().len();
    let (app, url) = b.portal("").await?;
    let removed = b
        .wait_for(&url, "membership_removed", N, Duration::from_secs(600))
        .await?;
    let last = removed
        .iter()
        .map(|e| e["at"].as_str().unwrap().to_string())
        .max()
        .unwrap();
    let last = chrono::DateTime::parse_from_rfc3339(&last)?.with_timezone(&Utc);
    let took = (last - end).num_milliseconds() as f64 / 1000.0;
    let (ok, throttled) = b.emulator.write_counts();
    let (ok, throttled) = (ok - before_ok, throttled - before_429);
    let calls = b.emulator.graph_requests()[calls_before..].to_vec();
    let throttled_calls = calls.iter().filter(|c| c.status == 429).count();
    let failed = b.events(&url, "grant_failed").await?.len();
    let allowed = (N as f64 - 3000.0).max(0.0) / 20.0;
    println!(
        "  last removal {took:.1} s after the end; the budget allows {allowed:.0} s ({:+.1}%)",
        (took / allowed - 1.0) * 100.0
    );
    println!(
        "  writes accepted {ok}, throttled {throttled} ({:.2}% of writes); HTTP calls {} of which 429: {} ({:.2}%); grants failed: {failed}",
        100.0 * throttled as f64 / (ok + throttled).max(1) as f64,
        calls.len(),
        throttled_calls,
        100.0 * throttled_calls as f64 / calls.len().max(1) as f64
    );
    let members = b.emulator.members(EXCLUSION_GROUP_ID);
    println!(
        "  bench users left in the group: {}",
        members.iter().filter(|m| b.users.contains(m)).count()
    );
    app.stop().await;
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if !args.iter().any(|a| a == "--bench") {
        println!(
            "directory_load: run it with `cargo bench --bench directory_load [-- burst|budget]`"
        );
        return Ok(());
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let backend = if std::env::var("JITGATE_BENCH_POSTGRES").is_ok() {
        "postgres"
    } else {
        "sqlite"
    };
    let only = |name: &str| {
        !args.iter().any(|a| a == "burst" || a == "budget") || args.iter().any(|a| a == name)
    };
    if only("burst") {
        burst(backend).await?;
    }
    if only("budget") {
        budget(backend).await?;
    }
    Ok(())
}
