//! What a requester types is shown as text to the approver, never run or parsed as markup.
//!
//! The Content-Security-Policy would block an inline script even if it slipped through, so "no
//! alert" alone proves little: the test also checks that no element came out of the input and that
//! the literal text is what the approver reads.

use crate::common::db::Backend;
use crate::harness::*;

const SCRIPT: &str = "<script>alert(1)</script>";
const MARKUP: &str = r#""><b id="injected">bold</b>"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn justification_markup_is_shown_as_text() {
    let Some(s) = start(Backend::Sqlite).await else {
        return;
    };

    let riley = s.signed_in(RILEY).await;
    let justification = format!("Testing the runner {SCRIPT} today");
    request_access(&riley, PACKAGE, "60", &justification, MARKUP).await;
    let id = only_request_id(&riley).await;
    assert!(riley.alert().await.is_none(), "an alert opened for Riley");

    let morgan = s.signed_in(MORGAN).await;
    morgan.goto(&s.url("/approvals")).await;
    let row = format!(r#"table#queue tbody tr[data-request-id="{id}"]"#);
    morgan.wait_for(&row).await;
    assert_eq!(morgan.status().await, 200);
    assert!(
        morgan.alert().await.is_none(),
        "the justification ran as a script"
    );

    let text = morgan.text(&row).await;
    assert!(
        text.contains(&justification),
        "the approver does not read the literal justification: {text}"
    );
    assert!(
        text.contains(MARKUP),
        "the approver does not read the literal ticket: {text}"
    );
    assert!(
        !morgan.has("#injected").await,
        "the ticket was parsed as markup"
    );
    let scripts_with_alert = morgan
        .js(
            "return Array.from(document.querySelectorAll('script')).filter(s => s.textContent.includes('alert(1)')).length;",
            vec![],
        )
        .await;
    assert_eq!(
        scripts_with_alert, 0,
        "the justification became a script element"
    );
    morgan.screenshot("approvals-escaped").await;

    s.finish([riley, morgan]).await;
}
