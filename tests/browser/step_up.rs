//! Issue 20's step-up in a real browser: a package behind authentication context c1. Dana's
//! sign-in made no step-up; she fills in the form and sends it; the portal sends her to sign in
//! again with the `claims` parameter; the emulated tenant asks her to complete MFA; she comes
//! back to the form with everything she typed, sends it again, and the request is made.

use std::sync::Arc;

use jitgate::clock::SystemClock;
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
default_duration = "2h"
max_duration = "4h"
duration_presets = ["30m", "1h", "2h", "4h"]
auth_context = "c1"
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn step_up_keeps_what_was_typed() {
    let Some(s) = start_configured(Backend::Sqlite, &sections(), Arc::new(SystemClock)).await
    else {
        return;
    };
    let dana = s.signed_in(DANA).await;
    let form = package_form(PACKAGE);

    // Said before asking.
    let said = dana
        .text(&format!(r#"{form} [data-rule="auth_context"]"#))
        .await;
    assert!(
        said.contains("fresh multi-factor sign-in (authentication context c1)"),
        "{said}"
    );

    let justification = "Rotating the runner's signing keys <today>";
    fill_request(&dana, PACKAGE, "60", justification, "CHG0042").await;
    submit_request(&dana, PACKAGE).await;

    // Off to the emulated tenant, which asks for MFA.
    dana.wait_for("#mfa-step").await;
    assert!(
        dana.url()
            .await
            .as_str()
            .starts_with(&s.portal.emulator.base_url()),
        "not on the sign-in page: {}",
        dana.url().await
    );
    assert!(
        dana.url().await.query().unwrap_or("").contains("claims="),
        "the sign-in asks for the context: {}",
        dana.url().await
    );
    assert!(
        !dana.body_text().await.contains("Rotating"),
        "nothing typed travels"
    );
    dana.screenshot("step-up-mfa").await;
    dana.must("#mfa").await.click().await.unwrap();
    dana.choose_user(DANA).await;

    // Back on the form, as it was typed.
    assert_eq!(dana.url().await.path(), "/");
    assert!(
        dana.text(".flash").await.contains("Signed in again"),
        "the flash says why"
    );
    assert_eq!(
        dana.value(&format!(r#"{form} textarea[name="justification"]"#))
            .await,
        justification,
        "the justification was lost"
    );
    assert_eq!(
        dana.value(&format!(r#"{form} input[name="ticket"]"#)).await,
        "CHG0042",
        "the ticket was lost"
    );
    assert_eq!(
        dana.value(&format!(r#"{form} select[name="duration_minutes"]"#))
            .await,
        "60",
        "the duration was lost"
    );
    assert!(!dana.has("article.grant").await, "nothing was asked yet");
    dana.screenshot("step-up-form-kept").await;

    // Sent again: asked.
    submit_request(&dana, PACKAGE).await;
    only_request_id(&dana).await;
    assert!(
        dana.text("article.grant")
            .await
            .contains("Waiting for approval"),
        "the request waits for approval"
    );

    s.finish([dana]).await;
}
