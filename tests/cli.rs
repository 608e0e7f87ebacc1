//! The command line, as an operator uses it: the real binary.

mod common;
#[path = "cli/setup.rs"]
mod setup;

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
    for e in append_events(3) {
        tx.append_event(e).await.unwrap();
    }
    tx.commit().await.unwrap();

    let (code, out, err) = run(&["audit", "verify", "--config", cfg], &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&out).unwrap(),
        serde_json::json!({"ok": true, "events": 3, "first_bad_seq": null, "unkeyed": 3})
    );
    assert!(err.contains("No audit key"), "{err}");

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

const AUDIT_KEY: &str = "kJ8s1-cli-test-audit-key-of-48-characters-000000";

/// `n` grant-expiry events to append.
fn append_events(n: usize) -> Vec<NewAuditEvent> {
    (0..n)
        .map(|i| NewAuditEvent {
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
        .collect()
}

/// Issue 8, item 3: a keyed chain and anchors outside the database find what plain SHA-256
/// could not: history rewritten by someone with write access to the database, and a cut tail.
#[tokio::test]
async fn keyed_chain_and_anchors_survive_a_database_owner() {
    use jitgate::domain::audit::ChainKey;
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &db.url);
    let cfg = cfg.to_str().unwrap();
    let anchors = dir.path().join("anchors.jsonl");
    let env = [
        ("JITGATE_AUDIT__KEY", AUDIT_KEY),
        ("JITGATE_AUDIT__ANCHOR_FILE", anchors.to_str().unwrap()),
    ];
    assert_eq!(run(&["migrate", "--config", cfg], &env).0, 0);
    let key = ChainKey::new(AUDIT_KEY.as_bytes());
    let store = jitgate::store::connect_keyed(&db.url, Some(key))
        .await
        .unwrap();
    let mut tx = store.begin().await.unwrap();
    for e in append_events(5) {
        tx.append_event(e).await.unwrap();
    }
    tx.commit().await.unwrap();

    let (code, out, err) = run(&["audit", "anchor", "--config", cfg], &env);
    assert_eq!(code, 0, "{err}");
    // The log (standard error) carries the anchor too; standard output only the anchor.
    assert!(err.contains("audit chain anchored"), "{err}");
    let anchor: serde_json::Value =
        serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out:?} / {err}"));
    assert_eq!(anchor["seq"], 5);
    assert!(anchor["signature"].as_str().is_some_and(|s| s.len() == 64));
    assert_eq!(
        std::fs::read_to_string(&anchors).unwrap().lines().count(),
        1
    );
    let with_anchor = [
        "audit",
        "verify",
        "--anchor",
        anchors.to_str().unwrap(),
        "--config",
        cfg,
    ];
    let (code, _, err) = run(&with_anchor, &env);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("past the anchor at event 5"), "{err}");
    assert!(
        !out.contains(AUDIT_KEY) && !err.contains(AUDIT_KEY),
        "the key never shows"
    );
    // Without the key, keyed events cannot be checked: not reported intact.
    let (code, _, err) = run(&["audit", "verify", "--config", cfg], &[]);
    assert_eq!(code, 1, "{err}");
    // In the file the key is refused: it belongs in the environment.
    let in_file = dir.path().join("keyed.toml");
    std::fs::write(
        &in_file,
        format!(
            "{}\n[audit]\nkey = \"{AUDIT_KEY}\"\n",
            std::fs::read_to_string(cfg).unwrap()
        ),
    )
    .unwrap();
    let (code, _, err) = run(&["migrate", "--config", in_file.to_str().unwrap()], &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains("audit.key") && !err.contains(AUDIT_KEY),
        "{err}"
    );

    // The database owner drops the guards, rewrites event 2 and relinks the rest without the key.
    let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
    for t in ["audit_events_no_update", "audit_events_no_delete"] {
        sqlx::query(&format!("DROP TRIGGER {t}"))
            .execute(&pool)
            .await
            .unwrap();
    }
    let rows = store.events_after(0, 10).await.unwrap();
    let mut prev = rows[0].hash.clone();
    for mut e in rows.into_iter().skip(1) {
        if e.seq == 2 {
            e.details = r#"{"i":42}"#.into();
        }
        e.prev_hash = prev;
        e.hash = e.compute_hash(None);
        prev = e.hash.clone();
        sqlx::query(
            "UPDATE audit_events SET details = $1, prev_hash = $2, hash = $3 WHERE seq = $4",
        )
        .bind(&e.details)
        .bind(&e.prev_hash)
        .bind(&e.hash)
        .bind(e.seq)
        .execute(&pool)
        .await
        .unwrap();
    }
    let (code, out, err) = run(&["audit", "verify", "--config", cfg], &env);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&out).unwrap()["first_bad_seq"],
        2
    );
    // A broken chain is not anchored.
    let (code, _, err) = run(&["audit", "anchor", "--config", cfg], &env);
    assert_eq!(code, 1);
    assert!(err.contains("not anchored"), "{err}");

    // Cutting the tail leaves an intact chain; only the anchor shows it.
    let db2 = TestDb::new(Backend::Sqlite).await.unwrap();
    let cfg2 = config(&dir.path().join("second").tap_mkdir(), &db2.url);
    let cfg2 = cfg2.to_str().unwrap();
    assert_eq!(run(&["migrate", "--config", cfg2], &env).0, 0);
    let store2 = jitgate::store::connect_keyed(&db2.url, Some(ChainKey::new(AUDIT_KEY.as_bytes())))
        .await
        .unwrap();
    let mut tx = store2.begin().await.unwrap();
    for e in append_events(4) {
        tx.append_event(e).await.unwrap();
    }
    tx.commit().await.unwrap();
    let anchors2 = dir.path().join("anchors2.jsonl");
    let env2 = [
        ("JITGATE_AUDIT__KEY", AUDIT_KEY),
        ("JITGATE_AUDIT__ANCHOR_FILE", anchors2.to_str().unwrap()),
    ];
    assert_eq!(run(&["audit", "anchor", "--config", cfg2], &env2).0, 0);
    let pool = sqlx::SqlitePool::connect(&db2.url).await.unwrap();
    sqlx::query("DROP TRIGGER audit_events_no_delete")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM audit_events WHERE seq >= 3")
        .execute(&pool)
        .await
        .unwrap();
    let (code, _, err) = run(&["audit", "verify", "--config", cfg2], &env2);
    assert_eq!(code, 1, "the configured anchor file is checked by default");
    assert!(err.contains("events were cut"), "{err}");
    let (code, _, err) = run(
        &[
            "audit",
            "verify",
            "--anchor",
            anchors2.to_str().unwrap(),
            "--config",
            cfg2,
        ],
        &env2,
    );
    assert_eq!(code, 1);
    assert!(err.contains("events were cut"), "{err}");
}

