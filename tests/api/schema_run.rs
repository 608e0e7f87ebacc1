//! The JSON API against its own OpenAPI document, property-based (Schemathesis, from PyPI,
//! installed by `scripts/test.sh` into `tests/openapi/.venv`): for every operation and every kind
//! of caller (requester, approver, auditor, admin, a device-code token for the requests API),
//! generated requests that the document allows must be accepted or refused only for a reason the
//! document names, requests it forbids must be refused, and every answer must be documented and
//! match its schema. Configuration: `tests/openapi/schemathesis.toml`.

use std::path::Path;
use std::time::Instant;

use crate::common::db::{Backend, TestDb};
use crate::helpers::*;
use crate::reach::{device_code_scopes, device_code_token};

/// Where Schemathesis is, as the test script says; `None` (skip, loudly) outside CI.
fn schemathesis() -> Option<String> {
    match std::env::var("JITGATE_TEST_SCHEMATHESIS") {
        Ok(path) if Path::new(&path).exists() => Some(path),
        other => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "Schemathesis is required under CI (JITGATE_TEST_SCHEMATHESIS={other:?}); scripts/test.sh installs it"
            );
            eprintln!(
                "WARNING: Schemathesis is not installed (run scripts/test.sh); the OpenAPI property run is skipped"
            );
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_keeps_to_its_document_for_every_caller() {
    let Some(bin) = schemathesis() else { return };
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    let t = TestApp::spawn(&db).await;
    // Something to act on: a pending request and two active grants, whose ids the run uses
    // most of the time (and generated ones, which answer 404, the rest).
    let ids = [
        t.request(RILEY, "device-code", 60).await,
        t.granted(DANA, "device-code", 120, MORGAN).await,
        t.granted(JORDAN, "device-code", 120, MORGAN).await,
    ];
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        config.path(),
        format!(
            "{}\n[dictionaries.ids]\nvalues = {ids:?}\n\n[parameters]\n\"path.id\" = {{ dictionary = \"ids\", probability = 0.8 }}\n",
            std::fs::read_to_string(root.join("tests/openapi/schemathesis.toml")).unwrap()
        ),
    )
    .unwrap();
    let scopes = device_code_scopes(&t).await;
    let device = device_code_token(&t, DANA, &scopes).await.unwrap();
    let callers = [
        ("requester", t.token(DANA)),
        ("approver", t.token(MORGAN)),
        ("auditor", t.token(AVERY)),
        ("admin", t.token(ALEX)),
        ("device-code requester", device),
    ];
    let mut failed = Vec::new();
    for (who, token) in callers {
        let started = Instant::now();
        let out = tokio::process::Command::new(&bin)
            .current_dir(root.join("tests/openapi"))
            .env("NO_COLOR", "1")
            .env("SCHEMATHESIS_HOOKS", "")
            .args([
                "--config-file",
                config.path().to_str().unwrap(),
                "run",
                &format!("{}/api/v1/openapi.json", t.url),
                "--url",
                &t.url,
                "--checks",
                "all",
                "--exclude-checks",
                // Ids are GUIDs the server makes; a generated one is never another's resource.
                "use_after_free,ensure_resource_availability,object_level_authorization,ignored_auth",
                "--seed",
                "19",
                "--workers",
                "1",
                "--header",
                &format!("Authorization: Bearer {token}"),
            ])
            .output()
            .await
            .expect("Schemathesis runs");
        let text = String::from_utf8_lossy(&out.stdout);
        eprintln!(
            "Schemathesis as the {who}: {} in {:.0?}",
            if out.status.success() {
                "nothing found"
            } else {
                "FAILED"
            },
            started.elapsed()
        );
        if !out.status.success() {
            failed.push(format!(
                "as the {who}:\n{text}\n{}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    drop(t);
    db.cleanup().await;
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}
