//! What access reviews keep: campaigns (one per package and start), their items and decisions,
//! outcomes and closing; the packages' first sight of their review settings; overrides of
//! standing members; revocations in force and restored; the grants a period covers; and a
//! review's removal in the directory outbox without a request.

use chrono::Duration;
use jitgate::domain::review::{
    Campaign, CampaignStatus, ItemKind, Outcome, ReviewBy, ReviewDecision, ReviewDefault,
};
use jitgate::store::{
    NewDirectoryOp, NewReviewItem, OpKind, Revocation, StandingOverride, StoreError,
};
use serde_json::json;

use crate::common::db::TestDb;
use crate::fixtures::*;
use crate::on_both_databases;

fn campaign(id: &str, package: &str, days: i64) -> Campaign {
    let start = t0() + Duration::days(days);
    Campaign {
        id: id.into(),
        package: package.into(),
        package_name: format!("Package {package}"),
        period_start: start - Duration::days(90),
        period_end: start,
        starts_at: start,
        due_at: start + Duration::days(14),
        status: CampaignStatus::Open,
        closed_at: None,
        review_by: ReviewBy::SelfAttest,
        review_default: ReviewDefault::Remove,
        reminders_sent: 0,
    }
}

async fn campaigns_items_and_decisions_are_kept(db: &TestDb) {
    let store = db.store().await;
    let mut tx = store.begin().await.unwrap();
    tx.note_review_schedule("p", t0()).await.unwrap();
    tx.note_review_schedule("p", t0() + Duration::days(3))
        .await
        .unwrap();
    let c1 = campaign("c1", "p", 0);
    tx.insert_campaign(&c1).await.unwrap();
    let item = |kind, subject: Option<&str>| NewReviewItem {
        campaign_id: "c1".into(),
        kind,
        subject_id: subject.map(str::to_string),
        subject_name: subject.unwrap_or("settings").into(),
        details: json!({"grants": [{"minutes": 60}], "note": "=cmd|' /C calc'!A0"}),
    };
    let settings = tx
        .insert_review_item(&item(ItemKind::Settings, None))
        .await
        .unwrap();
    let person = tx
        .insert_review_item(&item(ItemKind::Person, Some("u1")))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    // The first sight is kept, never moved.
    assert_eq!(
        store.review_schedules().await.unwrap(),
        vec![("p".to_string(), t0())]
    );

    // One campaign per package and start.
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(
        tx.insert_campaign(&campaign("c-twice", "p", 0)).await,
        Err(StoreError::Conflict(_))
    ));
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    tx.insert_campaign(&campaign("c2", "p", 90)).await.unwrap();
    tx.insert_campaign(&campaign("other", "q", 10))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let ids = |cs: Vec<Campaign>| cs.into_iter().map(|c| c.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.list_campaigns(Some("p"), 10).await.unwrap()),
        ["c2", "c1"]
    );
    assert_eq!(
        ids(store.list_campaigns(None, 10).await.unwrap()),
        ["c2", "other", "c1"]
    );
    assert_eq!(
        ids(store.list_campaigns(Some("p"), 1).await.unwrap()),
        ["c2"]
    );
    assert_eq!(
        ids(store.open_campaigns().await.unwrap()),
        ["c1", "other", "c2"]
    );
    assert_eq!(store.get_campaign("c1").await.unwrap(), Some(c1.clone()));
    assert_eq!(store.get_campaign("none").await.unwrap(), None);

    let items = store.campaign_items("c1").await.unwrap();
    assert_eq!(
        items.iter().map(|i| i.id).collect::<Vec<_>>(),
        [settings, person]
    );
    assert_eq!(items[1].kind, ItemKind::Person);
    assert_eq!(items[1].subject_id.as_deref(), Some("u1"));
    assert_eq!(items[1].details["note"], "=cmd|' /C calc'!A0");
    assert_eq!(items[1].decision, None);

    // A decision, changed; an outcome; the campaign closed; a reminder counted.
    let mut tx = store.begin().await.unwrap();
    let at = t0() + Duration::days(1);
    tx.decide_review_item(
        person,
        ReviewDecision::Approve,
        "still needed",
        &user("r1"),
        at,
    )
    .await
    .unwrap();
    tx.decide_review_item(
        person,
        ReviewDecision::Deny,
        "left",
        &user("r2"),
        at + Duration::hours(1),
    )
    .await
    .unwrap();
    tx.set_item_outcome(person, Outcome::Revoked, false)
        .await
        .unwrap();
    tx.set_item_outcome(settings, Outcome::Reported, true)
        .await
        .unwrap();
    tx.set_reminders_sent("c1", 2).await.unwrap();
    tx.close_campaign("c1", at + Duration::days(14))
        .await
        .unwrap();
    let in_tx = tx.review_item(person).await.unwrap().unwrap();
    assert_eq!(in_tx.decision, Some(ReviewDecision::Deny));
    assert_eq!(tx.items_in_tx("c1").await.unwrap().len(), 2);
    tx.commit().await.unwrap();
    let c = store.get_campaign("c1").await.unwrap().unwrap();
    assert_eq!(c.status, CampaignStatus::Closed);
    assert_eq!(c.closed_at, Some(at + Duration::days(14)));
    assert_eq!(c.reminders_sent, 2);
    assert_eq!(ids(store.open_campaigns().await.unwrap()), ["other", "c2"]);
    let items = store.campaign_items("c1").await.unwrap();
    let p = &items[1];
    assert_eq!(p.decision, Some(ReviewDecision::Deny));
    assert_eq!(p.justification.as_deref(), Some("left"));
    assert_eq!(p.reviewer.as_ref().map(|r| r.id.as_str()), Some("r2"));
    assert_eq!(p.decided_at, Some(at + Duration::hours(1)));
    assert_eq!((p.outcome, p.by_default), (Some(Outcome::Revoked), false));
    assert_eq!(
        (items[0].outcome, items[0].by_default),
        (Some(Outcome::Reported), true)
    );
}