/// The anchors in an anchor file, one a line.
fn anchors_in(path: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Appends `n` events, keyed with the test's audit key.
async fn append_keyed(db: &TestDb, n: usize) {
    let key = jitgate::domain::audit::ChainKey::new(AUDIT_KEY.as_bytes());
    let store = jitgate::store::connect_keyed(&db.url, Some(key))
        .await
        .unwrap();
    let mut tx = store.begin().await.unwrap();
    for e in append_events(n) {
        tx.append_event(e).await.unwrap();
    }
    tx.commit().await.unwrap();
}

/// Issue 19, item 3: with the audit key, the moment keying began is anchored outside the
/// database (here before any event), and `audit verify` checks the trail against the anchor
/// file by default: a trail its database's owner rewrote from the start without the key is
/// refused, naming the anchor it disagrees with.
#[tokio::test]
async fn a_trail_rewritten_whole_without_the_key_is_refused() {
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &db.url);
    let cfg = cfg.to_str().unwrap();
    let anchors = dir.path().join("anchors.jsonl");
    let file = anchors.to_str().unwrap();
    let env = [
        ("JITGATE_AUDIT__KEY", AUDIT_KEY),
        ("JITGATE_AUDIT__ANCHOR_FILE", file),
    ];
    assert_eq!(run(&["migrate", "--config", cfg], &env).0, 0);
    // Keying begins before any event: that is anchored too.
    let (code, out, err) = run(&["audit", "anchor", "--config", cfg], &env);
    assert_eq!(code, 0, "{err}");
    let start = anchors_in(&anchors);
    assert_eq!(start.len(), 1, "{out} / {err}");
    assert_eq!(
        (&start[0]["seq"], &start[0]["keyed_from"]),
        (&0.into(), &1.into())
    );
    append_keyed(&db, 3).await;
    let verify = ["audit", "verify", "--config", cfg];
    let (code, out, err) = run(&verify, &env);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (&v["anchors"], &v["keyed_from"]),
        (&1.into(), &1.into()),
        "{v}"
    );

    // The database's owner rewrites the whole trail without the key: intact as plain SHA-256.
    db.relink_unkeyed(1, |e| {
        if e.seq == 2 {
            e.actor_id = "mallory".into();
        }
    })
    .await;
    let (code, out, err) = run(&verify, &env);
    assert_eq!(code, 1, "{out} / {err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["first_bad_seq"], 1, "{v}");
    assert_eq!(v["bad_anchor"]["seq"], 0, "{v}");
    assert_eq!(v["bad_anchor"]["at"], start[0]["at"], "{v}");
    let from = v["bad_anchor"]["from"].as_str().unwrap();
    assert!(from.contains(file) && from.contains("line 1"), "{from}");
    assert!(err.contains("BROKEN at event 1"), "{err}");
    assert!(err.contains(file) && err.contains("line 1"), "{err}");
    // Nor is it anchored.
    let (code, _, err) = run(&["audit", "anchor", "--config", cfg], &env);
    assert_eq!(code, 1);
    assert!(err.contains("not anchored"), "{err}");
    assert_eq!(anchors_in(&anchors).len(), 1);
}

