//! The whole story in real browsers: Dana asks, Morgan approves, Dana watches her grant count
//! down, Avery audits it and exports the trail, Alex sees it among the active grants.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::common::db::Backend;
use crate::common::html::SESSION_COOKIE;
use crate::harness::*;

const JUSTIFICATION: &str = "Registering the build runner with the device code flow";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_approve_watch_audit_on_sqlite() {
    story(Backend::Sqlite, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_approve_watch_audit_on_postgres() {
    story(Backend::Postgres, false).await;
}

async fn story(backend: Backend, screenshots: bool) {
    let Some(s) = start(backend).await else {
        return;
    };

    // --- Dana asks for two hours -------------------------------------------------------------
    let dana = s.browser().await;
    dana.goto(&s.url("/")).await;
    dana.wait_for(".demo-banner").await;
    let sign_in = dana.wait_for("a#sign-in").await;
    assert_eq!(
        sign_in.attr("href").await.unwrap().as_deref(),
        Some("/auth/login")
    );
    snap(&dana, screenshots, "landing").await;
    dana.click_and_load(&sign_in).await;
    dana.wait_for(&format!(r#"button[name="user"][value="{DANA}"]"#))
        .await;
    snap(&dana, screenshots, "emulator-sign-in").await;
    dana.choose_user(DANA).await;
    assert_eq!(dana.signed_in_as().await, "Dana Developer");

    request_access(&dana, PACKAGE, "120", JUSTIFICATION, "INC-4711").await;
    dana.wait_for(r#"p.flash[role="status"]"#).await;
    let id = only_request_id(&dana).await;
    let grant = format!(r#"article.grant[data-request-id="{id}"]"#);
    assert_eq!(
        dana.attr(&grant, "data-status").await.as_deref(),
        Some("pending"),
        "a new request waits for an approver"
    );
    assert!(
        dana.has(&format!("{grant} form.cancel button")).await,
        "a pending request can be cancelled"
    );
    snap(&dana, screenshots, "my-access-pending").await;

    // --- Morgan approves, in a browser of his own ----------------------------------------------
    let morgan = s.signed_in(MORGAN).await;
    assert_eq!(morgan.signed_in_as().await, "Morgan Manager");
    assert_eq!(
        morgan
            .text(r#"nav a[data-nav="approvals"] span.badge"#)
            .await
            .trim(),
        "1",
        "the approvals badge counts the one waiting request"
    );
    assert_eq!(morgan.open_nav("approvals").await, "/approvals");
    let row = format!(r#"table#queue tbody tr[data-request-id="{id}"]"#);
    let row_text = morgan.text(&row).await;
    for expected in ["Dana Developer", JUSTIFICATION, "INC-4711"] {
        assert!(
            row_text.contains(expected),
            "the approvals row lacks {expected:?}: {row_text}"
        );
    }
    assert!(
        ["2h", "2 h", "2 hours", "120 min"]
            .iter()
            .any(|d| row_text.contains(d)),
        "the approvals row does not show the two hours asked for: {row_text}"
    );
    morgan
        .must(&format!(r#"{row} [data-testid="recent-grants"]"#))
        .await;
    assert!(
        morgan
            .has(&format!(
                r#"{row} form.deny input[name="comment"][required]"#
            ))
            .await,
        "denying needs a comment"
    );
    snap(&morgan, screenshots, "approvals").await;
    morgan
        .fill(
            &format!(r#"{row} form.approve input[name="comment"]"#),
            "Fine for today's runner rollout",
        )
        .await;
    let approve = morgan.must(&format!("{row} form.approve button")).await;
    morgan.click_and_load(&approve).await;
    morgan.wait_for(r#"p.flash[role="status"]"#).await;
    assert!(
        !morgan.has(&row).await,
        "a decided request leaves the queue"
    );
    assert!(
        !morgan
            .has(r#"nav a[data-nav="approvals"] span.badge"#)
            .await,
        "no badge once nothing waits"
    );

    // --- Dana sees her grant counting down ---------------------------------------------------
    let active = format!(r#"{grant}[data-status="active"]"#);
    eventually(&dana, "Dana's grant to be active", || async {
        dana.has(&active).await
    })
    .await;
    let countdown = dana.must(&format!("{active} time.countdown")).await;
    let end = countdown.attr("datetime").await.unwrap().unwrap();
    let end: DateTime<Utc> = DateTime::parse_from_rfc3339(&end)
        .unwrap_or_else(|e| panic!("countdown datetime {end:?} is not RFC 3339: {e}"))
        .into();
    let left = end - Utc::now();
    assert!(
        left > chrono::Duration::minutes(118) && left <= chrono::Duration::minutes(120),
        "a two-hour grant ends two hours after approval, but {left} are left"
    );
    let ends_at = dana
        .text(&format!(r#"{active} [data-testid="ends-at"]"#))
        .await;
    assert!(!ends_at.trim().is_empty(), "the exact end time is shown");
    let decided = dana
        .text(&format!(r#"{active} [data-testid="decided-by"]"#))
        .await;
    assert!(
        decided.contains("Morgan Manager"),
        "who approved is shown: {decided}"
    );
    assert!(
        dana.has(&format!("{active} form.end button")).await,
        "an active grant can be ended early"
    );
    // The script ticks: the text changes within two seconds and reads "… left".
    let before = countdown.text().await.unwrap();
    tokio::time::sleep(Duration::from_millis(2200)).await;
    let after = countdown.text().await.unwrap();
    for t in [&before, &after] {
        assert!(t.trim().ends_with("left"), "countdown text {t:?}");
    }
    assert_ne!(before, after, "the countdown does not tick");
    snap(&dana, screenshots, "my-access-active").await;
    // Readable on a phone: nothing wider than the screen, the grant and its countdown still there.
    dana.client.set_window_size(390, 844).await.unwrap();
    let overflow = dana
        .client
        .execute(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        overflow.as_i64().unwrap_or(0) <= 0,
        "the page scrolls sideways on a phone: {overflow}"
    );
    assert!(
        dana.client
            .find(fantoccini::Locator::Css("time.countdown"))
            .await
            .unwrap()
            .is_displayed()
            .await
            .unwrap()
    );
    snap(&dana, screenshots, "my-access-phone").await;
    dana.client.set_window_size(1280, 900).await.unwrap();

    // --- Avery audits ------------------------------------------------------------------------
    let avery = s.signed_in(AVERY).await;
    assert_eq!(avery.open_nav("audit").await, "/audit");
    let chain = avery.must("#chain-status").await;
    assert_eq!(
        chain.attr("data-ok").await.unwrap().as_deref(),
        Some("true"),
        "chain status: {}",
        chain.text().await.unwrap()
    );
    assert!(
        chain.text().await.unwrap().contains("intact"),
        "chain status text: {}",
        chain.text().await.unwrap()
    );
    assert!(
        !avery
            .find_all("table#events tbody tr[data-seq]")
            .await
            .is_empty(),
        "the audit page lists events"
    );
    snap(&avery, screenshots, "audit").await;

    // The request's timeline, reached from its events.
    let link = avery
        .must(&format!(
            r#"table#events tbody tr[data-seq] a[href$="/requests/{id}"]"#
        ))
        .await;
    avery.click_and_load(&link).await;
    assert_eq!(avery.url().await.path(), format!("/requests/{id}"));
    for action in ["request_created", "request_approved", "membership_added"] {
        let sel = format!(r#"ol#timeline li[data-action="{action}"]"#);
        eventually(&avery, &format!("{action} on the timeline"), || async {
            avery.has(&sel).await
        })
        .await;
    }
    let order = avery
        .attrs("ol#timeline li[data-action]", "data-action")
        .await;
    let pos = |a: &str| order.iter().position(|x| x == a).unwrap();
    assert!(
        pos("request_created") < pos("request_approved")
            && pos("request_approved") < pos("membership_added"),
        "the timeline is in order: {order:?}"
    );
    snap(&avery, screenshots, "timeline").await;
    assert!(s.portal.is_member(DANA), "Dana is in the group");

    // Filter to approvals and export them as CSV.
    avery.goto(&s.url("/audit")).await;
    avery
        .must(r#"form#audit-filters select[name="action"]"#)
        .await
        .select_by_value("request_approved")
        .await
        .expect("the action filter offers request_approved");
    avery
        .run_and_load(
            "document.querySelector('form#audit-filters').requestSubmit(); return null;",
            vec![],
        )
        .await;
    let href = avery
        .attr("a#export-csv", "href")
        .await
        .expect("the CSV export link has an href");
    let csv_url = avery.url().await.join(&href).unwrap();
    assert_eq!(csv_url.path(), "/api/v1/audit", "export link {href}");
    let params: Vec<(String, String)> = csv_url.query_pairs().into_owned().collect();
    assert!(
        params.contains(&("format".into(), "csv".into())),
        "export link {href}"
    );
    assert!(
        params.contains(&("action".into(), "request_approved".into())),
        "the export link carries the filter: {href}"
    );
    let jsonl = avery
        .attr("a#export-jsonl", "href")
        .await
        .expect("the JSON Lines export link has an href");
    assert!(jsonl.contains("format=jsonl"), "JSON Lines link {jsonl}");

    let cookie = avery.session_cookie().await;
    let resp = reqwest::Client::new()
        .get(csv_url.as_str())
        .header(
            reqwest::header::COOKIE,
            format!("{SESSION_COOKIE}={cookie}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "GET {csv_url}");
    let ctype = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(ctype.starts_with("text/csv"), "content type {ctype}");
    let body = resp.text().await.unwrap();
    let mut rows = csv::Reader::from_reader(body.as_bytes());
    let headers = rows.headers().unwrap().clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no {name} column in {headers:?}"))
    };
    let (action_col, request_col) = (col("action"), col("request_id"));
    let records: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    assert!(!records.is_empty(), "the CSV has no rows:\n{body}");
    assert!(
        records.iter().all(|r| &r[action_col] == "request_approved"),
        "the CSV is filtered to approvals:\n{body}"
    );
    assert!(
        records.iter().any(|r| r[request_col] == id),
        "the CSV has Dana's approval:\n{body}"
    );

    // --- Alex sees the grant among the active ones --------------------------------------------
    let alex = s.signed_in(ALEX).await;
    assert_eq!(alex.open_nav("operations").await, "/operations");
    let row = format!(r#"table#active-grants tr[data-request-id="{id}"]"#);
    alex.must(&row).await;
    alex.must(&format!(
        r#"{row} form.revoke input[name="reason"][required]"#
    ))
    .await;
    alex.must(&format!("{row} form.revoke button")).await;
    for sel in ["table#pending-ops", "table#directory-errors", "#heartbeats"] {
        alex.must(sel).await;
    }
    snap(&alex, screenshots, "operations").await;

    s.finish([dana, morgan, avery, alex]).await;
}

async fn snap(b: &Browser, enabled: bool, name: &str) {
    if enabled {
        b.screenshot(name).await;
    }
}
