//! What the drift check keeps between rounds: each group's delta link, and the members it
//! watches until a given time (a later end is kept; ended watches are forgotten).

use chrono::Duration;

use crate::common::db::TestDb;
use crate::fixtures::*;
use crate::on_both_databases;

async fn delta_links_are_kept_replaced_and_forgotten(db: &TestDb) {
    let store = db.store().await;
    assert_eq!(store.delta_link("g1").await.unwrap(), None);
    store
        .set_delta_link("g1", Some("https://graph/delta?$deltatoken=a"), t0())
        .await
        .unwrap();
    store
        .set_delta_link("g2", Some("https://graph/delta?$deltatoken=x"), t0())
        .await
        .unwrap();
    store
        .set_delta_link("g1", Some("https://graph/delta?$deltatoken=b"), t0())
        .await
        .unwrap();
    assert_eq!(
        store.delta_link("g1").await.unwrap().as_deref(),
        Some("https://graph/delta?$deltatoken=b")
    );
    store.set_delta_link("g1", None, t0()).await.unwrap();
    assert_eq!(store.delta_link("g1").await.unwrap(), None);
    assert_eq!(
        store.delta_link("g2").await.unwrap().as_deref(),
        Some("https://graph/delta?$deltatoken=x")
    );
}

async fn watches_last_until_their_end(db: &TestDb) {
    let store = db.store().await;
    let at = |m| t0() + Duration::minutes(m);
    store
        .watch_member("g", "u1", at(2), "timeout")
        .await
        .unwrap();
    // An earlier end does not shorten a watch; a later one lengthens it.
    store.watch_member("g", "u1", at(1), "again").await.unwrap();
    let mut tx = store.begin().await.unwrap();
    tx.watch_member("g", "u2", at(1), "drift").await.unwrap();
    tx.watch_member("other", "u3", at(5), "drift")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        store.watched_members("g", at(0)).await.unwrap(),
        vec!["u1".to_string(), "u2".to_string()]
    );
    assert_eq!(
        store.watched_members("g", at(1)).await.unwrap(),
        vec!["u1".to_string()]
    );
    store.watch_member("g", "u1", at(4), "again").await.unwrap();
    assert_eq!(
        store.watched_members("g", at(3)).await.unwrap(),
        vec!["u1".to_string()]
    );
    // A watch written in a transaction rolled back is not kept.
    let mut tx = store.begin().await.unwrap();
    tx.watch_member("g", "u9", at(9), "drift").await.unwrap();
    drop(tx);
    assert_eq!(store.end_watches(at(4)).await.unwrap(), 2);
    assert!(store.watched_members("g", at(0)).await.unwrap().is_empty());
    assert_eq!(
        store.watched_members("other", at(4)).await.unwrap(),
        vec!["u3".to_string()]
    );
}

on_both_databases! {
    delta_links => delta_links_are_kept_replaced_and_forgotten;
    watches => watches_last_until_their_end;
}
