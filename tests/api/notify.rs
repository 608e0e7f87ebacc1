//! Notifications (issue 9): who hears what, by e-mail through Graph's `sendMail`; delivered
//! once, retried when Graph fails for a while, recorded in the audit trail either way.

use chrono::Duration;
use jitgate::emulator::{Fault, SentMail};
use serde_json::json;

use crate::common::db::TestDb;
use crate::helpers::*;
use crate::on_both_databases;

const FROM: &str = "alex@jitgate-demo.onmicrosoft.com";
const DANA_MAIL: &str = "dana@jitgate-demo.onmicrosoft.com";
const MORGAN_MAIL: &str = "morgan@jitgate-demo.onmicrosoft.com";
const JORDAN_MAIL: &str = "jordan@jitgate-demo.onmicrosoft.com";
const ALEX_MAIL: &str = "alex@jitgate-demo.onmicrosoft.com";
const BACKUP: &str = "backup-approver@contoso.example";

async fn with_email(db: &TestDb) -> TestApp {
    with_email_and(db, "").await
}

/// E-mail through Graph, and `package` lines added to the first package.
async fn with_email_and(db: &TestDb, package: &str) -> TestApp {
    let package = package.to_string();
    TestApp::spawn_configured(db, false, move |s| {
        let s = s.replacen(
            "max_duration = \"4h\"\n",
            &format!("max_duration = \"4h\"\n{package}"),
            1,
        );
        format!("{s}\n[notify]\nemail_from = \"{FROM}\"\n")
    })
    .await
}

/// The messages whose subject contains `subject`.
fn mail_about(t: &TestApp, subject: &str) -> Vec<SentMail> {
    t.emulator
        .mail()
        .into_iter()
        .filter(|m| m.subject.contains(subject))
        .collect()
}

/// The one message whose subject contains `subject`, once it is there.
async fn one_mail(t: &TestApp, subject: &str) -> SentMail {
    eventually(&format!("a message about '{subject}'"), || async {
        !mail_about(t, subject).is_empty()
    })
    .await;
    let found = mail_about(t, subject);
    assert_eq!(found.len(), 1, "exactly once: {found:?}");
    found[0].clone()
}

/// `m` went to `people`, none of whom sees another's address (issue 19, item 11): one
/// recipient is in `To`; several are all in `Bcc`, and nobody in `To` or `Cc`.
fn privately_to(m: &SentMail, people: &[&str]) {
    let delivered: Vec<&str> = m.recipients().map(String::as_str).collect();
    assert_eq!(delivered, people, "{m:?}");
    if let [one] = people {
        assert_eq!(m.to, [*one], "{m:?}");
    } else {
        assert_eq!(
            m.visible_recipients().count(),
            0,
            "no recipient sees another's address: {m:?}"
        );
    }
}

/// Nothing more is sent about `subject` for a while (the sender had its chance).
async fn no_mail(t: &TestApp, subject: &str) {
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        mail_about(t, subject).is_empty(),
        "{:?}",
        mail_about(t, subject)
    );
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
    let asked = one_mail(&t, "Dana Developer asks for").await;
    assert_eq!(asked.from, FROM);
    // The approvers, not the requester; neither sees the other's address.
    privately_to(&asked, &[JORDAN_MAIL, MORGAN_MAIL]);
    assert_eq!(
        asked.subject,
        "Dana Developer asks for Device code flow exemption"
    );
    assert!(
        asked.body.contains(&format!("{}/requests/{id}", t.url)),
        "{}",
        asked.body
    );
    let sent = recorded(&t, &id, "notification_sent").await;
    assert_eq!(sent["channel"], "email");
    assert_eq!(sent["recipients"], json!([JORDAN_MAIL, MORGAN_MAIL]));

    // An approver's own request goes to the other approvers only.
    let own = t.request(MORGAN, "device-code", 60).await;
    assert_eq!(one_mail(&t, "Morgan").await.to, [JORDAN_MAIL]);
    recorded(&t, &own, "notification_sent").await;

    // Never twice: a restart delivers nothing again.
    t.stop().await;
    t.start_again().await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(t.emulator.mail().len(), 2);

    // Decisions go to the requester: approved (with when access ends), then in effect once
    // the membership is in place; denied with the reason.
    t.approve(JORDAN, &id).await;
    let approved = one_mail(
        &t,
        "Your request for Device code flow exemption was approved",
    )
    .await;
    assert_eq!(approved.to, [DANA_MAIL]);
    assert!(
        approved.body.contains("Jordan") && approved.body.contains("ends at"),
        "{}",
        approved.body
    );
    let in_effect = one_mail(&t, "is in effect").await;
    assert_eq!(in_effect.to, [DANA_MAIL]);
    let (status, _) = t.deny(JORDAN, &own, Some("not this week")).await;
    assert!(status.is_success(), "{status}");
    let denied = one_mail(&t, "was denied").await;
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
        Duration::seconds(5),
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