async fn overrides_and_revocations_are_kept(db: &TestDb) {
    let store = db.store().await;
    let mut tx = store.begin().await.unwrap();
    let o = StandingOverride {
        package: "p".into(),
        member_id: "device-1".into(),
        member_name: "Device 1".into(),
        file_hash: "h1".into(),
        campaign_id: "c1".into(),
        reason: "retired".into(),
        at: t0(),
    };
    tx.put_standing_override(&o).await.unwrap();
    tx.put_standing_override(&StandingOverride {
        file_hash: "h2".into(),
        ..o.clone()
    })
    .await
    .unwrap();
    let r = Revocation {
        package: "p".into(),
        user_id: "u1".into(),
        user_name: "User u1".into(),
        campaign_id: "c1".into(),
        reason: "left the team".into(),
        revoked_at: t0(),
        restored_at: None,
        restored_by: None,
        restore_reason: None,
    };
    tx.put_revocation(&r).await.unwrap();
    tx.put_revocation(&Revocation {
        user_id: "u2".into(),
        package: "q".into(),
        ..r.clone()
    })
    .await
    .unwrap();
    assert_eq!(
        tx.revocation_in_force("p", "U1").await.unwrap(),
        Some(r.clone())
    );
    assert_eq!(tx.revocation_in_force("q", "u1").await.unwrap(), None);
    tx.commit().await.unwrap();
    let overrides = store.standing_overrides(Some("p")).await.unwrap();
    assert_eq!(overrides.len(), 1);
    assert_eq!(overrides[0].file_hash, "h2");
    assert!(
        store
            .standing_overrides(Some("q"))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.revocations(None, true).await.unwrap().len(), 2);

    // Restored once: no longer in force, still listed with who restored it and why.
    let mut tx = store.begin().await.unwrap();
    let later = t0() + Duration::days(2);
    assert!(
        tx.restore_revocation("p", "u1", "admin", "back", later)
            .await
            .unwrap()
    );
    assert!(
        !tx.restore_revocation("p", "u1", "admin", "again", later)
            .await
            .unwrap()
    );
    assert_eq!(tx.revocation_in_force("p", "u1").await.unwrap(), None);
    tx.commit().await.unwrap();
    let in_force = store.revocations(Some("p"), true).await.unwrap();
    assert!(in_force.is_empty());
    let all = store.revocations(Some("p"), false).await.unwrap();
    assert_eq!(all[0].restored_at, Some(later));
    assert_eq!(all[0].restored_by.as_deref(), Some("admin"));
    assert_eq!(all[0].restore_reason.as_deref(), Some("back"));
    // Revoked again later: in force again.
    let mut tx = store.begin().await.unwrap();
    tx.put_revocation(&Revocation {
        revoked_at: later,
        ..r
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.revocations(Some("p"), true).await.unwrap().len(), 1);
}

async fn a_period_covers_the_grants_held_in_it(db: &TestDb) {
    let store = db.store().await;
    let at = |h: i64| t0() + Duration::hours(h);
    let granted = |id: &str, who: &str, from: i64, to: i64| {
        let mut r = request(id, who, "p");
        r.status = jitgate::domain::RequestStatus::Expired;
        r.starts_at = Some(at(from));
        r.ends_at = Some(at(to));
        r.added_at = Some(at(from));
        r.removed_at = Some(at(to));
        r
    };
    let before = granted("before", "u1", -10, -5);
    let across = granted("across", "u2", -1, 1);
    let inside = granted("inside", "u3", 2, 3);
    let mut never = request("never", "u4", "p");
    never.starts_at = Some(at(2));
    let other = {
        let mut r = granted("other", "u5", 2, 3);
        r.package = "q".into();
        r
    };
    insert(&store, [&before, &across, &inside, &never, &other]).await;
    let found = store.grants_in_period("p", at(0), at(24)).await.unwrap();
    assert_eq!(
        found.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["across", "inside"]
    );
}

async fn a_reviews_removal_needs_no_request(db: &TestDb) {
    let store = db.store().await;
    let mut tx = store.begin().await.unwrap();
    let id = tx
        .enqueue_op(
            &NewDirectoryOp {
                request_id: "review:c1:7".into(),
                kind: OpKind::Remove,
                group_id: "g1".into(),
                user_id: "device-1".into(),
                not_before: t0(),
            },
            t0(),
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let claimed = store
        .claim_op(t0(), "w", Duration::seconds(30))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (claimed.id, claimed.request_id.as_str()),
        (id, "review:c1:7")
    );
}

on_both_databases! {
    reviews_campaigns_items_and_decisions => campaigns_items_and_decisions_are_kept;
    reviews_overrides_and_revocations => overrides_and_revocations_are_kept;
    reviews_period_grants => a_period_covers_the_grants_held_in_it;
    reviews_removal_without_request => a_reviews_removal_needs_no_request;
}
