//! An access review in real browsers, from its start to its applied result: the campaign opens
//! at the first midnight after the package's reviews were configured; Morgan, a reviewer, denies
//! the standing device account and Dana and confirms the settings on the campaign's page; at the
//! due date the account is removed from the group and Dana revoked; Alex sees the finished
//! campaign's report (with its export links and print button) and restores Dana.

use std::sync::Arc;
use std::time::Instant;

use chrono::Duration;
use jitgate::clock::{Clock, ManualClock};
use jitgate::emulator::demo::{EXCLUSION_GROUP_ID, SAM};

use crate::common::db::Backend;
use crate::harness::*;

/// The browser tests' package, reviewed every 90 days with Sam as a standing account.
fn reviewed_sections() -> String {
    sections().replace(
        "duration_presets",
        &format!(
            "standing_members = [\"{SAM}\"]\nreview_every = \"90d\"\nreview_within = \"14d\"\nduration_presets"
        ),
    )
}

async fn until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Records `decision` with `why` on the campaign page's row of item `row` (a CSS selector).
async fn decide(b: &Browser, row: &str, decision: &str, why: &str) {
    b.js(
        &format!("document.querySelector('{row} form.decide select').value = '{decision}';"),
        vec![],
    )
    .await;
    b.fill(&format!("{row} form.decide input[name=justification]"), why)
        .await;
    let submit = b
        .must(&format!("{row} form.decide button[type=submit]"))
        .await;
    b.click_and_load(&submit).await;
    let flash = b.text(r#"p.flash[role="status"]"#).await;
    assert!(flash.starts_with("Recorded:"), "{flash}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_review_from_start_to_applied_result() {
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let Some(s) = start_configured(Backend::Sqlite, &reviewed_sections(), clock.clone()).await
    else {
        return;
    };
    s.portal.emulator.set_member(EXCLUSION_GROUP_ID, SAM, true);
    s.portal.granted(DANA, 60).await;
    until("Dana in the group", async || s.portal.is_member(DANA)).await;
    let admin = person(ALEX, &["Admin"]);
    let service = s.portal.portal().clone();

    // Midnight: the campaign starts.
    // The scheduler's first pass has seen the package's reviews: the first is due at midnight.
    until("the reviews scheduled", async || {
        service.next_review_at().await.is_some()
    })
    .await;
    let start = jitgate::domain::review::first_start(clock.now());
    assert_eq!(service.next_review_at().await, Some(start));
    clock.advance(start - clock.now() + Duration::minutes(1));
    until("the campaign to start", async || {
        service
            .review_campaigns(&admin)
            .await
            .is_ok_and(|c| !c.is_empty())
    })
    .await;

    // Morgan finds it under Reviews, waiting for him, and decides on its page.
    let morgan = s.signed_in(MORGAN).await;
    assert_eq!(morgan.open_nav("reviews").await, "/reviews");
    let id = morgan
        .attr("table#campaigns tbody tr", "data-campaign-id")
        .await
        .unwrap();
    assert_eq!(morgan.text("table#campaigns td.waiting").await.trim(), "3");
    let link = morgan.must("table#campaigns tbody tr a").await;
    morgan.click_and_load(&link).await;
    assert_eq!(
        morgan
            .attr("article#review", "data-status")
            .await
            .as_deref(),
        Some("open")
    );
    let sam_row = format!(r#"tr[data-subject-id="{SAM}"]"#);
    let dana_row = format!(r#"tr[data-subject-id="{DANA}"]"#);
    let dana_text = morgan.text(&dana_row).await;
    assert!(
        dana_text.contains("Registering the build runner") && dana_text.contains("60 min"),
        "the grant under review: {dana_text}"
    );
    decide(&morgan, &sam_row, "Deny", "The device was retired").await;
    decide(&morgan, &dana_row, "Deny", "Left the team").await;
    decide(
        &morgan,
        r#"tr[data-subject-id=""]"#,
        "Approve",
        "Matches the policy",
    )
    .await;
    assert!(
        morgan
            .text(&sam_row)
            .await
            .contains("The device was retired")
    );
    assert!(
        s.portal.is_member(SAM),
        "nothing is applied before the due date"
    );

    // The due date: the campaign closes and its results are applied.
    clock.advance(Duration::days(14));
    until(
        "the campaign to close and Sam to leave the group",
        async || {
            !s.portal.is_member(SAM)
                && service
                    .review_campaign(&admin, &id)
                    .await
                    .is_ok_and(|v| !v.open && v.campaign.closed_at.is_some())
        },
    )
    .await;

    // Alex (signed in after the jump) reads the finished campaign's report.
    let alex = s.signed_in(ALEX).await;
    alex.goto(&s.url(&format!("/reviews/{id}"))).await;
    assert_eq!(
        alex.attr("article#review", "data-status").await.as_deref(),
        Some("closed")
    );
    assert_eq!(
        alex.text(&format!("{sam_row} td.outcome")).await.trim(),
        "removed"
    );
    assert_eq!(
        alex.text(&format!("{dana_row} td.outcome")).await.trim(),
        "revoked"
    );
    assert!(alex.has("button[data-print]").await, "a printable report");
    assert_eq!(
        alex.attr("a#export-csv", "href").await.as_deref(),
        Some(format!("/api/v1/reviews/{id}/export?format=csv").as_str())
    );
    assert!(
        !alex.has("form.decide").await,
        "a closed campaign takes no decisions"
    );

    // Dana is refused until Alex restores her on the Reviews page.
    let refused = service
        .create_request(
            &person(DANA, &[]),
            jitgate::domain::NewRequestInput {
                package: PACKAGE.into(),
                duration_minutes: Some(60),
                justification: "Registering the build runner".into(),
                ticket: None,
                starts_at: None,
                emergency: false,
            },
        )
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("Left the team"), "{refused}");
    alex.open_nav("reviews").await;
    let row = format!(r#"table#revocations tr[data-user-id="{DANA}"]"#);
    alex.fill(&format!("{row} input[name=reason]"), "Back on the team")
        .await;
    let restore = alex.must(&format!("{row} form.restore button")).await;
    alex.click_and_load(&restore).await;
    assert!(
        alex.text(r#"p.flash[role="status"]"#)
            .await
            .contains("Restored"),
    );
    assert!(!alex.has(&row).await);
    s.portal.granted(DANA, 30).await;
    s.finish([morgan, alex]).await;
}
