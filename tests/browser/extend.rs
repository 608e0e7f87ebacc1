//! Issue 9 in real browsers: the reminder's link → extend → approve. Dana's grant nears its
//! end; the reminder e-mail (through the emulated Graph `sendMail`) links to the request's page,
//! where she asks for more time; Morgan approves it on the approvals page; the end moves and the
//! membership never lapses. The portal runs on a hand-driven clock so the reminder comes at once.

use std::sync::Arc;

use chrono::Duration;
use jitgate::clock::ManualClock;
use jitgate::domain::RequestId;
use jitgate::emulator::demo::EXCLUSION_GROUP_ID;

use crate::common::db::Backend;
use crate::harness::*;

fn sections() -> String {
    format!(
        r#"
[[package]]
id = "{PACKAGE}"
name = "{PACKAGE_NAME}"
group_id = "{EXCLUSION_GROUP_ID}"
min_duration = "15m"
default_duration = "1h"
max_duration = "4h"
remind_before = "10m"

[notify]
email_from = "alex@jitgate-demo.onmicrosoft.com"
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reminder_link_extend_approve() {
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let Some(s) = start_configured(Backend::Sqlite, &sections(), clock.clone()).await else {
        return;
    };
    let portal = s.portal.portal();
    let dana = person(DANA, &[]);
    let r = s.portal.granted(DANA, 60).await;
    let id = RequestId::parse(&r.id).unwrap();
    let first_end = portal
        .get_visible(&dana, &id)
        .await
        .unwrap()
        .ends_at
        .unwrap();

    // Once the membership is in effect (the reminder is queued then), ten minutes before the
    // end the reminder arrives, with the link to the request's page.
    let deadline = std::time::Instant::now() + WAIT;
    while !s
        .portal
        .emulator
        .mail()
        .iter()
        .any(|m| m.subject.contains("is in effect"))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the grant never took effect"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    clock.advance(Duration::minutes(50));
    let reminder = {
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            if let Some(m) = s
                .portal
                .emulator
                .mail()
                .into_iter()
                .find(|m| m.subject.contains("ends in 10m"))
            {
                break m;
            }
            assert!(std::time::Instant::now() < deadline, "no reminder arrived");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    };
    let link = reminder
        .body
        .lines()
        .find(|l| l.contains(&format!("/requests/{}", r.id)))
        .unwrap_or_else(|| panic!("no link to the request in {}", reminder.body))
        .trim()
        .to_string();

    // Dana follows the link (signing in on the way) and asks for 30 more minutes.
    let b = s.browser().await;
    b.goto(&link).await;
    b.choose_user(DANA).await;
    b.wait_for("form.extend").await;
    assert!(
        b.url().await.as_str().starts_with(&link),
        "back at the link after sign-in"
    );
    b.js(
        "document.querySelector('#extend-minutes').value = '30';",
        vec![],
    )
    .await;
    b.fill("#extend-why", "The runner registration needs another pass")
        .await;
    let ask = b.must("form.extend button[type=submit]").await;
    b.click_and_load(&ask).await;
    let flash = b.text(r#"p.flash[role="status"]"#).await;
    assert!(flash.contains("waiting for approval"), "{flash}");
    assert_eq!(
        b.attr("#extensions li", "data-status").await.as_deref(),
        Some("pending")
    );

    // Morgan approves it from the approvals page.
    let morgan = s.signed_in(MORGAN).await;
    assert_eq!(
        morgan
            .text(r#"nav a[data-nav="approvals"] span.badge"#)
            .await
            .trim(),
        "1",
        "the badge counts the extension"
    );
    morgan.open_nav("approvals").await;
    let row = format!(r#"table#extensions tr[data-request-id="{}"]"#, r.id);
    let text = morgan.text(&row).await;
    assert!(
        text.contains("Dana Developer") && text.contains("another pass"),
        "{text}"
    );
    let approve = morgan
        .must(&format!("{row} form.approve-extension button"))
        .await;
    morgan.click_and_load(&approve).await;
    let flash = morgan.text(r#"p.flash[role="status"]"#).await;
    assert!(flash.contains("You extended"), "{flash}");

    // Dana sees the new end; the membership never lapsed.
    b.reload().await;
    assert_eq!(
        b.attr("#extensions li", "data-status").await.as_deref(),
        Some("approved")
    );
    let now = portal.get_visible(&dana, &id).await.unwrap();
    assert_eq!(now.ends_at, Some(first_end + Duration::minutes(30)));
    clock.advance(Duration::minutes(15));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        s.portal.is_member(DANA),
        "still a member after the first end"
    );
    s.finish([b, morgan]).await;
}
