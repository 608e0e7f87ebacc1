//! The notification outbox (issue 9): queued in the transaction of the change, once per key,
//! claimed under a lease with attempts counted, retried, and finished once.

use chrono::Duration;
use jitgate::domain::notification::{Channel, NotificationOutcome};
use jitgate::store::NewNotification;

use crate::common::db::TestDb;
use crate::fixtures::*;
use crate::on_both_databases;

fn note(key: &str, request: Option<&str>) -> NewNotification {
    NewNotification {
        dedupe_key: key.into(),
        event: "request_created".into(),
        request_id: request.map(str::to_string),
        channel: Channel::Email,
        audience: serde_json::json!({"approvers": "p1"}),
        subject: "Dana asks for the device code flow exemption".into(),
        body: "Decide it at https://jit.contoso.example/requests/r1".into(),
        not_before: t0(),
        pace_key: None,
    }
}

async fn notifications_are_queued_once_and_finished_once(db: &TestDb) {
    let store = db.store().await;
    let mut tx = store.begin().await.unwrap();
    tx.insert_request(&request("r1", "dana", "p1"))
        .await
        .unwrap();
    let first = tx
        .enqueue_notification(&note("request_created:r1:email", Some("r1")), t0())
        .await
        .unwrap();
    assert!(first.is_some());
    let again = tx
        .enqueue_notification(&note("request_created:r1:email", Some("r1")), t0())
        .await
        .unwrap();
    assert_eq!(again, None, "the same key is queued once");
    tx.commit().await.unwrap();

    // A notification queued in a transaction that rolls back is not there.
    let mut tx = store.begin().await.unwrap();
    tx.enqueue_notification(&note("lost", None), t0())
        .await
        .unwrap();
    drop(tx);

    assert_eq!(store.next_notification_at().await.unwrap(), Some(t0()));
    let lease = Duration::seconds(30);
    let claimed = store
        .claim_notifications(t0(), "sender-a", lease, 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1, "the rolled back one is not there");
    let n = &claimed[0];
    assert_eq!(
        (n.attempts, n.channel, n.lease_owner.as_deref()),
        (1, Channel::Email, Some("sender-a"))
    );
    assert_eq!(n.audience, serde_json::json!({"approvers": "p1"}));
    // Leased: nobody else gets it until the lease runs out.
    assert!(
        store
            .claim_notifications(t0(), "sender-b", lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.next_notification_at().await.unwrap(),
        Some(t0() + lease)
    );
    let taken_over = store
        .claim_notifications(t0() + lease, "sender-b", lease, 10)
        .await
        .unwrap();
    assert_eq!(taken_over[0].attempts, 2, "a lost lease is taken over");

    // Retried later, then sent: finished once, never claimed again.
    let mut tx = store.begin().await.unwrap();
    tx.retry_notification(n.id, t0() + Duration::minutes(5), "HTTP 503")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let later = t0() + Duration::minutes(5);
    assert!(
        store
            .claim_notifications(later - Duration::seconds(1), "sender-a", lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let n = store
        .claim_notifications(later, "sender-a", lease, 10)
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!((n.attempts, n.last_error.as_deref()), (3, Some("HTTP 503")));
    let mut tx = store.begin().await.unwrap();
    tx.finish_notification(n.id, NotificationOutcome::Sent, later, None)
        .await
        .unwrap();
    // A second finish changes nothing.
    tx.finish_notification(n.id, NotificationOutcome::Failed, later, Some("late"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let all = store.notifications_for("r1").await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(
        (all[0].outcome, all[0].done_at, all[0].lease_owner.clone()),
        (Some(NotificationOutcome::Sent), Some(later), None)
    );
    assert_eq!(store.next_notification_at().await.unwrap(), None);
    assert!(
        store
            .claim_notifications(later + Duration::hours(1), "sender-a", lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

on_both_databases! {
    notifications => notifications_are_queued_once_and_finished_once;
}
