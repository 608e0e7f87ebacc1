//! Notifications (issue 9): a new request is e-mailed, through Graph's `sendMail`, to the people
//! who may decide it; delivered once, retried when Graph fails for a while, recorded in the
//! audit trail either way.

use jitgate::emulator::Fault;

use crate::common::db::TestDb;
use crate::helpers::*;
use crate::on_both_databases;

const FROM: &str = "alex@jitgate-demo.onmicrosoft.com";
const MORGAN_MAIL: &str = "morgan@jitgate-demo.onmicrosoft.com";
const JORDAN_MAIL: &str = "jordan@jitgate-demo.onmicrosoft.com";

async fn with_email(db: &TestDb) -> TestApp {
    TestApp::spawn_configured(db, false, |s| {
        format!("{s}\n[notify]\nemail_from = \"{FROM}\"\n")
    })
    .await
}

async fn wait_mail(t: &TestApp, n: usize) {
    eventually(&format!("{n} message(s)"), || async {
        t.emulator.mail().len() >= n
    })
    .await;
}

/// The newest `action` event about request `id`, once it is there (a delivery is recorded just
/// after the message is handed over).
async fn recorded(t: &TestApp, id: &str, action: &str) -> serde_json::Value {
    eventually(action, || async {
        !t.events(&format!("request={id}&action={action}"))
            .await
            .is_empty()
    })
    .await;
    event_details(t, id, action).await
}

async fn new_requests_are_mailed_to_their_deciders(db: &TestDb) {
    let mut t = with_email(db).await;
    let id = t.request(DANA, "device-code", 60).await;
    wait_mail(&t, 1).await;
    let mail = t.emulator.mail();
    assert_eq!(mail[0].from, FROM);
    assert_eq!(
        mail[0].to,
        [JORDAN_MAIL, MORGAN_MAIL],
        "the approvers, not the requester"
    );
    assert_eq!(
        mail[0].subject,
        "Dana Developer asks for Device code flow exemption"
    );
    assert!(
        mail[0].body.contains(&format!("{}/requests/{id}", t.url)),
        "{}",
        mail[0].body
    );
    let sent = recorded(&t, &id, "notification_sent").await;
    assert_eq!(sent["channel"], "email");
    assert_eq!(
        sent["recipients"],
        serde_json::json!([JORDAN_MAIL, MORGAN_MAIL])
    );

    // An approver's own request goes to the other approvers only.
    let own = t.request(MORGAN, "device-code", 60).await;
    wait_mail(&t, 2).await;
    assert_eq!(t.emulator.mail()[1].to, [JORDAN_MAIL]);
    recorded(&t, &own, "notification_sent").await;

    // Never twice: a restart delivers nothing again.
    t.stop().await;
    t.start_again().await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(t.emulator.mail().len(), 2);

    // Decisions go to the requester: approved (with when access ends), denied (with the reason).
    t.approve(JORDAN, &id).await;
    wait_mail(&t, 3).await;
    let approved = &t.emulator.mail()[2];
    assert_eq!(approved.to, ["dana@jitgate-demo.onmicrosoft.com"]);
    assert_eq!(
        approved.subject,
        "Your request for Device code flow exemption was approved"
    );
    assert!(
        approved.body.contains("Jordan") && approved.body.contains("ends at"),
        "{}",
        approved.body
    );
    recorded(&t, &id, "notification_sent").await;
    let (status, _) = t.deny(JORDAN, &own, Some("not this week")).await;
    assert!(status.is_success(), "{status}");
    wait_mail(&t, 4).await;
    let denied = &t.emulator.mail()[3];
    assert_eq!(denied.to, [MORGAN_MAIL]);
    assert!(denied.body.contains("not this week"), "{}", denied.body);
    t.stop().await;
}

async fn failed_deliveries_are_retried_then_given_up(db: &TestDb) {
    let mut t = with_email(db).await;
    // Graph unavailable twice: tried again with backoff, then delivered once.
    t.emulator
        .inject(Fault::new(503, 2).path_contains("sendMail"));
    let id = t.request(DANA, "device-code", 60).await;
    advance_until(
        &t,
        chrono::Duration::seconds(5),
        "the mail after two failures",
        || async { !t.emulator.mail().is_empty() },
    )
    .await;
    let sent = recorded(&t, &id, "notification_sent").await;
    assert_eq!(sent["attempts"], 3, "{sent}");
    assert_eq!(t.emulator.mail().len(), 1);

    // Refused for good (the app lost Mail.Send): recorded as failed; the portal keeps working.
    t.emulator
        .inject(Fault::new(403, 1).path_contains("sendMail"));
    let other = t.request(RILEY, "device-code", 60).await;
    let failed = recorded(&t, &other, "notification_failed").await;
    assert!(
        failed["error"].as_str().unwrap().contains("403"),
        "{failed}"
    );
    assert_eq!(t.emulator.mail().len(), 1);
    t.approve(MORGAN, &other).await;
    t.stop().await;
}

on_both_databases! {
    mailed => new_requests_are_mailed_to_their_deciders;
    retried => failed_deliveries_are_retried_then_given_up;
}
