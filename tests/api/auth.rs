//! Sign-in through the emulator's real OIDC flow, and bearer tokens that must be refused.

use jitgate::emulator::TokenSpec;
use jitgate::emulator::demo::CLIENT_ID;
use reqwest::StatusCode;

use crate::common::html::{
    SESSION_COOKIE, browser, form_in, location, query_param, session_cookie, set_cookie,
};
use crate::helpers::*;
use crate::on_both_databases;

async fn bad_tokens_are_refused(t: &mut TestApp) {
    let api = format!("api://{CLIENT_ID}");
    let good = t.emulator.mint_token(TokenSpec::new(DANA, &api));
    let tampered = {
        let mut parts: Vec<String> = good.split('.').map(str::to_string).collect();
        use base64::Engine;
        let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut claims: serde_json::Value =
            serde_json::from_slice(&e.decode(&parts[1]).unwrap()).unwrap();
        claims["roles"] = serde_json::json!(["Admin"]);
        parts[1] = e.encode(claims.to_string());
        parts.join(".")
    };
    let expired = t.emulator.mint_token(TokenSpec {
        expires_in_secs: -600,
        ..TokenSpec::new(DANA, &api)
    });
    let other_audience = t
        .emulator
        .mint_token(TokenSpec::new(DANA, "https://graph.microsoft.com"));
    let other_issuer = t.emulator.mint_token(TokenSpec {
        issuer: Some(
            "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000001/v2.0".into(),
        ),
        ..TokenSpec::new(DANA, &api)
    });
    let foreign_key = t.emulator.mint_foreign_token(TokenSpec::new(DANA, &api));
    for (what, token) in [
        ("tampered", tampered.as_str()),
        ("expired", &expired),
        ("another audience", &other_audience),
        ("another issuer", &other_issuer),
        ("an unknown key", &foreign_key),
        ("garbage", "not-a-jwt"),
    ] {
        let resp = me(t, &t.http, Some(token)).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{what}");
        assert!(resp.headers().contains_key("www-authenticate"), "{what}");
        let v: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(v["error"]["code"], "unauthorized", "{what}");
    }
    let resp = me(t, &t.http, None).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "no token");
    let resp = t
        .http
        .get(format!("{}/api/v1/me", t.url))
        .header("authorization", "Basic ZGFuYTp4")
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::UNAUTHORIZED,
        "not a bearer token"
    );
    // Both audience spellings are accepted.
    for aud in [api.as_str(), CLIENT_ID] {
        let token = t.emulator.mint_token(TokenSpec::new(DANA, aud));
        let resp = me(t, &t.http, Some(&token)).await;
        assert_eq!(resp.status(), StatusCode::OK, "{aud}");
    }
    // Nothing a refused token asked for happened.
    let resp = t
        .http
        .post(format!("{}/api/v1/requests", t.url))
        .bearer_auth(&expired)
        .json(&serde_json::json!({"package": "device-code", "duration_minutes": 60, "justification": "deploying the CI runner"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(t.audit_count().await, 0);
}

/// `GET /api/v1/me` as `b` (its session cookie, or `token`): the answer.
pub(crate) async fn me(t: &TestApp, b: &reqwest::Client, token: Option<&str>) -> reqwest::Response {
    let mut req = b.get(format!("{}/api/v1/me", t.url));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    req.send().await.unwrap()
}

/// The value of query parameter `name` in `url`, which must be there.
fn param(url: &str, name: &str) -> String {
    query_param(url, name).unwrap_or_else(|| panic!("no {name} in {url}"))
}

/// Signs in through the emulator's page as `user`; returns the callback URL (not yet visited).
async fn authorize(t: &TestApp, b: &reqwest::Client, user: &str, return_to: &str) -> String {
    authorize_with_cookie(t, b, user, return_to).await.0
}

/// As [`authorize`], also returning the login cookie set when the sign-in started.
async fn authorize_with_cookie(
    t: &TestApp,
    b: &reqwest::Client,
    user: &str,
    return_to: &str,
) -> (String, String) {
    let r = b
        .get(format!("{}/auth/login?return_to={return_to}", t.url))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    let cookie = set_cookie(&r, "jitgate_login").expect("a login cookie when the sign-in starts");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("Max-Age=600"),
        "{cookie}"
    );
    assert!(
        session_cookie(&r).is_none(),
        "starting a sign-in makes no session"
    );
    let authorize = location(&r);
    assert!(authorize.starts_with(&t.emulator.base_url()), "{authorize}");
    assert!(
        authorize.contains("code_challenge_method=S256"),
        "PKCE S256"
    );
    assert!(authorize.contains("nonce="), "nonce");
    let r = pick_user(t, b, &authorize, user).await;
    assert!(r.status().is_redirection());
    let callback = location(&r);
    assert!(
        callback.starts_with(&format!("{}/auth/callback?", t.url)),
        "{callback}"
    );
    (callback, cookie)
}

/// Picks `user` on the emulator's sign-in page at `authorize`: the emulator's answer.
pub(crate) async fn pick_user(
    t: &TestApp,
    b: &reqwest::Client,
    authorize: &str,
    user: &str,
) -> reqwest::Response {
    let page = b.get(authorize).body_text().await;
    let (action, mut form) = form_in(&page).expect("the sign-in form");
    form.push(("user".into(), user.into()));
    b.post(format!("{}{action}", t.emulator.base_url()))
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// A fresh browser signed in as `user`: the callback answered with a redirect into the portal.
pub(crate) async fn signed_in(t: &TestApp, user: &str) -> reqwest::Client {
    let b = browser();
    let callback = authorize(t, &b, user, "/").await;
    let r = b.get(&callback).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "signing in as {user}");
    b
}

async fn sign_in_flow(t: &mut TestApp) {
    let b = browser();
    let callback = authorize(t, &b, DANA, "/requests").await;
    let r = b.get(&callback).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&r),
        "/requests",
        "back to the local path asked for"
    );
    let cookie = set_cookie(&r, SESSION_COOKIE).expect("a session cookie");
    let forget = set_cookie(&r, "jitgate_login").expect("the login cookie is dropped");
    assert!(forget.contains("Max-Age=0"), "{forget}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "plain http on loopback: no Secure flag"
    );
    let who: serde_json::Value = me(t, &b, None).await.json().await.unwrap();
    assert_eq!(who["id"], DANA);
    assert_eq!(who["name"], "Dana Developer");
    let home = b.get(format!("{}/", t.url)).body_text().await;
    assert!(home.contains("Dana Developer"));

    // Replaying the callback: the login state was used up.
    let r = b.get(&callback).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // Sign out ends the session.
    let r = b
        .post(format!("{}/auth/logout", t.url))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection());
    assert_eq!(me(t, &b, None).await.status(), StatusCode::UNAUTHORIZED);

    // Roles come from the token.
    let b = signed_in(t, MORGAN).await;
    let who: serde_json::Value = me(t, &b, None).await.json().await.unwrap();
    assert_eq!(who["roles"], serde_json::json!(["approver"]));
}

