//! Extensions of live grants (issue 9): at most one waits per grant, decisions and approvals
//! are kept, a skipped notification is recorded as such.

use chrono::Duration;
use jitgate::domain::extension::{Extension, ExtensionStatus};
use jitgate::domain::notification::{Channel, NotificationOutcome};
use jitgate::domain::{Approval, Decision, UserRef};
use jitgate::store::{NewNotification, StoreError};

use crate::common::db::TestDb;
use crate::fixtures::*;
use crate::on_both_databases;

fn asked(id: &str, request: &str) -> Extension {
    Extension {
        id: id.into(),
        request_id: request.into(),
        minutes: 30,
        justification: "the migration runs longer".into(),
        status: ExtensionStatus::Pending,
        requested_at: t0(),
        ends_before: t0() + Duration::hours(2),
        ends_after: None,
        decided_at: None,
        approvals: vec![],
    }
}

async fn one_extension_waits_per_grant(db: &TestDb) {
    let store = db.store().await;
    insert(&store, [&request("r1", "dana", "p1")]).await;
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.pending_extension("r1").await.unwrap(), None);
    tx.insert_extension(&asked("x1", "r1"), t0()).await.unwrap();
    let second = tx.insert_extension(&asked("x2", "r1"), t0()).await;
    assert!(matches!(second, Err(StoreError::Conflict(_))), "{second:?}");
    drop(tx);

    let mut tx = store.begin().await.unwrap();
    tx.insert_extension(&asked("x1", "r1"), t0()).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let mut x = tx.pending_extension("r1").await.unwrap().unwrap();
    assert_eq!(x, asked("x1", "r1"));
    x.approvals.push(Approval {
        approver: UserRef {
            id: "jordan".into(),
            name: "Jordan".into(),
            username: "jordan@example.com".into(),
        },
        decision: Decision::Approve,
        comment: Some("fine".into()),
        at: t0() + Duration::minutes(5),
    });
    x.status = ExtensionStatus::Approved;
    x.decided_at = Some(t0() + Duration::minutes(5));
    x.ends_after = Some(t0() + Duration::minutes(150));
    tx.update_extension(&x, t0() + Duration::minutes(5))
        .await
        .unwrap();
    assert_eq!(tx.pending_extension("r1").await.unwrap(), None);
    // Decided, the next one may be asked.
    tx.insert_extension(&asked("x2", "r1"), t0() + Duration::minutes(6))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let all = store.extensions_for("r1").await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0], x, "approvals and times kept as written");
    let waiting = store.pending_extensions().await.unwrap();
    assert_eq!(
        waiting.iter().map(|x| x.id.as_str()).collect::<Vec<_>>(),
        ["x2"]
    );
}

async fn a_notification_may_be_skipped(db: &TestDb) {
    let store = db.store().await;
    insert(&store, [&request("r1", "dana", "p1")]).await;
    let mut tx = store.begin().await.unwrap();
    tx.enqueue_notification(
        &NewNotification {
            dedupe_key: "reminder:r1:1:email".into(),
            event: "reminder".into(),
            request_id: Some("r1".into()),
            channel: Channel::Email,
            audience: serde_json::json!({"user": "dana", "only_if": {"status": "active"}}),
            subject: "Your access ends in 15m".into(),
            body: "…".into(),
            not_before: t0(),
            pace_key: None,
        },
        t0(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let n = store
        .claim_notifications(t0(), "s", Duration::seconds(30), 10)
        .await
        .unwrap()
        .pop()
        .unwrap();
    let mut tx = store.begin().await.unwrap();
    tx.finish_notification(n.id, NotificationOutcome::Skipped, t0(), None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let all = store.notifications_for("r1").await.unwrap();
    assert_eq!(all[0].outcome, Some(NotificationOutcome::Skipped));
    assert_eq!(store.next_notification_at().await.unwrap(), None);
}

on_both_databases! {
    extensions => one_extension_waits_per_grant;
    skipped_notifications => a_notification_may_be_skipped;
}
