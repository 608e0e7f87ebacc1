//! Device-code sign-ins read from Entra's log (issues 10 and 19): kept once, tied to a grant or
//! to none, and those to jitgate itself kept apart from the uses of an exemption.

use chrono::Duration;
use jitgate::domain::sign_in::DeviceSignIn;

use crate::common::db::TestDb;
use crate::fixtures::*;
use crate::on_both_databases;

fn sign_in(
    id: &str,
    user: &str,
    minutes: i64,
    request: Option<&str>,
    to_portal: bool,
) -> DeviceSignIn {
    DeviceSignIn {
        id: id.into(),
        at: t0() + Duration::minutes(minutes),
        user_id: user.into(),
        user_principal_name: format!("{user}@example.com"),
        app_id: "04b07795-8ddb-461a-bbee-02f9e1bf7b46".into(),
        app_name: "jitgate CLI".into(),
        ip_address: "203.0.113.7".into(),
        conditional_access: "notApplied".into(),
        error_code: if id.ends_with("blocked") { 53003 } else { 0 },
        failure_reason: None,
        request_id: request.map(str::to_owned),
        resource_id: if to_portal {
            "4e2a7c9d-1b3f-4d6a-9c8e-0f1a2b3c4d5e".into()
        } else {
            "00000003-0000-0000-c000-000000000000".into()
        },
        to_portal,
    }
}

async fn sign_ins_to_jitgate_are_kept_apart(db: &TestDb) {
    let store = db.store().await;
    insert(&store, [&request("r1", "dana", "p1")]).await;
    let kept = [
        sign_in("s1", "dana", 1, Some("r1"), false),
        sign_in("s2", "dana", 2, None, true),
        sign_in("s3-blocked", "dana", 3, None, false),
        sign_in("s4-blocked", "dana", 4, None, true),
        sign_in("s5", "riley", 5, None, true),
    ];
    let mut tx = store.begin().await.unwrap();
    for s in &kept {
        assert!(tx.insert_sign_in(s, t0()).await.unwrap());
    }
    // Kept once, by the log's id.
    assert!(!tx.insert_sign_in(&kept[1], t0()).await.unwrap());
    tx.commit().await.unwrap();

    let ids = |list: Vec<DeviceSignIn>| list.into_iter().map(|s| s.id).collect::<Vec<_>>();
    let since = t0();
    // The uses of the exemption: newest first, sign-ins to jitgate left out.
    assert_eq!(
        ids(store
            .recent_sign_ins(since, Some("dana"), false, false, 10)
            .await
            .unwrap()),
        ["s3-blocked", "s1"]
    );
    assert_eq!(
        ids(store
            .recent_sign_ins(since, None, true, false, 10)
            .await
            .unwrap()),
        ["s3-blocked"]
    );
    // The sign-ins to jitgate, one person's or everyone's, read back whole.
    let dana = store
        .recent_sign_ins(since, Some("dana"), false, true, 10)
        .await
        .unwrap();
    assert_eq!(dana, vec![kept[3].clone(), kept[1].clone()]);
    assert_eq!(
        ids(store
            .recent_sign_ins(since, None, false, true, 10)
            .await
            .unwrap()),
        ["s5", "s4-blocked", "s2"]
    );
    // A grant's own sign-ins.
    assert_eq!(ids(store.sign_ins_for("r1").await.unwrap()), ["s1"]);
}

on_both_databases! {
    sign_ins_to_jitgate => sign_ins_to_jitgate_are_kept_apart;
}
