//! Approvers per package (issue 9): members of a package's approver groups (read through
//! Graph, transitively) decide its requests, instead of the global approver role when
//! `approver_role_applies = false`. Decisions, the approvals queue, the badge and the e-mail to
//! deciders follow the same rule.

use chrono::Duration;
use jitgate::emulator::demo::APPROVERS_GROUP_ID;

use crate::common::db::TestDb;
use crate::helpers::*;
use crate::on_both_databases;

const FROM: &str = "alex@jitgate-demo.onmicrosoft.com";

async fn approver_groups_decide_their_packages_requests(db: &TestDb) {
    let t = TestApp::spawn_configured(db, false, |s| {
        let s = s.replacen(
            "max_duration = \"4h\"\n",
            &format!(
                "max_duration = \"4h\"\napprover_groups = [\"{APPROVERS_GROUP_ID}\"]\napprover_role_applies = false\n"
            ),
            1,
        );
        format!("{s}\n[notify]\nemail_from = \"{FROM}\"\n")
    })
    .await;
    // Riley holds no approver role; the group makes them this package's approver.
    t.emulator.set_member(APPROVERS_GROUP_ID, RILEY, true);
    let id = t.request(DANA, "device-code", 60).await;

    // The deciders e-mailed are the group's members, not the approver role's holders.
    eventually("the mail to the deciders", || async {
        !t.emulator.mail().is_empty()
    })
    .await;
    assert_eq!(
        t.emulator.mail()[0].to,
        ["riley@jitgate-demo.onmicrosoft.com"]
    );

    // Morgan holds the approver role, which does not apply to this package.
    let (status, body) = t.try_approve(MORGAN, &id).await;
    assert_eq!(status, 403, "{body}");
    let queue = t.get(RILEY, "/api/v1/requests?status=pending").await;
    assert_eq!(queue["requests"][0]["id"], id.as_str(), "{queue}");
    let page = t
        .fetch(Some(RILEY), "/approvals")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!("data-request-id=\"{id}\"")),
        "{page}"
    );
    t.approve(RILEY, &id).await;
    wait_added(&t, &id).await;

    // The role still applies to the other packages, and the group gives nothing there.
    let other = t
        .create(
            RILEY,
            serde_json::json!({"package": "device-code-ticketed", "duration_minutes": 60,
                "justification": "rotating the runner's credentials", "ticket": "INC-7"}),
        )
        .await;
    let (status, body) = t.try_approve(MORGAN, &other).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = t.try_approve(JORDAN, &id).await;
    assert_eq!(status, 403, "{body}");

    // Out of the group: no longer an approver once the membership is read again.
    t.emulator.set_member(APPROVERS_GROUP_ID, RILEY, false);
    let next = t.request(AVERY, "device-code", 60).await;
    t.advance(Duration::minutes(16));
    assert_eq!(t.try_approve(RILEY, &next).await.0, 403);
}

on_both_databases! {
    approver_groups => approver_groups_decide_their_packages_requests;
}