async fn session_id_is_cycled(t: &mut TestApp) {
    // Signing in again in a browser that has a session gives it a new session id.
    let b = browser();
    let callback = authorize(t, &b, DANA, "/").await;
    let r = b.get(callback).send().await.unwrap();
    let before = session_cookie(&r).expect("a session cookie at sign-in");
    let (callback, _) = authorize_with_cookie(t, &b, MORGAN, "/").await;
    let r = b.get(callback).send().await.unwrap();
    let after = session_cookie(&r).expect("a session cookie at sign-in");
    assert_ne!(before, after, "a new session id at sign-in");
    let who: serde_json::Value = me(t, &b, None).await.json().await.unwrap();
    assert_eq!(who["id"], MORGAN);
}

async fn wrong_state_and_replayed_code(t: &mut TestApp) {
    // A callback whose state does not match the session is refused, and the code is not redeemed.
    let b = browser();
    let callback = authorize(t, &b, DANA, "/").await;
    let forged = callback.replace("state=", "state=x");
    let r = b.get(&forged).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("does not belong to this browser session"),
        "{body}"
    );
    assert_eq!(me(t, &b, None).await.status(), StatusCode::UNAUTHORIZED);

    // A code that was already redeemed is refused by the provider, even with a fresh, valid state.
    let b = browser();
    let first = authorize(t, &b, DANA, "/").await;
    assert_eq!(
        b.get(&first).send().await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
    let code = param(&first, "code");
    let attacker = browser();
    let second = authorize(t, &attacker, RILEY, "/").await;
    let state = param(&second, "state");
    let replay = format!("{}/auth/callback?code={code}&state={state}", t.url);
    let r = attacker.get(&replay).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        me(t, &attacker, None).await.status(),
        StatusCode::UNAUTHORIZED
    );

    // The provider's own error is shown safely, and only for this browser's own sign-in.
    let b = browser();
    let r = b.get(format!("{}/auth/login", t.url)).send().await.unwrap();
    let state = param(&location(&r), "state");
    let evil = "%3Cscript%3Ealert(1)%3C%2Fscript%3E";
    let planted = format!(
        "{}/auth/callback?error=access_denied&error_description={evil}&state={state}",
        t.url
    );
    let r = browser().get(&planted).send().await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::BAD_REQUEST,
        "another browser cannot plant a message"
    );
    assert!(!r.text().await.unwrap().contains("alert"));
    let r = b.get(&planted).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("access_denied")
            && !body.contains("<script>alert")
            && body.contains("&#60;script&#62;"),
        "{body}"
    );

    // An answer naming another issuer is refused (RFC 9207).
    let b = browser();
    let callback = authorize(t, &b, DANA, "/").await;
    let r = b
        .get(format!("{callback}&iss=https%3A%2F%2Fevil.example"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(me(t, &b, None).await.status(), StatusCode::UNAUTHORIZED);
}

async fn cross_site_posts_are_refused(t: &mut TestApp) {
    let b = signed_in(t, DANA).await;
    let form = [
        ("package", "device-code"),
        ("duration_minutes", "60"),
        ("justification", "deploying the CI runner"),
    ];
    // A cross-site form post is refused and changes nothing; the same form from the portal works.
    for (site, origin, status, events) in [
        (
            "cross-site",
            "https://evil.example",
            StatusCode::FORBIDDEN,
            0,
        ),
        ("same-origin", t.url.as_str(), StatusCode::SEE_OTHER, 1),
    ] {
        let r = b
            .post(format!("{}/requests", t.url))
            .header("origin", origin)
            .header("sec-fetch-site", site)
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "{site}");
        assert_eq!(t.audit_count().await, events, "{site}");
    }
}