/// Issue 19, item 3: a key configured on a trail that already holds plain events. The anchor
/// made then records that keying began with the next event; a database owner who rewrites the
/// keyed part without the key (a downgrade from that point) is found, by the anchor file and by
/// a copy of the anchors kept elsewhere (the anchor webhook receiver's, saved to a file).
#[tokio::test]
async fn a_keyed_part_rewritten_without_the_key_is_refused() {
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &db.url);
    let cfg = cfg.to_str().unwrap();
    let anchors = dir.path().join("anchors.jsonl");
    let env = [
        ("JITGATE_AUDIT__KEY", AUDIT_KEY),
        ("JITGATE_AUDIT__ANCHOR_FILE", anchors.to_str().unwrap()),
    ];
    assert_eq!(run(&["migrate", "--config", cfg], &env).0, 0);
    let plain = db.store().await;
    let mut tx = plain.begin().await.unwrap();
    for e in append_events(2) {
        tx.append_event(e).await.unwrap();
    }
    tx.commit().await.unwrap();
    assert_eq!(run(&["audit", "anchor", "--config", cfg], &env).0, 0);
    append_keyed(&db, 2).await;
    assert_eq!(run(&["audit", "anchor", "--config", cfg], &env).0, 0);
    let written = anchors_in(&anchors);
    assert_eq!(
        (&written[0]["seq"], &written[0]["keyed_from"]),
        (&2.into(), &3.into())
    );
    assert_eq!(
        (&written[1]["seq"], &written[1]["keyed_from"]),
        (&4.into(), &3.into())
    );
    let copy = dir.path().join("receiver-copy.jsonl");
    std::fs::copy(&anchors, &copy).unwrap();
    let verify = ["audit", "verify", "--config", cfg];
    let (code, _, err) = run(&verify, &env);
    assert_eq!(code, 0, "{err}");

    db.relink_unkeyed(3, |_| {}).await;
    let (code, out, err) = run(&verify, &env);
    assert_eq!(code, 1, "{out} / {err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["first_bad_seq"], 3, "{v}");
    assert_eq!(
        v["bad_anchor"]["seq"], 2,
        "the anchor made when keying began: {v}"
    );
    assert!(err.contains("not keyed"), "{err}");
    // Checked against the receiver's copy alone (no anchor file configured).
    let copy_path = copy.to_str().unwrap();
    let (code, out, err) = run(
        &["audit", "verify", "--anchor", copy_path, "--config", cfg],
        &[("JITGATE_AUDIT__KEY", AUDIT_KEY)],
    );
    assert_eq!(code, 1, "{out} / {err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let from = v["bad_anchor"]["from"].as_str().unwrap();
    assert!(
        from.contains(copy_path) && from.contains("line 1"),
        "{from}"
    );
}

/// Issue 19, item 11: an anchor webhook that cannot be reached, or answers with an error
/// (echoing the address it was called on), never puts its URL, whose path is a credential,
/// into the error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_anchor_webhook_failure_does_not_show_its_url() {
    use common::receivers::{Answer, receiver};
    const TOKEN: &str = "s3cr3t-path-token";
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &db.url);
    let cfg = cfg.to_str().unwrap();
    assert_eq!(run(&["migrate", "--config", cfg], &[]).0, 0);
    let store = db.store().await;
    let mut tx = store.begin().await.unwrap();
    for e in append_events(1) {
        tx.append_event(e).await.unwrap();
    }
    tx.commit().await.unwrap();
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let (failing, seen) = receiver(Answer::Status {
        code: 500,
        headers: Vec::new(),
        body: format!("no receiver at /anchors/{TOKEN}"),
    })
    .await;
    for addr in [closed, failing] {
        let url = format!("http://{addr}/anchors/{TOKEN}");
        let (code, out, err) = run(
            &["audit", "anchor", "--config", cfg],
            &[("JITGATE_AUDIT__ANCHOR_WEBHOOK", &url)],
        );
        assert_eq!(code, 1, "{out} / {err}");
        assert!(err.contains("anchor webhook"), "{err}");
        for text in [&out, &err] {
            assert!(
                !text.contains(TOKEN) && !text.contains("/anchors/"),
                "{text}"
            );
        }
    }
    assert_eq!(
        seen.lock().unwrap().len(),
        1,
        "the failing receiver was called"
    );
}

