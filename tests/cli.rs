//! The command line, as an operator uses it: the real binary.

mod common;

use std::process::{Command, Stdio};

use chrono::Utc;
use common::db::{Backend, TestDb};
use jitgate::domain::{AuditAction, NewAuditEvent};

const BIN: &str = env!("CARGO_BIN_EXE_jitgate");

fn config(dir: &std::path::Path, db_url: &str) -> std::path::PathBuf {
    let path = dir.join("jitgate.toml");
    std::fs::write(
        &path,
        format!(
            r#"
[server]
public_url = "https://jit.contoso.example"
[database]
url = "{db_url}"
[entra]
tenant_id = "72f988bf-86f1-41af-91ab-2d7cd011db47"
client_id = "11111111-2222-3333-4444-555555555555"
client_secret = "cli-test-secret"
[[package]]
id = "device-code"
name = "Device code flow exemption"
group_id = "5a1f3f3e-6a4b-4d5e-9a8b-1c2d3e4f5a6b"
min_duration = "15m"
default_duration = "2h"
max_duration = "4h"
"#
        ),
    )
    .unwrap();
    path
}

fn run(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .envs(env.iter().copied())
        .env_remove("JITGATE_CONFIG")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[tokio::test]
async fn migrate_verify_export_and_tampering() {
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &db.url);
    let cfg = cfg.to_str().unwrap();

    let (code, out, _) = run(&["migrate", "--config", cfg], &[]);
    assert_eq!(code, 0);
    assert!(out.contains("sqlite database is up to date"), "{out}");

    let store = db.store().await;
    let mut tx = store.begin().await.unwrap();
    for i in 0..3 {
        tx.append_event(NewAuditEvent {
            at: Utc::now(),
            actor_id: "system".into(),
            actor_name: "jitgate".into(),
            action: AuditAction::GrantExpired,
            request_id: Some(format!("r{i}")),
            subject_id: Some("u".into()),
            details: serde_json::json!({"i": i}),
            client_ip: None,
            user_agent: None,
        })
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();

    let (code, out, err) = run(&["audit", "verify", "--config", cfg], &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&out).unwrap(),
        serde_json::json!({"ok": true, "events": 3, "first_bad_seq": null})
    );

    let (code, out, _) = run(
        &["audit", "export", "--format", "csv", "--config", cfg],
        &[],
    );
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 4, "{out}");
    let file = dir.path().join("audit.jsonl");
    let (code, _, _) = run(
        &[
            "audit",
            "export",
            "--format",
            "jsonl",
            "--output",
            file.to_str().unwrap(),
            "--config",
            cfg,
        ],
        &[],
    );
    assert_eq!(code, 0);
    assert_eq!(std::fs::read_to_string(&file).unwrap().lines().count(), 3);

    // Someone with full database access drops the guard and edits history: verification finds it.
    let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
    sqlx::query("DROP TRIGGER audit_events_no_update")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("UPDATE audit_events SET details = '{\"i\":42}' WHERE seq = 2")
        .execute(&pool)
        .await
        .unwrap();
    let (code, out, err) = run(&["audit", "verify", "--config", cfg], &[]);
    assert_eq!(code, 1);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&out).unwrap()["first_bad_seq"],
        2
    );
    assert!(err.contains("BROKEN at event 2"), "{err}");
}

#[test]
fn bad_configuration_names_the_key_and_hides_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "sqlite::memory:");
    let (code, _, err) = run(
        &["migrate", "--config", cfg.to_str().unwrap()],
        &[("JITGATE_PACKAGE__0__MAX_DURATION", "5m")],
    );
    assert_eq!(code, 2);
    assert!(err.contains("package[0].min_duration"), "{err}");
    let (code, _, err) = run(&["migrate"], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("--config"), "{err}");
    let (code, out, err) = run(
        &["check", "--config", cfg.to_str().unwrap()],
        &[("JITGATE_ENTRA__AUTHORITY_HOST", "http://127.0.0.1:9")],
    );
    assert_eq!(code, 1, "the sign-in service is unreachable: {out}");
    assert!(
        !out.contains("cli-test-secret") && !err.contains("cli-test-secret"),
        "the secret never shows"
    );
    let (code, out, _) = run(&["--help"], &[]);
    assert_eq!(code, 0);
    for c in ["serve", "demo", "migrate", "check", "audit"] {
        assert!(out.contains(c), "{c} in --help");
    }
}

#[tokio::test]
async fn demo_runs_from_an_empty_folder() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(BIN)
        .args(["demo", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    use tokio::io::AsyncBufReadExt;
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let url = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while let Some(l) = lines.next_line().await.unwrap() {
            if let Some(rest) = l.trim().strip_prefix("Open ") {
                return rest.split_whitespace().next().unwrap().to_string();
            }
        }
        panic!("no address printed")
    })
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..100 {
        if let Ok(r) = http.get(format!("{url}/readyz")).send().await
            && r.status().is_success()
        {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(ready, "the demo became ready at {url}");
    let home = http.get(&url).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("Demo mode"), "the demo banner");
    assert!(
        dir.path().join("jitgate-demo.db").exists(),
        "its data lives in the folder it was started from"
    );
    child.kill().await.unwrap();

    // Refuses to listen beyond loopback.
    let (code, _, err) = run(&["demo", "--listen", "0.0.0.0:0"], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("loopback"), "{err}");
}
