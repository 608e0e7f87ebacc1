//! Issue 10 in a real browser: the demo's "Try the device code flow" panel shows the exemption
//! at work. Dana's device-code sign-in is blocked by the emulated tenant's Conditional Access
//! before her grant, goes through during it, and is blocked again once it ends.

use crate::common::db::Backend;
use crate::harness::*;

async fn try_it(b: &Browser) -> String {
    b.goto(&format!(
        "{}/",
        b.url().await.origin().ascii_serialization()
    ))
    .await;
    let button = b.must("#device-code-try form button").await;
    b.click_and_load(&button).await;
    b.text(r#"p.flash[role="status"]"#).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocked_before_signed_in_during_blocked_after() {
    let Some(s) = start(Backend::Sqlite).await else {
        return;
    };
    let dana = s.signed_in(DANA).await;
    dana.must("#device-code-try").await;
    let before = try_it(&dana).await;
    assert!(before.contains("Blocked by Conditional Access"), "{before}");
    assert!(before.contains("AADSTS53003"), "{before}");

    // Dana gets a grant.
    let r = s.portal.granted(DANA, 30).await;
    eventually(&dana, "Dana in the exclusion group", || async {
        s.portal.is_member(DANA)
    })
    .await;
    let during = try_it(&dana).await;
    assert!(during.contains("Signed in"), "{during}");

    // She ends it early; once she is out of the group the flow is blocked again.
    let end = dana
        .must(&format!(
            r#"article.grant[data-request-id="{}"] form.end button"#,
            r.id
        ))
        .await;
    dana.click_and_load(&end).await;
    eventually(&dana, "Dana out of the exclusion group", || async {
        !s.portal.is_member(DANA)
    })
    .await;
    let after = try_it(&dana).await;
    assert!(after.contains("Blocked by Conditional Access"), "{after}");
    s.finish([dana]).await;
}
