//! Signed-in pages under load, beside a bare axum handler in the same run (issue 8, item 11).
//!
//! `cargo bench --bench session_load` (SQLite); `JITGATE_BENCH_POSTGRES=postgres://…/db` for
//! PostgreSQL. The real server on a socket, a browser session signed in through the built-in
//! emulator, and 32 connections kept busy for a few seconds per target by an in-process load
//! generator (the same for every target, so the ratio to the bare handler is what matters).

#[path = "../tests/common/html.rs"]
mod html;

use std::sync::Arc;
use std::time::{Duration, Instant};

use jitgate::clock::SystemClock;
use jitgate::config::Settings;
use jitgate::emulator::demo::{EXCLUSION_GROUP_ID, MORGAN};
use jitgate::emulator::{Emulator, EmulatorConfig};
use jitgate::graph::{GraphClient, GraphSettings};
use jitgate::startup::App;

const CONNECTIONS: usize = 32;
const RUN: Duration = Duration::from_secs(3);
/// Each target is measured this many times, each right after the bare handler; medians are shown.
const ROUNDS: usize = 3;

struct Result {
    rps: f64,
    p50: Duration,
    p99: Duration,
}

/// Keeps `CONNECTIONS` requests in flight against `url` for `RUN`.
async fn load(url: &str, cookie: Option<&str>) -> Result {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONNECTIONS)
        .build()
        .unwrap();
    // Warm up: connections open, caches filled.
    for _ in 0..50 {
        let mut r = client.get(url);
        if let Some(c) = cookie {
            r = r.header("cookie", c);
        }
        assert!(r.send().await.unwrap().status().is_success(), "{url}");
    }
    let until = Instant::now() + RUN;
    let workers = (0..CONNECTIONS).map(|_| {
        let client = client.clone();
        let url = url.to_string();
        let cookie = cookie.map(str::to_string);
        tokio::spawn(async move {
            let mut times = Vec::new();
            while Instant::now() < until {
                let t = Instant::now();
                let mut r = client.get(&url);
                if let Some(c) = &cookie {
                    r = r.header("cookie", c);
                }
                let resp = r.send().await.unwrap();
                assert!(resp.status().is_success());
                resp.bytes().await.unwrap();
                times.push(t.elapsed());
            }
            times
        })
    });
    let mut all: Vec<Duration> = Vec::new();
    for w in futures_util::future::join_all(workers).await {
        all.extend(w.unwrap());
    }
    all.sort();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    Result {
        rps: all.len() as f64 / RUN.as_secs_f64(),
        p50: pct(0.50),
        p99: pct(0.99),
    }
}

/// Signs in as `user` through the emulator's page; the session cookie (`name=value`).
async fn sign_in(portal: &str, emulator: &str, user: &str) -> String {
    let b = html::browser();
    let r = b.get(format!("{portal}/auth/login")).send().await.unwrap();
    let page = b
        .get(html::location(&r))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (action, mut form) = html::form_in(&page).unwrap();
    form.push(("user".into(), user.into()));
    let r = b
        .post(format!("{emulator}{action}"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let r = b.get(html::location(&r)).send().await.unwrap();
    let cookie = html::session_cookie(&r).expect("a session");
    // The first page shows the sign-in message (one write); later views write nothing.
    b.get(format!("{portal}/")).send().await.unwrap();
    cookie
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    if !std::env::args().any(|a| a == "--bench") {
        println!("session_load: run it with `cargo bench --bench session_load`");
        return Ok(());
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir()?;
    let db_url = std::env::var("JITGATE_BENCH_POSTGRES").unwrap_or_else(|_| {
        format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("sessions.db").display()
        )
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let portal = format!("http://{}", listener.local_addr()?);
    let mut cfg = EmulatorConfig::demo();
    cfg.redirect_uris = vec![format!("{portal}/auth/callback")];
    let emulator =
        Emulator::start(cfg, tokio::net::TcpListener::bind("127.0.0.1:0").await?).await?;
    let toml = format!(
        "{}\n[[package]]\nid = \"device-code\"\nname = \"Device code flow exemption\"\ngroup_id = \"{EXCLUSION_GROUP_ID}\"\nmin_duration = \"15m\"\ndefault_duration = \"2h\"\nmax_duration = \"4h\"\n",
        jitgate::demo::emulator_sections(&portal, &emulator.base_url(), &db_url)
    );
    let settings = Settings::from_toml(&toml, [])?;
    let directory = Arc::new(GraphClient::new(
        GraphSettings::from_settings(&settings),
        reqwest::Client::new(),
    ));
    let app = App::build(settings, listener, Arc::new(SystemClock), directory).await?;
    let cookie = sign_in(&portal, &emulator.base_url(), MORGAN).await;

    let bare = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let bare_url = format!("http://{}/", bare.local_addr()?);
    tokio::spawn(async move {
        let router = axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
        axum::serve(bare, router).await
    });

    let backend = if db_url.starts_with("sqlite") {
        "SQLite"
    } else {
        "PostgreSQL"
    };
    println!(
        "{backend}, {CONNECTIONS} connections, {} s per run, median of {ROUNDS} runs, each beside a run of the bare handler",
        RUN.as_secs()
    );
    println!("| target | req/s | p50 ms | p99 ms | ratio to bare |");
    println!("|---|---|---|---|---|");
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let mut bare_rps = Vec::new();
    for (what, path) in [
        ("signed-in home page", "/"),
        ("approvals page", "/approvals"),
        ("`/api/v1/me` (session cookie)", "/api/v1/me"),
        ("`/healthz`", "/healthz"),
    ] {
        // `JITGATE_BENCH_ONLY=/approvals` loads one target (for profiling).
        if std::env::var("JITGATE_BENCH_ONLY").is_ok_and(|only| only != path) {
            continue;
        }
        let cookie = (path != "/healthz").then_some(cookie.as_str());
        let (mut rps, mut p50, mut p99, mut ratio) = (vec![], vec![], vec![], vec![]);
        for _ in 0..ROUNDS {
            let base = load(&bare_url, None).await;
            let r = load(&format!("{portal}{path}"), cookie).await;
            bare_rps.push(base.rps);
            rps.push(r.rps);
            p50.push(r.p50.as_secs_f64() * 1e3);
            p99.push(r.p99.as_secs_f64() * 1e3);
            ratio.push(100.0 * r.rps / base.rps);
        }
        println!(
            "| {what} | {:.0} | {:.2} | {:.2} | {:.0} % |",
            median(rps),
            median(p50),
            median(p99),
            median(ratio)
        );
    }
    if !bare_rps.is_empty() {
        println!(
            "| bare axum handler | {:.0} | | | 100 % |",
            median(bare_rps)
        );
    }
    app.stop().await;
    Ok(())
}
