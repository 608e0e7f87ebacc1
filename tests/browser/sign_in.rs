//! The harness itself: Chromium starts, the portal answers, and the emulator's sign-in page signs
//! a user in and back to the portal.

use crate::common::db::Backend;
use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signs_in_through_the_emulator_page() {
    let Some(s) = start(Backend::Sqlite).await else {
        return;
    };
    let b = s.browser().await;

    b.goto(&s.url("/")).await;
    b.wait_for(".demo-banner").await;
    assert_eq!(b.status().await, 200);

    // Straight to the sign-in route: the portal sends the browser to the emulator.
    b.goto(&s.url("/auth/login")).await;
    b.wait_for(r#"button[name="user"]"#).await;
    assert!(
        b.url()
            .await
            .as_str()
            .starts_with(&s.portal.emulator.base_url()),
        "not on the emulator's page: {}",
        b.url().await
    );
    for user in [DANA, RILEY, MORGAN, JORDAN, AVERY, ALEX] {
        let button = b
            .must(&format!(r#"button[name="user"][value="{user}"]"#))
            .await;
        let username = button.attr("data-username").await.unwrap();
        assert!(
            username.is_some_and(|u| u.contains('@')),
            "the button for {user} has no data-username"
        );
    }
    b.screenshot("emulator-sign-in").await;

    b.choose_user(DANA).await;
    assert!(
        b.url().await.as_str().starts_with(&s.portal.url),
        "not back on the portal: {}",
        b.url().await
    );
    assert_eq!(b.signed_in_as().await, "Dana Developer");

    s.finish([b]).await;
}
