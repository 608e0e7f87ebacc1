//! The command-line client, end to end: the real `jitgate` binary (release build) against a
//! portal and the emulated tenant on loopback, as a developer at a terminal would run it.
//!
//! `cargo bench --bench cli_latency` measures
//! - `jitgate status`: process start, the token cache, one API call, output;
//! - the same when the cached access token must first be renewed with the refresh token;
//! - `jitgate request --wait`: from the approval's commit to the waiting command returning with
//!   the end time (its one-second polling interval decides most of it; the approvals land at
//!   ten different points of that interval).

use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jitgate::clock::SystemClock;
use jitgate::config::Settings;
use jitgate::emulator::demo::{CLIENT_ID, DANA, EXCLUSION_GROUP_ID, MORGAN};
use jitgate::emulator::{Emulator, EmulatorConfig, TokenSpec};
use jitgate::graph::{GraphClient, GraphSettings};
use jitgate::startup::App;
use serde_json::{Value, json};
use tokio::io::AsyncBufReadExt;
use tokio::net::TcpListener;

const BIN: &str = env!("CARGO_BIN_EXE_jitgate");

/// Median, 90th percentile and worst of `ms`, in one line.
fn report(what: &str, mut ms: Vec<u128>) {
    ms.sort_unstable();
    let at = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    println!(
        "{what}: n={} median={} ms p90={} ms worst={} ms",
        ms.len(),
        at(0.5),
        at(0.9),
        ms[ms.len() - 1]
    );
}

fn client(home: &std::path::Path, args: &[&str]) -> tokio::process::Command {
    let mut c = tokio::process::Command::new(BIN);
    c.args(args)
        .env("JITGATE_CLI_HOME", home)
        .env_remove("JITGATE_PORTAL")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    c
}

/// Runs `args`, which must succeed; how long it took.
async fn timed(home: &std::path::Path, args: &[&str]) -> anyhow::Result<u128> {
    let started = Instant::now();
    let out = client(home, args).output().await?;
    anyhow::ensure!(
        out.status.success(),
        "jitgate {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(started.elapsed().as_millis())
}

fn age_token(home: &std::path::Path) -> anyhow::Result<()> {
    let path = home.join("tokens.json");
    let mut cache: Value = serde_json::from_slice(&std::fs::read(&path)?)?;
    for account in cache["portals"].as_object_mut().unwrap().values_mut() {
        account["expires_at"] = json!("2020-01-01T00:00:00Z");
    }
    std::fs::write(&path, serde_json::to_vec(&cache)?)?;
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    if !std::env::args().any(|a| a == "--bench") {
        println!("cli_latency: run it with `cargo bench --bench cli_latency`");
        return Ok(());
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir()?;
    let db_url = format!("sqlite://{}?mode=rwc", dir.path().join("cli.db").display());
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let mut cfg = EmulatorConfig::demo();
    cfg.redirect_uris = vec![format!("{url}/auth/callback")];
    let emulator = Emulator::start(cfg, TcpListener::bind("127.0.0.1:0").await?).await?;
    let toml = format!(
        "{}\n[[package]]\nid = \"p\"\nname = \"Bench\"\ngroup_id = \"{EXCLUSION_GROUP_ID}\"\n\
         min_duration = \"1m\"\ndefault_duration = \"1h\"\nmax_duration = \"4h\"\nremind_before = \"off\"\n",
        jitgate::demo::emulator_sections(&url, &emulator.base_url(), &db_url)
    );
    let settings = Settings::from_toml(&toml, [])?;
    let directory = Arc::new(GraphClient::new(
        GraphSettings::from_settings(&settings),
        reqwest::Client::new(),
    ));
    let app = App::build(settings, listener, Arc::new(SystemClock), directory).await?;
    let home = dir.path().join("dana");

    // Dana signs in by device code (the code entered on the emulated tenant's page).
    let authority = emulator.base_url();
    let mut login = client(
        &home,
        &[
            "login",
            "--device-code",
            "--portal",
            &url,
            "--authority-host",
            &authority,
        ],
    )
    .spawn()?;
    let mut lines = tokio::io::BufReader::new(login.stderr.take().unwrap()).lines();
    while let Some(l) = lines.next_line().await? {
        if let Some(rest) = l.split("enter the code ").nth(1) {
            let code = rest.split_whitespace().next().unwrap();
            emulator
                .complete_device_login(code, DANA)
                .map_err(anyhow::Error::msg)?;
            break;
        }
    }
    anyhow::ensure!(login.wait().await?.success(), "device-code sign-in");

    let status = ["status", "--output", "json"];
    timed(&home, &status).await?; // warm the page cache
    let mut cached = Vec::new();
    for _ in 0..30 {
        cached.push(timed(&home, &status).await?);
    }
    report("jitgate status, cached token", cached);

    let mut renewed = Vec::new();
    for _ in 0..10 {
        age_token(&home)?;
        renewed.push(timed(&home, &status).await?);
    }
    report("jitgate status, token renewed first", renewed);

    let http = reqwest::Client::new();
    let token = |u: &str| emulator.mint_token(TokenSpec::new(u, &format!("api://{CLIENT_ID}")));
    let mut waits = Vec::new();
    for round in 0..10u64 {
        let wait = client(
            &home,
            &[
                "request",
                "--package",
                "p",
                "--for",
                "1h",
                "--reason",
                "latency of the terminal wait",
                "--wait",
                "--output",
                "json",
            ],
        )
        .spawn()?;
        // The request as the portal has it, once the command made it.
        let id = loop {
            let list: Value = http
                .get(format!("{url}/api/v1/requests?status=pending&mine=true"))
                .bearer_auth(token(DANA))
                .send()
                .await?
                .json()
                .await?;
            if let Some(id) = list["requests"][0]["id"].as_str() {
                break id.to_string();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        // The approval lands at a different point of the command's polling interval (one
        // second) each round, as approvals do.
        tokio::time::sleep(Duration::from_millis(100 + 100 * round)).await;
        let approved_at = Instant::now();
        let r = http
            .post(format!("{url}/api/v1/requests/{id}/approve"))
            .bearer_auth(token(MORGAN))
            .json(&json!({}))
            .send()
            .await?;
        anyhow::ensure!(r.status().is_success(), "approve: {}", r.text().await?);
        let out = wait.wait_with_output().await?;
        waits.push(approved_at.elapsed().as_millis());
        let granted: Value = serde_json::from_slice(&out.stdout)?;
        anyhow::ensure!(
            granted["status"] == "active" && granted["ends_at"].is_string(),
            "the wait returned {granted}"
        );
        let r = http
            .post(format!("{url}/api/v1/requests/{id}/end"))
            .bearer_auth(token(DANA))
            .json(&json!({}))
            .send()
            .await?;
        anyhow::ensure!(r.status().is_success(), "end: {}", r.text().await?);
    }
    report("approval -> `jitgate request --wait` returns", waits);

    app.stop().await;
    emulator.shutdown();
    Ok(())
}