trait TapMkdir {
    fn tap_mkdir(self) -> std::path::PathBuf;
}

impl TapMkdir for std::path::PathBuf {
    fn tap_mkdir(self) -> std::path::PathBuf {
        std::fs::create_dir_all(&self).unwrap();
        self
    }
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

/// `[notify.smtp] security = "none"` off loopback (an internal relay on port 25) is refused
/// unless `allow_plaintext = true` says it is meant; then `jitgate check` reports it and
/// `jitgate serve` warns of it when it starts (issue 19, item 11).
#[tokio::test]
async fn plaintext_smtp_off_loopback_is_allowed_only_when_said_and_then_reported() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("jitgate.db").display()
    );
    let cfg = config(dir.path(), &db);
    let cfg = cfg.to_str().unwrap();
    let relay = [
        ("JITGATE_NOTIFY__SMTP__HOST", "relay.contoso.example"),
        ("JITGATE_NOTIFY__SMTP__FROM", "jitgate@contoso.example"),
        ("JITGATE_NOTIFY__SMTP__SECURITY", "none"),
        ("JITGATE_ENTRA__AUTHORITY_HOST", "http://127.0.0.1:9"),
    ];
    let (code, out, err) = run(&["check", "--config", cfg], &relay);
    assert_eq!(code, 2, "{out}");
    assert!(
        err.contains("notify.smtp.security") && err.contains("allow_plaintext"),
        "{err}"
    );

    let mut allowed = relay.to_vec();
    allowed.push(("JITGATE_NOTIFY__SMTP__ALLOW_PLAINTEXT", "true"));
    let (_, out, _) = run(&["check", "--config", cfg], &allowed);
    let line = out
        .lines()
        .find(|l| l.starts_with("warn") && l.contains("relay.contoso.example:25"))
        .unwrap_or_else(|| panic!("no warning in: {out}"));
    assert!(line.contains("unencrypted"), "{line}");

    let mut child = tokio::process::Command::new(BIN)
        .args(["serve", "--config", cfg])
        .env_remove("JITGATE_CONFIG")
        .envs(allowed.iter().copied())
        .env("JITGATE_SERVER__LISTEN", "127.0.0.1:0")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    use tokio::io::AsyncBufReadExt;
    let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let logged = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        let mut logged = Vec::new();
        while let Some(l) = lines.next_line().await.unwrap() {
            let done = l.contains("jitgate is serving");
            logged.push(l);
            if done {
                return logged;
            }
        }
        panic!("the server stopped: {logged:?}")
    })
    .await
    .unwrap();
    child.kill().await.unwrap();
    let warned: Vec<&String> = logged
        .iter()
        .filter(|l| l.contains("WARN") && l.contains("relay.contoso.example:25"))
        .collect();
    assert_eq!(warned.len(), 1, "warned once at start: {logged:?}");
    assert!(warned[0].contains("unencrypted"), "{}", warned[0]);
}

