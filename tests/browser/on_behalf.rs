//! Issue 21: an admin asks for two warehouse device accounts from the "On behalf" page (search,
//! tick, one request each); an approver decides one; the page says who asked; a requester is
//! offered none of it.

use jitgate::emulator::demo::SCANNER_07;

use crate::common::db::Backend;
use crate::harness::*;

const SCANNER_07_UPN: &str = "scanner-07@jitgate-demo.onmicrosoft.com";
const SCANNER_08_UPN: &str = "scanner-08@jitgate-demo.onmicrosoft.com";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_asks_for_device_accounts_and_an_approver_decides() {
    let Some(s) = start(Backend::Sqlite).await else {
        return;
    };
    let alex = s.signed_in(ALEX).await;
    assert_eq!(alex.open_nav("on-behalf").await, "/on-behalf");

    // Search, then tick both scanners found.
    alex.fill("#people-search input[name=\"search\"]", "scann")
        .await;
    let search = alex.must("#people-search button[type=\"submit\"]").await;
    alex.click_and_load(&search).await;
    assert_eq!(alex.status().await, 200);
    let boxes = alex
        .attrs("#on-behalf-form input[name=\"on_behalf_of\"]", "value")
        .await;
    assert_eq!(boxes, [SCANNER_07_UPN, SCANNER_08_UPN]);
    for upn in [SCANNER_07_UPN, SCANNER_08_UPN] {
        alex.must(&format!(
            "#on-behalf-form input[name=\"on_behalf_of\"][value=\"{upn}\"]"
        ))
        .await
        .click()
        .await
        .unwrap();
    }
    alex.fill("#on-behalf-form input[name=\"duration_minutes\"]", "60")
        .await;
    alex.fill(
        "#on-behalf-form textarea[name=\"justification\"]",
        "re-enrolling the warehouse scanners",
    )
    .await;
    let ask = alex.must("#on-behalf-form button[type=\"submit\"]").await;
    alex.click_and_load(&ask).await;
    assert_eq!(alex.status().await, 200);
    let outcomes = alex.attrs("#outcomes li", "data-outcome").await;
    assert_eq!(outcomes, ["asked", "asked"], "{}", alex.body_text().await);
    alex.screenshot("on-behalf").await;
    let asked = alex
        .attrs("#asked tr[data-request-id]", "data-request-id")
        .await;
    assert_eq!(asked.len(), 2);

    // Morgan (an approver) sees who asked, and approves Scanner 07's.
    let morgan = s.signed_in(MORGAN).await;
    morgan.open_nav("approvals").await;
    assert!(
        morgan
            .text("[data-testid=\"asked-by\"]")
            .await
            .contains("Alex Admin"),
        "{}",
        morgan.body_text().await
    );
    let scanner = s
        .portal
        .portal()
        .list_visible(
            &person(ALEX, &["Admin"]),
            &jitgate::service::ListQuery::default(),
        )
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.requester.id == SCANNER_07)
        .unwrap();
    morgan
        .goto(&s.url(&format!("/requests/{}", scanner.id)))
        .await;
    assert!(
        morgan
            .text("[data-testid=\"asked-by\"]")
            .await
            .starts_with("Alex Admin"),
        "{}",
        morgan.body_text().await
    );

    // Dana is offered none of it, and the page is closed to her.
    let dana = s.signed_in(DANA).await;
    assert!(!dana.has("nav a[data-nav=\"on-behalf\"]").await);
    dana.goto(&s.url("/on-behalf")).await;
    assert_eq!(dana.status().await, 403);

    s.finish([alex, morgan, dana]).await;
}