/// The requester hears of the grant's whole life: the reminder `remind_before` the end (with
/// the link to extend), a new reminder when an extension moves the end (the old one is
/// skipped), and the end.
async fn the_requester_is_reminded_and_told_of_the_end(db: &TestDb) {
    let t = with_email_and(db, "remind_before = \"10m\"\n").await;
    let id = t.granted(DANA, "device-code", 60, MORGAN).await;
    one_mail(&t, "is in effect").await;
    t.advance(Duration::minutes(45));
    no_mail(&t, "ends in").await;

    // Extended before the reminder: the reminder for the old end does not go out.
    let (status, body) = t
        .post(
            DANA,
            &format!("/api/v1/requests/{id}/extend"),
            json!({"minutes": 30, "justification": "the migration runs longer"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let asked = one_mail(&t, "asks to extend Device code flow exemption by 30m").await;
    privately_to(&asked, &[JORDAN_MAIL, MORGAN_MAIL]);
    let (status, body) = t
        .post(
            JORDAN,
            &format!("/api/v1/requests/{id}/extension/approve"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let approved = one_mail(
        &t,
        "Your extension of Device code flow exemption was approved",
    )
    .await;
    assert_eq!(approved.to, [DANA_MAIL]);
    t.advance(Duration::minutes(6));
    no_mail(&t, "ends in").await;

    // Ten minutes before the new end.
    t.advance(Duration::minutes(30));
    let reminder = one_mail(&t, "Your access to Device code flow exemption ends in 10m").await;
    assert_eq!(reminder.to, [DANA_MAIL]);
    assert!(
        reminder.body.contains(&format!("{}/requests/{id}", t.url))
            && reminder.body.contains("extend"),
        "{}",
        reminder.body
    );
    // The reminder of the old end was skipped, the new one sent (recorded just after).
    let auditor = principal(AVERY, &["Auditor"]);
    let rid = jitgate::domain::RequestId::parse(&id).unwrap();
    eventually("the reminders' outcomes", || async {
        let reminders: Vec<_> = t
            .portal()
            .notifications_for(&auditor, &rid)
            .await
            .unwrap()
            .into_iter()
            .filter(|n| n.event == "reminder")
            .map(|n| n.outcome.map(|o| o.as_str()))
            .collect();
        reminders == [Some("skipped"), Some("sent")]
    })
    .await;

    t.advance(Duration::minutes(10));
    let expired = one_mail(&t, "Your access to Device code flow exemption expired").await;
    assert_eq!(expired.to, [DANA_MAIL]);

    // Revoked by an admin: told, with the reason. Ended by oneself: no message.
    let other = t.granted(RILEY, "device-code", 60, MORGAN).await;
    let (status, _) = t.revoke(ALEX, &other, Some("incident 42")).await;
    assert!(status.is_success());
    let revoked = one_mail(&t, "revoked").await;
    assert_eq!(revoked.to, ["riley@jitgate-demo.onmicrosoft.com"]);
    assert!(revoked.body.contains("incident 42"), "{}", revoked.body);
    let own = t.granted(DANA, "device-code", 60, MORGAN).await;
    let (status, _) = t.end(DANA, &own, None).await;
    assert!(status.is_success());
    no_mail(&t, "ended").await;
}

/// A request nobody decides: brought up again after `escalate_after` to the approvers and the
/// backup approvers, and the requester told when it times out. A request decided in time is not
/// brought up.
async fn undecided_requests_are_escalated_then_time_out(db: &TestDb) {
    let t = with_email_and(
        db,
        &format!(
            "escalate_after = \"2h\"\nescalate_to = [\"{BACKUP}\"]\napproval_timeout = \"8h\"\n"
        ),
    )
    .await;
    let decided = t.request(RILEY, "device-code", 60).await;
    let id = t.request(DANA, "device-code", 60).await;
    t.approve(MORGAN, &decided).await;
    t.advance(Duration::minutes(119));
    no_mail(&t, "Still waiting").await;
    t.advance(Duration::minutes(1));
    let escalation = one_mail(&t, "Still waiting: Dana Developer asks for").await;
    privately_to(&escalation, &[BACKUP, JORDAN_MAIL, MORGAN_MAIL]);
    assert!(escalation.body.contains(&id), "{}", escalation.body);
    assert!(mail_about(&t, "Still waiting: Riley").is_empty());

    t.advance(Duration::hours(6));
    wait_status(&t, &id, "timed_out").await;
    let timed_out = one_mail(&t, "timed out").await;
    assert_eq!(timed_out.to, [DANA_MAIL]);
}

/// What goes wrong in the directory reaches the admins: a grant that could not be given (and
/// its requester), a member nobody granted.
async fn failures_and_drift_reach_the_admins(db: &TestDb) {
    let t = TestApp::spawn_configured(db, false, |s| {
        let s = s.replace("every = \"1d\"", "every = \"5m\"\nmode = \"report\"");
        format!("{s}\n[notify]\nemail_from = \"{FROM}\"\n")
    })
    .await;
    t.emulator.inject(
        Fault::new(403, 1)
            .method("POST")
            .path_contains("/members/$ref"),
    );
    let id = t.request(DANA, "device-code", 60).await;
    t.approve(MORGAN, &id).await;
    wait_status(&t, &id, "failed").await;
    let failed = one_mail(&t, "could not be given").await;
    privately_to(&failed, &[ALEX_MAIL, DANA_MAIL]);

    t.emulator.set_member(GROUP, RILEY, true);
    t.advance(Duration::minutes(5));
    let drift = one_mail(&t, "a group member it did not add").await;
    assert_eq!(drift.to, [ALEX_MAIL]);
    assert!(drift.body.contains(RILEY), "{}", drift.body);
}

on_both_databases! {
    mailed => new_requests_are_mailed_to_their_deciders;
    retried => failed_deliveries_are_retried_then_given_up;
    reminded => the_requester_is_reminded_and_told_of_the_end;
    escalated => undecided_requests_are_escalated_then_time_out;
    admins_alerted => failures_and_drift_reach_the_admins;
}
