//! The navigation offers each person only what their roles allow (and everyone the access
//! reviews, where they may have to attest for themself).

use crate::common::db::Backend;
use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn navigation_follows_the_roles() {
    let Some(s) = start(Backend::Sqlite).await else {
        return;
    };
    let b = s.browser().await;

    let cases: [(&str, &str, &[&str], &[&str]); 4] = [
        (DANA, "Dana Developer", &["access", "reviews"], &[]),
        (
            MORGAN,
            "Morgan Manager",
            &["access", "approvals", "on-behalf", "reviews"],
            &["Approver"],
        ),
        (
            AVERY,
            "Avery Auditor",
            &["access", "audit", "reviews"],
            &["Auditor"],
        ),
        (
            ALEX,
            "Alex Admin",
            &["access", "audit", "operations", "on-behalf", "reviews"],
            &["Admin"],
        ),
    ];
    for (user, name, navs, roles) in cases {
        b.sign_in(&s.portal, user).await;
        assert_eq!(b.signed_in_as().await, name);
        let mut shown = b.attrs("nav a[data-nav]", "data-nav").await;
        shown.sort();
        let mut want: Vec<String> = navs.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(shown, want, "navigation for {name}");
        if !roles.is_empty() {
            let text = b.text(r#"[data-testid="roles"]"#).await;
            for r in roles {
                assert!(
                    text.to_lowercase().contains(&r.to_lowercase()),
                    "{name}'s roles read {text:?}"
                );
            }
        }
        // Each offered page opens.
        for nav in navs {
            b.open_nav(nav).await;
        }
        b.sign_out().await;
        b.wait_for("a#sign-in").await;
        assert!(
            !b.has(r#"[data-testid="signed-in-as"]"#).await,
            "still signed in as {name} after signing out"
        );
    }

    // What the navigation hides is closed too: Dana cannot open the admins' page.
    b.sign_in(&s.portal, DANA).await;
    b.goto(&s.url("/operations")).await;
    assert_eq!(b.status().await, 403, "Dana opening /operations");
    assert!(!b.has("table#active-grants").await);

    s.finish([b]).await;
}