/// `return_to` and a form's `back` field lead only to the portal's own pages (issue 8, item 1).
async fn returns_stay_on_the_portal(t: &mut TestApp) {
    // A TAB inside `/<TAB>/evil.example` is dropped by browsers, leaving `//evil.example`.
    for return_to in [
        "%2F%09%2Fevil.example",
        "%2F%5Cevil.example",
        "https%3A%2F%2Fevil.example",
        "%2F%2Fevil.example",
        // Control characters are never written raw into a Location header (issue 8, item 8).
        "%2F%01%2Fevil.example",
        "%2F%1B",
        "%2F%7F",
        "%2Fa%0D%0ASet-Cookie%3A%20x%3D1",
    ] {
        let b = browser();
        let callback = authorize(t, &b, DANA, return_to).await;
        let r = b.get(&callback).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_local(&location(&r), return_to);
    }
    let id = t.request(DANA, "device-code", 60).await;
    for back in [
        "/\t/evil.example",
        "/\\evil.example",
        "//evil.example",
        "https://evil.example/",
        "/\u{1}/evil.example",
        "/\u{1b}x",
        "/\u{7f}",
        "/a\r\nSet-Cookie: x=1",
    ] {
        let r = t
            .http_as(
                Some(DANA),
                reqwest::Method::POST,
                &format!("/requests/{id}/cancel"),
            )
            .form(&[("back", back)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "back={back:?}");
        assert_local(&crate::helpers::redirect_to(&r), back);
    }
}

/// The largest cookie browsers keep (name and value), and what a proxy in front can be counted
/// on to pass in one header.
const COOKIE_LIMIT: usize = 4096;

/// Return paths are bounded (issue 19, item 8): one over 2 kB is dropped, so the sign-in lands
/// on the home page and the login cookie stays small; one under the bound is kept. (60 kB: the
/// longest address the HTTP stack on either side takes is 64 kB.)
async fn long_returns_are_dropped(t: &mut TestApp) {
    let huge = format!("%2Frequests%3Fq%3D{}", "a".repeat(60 * 1024));
    let b = browser();
    let (callback, cookie) = authorize_with_cookie(t, &b, DANA, &huge).await;
    assert!(
        cookie.len() < COOKIE_LIMIT,
        "the login cookie is {} bytes",
        cookie.len()
    );
    let r = b.get(&callback).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/", "the sign-in lands on the home page");
    assert!(session_cookie(&r).is_some(), "signed in all the same");

    // Just under the bound: kept.
    let path = format!("/requests?q={}", "b".repeat(2000));
    let b = browser();
    let (callback, cookie) = authorize_with_cookie(
        t,
        &b,
        DANA,
        &path
            .replace('/', "%2F")
            .replace('?', "%3F")
            .replace('=', "%3D"),
    )
    .await;
    assert!(cookie.len() < COOKIE_LIMIT, "{} bytes", cookie.len());
    let r = b.get(&callback).send().await.unwrap();
    assert_eq!(location(&r), path);

    // A page asked for anonymously at a long address: sent to sign in without it.
    let r = t
        .fetch(None, &format!("/approvals?q={}", "c".repeat(60 * 1024)))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/auth/login");

    // A form's `back` is bounded the same way.
    let id = t.request(DANA, "device-code", 60).await;
    let r = t
        .http_as(
            Some(DANA),
            reqwest::Method::POST,
            &format!("/requests/{id}/cancel"),
        )
        .form(&[("back", format!("/requests?q={}", "d".repeat(40 * 1024)))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(crate::helpers::redirect_to(&r), "/");
}

/// A redirect that stays on the portal: `/`, or a path on it with every control character
/// percent-encoded (another host can only appear as an encoded path segment).
fn assert_local(to: &str, asked: &str) {
    let clean = to.is_ascii() && !to.chars().any(|c| c.is_ascii_control());
    let local =
        to == "/" || (to.starts_with('/') && !to.starts_with("//") && !to.starts_with("/\\"));
    assert!(clean && local, "{asked:?} led to {to:?}");
    assert!(
        !to.contains("evil.example") || to.starts_with("/%"),
        "{asked:?} led to {to:?}"
    );
}

on_both_databases! {
    with TestApp;
    returns => returns_stay_on_the_portal;
    long_returns => long_returns_are_dropped;
    tokens => bad_tokens_are_refused;
    sign_in => sign_in_flow;
    session_cycle => session_id_is_cycled;
    state_and_replay => wrong_state_and_replayed_code;
    csrf => cross_site_posts_are_refused;
}
