//! `GET /metrics`: Prometheus' text format, no session needed; on its own listener when
//! `[server] metrics_listen` is set.

use chrono::Duration;
use jitgate::emulator::Fault;
use reqwest::StatusCode;

use crate::helpers::*;
use crate::on_both_databases;

/// The value of the sample `name` (with its labels, as written) in `text`.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

async fn scrape(url: &str) -> String {
    let r = reqwest::get(format!("{url}/metrics")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    r.text().await.unwrap()
}

async fn directory_work_is_measured(t: &mut TestApp) {
    t.emulator.inject(
        Fault::new(429, 1)
            .method("POST")
            .path_contains("/members/$ref")
            .retry_after("0.01"),
    );
    let id = t.request(DANA, "device-code", 30).await;
    t.approve(MORGAN, &id).await;
    advance_until(t, Duration::milliseconds(100), "the addition", || async {
        !t.status_of(&id).await["membership"]["added_at"].is_null()
    })
    .await;
    let text = scrape(&t.url).await;
    assert_eq!(sample(&text, "jitgate_active_grants"), Some(1.0), "{text}");
    assert_eq!(
        sample(&text, "jitgate_directory_operations_pending"),
        Some(0.0)
    );
    assert_eq!(
        sample(
            &text,
            r#"jitgate_directory_attempts_total{kind="add",result="throttled",status="429"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"jitgate_directory_attempts_total{kind="add",result="ok",status="2xx"}"#
        ),
        Some(1.0)
    );
    assert_eq!(sample(&text, "jitgate_added_lag_seconds_count"), Some(1.0));
    assert!(sample(&text, "jitgate_last_reconciliation_timestamp_seconds").unwrap() > 0.0);

    t.advance(Duration::minutes(30));
    wait_status(t, &id, "expired").await;
    wait_removed(t, &id).await;
    let text = scrape(&t.url).await;
    assert_eq!(sample(&text, "jitgate_active_grants"), Some(0.0));
    assert_eq!(
        sample(&text, "jitgate_removed_lag_seconds_count"),
        Some(1.0)
    );
    assert!(sample(&text, "jitgate_graph_call_seconds_count").unwrap() >= 3.0);
}

async fn a_metrics_listener_of_its_own(t: &mut TestApp) {
    // The same portal again, with metrics on a listener of their own.
    t.stop().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut settings = t.settings();
    settings.server.metrics_listen = Some(format!("127.0.0.1:{port}").parse().unwrap());
    let (listener, url) = crate::common::portal::bind().await;
    let app = crate::common::portal::boot(listener, settings, t.clock.clone()).await;
    let r = reqwest::get(format!("{url}/metrics")).await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::NOT_FOUND,
        "not on the main listener"
    );
    let text = scrape(&format!("http://127.0.0.1:{port}")).await;
    assert!(
        text.contains("jitgate_directory_operations_pending"),
        "{text}"
    );
    app.stop().await;
}

