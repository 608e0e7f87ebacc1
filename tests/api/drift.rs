//! Drift reconciliation: the group is compared with the active grants, and what differs is
//! recorded and put right (or only recorded in report mode); standing members are left alone.

use chrono::Duration;

use crate::common::db::TestDb;
use crate::helpers::*;
use crate::on_both_databases;

async fn spawn(db: &TestDb, mode: &str) -> TestApp {
    TestApp::spawn_configured(db, false, |s| {
        s.replace(
            "every = \"1d\"",
            &format!("every = \"5m\"\nmode = \"{mode}\""),
        )
        .replacen(
            "max_duration = \"4h\"",
            &format!("max_duration = \"4h\"\nstanding_members = [\"{ALEX}\"]"),
            1,
        )
    })
    .await
}

/// Drift events, oldest first.
async fn drift(t: &TestApp) -> Vec<serde_json::Value> {
    let mut e = t.events("action=drift_detected").await;
    e.reverse();
    e
}

async fn strays_are_removed_and_missing_members_added_again(db: &TestDb) {
    let mut t = spawn(db, "remove").await;
    let id = t.granted(DANA, "device-code", 60, MORGAN).await;
    // Riley is added by hand in the admin center; Alex is a standing (break-glass) member.
    t.emulator.set_member(GROUP, RILEY, true);
    t.emulator.set_member(GROUP, ALEX, true);

    t.advance(Duration::minutes(5));
    wait_out_of_group(&t, RILEY).await;
    let found = drift(&t).await;
    assert_eq!(found.len(), 1, "{found:?}");
    let d = &found[0]["details"];
    assert_eq!(
        (
            d["kind"].as_str(),
            d["member_id"].as_str(),
            d["action"].as_str()
        ),
        (Some("member_without_grant"), Some(RILEY), Some("remove"))
    );
    assert_eq!(found[0]["subject"], RILEY);
    eventually("the removal recorded", || async {
        !t.events("action=drift_removed").await.is_empty()
    })
    .await;
    assert!(t.is_member(ALEX), "standing members are left alone");
    assert!(t.is_member(DANA), "an active grant is not drift");
    // The admins see it on the Operations page, with the standing members and their number.
    let page = t
        .fetch(Some(ALEX), "/operations")
        .await
        .text()
        .await
        .unwrap();
    let section = &page[page.find("id=\"reconciliation\"").unwrap()..];
    assert!(section.contains("data-standing-count=\"1\""), "{section}");
    assert!(
        section.contains(ALEX) && section.contains(RILEY),
        "{section}"
    );
    assert!(
        section.contains("without an active grant (removed)"),
        "{section}"
    );

    // Dana is removed by hand while her grant runs: she is added again.
    t.emulator.set_member(GROUP, DANA, false);
    t.advance(Duration::minutes(5));
    wait_in_group(&t, DANA).await;
    let found = drift(&t).await;
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[1]["details"]["kind"], "grant_without_member");
    assert_eq!(found[1]["request_id"], id.as_str());
    assert_eq!(t.verify().await["ok"], true);
    t.stop().await;
}

async fn report_mode_only_records(db: &TestDb) {
    let mut t = spawn(db, "report").await;
    t.emulator.set_member(GROUP, RILEY, true);
    t.advance(Duration::minutes(5));
    eventually("the drift recorded", || async {
        !drift(&t).await.is_empty()
    })
    .await;
    assert_eq!(drift(&t).await[0]["details"]["action"], "report");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(t.is_member(RILEY), "report mode changes nothing");
    assert!(t.events("action=drift_removed").await.is_empty());
    t.stop().await;
}

on_both_databases! {
    remove_mode => strays_are_removed_and_missing_members_added_again;
    report_mode => report_mode_only_records;
}
