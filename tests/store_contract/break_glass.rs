//! Break-glass (issue 21): a use recorded with its grant, a person's uses of a package counted in
//! a window, a review recorded once, and those still waiting for one, first due first.

use chrono::Duration;
use jitgate::domain::RequestStatus;
use jitgate::domain::break_glass::{BreakGlassUse, Review, Verdict};

use crate::common::db::TestDb;
use crate::fixtures::*;
use crate::on_both_databases;

fn used(request: &str, requester: &str, package: &str, hours: i64) -> BreakGlassUse {
    BreakGlassUse {
        request_id: request.into(),
        package: package.into(),
        requester_id: requester.into(),
        used_at: t0() + Duration::hours(hours),
        review_due: t0() + Duration::hours(hours + 24),
        review: None,
    }
}

async fn uses_are_counted_and_reviewed_once(db: &TestDb) {
    let store = db.store().await;
    let h = Duration::hours;
    let mut ended = request("r1", "dana", "p1");
    ended.status = RequestStatus::Ended;
    insert(
        &store,
        [
            &ended,
            &request("r2", "dana", "p1"),
            &request("r3", "dana", "p2"),
            &request("r4", "riley", "p1"),
        ],
    )
    .await;
    let mut tx = store.begin().await.unwrap();
    for u in [
        used("r1", "dana", "p1", 0),
        used("r2", "dana", "p1", 10),
        used("r3", "dana", "p2", 5),
        used("r4", "riley", "p1", 1),
    ] {
        tx.insert_break_glass(&u).await.unwrap();
    }
    // One person's uses of one package, after `since` (which is outside the window).
    assert_eq!(
        tx.break_glass_since("dana", "p1", t0() - h(1))
            .await
            .unwrap(),
        [t0(), t0() + h(10)]
    );
    assert_eq!(
        tx.break_glass_since("dana", "p1", t0()).await.unwrap(),
        [t0() + h(10)]
    );
    tx.commit().await.unwrap();
    // A use is one per grant.
    let mut tx = store.begin().await.unwrap();
    assert!(
        tx.insert_break_glass(&used("r1", "dana", "p1", 2))
            .await
            .is_err()
    );
    drop(tx);

    assert_eq!(store.count_unreviewed_break_glass().await.unwrap(), 4);
    let waiting: Vec<String> = store
        .unreviewed_break_glass(10)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.request_id)
        .collect();
    assert_eq!(waiting, ["r1", "r4", "r3", "r2"], "the first due first");

    let review = Review {
        reviewer: user("morgan"),
        verdict: Verdict::NotJustified,
        comment: "no incident on record".into(),
        at: t0() + h(3),
    };
    let mut tx = store.begin().await.unwrap();
    assert!(tx.review_break_glass("r1", &review).await.unwrap());
    assert!(
        !tx.review_break_glass("r1", &review).await.unwrap(),
        "reviewed once"
    );
    assert!(!tx.review_break_glass("nope", &review).await.unwrap());
    tx.commit().await.unwrap();

    let r1 = store.break_glass_use("r1").await.unwrap().unwrap();
    let got = r1.review.unwrap();
    assert_eq!(
        (
            got.reviewer.id.as_str(),
            got.reviewer.name.as_str(),
            got.verdict,
            got.comment.as_str(),
            got.at
        ),
        (
            "morgan",
            review.reviewer.name.as_str(),
            Verdict::NotJustified,
            "no incident on record",
            t0() + h(3)
        )
    );
    assert_eq!(r1.review_due, t0() + h(24));
    assert_eq!(
        store.break_glass_use("r4").await.unwrap().unwrap().review,
        None
    );
    assert_eq!(store.break_glass_use("nope").await.unwrap(), None);
    assert_eq!(store.count_unreviewed_break_glass().await.unwrap(), 3);
    assert_eq!(
        store.unreviewed_break_glass(1).await.unwrap()[0].request_id,
        "r4"
    );
}

on_both_databases! {
    counted_and_reviewed => uses_are_counted_and_reviewed_once;
}
