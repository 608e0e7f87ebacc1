//! Grant latency against the built-in Entra emulator, on the real clock:
//! approval → member added, and `ends_at` → member removed, over N one-minute grants.
//!
//! `cargo bench --bench grant_latency` (SQLite); set `JITGATE_BENCH_POSTGRES=postgres://…/db` to
//! measure PostgreSQL instead. `JITGATE_BENCH_GRANTS` sets N (default 50).
//!
//! With `JITGATE_BENCH_NOTIFY=1` every notification channel that costs a transaction row is on:
//! e-mail through the emulated Graph `sendMail`, and every audit event to a signed webhook on
//! loopback. The bench then also reports request → approvers' e-mail sent, and audit event →
//! webhook received.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jitgate::clock::SystemClock;
use jitgate::config::Settings;
use jitgate::emulator::demo::{CLIENT_ID, EXCLUSION_GROUP_ID, MORGAN};
use jitgate::emulator::{DemoUser, Emulator, EmulatorConfig, TokenSpec};
use jitgate::graph::{GraphClient, GraphSettings};
use jitgate::startup::App;
use serde_json::{Value, json};
use tokio::net::TcpListener;

fn percentile(sorted: &[i64], p: f64) -> i64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn summary(name: &str, mut v: Vec<i64>) {
    v.sort();
    println!(
        "{name}: n={} median={} ms p90={} ms worst={} ms best={} ms",
        v.len(),
        percentile(&v, 0.5),
        percentile(&v, 0.9),
        v[v.len() - 1],
        v[0]
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    if !std::env::args().any(|a| a == "--bench") {
        println!(
            "grant_latency: run it with `cargo bench --bench grant_latency` (it takes about a minute of real time)"
        );
        return Ok(());
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let n: usize = std::env::var("JITGATE_BENCH_GRANTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let dir = tempfile::tempdir()?;
    let (db_url, backend) = match std::env::var("JITGATE_BENCH_POSTGRES") {
        Ok(url) => (url, "postgres"),
        Err(_) => (
            format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("bench.db").display()
            ),
            "sqlite",
        ),
    };

    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let mut cfg = EmulatorConfig::demo();
    cfg.redirect_uris = vec![format!("{url}/auth/callback")];
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
    let base = emulator.base_url();
    let head = jitgate::demo::emulator_sections(&url, &base, &db_url);
    let notify = std::env::var("JITGATE_BENCH_NOTIFY").is_ok_and(|v| v == "1");
    let hooks = Arc::new(std::sync::Mutex::new(Vec::<i64>::new()));
    let notify_toml = if notify {
        let hook = webhook_receiver(hooks.clone()).await?;
        format!(
            "[notify]\nemail_from = \"alex@jitgate-demo.onmicrosoft.com\"\nwebhook_url = \"{hook}\"\n\
             webhook_secret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMfKQ9r8GKYo=\"\n"
        )
    } else {
        String::new()
    };
    let toml = format!(
        r#"{head}
[[package]]
id = "p"
name = "Bench"
group_id = "{EXCLUSION_GROUP_ID}"
min_duration = "1m"
default_duration = "1m"
max_duration = "1h"
remind_before = "off"

{notify_toml}"#
    );
    let settings = Settings::from_toml(&toml, [])?;
    let directory = Arc::new(GraphClient::new(
        GraphSettings::from_settings(&settings),
        reqwest::Client::new(),
    ));
    let app = App::build(settings, listener, Arc::new(SystemClock), directory).await?;
    let http = reqwest::Client::new();
    let token = |u: &str| emulator.mint_token(TokenSpec::new(u, &format!("api://{CLIENT_ID}")));

    println!("backend: {backend}, grants: {n}, notifications: {notify}");
    let started = Instant::now();
    let mut ids = Vec::new();
    for u in &users {
        let r: Value = http
            .post(format!("{url}/api/v1/requests"))
            .bearer_auth(token(u))
            .json(&json!({"package": "p", "duration_minutes": 1, "justification": "latency benchmark grant"}))
            .send()
            .await?
            .json()
            .await?;
        let id = r["id"].as_str().unwrap().to_string();
        let r = http
            .post(format!("{url}/api/v1/requests/{id}/approve"))
            .bearer_auth(token(MORGAN))
            .json(&json!({}))
            .send()
            .await?;
        assert!(r.status().is_success());
        ids.push(id);
        // Spread the approvals over a few seconds, as people would.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let auditor = jitgate::emulator::demo::AVERY;
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let v: Value = http
            .get(format!(
                "{url}/api/v1/audit?action=membership_removed&limit=1000"
            ))
            .bearer_auth(token(auditor))
            .send()
            .await?
            .json()
            .await?;
        if v["events"].as_array().map_or(0, |e| e.len()) >= n {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "not all grants were removed in time"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // The audit events with `action`, as an auditor reads them.
    let events = |action: &str| {
        let http = http.clone();
        let url = url.clone();
        let t = token(auditor);
        let action = action.to_string();
        async move {
            let v: Value = http
                .get(format!("{url}/api/v1/audit?action={action}&limit=1000"))
                .bearer_auth(t)
                .send()
                .await?
                .json()
                .await?;
            anyhow::Ok(v["events"].as_array().unwrap().clone())
        }
    };
    let delays = |action: &'static str| {
        let events = &events;
        async move {
            anyhow::Ok(
                events(action)
                    .await?
                    .iter()
                    .map(|e| e["details"]["delay_ms"].as_i64().unwrap())
                    .collect::<Vec<_>>(),
            )
        }
    };
    summary(
        "approval -> member added",
        delays("membership_added").await?,
    );
    summary(
        "ends_at -> member removed",
        delays("membership_removed").await?,
    );
    if notify {
        let at = |e: &Value| {
            chrono::DateTime::parse_from_rfc3339(e["at"].as_str().unwrap())
                .unwrap()
                .timestamp_millis()
        };
        let created: std::collections::HashMap<String, i64> = events("request_created")
            .await?
            .iter()
            .map(|e| (e["request_id"].as_str().unwrap().to_string(), at(e)))
            .collect();
        let mailed: Vec<i64> = events("notification_sent")
            .await?
            .iter()
            .filter(|e| e["details"]["event"] == "request_created")
            .map(|e| at(e) - created[e["request_id"].as_str().unwrap()])
            .collect();
        summary("request -> approvers' e-mail sent", mailed);
        let hooks = hooks.lock().unwrap().clone();
        println!("webhook deliveries: {}", hooks.len());
        summary("audit event -> webhook received", hooks);
    }
    println!("total wall time: {:.1} s", started.elapsed().as_secs_f64());
    let v: Value = http
        .get(format!("{url}/api/v1/audit/verify"))
        .bearer_auth(token(auditor))
        .send()
        .await?
        .json()
        .await?;
    println!("audit chain: {v}");
    assert!(
        emulator
            .members(EXCLUSION_GROUP_ID)
            .iter()
            .all(|m| !users.contains(m)),
        "every bench user removed"
    );
    app.stop().await;
    Ok(())
}

/// A webhook receiver on loopback recording, for each delivery, how long after its audit event
/// (`data.at`) it arrived.
async fn webhook_receiver(delays: Arc<std::sync::Mutex<Vec<i64>>>) -> anyhow::Result<String> {
    use axum::routing::post;
    let app = axum::Router::new().route(
        "/hook",
        post(move |body: axum::body::Bytes| {
            let delays = delays.clone();
            async move {
                let v: Value = serde_json::from_slice(&body).unwrap_or_default();
                if let Some(at) = v["data"]["at"]
                    .as_str()
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                {
                    let delay = chrono::Utc::now().timestamp_millis() - at.timestamp_millis();
                    delays.lock().unwrap().push(delay);
                }
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(url)
}