/// A portal with a certificate (issue 22): Graph and the sign-in work with it, and `/metrics`
/// tells when it expires.
async fn a_portal_with_a_certificate(db: &crate::common::db::TestDb) {
    {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("entra.pem");
        let now = std::time::SystemTime::now();
        let day = std::time::Duration::from_secs(24 * 3600);
        let (cert, key) =
            jitgate::credential::self_signed("jitgate", now - day, now + day * 20).unwrap();
        std::fs::write(&path, format!("{cert}{key}")).unwrap();
        let thumbprint = jitgate::credential::read_certificate(&cert)
            .unwrap()
            .thumbprint_hex;
        let entra = format!(
            "[entra]\ncredential = \"certificate\"\ncertificate_path = \"{}\"\n",
            path.display()
        );
        // Spawning waits for the first reconciliation: Graph took the certificate.
        let mut t = TestApp::spawn_configured(db, false, |s| {
            let s = s.replace("every = \"1d\"", "every = \"5m\"\nmode = \"report\"");
            format!("{entra}{s}\n[notify]\nemail_from = \"alex@jitgate-demo.onmicrosoft.com\"\n")
        })
        .await;
        let alerts = |t: &TestApp| {
            t.emulator
                .mail()
                .into_iter()
                .filter(|m| m.subject.contains("Entra certificate expires"))
                .collect::<Vec<_>>()
        };
        // 20 days left: the 30-day alert, to the admins, once.
        eventually("the 30-day alert", || async { alerts(&t).len() == 1 }).await;
        let first = &alerts(&t)[0];
        assert!(
            first.subject.contains("expires in 19 days")
                || first.subject.contains("expires in 20 days"),
            "{}",
            first.subject
        );
        assert_eq!(first.to, ["alex@jitgate-demo.onmicrosoft.com"]);
        assert!(first.body.contains(&thumbprint), "{}", first.body);
        let b = crate::auth::signed_in(&t, DANA).await;
        let me: serde_json::Value = b
            .get(format!("{}/api/v1/me", t.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(me["id"], DANA);
        let text = scrape(&t.url).await;
        let left = sample(
            &text,
            &format!(
                "jitgate_credential_expiry_seconds{{kind=\"certificate\",thumbprint=\"{thumbprint}\"}}"
            ),
        )
        .unwrap_or_else(|| panic!("{text}"));
        assert!((left - 20.0 * 86400.0).abs() < 120.0, "{left}");
        // The operations page says so too.
        let admin = crate::auth::signed_in(&t, ALEX).await;
        let html = admin
            .get(format!("{}/operations", t.url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains(r#"data-credential="certificate""#), "{html}");
        assert!(html.contains(&thumbprint) && html.contains(r#"data-certificate-soon="true""#));
        // Two weeks on, 6 days left: the 7-day alert, once.
        t.advance(Duration::days(14));
        eventually("the 7-day alert", || async { alerts(&t).len() == 2 }).await;
        assert!(
            alerts(&t)[1].subject.contains("expires in 5 days")
                || alerts(&t)[1].subject.contains("expires in 6 days")
        );
        t.advance(Duration::minutes(5));
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(alerts(&t).len(), 2, "each alert once");
        t.advance(Duration::days(7));
        let text = scrape(&t.url).await;
        let left = sample(
            &text,
            &format!(
                "jitgate_credential_expiry_seconds{{kind=\"certificate\",thumbprint=\"{thumbprint}\"}}"
            ),
        )
        .unwrap();
        assert!(left < 0.0, "expired: {left}");
        t.stop().await;
    }
}

/// A portal with a client secret (issue 22): the app registration's secret ending first, read
/// through Graph, is in `/metrics` and the admins are alerted 30 days before; a failed read
/// changes nothing else.
async fn a_portal_with_a_client_secret(db: &crate::common::db::TestDb) {
    {
        let mut t = TestApp::spawn_configured(db, false, |s| {
            let s = s.replace("every = \"1d\"", "every = \"5m\"\nmode = \"report\"");
            format!("{s}\n[notify]\nemail_from = \"alex@jitgate-demo.onmicrosoft.com\"\n")
        })
        .await;
        let key = "6f1c3a52-0b8e-4d0e-9d7a-2f4b1c9e8a10";
        let secret = |key: &str, days: i64| jitgate::emulator::PasswordCredential {
            key_id: key.to_owned(),
            display_name: "jitgate".to_owned(),
            hint: "Q~x".to_owned(),
            end: chrono::Utc::now() + Duration::days(days),
        };
        // Two secrets: the one ending first stands for the one in use.
        t.emulator.set_password_credentials(vec![
            secret("0d7e4c1b-9a55-4c2f-8b1e-3c6a7d2e9f01", 200),
            secret(key, 20),
        ]);
        let alerts = |t: &TestApp| {
            t.emulator
                .mail()
                .into_iter()
                .filter(|m| m.subject.contains("Entra client secret expires"))
                .collect::<Vec<_>>()
        };
        t.advance(Duration::minutes(5));
        eventually("the 30-day alert", || async { alerts(&t).len() == 1 }).await;
        let first = &alerts(&t)[0];
        assert!(
            first.subject.contains("expires in 19 days"),
            "{}",
            first.subject
        );
        assert_eq!(first.to, ["alex@jitgate-demo.onmicrosoft.com"]);
        assert!(first.body.contains(key), "{}", first.body);
        assert!(!first.body.contains(&t.emulator.config().client_secret));
        let label = format!("Q~x… ({key})");
        let name =
            format!("jitgate_credential_expiry_seconds{{kind=\"secret\",thumbprint=\"{label}\"}}");
        let text = scrape(&t.url).await;
        let left = sample(&text, &name).unwrap_or_else(|| panic!("{text}"));
        assert!((left - 20.0 * 86400.0).abs() < 600.0, "{left}");
        assert!(!text.contains(&t.emulator.config().client_secret));
        // The operations page says so too.
        let admin = crate::auth::signed_in(&t, ALEX).await;
        let page = |admin: reqwest::Client, url: String| async move {
            admin
                .get(format!("{url}/operations"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        };
        let html = page(admin.clone(), t.url.clone()).await;
        assert!(html.contains(r#"data-credential="secret""#), "{html}");
        assert!(
            html.contains(key) && html.contains(r#"data-secret-soon="true""#),
            "{html}"
        );
        // Graph unreadable: no sample, the scrape still answers, nothing else breaks.
        t.emulator.inject(Fault::new(503, 10));
        let text = scrape(&t.url).await;
        assert_eq!(sample(&text, &name), None, "{text}");
        assert!(text.contains("jitgate_directory_operations_pending"));
        let html = page(admin.clone(), t.url.clone()).await;
        assert!(html.contains(r#"data-secret-soon="unknown""#), "{html}");
        t.emulator.clear_faults();
        t.advance(Duration::minutes(5));
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(alerts(&t).len(), 1, "each alert once");
        t.stop().await;
    }
}

on_both_databases! {
    certificate => a_portal_with_a_certificate;
    client_secret => a_portal_with_a_client_secret;
}

on_both_databases! {
    with TestApp;
    measured => directory_work_is_measured;
    own_listener => a_metrics_listener_of_its_own;
}
