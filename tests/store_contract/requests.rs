//! Requests: saving and reading them, one open request per user and package, listings, counts.

use chrono::Duration;
use jitgate::domain::{Approval, Decision, RequestStatus};
use jitgate::store::{RequestFilter, StoreError};

use crate::common::db::TestDb;
use crate::fixtures::*;
use crate::on_both_databases;

async fn requests_round_trip(db: &TestDb) {
    let store = db.store().await;
    let mut r = request("r1", "dana", "p1");
    insert(&store, [&r]).await;
    assert_eq!(store.get_request("r1").await.unwrap(), Some(r.clone()));
    assert_eq!(store.get_request("nope").await.unwrap(), None);

    let a = Approval {
        approver: user("alex"),
        decision: Decision::Approve,
        comment: Some("ok".into()),
        at: t0(),
    };
    r.approvals.push(a.clone());
    r.status = RequestStatus::Active;
    r.starts_at = Some(t0());
    r.ends_at = Some(t0() + Duration::hours(2));
    r.decided_at = Some(t0());
    let mut tx = store.begin().await.unwrap();
    tx.insert_approval("r1", &a).await.unwrap();
    tx.update_request(&r, t0()).await.unwrap();
    assert_eq!(
        tx.get_request("r1").await.unwrap(),
        Some(r.clone()),
        "reads its own writes"
    );
    tx.commit().await.unwrap();
    assert_eq!(store.get_request("r1").await.unwrap(), Some(r.clone()));

    let mut tx = store.begin().await.unwrap();
    assert!(matches!(
        tx.insert_approval("r1", &a).await,
        Err(StoreError::Conflict(_))
    ));
}

