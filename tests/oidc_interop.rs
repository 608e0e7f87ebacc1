//! Sign-in against a real, independent OpenID provider: panva's certified `oidc-provider`
//! (tests/oidc/provider.mjs), served with an Entra-shaped issuer `http://127.0.0.1:<port>/<tenant>/v2.0`.
//! Each test gets its own provider process and its own portal on a fresh SQLite database.
//!
//! Needs `node` and `npm ci` in tests/oidc (scripts/test.sh does it). Without them these tests fail
//! under CI (CI=true) and are skipped, loudly, elsewhere.

mod common;
#[path = "oidc_interop/provider.rs"]
mod provider;

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use url::Url;

use common::html::{browser, html_unescape, location, query_param, session_cookie};
use provider::{ALICE_OID, BOB_OID, Interop};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bob_signs_in_with_his_app_role() {
    let Some(t) = Interop::start().await else {
        return;
    };
    let b = browser();
    let (callback, before) = t.authorize(&b, "bob", "/x").await;
    assert!(query_param(&callback, "code").is_some(), "{callback}");
    assert_eq!(
        query_param(&callback, "iss").as_deref(),
        Some(t.issuer.as_str()),
        "the provider names itself in the answer (RFC 9207)"
    );

    let r = b.get(&callback).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);
    assert_eq!(location(&r), "/x", "back to the path asked for");
    let after = session_cookie(&r).expect("a session cookie at sign-in");
    assert!(before.starts_with("jitgate_login=") && after.starts_with("jitgate_session="));
    let dropped =
        common::html::set_cookie(&r, "jitgate_login").expect("the login cookie is dropped");
    assert!(dropped.contains("Max-Age=0"), "{dropped}");
    assert!(
        t.provider_says("grant.success").await,
        "the code was redeemed at the provider's token endpoint"
    );

    let (status, me) = t.me(&b).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["id"], BOB_OID, "the oid claim, not sub");
    assert_eq!(me["name"], "Bob Approver");
    assert_eq!(me["username"], "bob@contoso.example");
    assert_eq!(me["roles"], json!(["approver"]));
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alice_signs_in_without_roles() {
    let Some(t) = Interop::start().await else {
        return;
    };
    let b = browser();
    let r = t.sign_in(&b, "alice", "/requests").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);
    assert_eq!(location(&r), "/requests");
    let (status, me) = t.me(&b).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["id"], ALICE_OID);
    assert_eq!(me["name"], "Alice Requester");
    assert_eq!(me["username"], "alice@contoso.example");
    assert_eq!(me["roles"], json!([]));
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_state_is_refused() {
    let Some(t) = Interop::start().await else {
        return;
    };
    let b = browser();
    let (callback, _) = t.authorize(&b, "bob", "/").await;
    let state = query_param(&callback, "state").unwrap();
    let mut forged = Url::parse(&callback).unwrap();
    let pairs: Vec<(String, String)> = forged
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "state" {
                format!("{state}x")
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    forged.query_pairs_mut().clear().extend_pairs(pairs);

    let body = t
        .refused(&b, forged.as_str(), StatusCode::BAD_REQUEST)
        .await;
    assert!(
        body.contains("does not belong to this browser session"),
        "{body}"
    );
    // Anything the provider did would have reached its log by now.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !t.provider_said("grant."),
        "the code was never taken to the provider"
    );
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redeemed_code_is_refused_by_the_provider() {
    let Some(t) = Interop::start().await else {
        return;
    };
    let victim = browser();
    let (first, _) = t.authorize(&victim, "bob", "/").await;
    let r = victim.get(&first).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(t.me(&victim).await.0, StatusCode::OK);
    let code = query_param(&first, "code").unwrap();

    // Another browser starts its own sign-in and presents the used code with its own, valid state.
    let attacker = browser();
    let (authorize, _) = t.start_login(&attacker, "/").await;
    let state = query_param(&authorize, "state").unwrap();
    let mut replay = Url::parse(&t.portal("/auth/callback")).unwrap();
    replay
        .query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", &state)
        .append_pair("iss", &t.issuer);
    let body = t
        .refused(&attacker, replay.as_str(), StatusCode::UNAUTHORIZED)
        .await;
    assert!(body.contains("did not accept the sign-in code"), "{body}");
    assert!(
        t.provider_says("grant.error: invalid_grant").await,
        "the provider itself refused the code"
    );
    assert_eq!(
        t.me(&victim).await.0,
        StatusCode::OK,
        "the victim is unaffected"
    );
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denial_by_the_provider_is_shown_escaped() {
    let Some(t) = Interop::start().await else {
        return;
    };
    let b = browser();
    let (page, _, _) = t.open_login_page(&b, "/").await;
    // The provider refuses this user, with a description that must not become markup.
    let mut deny = page.clone();
    deny.set_path(&format!("{}/deny", page.path()));
    deny.query_pairs_mut().append_pair(
        "error_description",
        "<script>alert('jit')</script> is not allowed",
    );
    let r = b.get(deny).send().await.unwrap();

    let body = t.refused_denial(&b, r).await;
    assert!(
        !body.contains("<script>alert"),
        "markup from the provider: {body}"
    );
    assert!(
        html_unescape(&body).contains("<script>alert('jit')</script> is not allowed"),
        "the description, escaped: {body}"
    );
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_cancelled_at_the_provider_is_refused() {
    let Some(t) = Interop::start().await else {
        return;
    };
    let b = browser();
    let (page, html, _) = t.open_login_page(&b, "/").await;
    // The provider's own "Cancel" link.
    let abort = html
        .split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(html_unescape)
        .find(|h| h.ends_with("/abort"))
        .unwrap_or_else(|| panic!("a cancel link:\n{html}"));
    let r = b.get(page.join(&abort).unwrap()).send().await.unwrap();

    let body = t.refused_denial(&b, r).await;
    assert!(body.contains("End-User aborted interaction"), "{body}");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_out_ends_the_session() {
    let Some(t) = Interop::start().await else {
        return;
    };
    let b = browser();
    let r = t.sign_in(&b, "bob", "/").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cookie = session_cookie(&r).unwrap();
    assert_eq!(t.me(&b).await.0, StatusCode::OK);

    let r = b.post(t.portal("/auth/logout")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(t.me(&b).await.0, StatusCode::UNAUTHORIZED);

    // The old session cookie, presented again, is worth nothing.
    let r = reqwest::Client::new()
        .get(t.portal("/api/v1/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    t.stop().await;
}
