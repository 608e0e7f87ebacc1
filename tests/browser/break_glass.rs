//! Issue 21's break-glass in a real browser: Dana, on call, ticks "Emergency, no approval" and
//! has access at once; Alex sees it waiting for review on the Operations page; Morgan, an
//! approver, reviews it on the request's page (not justified, with a comment), and it leaves the
//! list. Dana herself is offered no review.

use std::sync::Arc;

use jitgate::clock::SystemClock;
use jitgate::emulator::demo::{EXCLUSION_GROUP_ID, ON_CALL_GROUP_ID};

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
default_duration = "2h"
max_duration = "4h"
duration_presets = ["30m", "1h", "2h", "4h"]
break_glass = true
break_glass_groups = ["{ON_CALL_GROUP_ID}"]
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn break_glass_then_review() {
    let Some(s) = start_configured(Backend::Sqlite, &sections(), Arc::new(SystemClock)).await
    else {
        return;
    };
    s.portal.emulator.set_member(ON_CALL_GROUP_ID, DANA, true);
    let dana = s.signed_in(DANA).await;
    let form = package_form(PACKAGE);
    let said = dana.text(&format!("{form} [data-break-glass]")).await;
    assert!(said.contains("without approval"), "{said}");

    // Longer than break_glass_max (1h): refused, the box still ticked.
    let emergency = format!(r#"{form} input[name="emergency"]"#);
    fill_request(
        &dana,
        PACKAGE,
        "120",
        "INC0042: payments down, <nobody> awake",
        "",
    )
    .await;
    dana.must(&emergency).await.click().await.unwrap();
    submit_request(&dana, PACKAGE).await;
    assert!(
        dana.text(&format!(r#"{form} [data-field="duration_minutes"]"#))
            .await
            .contains("at most 1h"),
        "the form says why"
    );
    assert!(!dana.has("article.grant").await, "nothing was granted");
    dana.must(&format!(r#"{form} select[name="duration_minutes"]"#))
        .await
        .select_by_value("30")
        .await
        .unwrap();
    dana.screenshot("break-glass-form").await;
    submit_request(&dana, PACKAGE).await;

    // At once, no approver.
    let id = only_request_id(&dana).await;
    let grant = format!(r#"article.grant[data-request-id="{id}"]"#);
    assert_eq!(
        dana.attr(&grant, "data-status").await.as_deref(),
        Some("active"),
        "granted at once"
    );
    assert!(
        dana.text(&format!(r#"{grant} [data-testid="decided-by"]"#))
            .await
            .contains("nobody (break-glass)"),
        "the approver of record says nobody approved"
    );
    eventually(&dana, "Dana in the group", || async {
        s.portal
            .emulator
            .members(EXCLUSION_GROUP_ID)
            .contains(&DANA.to_string())
    })
    .await;
    dana.goto(&s.url(&format!("/requests/{id}"))).await;
    assert!(dana.has("section#break-glass").await);
    assert!(
        !dana.has("form.review-break-glass").await,
        "nobody reviews their own break-glass"
    );

    // Waiting for review, on the Operations page.
    let alex = s.signed_in(ALEX).await;
    alex.goto(&s.url("/operations")).await;
    let row = format!(r#"table#break-glass tr[data-request-id="{id}"]"#);
    assert!(alex.text(&row).await.contains("Dana"), "listed for review");
    alex.screenshot("break-glass-operations").await;

    // Morgan reviews it: not justified, with a comment.
    let morgan = s.signed_in(MORGAN).await;
    morgan.goto(&s.url("/approvals")).await;
    let link = morgan
        .must(&format!(
            r#"table#break-glass-to-review tr[data-request-id="{id}"] a"#
        ))
        .await;
    morgan.click_and_load(&link).await;
    assert_eq!(morgan.url().await.path(), format!("/requests/{id}"));
    morgan
        .must(r#"form.review-break-glass input[name="verdict"][value="not_justified"]"#)
        .await
        .click()
        .await
        .unwrap();
    morgan
        .fill(
            r#"form.review-break-glass textarea[name="comment"]"#,
            "No incident INC0042 <on record>",
        )
        .await;
    let submit = morgan.must("form.review-break-glass button").await;
    morgan.click_and_load(&submit).await;
    let verdict = morgan.text(r#"[data-testid="break-glass-verdict"]"#).await;
    assert!(
        verdict.contains("not justified") && verdict.contains("No incident INC0042 <on record>"),
        "{verdict}"
    );
    assert!(
        morgan.body_text().await.contains("Break glass reviewed"),
        "on the timeline"
    );
    morgan.screenshot("break-glass-reviewed").await;

    alex.reload().await;
    assert!(!alex.has(&row).await, "reviewed: no longer listed");

    s.finish([dana, alex, morgan]).await;
}