async fn one_open_request_per_user_and_package(db: &TestDb) {
    let store = db.store().await;
    insert(
        &store,
        &[
            request("r1", "dana", "p1"),
            request("r2", "dana", "p2"),
            request("r3", "sam", "p1"),
        ],
    )
    .await;

    let mut tx = store.begin().await.unwrap();
    let err = tx
        .insert_request(&request("r4", "dana", "p1"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    drop(tx);
    assert_eq!(
        store.get_request("r4").await.unwrap(),
        None,
        "nothing of a failed transaction remains"
    );

    // Once the first is closed a new one is allowed.
    let mut r1 = store.get_request("r1").await.unwrap().unwrap();
    r1.status = RequestStatus::Cancelled;
    let mut tx = store.begin().await.unwrap();
    tx.update_request(&r1, t0()).await.unwrap();
    tx.insert_request(&request("r4", "dana", "p1"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

async fn listing_and_counting(db: &TestDb) {
    let store = db.store().await;
    let mut tx = store.begin().await.unwrap();
    for i in 0..5 {
        let mut r = request(
            &format!("r{i}"),
            &format!("u{i}"),
            if i % 2 == 0 { "even" } else { "odd" },
        );
        r.created_at = t0() + Duration::minutes(i);
        if i == 4 {
            r.status = RequestStatus::Denied;
        }
        tx.insert_request(&r).await.unwrap();
    }
    tx.insert_approval(
        "r1",
        &Approval {
            approver: user("alex"),
            decision: Decision::Deny,
            comment: None,
            at: t0(),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let all = store
        .list_requests(&RequestFilter::default())
        .await
        .unwrap();
    assert_eq!(ids(&all), ["r4", "r3", "r2", "r1", "r0"]);
    assert_eq!(all[3].approvals.len(), 1, "approvals come along");
    let f = RequestFilter {
        package: Some("even".into()),
        statuses: vec![RequestStatus::Pending],
        ..Default::default()
    };
    let even = listed(&store, &f).await;
    assert_eq!(even, ["r2", "r0"]);
    assert_eq!(store.count_requests(&f).await.unwrap(), 2);
    let f = RequestFilter {
        requester_id: Some("u3".into()),
        ..Default::default()
    };
    assert_eq!(store.count_requests(&f).await.unwrap(), 1);
    let f = RequestFilter {
        limit: Some(2),
        offset: Some(1),
        ..Default::default()
    };
    let page = listed(&store, &f).await;
    assert_eq!(page, ["r3", "r2"]);

    // By id, with or without their approvals.
    let f = RequestFilter {
        ids: vec!["r1".into(), "r3".into(), "nope".into()],
        ..Default::default()
    };
    let full = store.list_requests(&f).await.unwrap();
    assert_eq!(ids(&full), ["r3", "r1"]);
    assert_eq!(full[1].approvals.len(), 1);
    let light = store
        .list_requests(&RequestFilter {
            without_approvals: true,
            ..f
        })
        .await
        .unwrap();
    assert_eq!(ids(&light), ["r3", "r1"]);
    assert!(
        light[1].approvals.is_empty(),
        "approvals left out on request"
    );

    // Grants (not pending or denied requests) per requester since a time.
    let grants: Vec<_> = [
        RequestStatus::Expired,
        RequestStatus::Active,
        RequestStatus::Denied,
    ]
    .into_iter()
    .enumerate()
    .map(|(i, status)| {
        let mut r = request(&format!("g{i}"), "u9", &format!("pkg{i}"));
        r.status = status;
        r.created_at = t0() + Duration::hours(i as i64);
        r
    })
    .collect();
    insert(&store, &grants).await;
    let counts = store
        .grant_counts(&["u9".into(), "u4".into(), "nobody".into()], t0())
        .await
        .unwrap();
    assert_eq!(counts.len(), 1, "{counts:?}");
    assert_eq!(
        (
            counts[0].requester_id.as_str(),
            counts[0].grants,
            counts[0].last_at
        ),
        ("u9", 2, t0() + Duration::hours(1))
    );
    assert!(
        store
            .grant_counts(&["u9".into()], t0() + Duration::hours(2))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.grant_counts(&[], t0()).await.unwrap().is_empty());
}

async fn active_grant_counting(db: &TestDb) {
    let store = db.store().await;
    let mut a = request("a", "dana", "p1");
    a.status = RequestStatus::Active;
    let mut b = request("b", "dana", "p2");
    b.status = RequestStatus::Active;
    let mut c = request("c", "dana", "p3");
    c.group_id = "other-group".into();
    c.status = RequestStatus::Active;
    let mut tx = store.begin().await.unwrap();
    for r in [&a, &b, &c] {
        tx.insert_request(r).await.unwrap();
    }
    assert_eq!(
        tx.count_other_active_grants("dana", "g1", "a")
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        tx.count_other_active_grants("dana", "other-group", "c")
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        tx.count_other_active_grants("sam", "g1", "x")
            .await
            .unwrap(),
        0
    );
}

/// Who asked on the requester's behalf (issue 21) is kept, read back, and selects listings:
/// the asker's own (`asked_by_id`) and what involves them.
async fn asked_on_behalf(db: &TestDb) {
    let store = db.store().await;
    let mut scanner = request("r1", "scanner-07", "p1");
    scanner.asked_by = Some(user("morgan"));
    let mut dana = request("r2", "dana", "p1");
    dana.asked_by = Some(user("morgan"));
    let own = request("r3", "morgan", "p1");
    let other = request("r4", "sam", "p1");
    insert(&store, [&scanner, &dana, &own, &other]).await;
    let back = store.get_request("r1").await.unwrap().unwrap();
    assert_eq!(back.asked_by, Some(user("morgan")));
    assert_eq!(back, scanner);
    assert_eq!(
        store.get_request("r3").await.unwrap().unwrap().asked_by,
        None
    );

    let asked = store
        .list_requests(&RequestFilter {
            asked_by_id: Some("morgan".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut got = ids(&asked);
    got.sort();
    assert_eq!(got, ["r1", "r2"]);
    let involving = store
        .list_requests(&RequestFilter {
            involving: Some("morgan".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut got = ids(&involving);
    got.sort();
    assert_eq!(got, ["r1", "r2", "r3"]);
    // The beneficiary's open request is theirs: a second one for them is refused.
    let mut again = request("r5", "scanner-07", "p1");
    again.asked_by = Some(user("alex"));
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(
        tx.insert_request(&again).await,
        Err(StoreError::Conflict(_))
    ));
}

on_both_databases! {
    requests => requests_round_trip;
    requests_asked_on_behalf => asked_on_behalf;
    open_request_uniqueness => one_open_request_per_user_and_package;
    listing => listing_and_counting;
    active_grants => active_grant_counting;
}
