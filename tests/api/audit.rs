//! The audit trail checked against its anchors (issue 19, item 3): with the audit key, the
//! moment keying began is anchored outside the database at start, and `GET /api/v1/audit/verify`,
//! the audit-walk job and the audit page give one verdict, naming the anchor a trail rewritten
//! without the key disagrees with.

use crate::common::db::TestDb;
use crate::helpers::*;
use crate::on_both_databases;

const KEY: &str = "api-test-audit-key-of-at-least-32-characters-0000";

async fn a_trail_rewritten_without_the_key_is_one_verdict_everywhere(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("anchors.jsonl");
    let path = file.to_str().unwrap();
    let lines = || {
        std::fs::read_to_string(&file)
            .map(|t| t.lines().count())
            .unwrap_or(0)
    };
    let mut t = TestApp::spawn_with_env(
        db,
        |s| s.to_string(),
        &[
            ("JITGATE_AUDIT__KEY", KEY),
            ("JITGATE_AUDIT__ANCHOR_FILE", path),
        ],
    )
    .await;
    // At start the audit-walk job anchors the chain: where keying began, outside the database.
    eventually("the anchor made at start", || async { lines() == 1 }).await;
    t.granted(DANA, "device-code", 60, MORGAN).await;
    let v = t.get(AVERY, "/api/v1/audit/verify").await;
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["anchors"], 1, "{v}");
    let keyed_from = v["keyed_from"].as_i64().unwrap_or_else(|| panic!("{v}"));

    // The database's owner (without the key or the anchor file) rewrites the whole trail
    // without the key: intact as plain SHA-256.
    t.stop().await;
    db.relink_unkeyed(1, |_| {}).await;
    t.start_again().await;
    let admin = principal(ALEX, &["Admin"]);
    eventually("the reconciliation at start", || async {
        t.portal()
            .operations(&admin)
            .await
            .is_ok_and(|o| o.reconciliation.last_at.is_some())
    })
    .await;
    let v = t.get(AVERY, "/api/v1/audit/verify").await;
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(v["first_bad_seq"], keyed_from, "{v}");
    assert!(v["bad_anchor"]["seq"].is_i64(), "{v}");
    let from = v["bad_anchor"]["from"].as_str().unwrap_or_default();
    assert!(from.contains(path) && from.contains("line 1"), "{v}");
    assert!(v["problem"].as_str().unwrap().contains(path), "{v}");
    // The audit-walk job and the audit page say the same.
    let walked = t.portal().walk_audit_chain().await.unwrap();
    assert_eq!(serde_json::to_value(&walked.verification).unwrap(), v);
    let page = t
        .portal()
        .audit_chain_status(&principal(AVERY, &["Auditor"]))
        .await
        .unwrap();
    assert_eq!(serde_json::to_value(&page.verification).unwrap(), v);
    let html = t.fetch(Some(AVERY), "/audit").await.text().await.unwrap();
    assert!(
        html.contains(&format!("BROKEN at event {keyed_from}")) && html.contains("line 1"),
        "{html}"
    );
    // Nothing broken is anchored: the restarted portal's anchor at start was refused.
    assert!(t.portal().anchor_audit().await.is_err());
    assert_eq!(lines(), 1);
}

on_both_databases! {
    audit_rewrite_one_verdict => a_trail_rewritten_without_the_key_is_one_verdict_everywhere;
}