/// The shortest extension is stated in `jitgate extend --help`, and a shorter one is refused
/// before anything is sent, naming it (issue 19, item 11).
#[test]
fn extend_states_its_minimum() {
    let (code, out, _) = run(&["extend", "--help"], &[]);
    assert_eq!(code, 0);
    assert!(out.contains("at least 5 minutes"), "{out}");
    let home = tempfile::tempdir().unwrap();
    let (code, out, err) = run(
        &[
            "extend",
            "--for",
            "4m",
            "--reason",
            "the migration runs long",
            "--portal",
            "http://127.0.0.1:9",
        ],
        &[
            ("HOME", home.path().to_str().unwrap()),
            ("XDG_CONFIG_HOME", home.path().to_str().unwrap()),
        ],
    );
    assert_ne!(code, 0, "{out}");
    assert!(err.contains("at least 5 minutes"), "{err}");
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
    let banner = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        let mut banner = Vec::new();
        while let Some(l) = lines.next_line().await.unwrap() {
            let done = l.contains("Stop with Ctrl-C.");
            banner.push(l);
            if done {
                return banner;
            }
        }
        panic!("no banner printed: {banner:?}")
    })
    .await
    .unwrap();
    let after = |prefix: &str| {
        banner
            .iter()
            .find_map(|l| l.trim().strip_prefix(prefix).map(str::to_string))
            .unwrap_or_else(|| panic!("no '{prefix}' in the banner: {banner:?}"))
    };
    let url = after("Open ")
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
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
    // The banner links to the emulated tenant's mailbox, where the demo's e-mail lands.
    let mailbox = home
        .split("id=\"demo-mailbox\"")
        .next()
        .and_then(|before| before.rsplit("href=\"").next())
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no mailbox link in the banner: {home}"))
        .to_string();
    assert!(mailbox.ends_with("/mailbox"), "{mailbox}");
    let page = http.get(&mailbox).send().await.unwrap();
    assert!(page.status().is_success());
    assert!(page.text().await.unwrap().contains("Demo mailbox"));
    assert!(
        dir.path().join("jitgate-demo.db").exists(),
        "its data lives in the folder it was started from"
    );
    // Its audit trail is keyed, with a key of its own kept beside the data, readable by the owner only.
    let key = dir.path().join("jitgate-demo-audit.key");
    assert!(std::fs::read_to_string(&key).unwrap().trim().len() >= 32);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // The terminal commands it prints work as printed: a device-code sign-in as Dana, the
    // code entered on the device-login page it names.
    // The emulated tenant is named on the command line: the client signs in only at Entra's
    // own hosts unless told otherwise on this machine.
    let login = after("jitgate login ");
    let emulated = after("Emulated tenant: ")
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    assert_eq!(
        login,
        format!("--device-code --portal {url} --authority-host {emulated}")
    );
    let device_login = after("The device-login page is ")
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let cli_home = tempfile::tempdir().unwrap();
    let mut cli = tokio::process::Command::new(BIN)
        .arg("login")
        .args(login.split_whitespace())
        .env("JITGATE_CLI_HOME", cli_home.path())
        .env_remove("JITGATE_PORTAL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut err_lines = tokio::io::BufReader::new(cli.stderr.take().unwrap()).lines();
    let code = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while let Some(l) = err_lines.next_line().await.unwrap() {
            if let Some(rest) = l.split("enter the code ").nth(1) {
                return rest.split_whitespace().next().unwrap().to_string();
            }
        }
        panic!("no code printed")
    })
    .await
    .unwrap();
    let page = http
        .post(&device_login)
        .form(&[
            ("otc", code.as_str()),
            ("user", jitgate::emulator::demo::DANA),
            ("action", "continue"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("You have signed in"), "{page}");
    let out = tokio::time::timeout(std::time::Duration::from_secs(30), cli.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("as Dana Developer"), "{said}");
    child.kill().await.unwrap();

    // Refuses to listen beyond loopback.
    let (code, _, err) = run(&["demo", "--listen", "0.0.0.0:0"], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("loopback"), "{err}");
}

/// Issue 9: a notification committed with its change survives the process being killed before
/// it went out: after a restart it is delivered, once. The kill comes while the sender is still
/// finding the recipients (a Graph read that hangs), so nothing was handed to Graph yet.
#[tokio::test]
async fn a_killed_server_delivers_the_queued_mail_after_restart_once() {
    use jitgate::emulator::demo::{CLIENT_ID, DANA};
    use jitgate::emulator::{Emulator, EmulatorConfig, Fault, TokenSpec};

    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let emulator = Emulator::start(
        EmulatorConfig::demo(),
        tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
    )
    .await
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let db = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("jitgate.db").display()
    );
    let path = dir.path().join("jitgate.toml");
    std::fs::write(
        &path,
        format!(
            "{}\n[[package]]\nid = \"device-code\"\nname = \"Device code flow exemption\"\n\
             group_id = \"5a1f3f3e-6a4b-4d5e-9a8b-1c2d3e4f5a6b\"\nmin_duration = \"15m\"\n\
             default_duration = \"2h\"\nmax_duration = \"4h\"\n\
             [notify]\nemail_from = \"alex@jitgate-demo.onmicrosoft.com\"\n",
            jitgate::demo::emulator_sections(&url, &emulator.base_url(), &db)
                .replace("127.0.0.1:0", &format!("127.0.0.1:{port}"))
        ),
    )
    .unwrap();
    let serve = || {
        tokio::process::Command::new(BIN)
            .args(["serve", "--config"])
            .arg(&path)
            .env_remove("JITGATE_CONFIG")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap()
    };
    let http = reqwest::Client::new();
    let ready = || async {
        for _ in 0..300 {
            if let Ok(r) = http.get(format!("{url}/readyz")).send().await
                && r.status().is_success()
            {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the portal did not become ready at {url}");
    };
    let mut first = serve();
    ready().await;
    let token = emulator.mint_token(TokenSpec::new(DANA, &format!("api://{CLIENT_ID}")));
    // Dana's account and roles are read once first (as for every bearer token), so that the
    // fault below meets the sender.
    let me = http
        .get(format!("{url}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    // The sender will hang while it reads who the approvers are.
    emulator.inject(
        Fault::hang(std::time::Duration::from_secs(30), 1).path_contains("appRoleAssignedTo"),
    );
    let created = http
        .post(format!("{url}/api/v1/requests"))
        .bearer_auth(&token)
        .json(
            &serde_json::json!({"package": "device-code", "duration_minutes": 60,
            "justification": "deploying the CI runner"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let id = created.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Claimed by the sender, which now waits on Graph for the approvers: kill it there.
    let store = jitgate::store::connect(&db).await.unwrap();
    let mut claimed = false;
    for _ in 0..500 {
        let queued = store.notifications_for(&id).await.unwrap();
        if queued.iter().any(|n| n.lease_owner.is_some()) {
            claimed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(claimed, "the sender claimed the notification");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    first.kill().await.unwrap();
    assert!(
        emulator.mail().is_empty(),
        "nothing was sent before the kill"
    );

    let mut second = serve();
    ready().await;
    wait_until("the mail after the restart", || !emulator.mail().is_empty()).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let mail = emulator.mail();
    assert_eq!(mail.len(), 1, "once: {mail:?}");
    assert!(mail[0].body.contains(&id), "{}", mail[0].body);
    second.kill().await.unwrap();

    // The record agrees: sent once, in the audit trail.
    let (code, out, err) = run(
        &[
            "audit",
            "export",
            "--format",
            "jsonl",
            "--config",
            path.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.matches("\"notification_sent\"").count(), 1, "{out}");
    emulator.shutdown();
}

/// Waits (without blocking the runtime the emulator serves on) until `check` holds.
async fn wait_until(what: &str, check: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !check() {
        assert!(std::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
