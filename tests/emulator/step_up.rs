//! Step-up (issue 20, `auth_context`): the `claims` request parameter asking for an
//! authentication context, `{"id_token":{"acrs":{"essential":true,"value":"c1"}}}` or the same
//! for `access_token`, on `/authorize` and on the device code flow's `/devicecode`. The sign-in
//! page then asks the demo user to complete MFA, and the ID and access tokens carry `acrs`;
//! refresh tokens carry them on, and a refresh asking for one never satisfied needs the user.

use jitgate::emulator::{DeviceLogin, EmulatorConfig, demo};
use reqwest::StatusCode;
use serde_json::Value;

use super::device_code::{code_of, poll};
use super::{
    SignIn, assert_aad_error, authorize_url, claims, hidden_fields, http, query_param, start,
    token_request,
};

const ID_TOKEN_C1: &str = r#"{"id_token":{"acrs":{"essential":true,"value":"c1"}}}"#;
const ACCESS_TOKEN_C1: &str = r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#;
const API_SCOPE: &str =
    "openid profile offline_access api://3f8b9c2a-6d4e-4f1a-8b7c-2e5d9a0c1b3f/access_as_user";

/// The sign-in page for `s` with `claims` (if any): its HTML.
async fn sign_in_page(
    emu: &jitgate::emulator::Emulator,
    s: &SignIn,
    claims: Option<&str>,
) -> String {
    let mut q = s.params(API_SCOPE, "st-1");
    if let Some(c) = claims {
        q.push(("claims", c.to_owned()));
    }
    let page = http()
        .get(authorize_url(emu))
        .query(&q)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    page.text().await.unwrap()
}

/// Posts the sign-in page as `user`, with the MFA step done or not; the answer.
async fn pick(
    emu: &jitgate::emulator::Emulator,
    html: &str,
    user: &str,
    mfa: bool,
) -> reqwest::Response {
    let mut form = hidden_fields(html);
    form.push(("user".into(), user.into()));
    if mfa {
        form.push(("mfa".into(), "done".into()));
    }
    http()
        .post(authorize_url(emu))
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// The tokens a code is redeemed for.
async fn redeem(emu: &jitgate::emulator::Emulator, s: &SignIn, location: &str) -> Value {
    let code = query_param(location, "code").expect("a code");
    let (status, body) = token_request(
        emu,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", s.client_id.as_str()),
            ("code", code.as_str()),
            ("redirect_uri", s.redirect_uri.as_str()),
            ("code_verifier", s.verifier.as_str()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn authorize_with_a_claims_request_asks_for_mfa_and_issues_acrs() {
    let emu = start(EmulatorConfig::demo()).await;
    let s = SignIn::cli("http://127.0.0.1:8400/");

    // Without a claims request: no MFA step, no acrs.
    let html = sign_in_page(&emu, &s, None).await;
    assert!(!html.contains("Complete MFA"), "{html}");
    let resp = pick(&emu, &html, demo::DANA, false).await;
    let body = redeem(&emu, &s, resp.headers()["location"].to_str().unwrap()).await;
    for t in ["id_token", "access_token"] {
        assert!(claims(body[t].as_str().unwrap())["acrs"].is_null(), "{t}");
    }

    // With one (either token's): the page asks to complete MFA.
    for request in [ID_TOKEN_C1, ACCESS_TOKEN_C1] {
        let html = sign_in_page(&emu, &s, Some(request)).await;
        assert!(
            html.contains("Complete MFA") && html.contains("authentication context c1"),
            "{html}"
        );
        // Picking the user without it: the page again, saying so, and no code.
        let again = pick(&emu, &html, demo::DANA, false).await;
        assert_eq!(again.status(), StatusCode::OK);
        let again = again.text().await.unwrap();
        assert!(again.contains("Complete MFA to continue"), "{again}");
        // The same page, MFA done: a code, and tokens that carry the context.
        let done = pick(&emu, &again, demo::DANA, true).await;
        assert!(done.status().is_redirection(), "{}", done.status());
        let body = redeem(&emu, &s, done.headers()["location"].to_str().unwrap()).await;
        let id = claims(body["id_token"].as_str().unwrap());
        let access = claims(body["access_token"].as_str().unwrap());
        assert_eq!(id["acrs"], serde_json::json!(["c1"]), "{id}");
        assert_eq!(access["acrs"], serde_json::json!(["c1"]), "{access}");

        // The refresh token carries the context on; asking for another needs the user.
        let refresh = body["refresh_token"].as_str().unwrap();
        let (status, renewed) = token_request(
            &emu,
            &[
                ("grant_type", "refresh_token"),
                ("client_id", s.client_id.as_str()),
                ("refresh_token", refresh),
                ("claims", ACCESS_TOKEN_C1),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{renewed}");
        let access = claims(renewed["access_token"].as_str().unwrap());
        assert_eq!(access["acrs"], serde_json::json!(["c1"]));
        let (status, refused) = token_request(
            &emu,
            &[
                ("grant_type", "refresh_token"),
                ("client_id", s.client_id.as_str()),
                ("refresh_token", refresh),
                (
                    "claims",
                    r#"{"access_token":{"acrs":{"essential":true,"value":"c2"}}}"#,
                ),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_aad_error(&refused, "invalid_grant", 50076);
        assert_eq!(refused["suberror"], "basic_action");
    }

    // A claims parameter that is not a JSON object goes back to the app as invalid_request.
    let mut q = s.params(API_SCOPE, "st-9");
    q.push(("claims", "c1".into()));
    let resp = http()
        .get(authorize_url(&emu))
        .query(&q)
        .send()
        .await
        .unwrap();
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(
        query_param(&location, "error").as_deref(),
        Some("invalid_request")
    );
    assert_eq!(query_param(&location, "state").as_deref(), Some("st-9"));

    // A tenant that ignores claims requests asks nothing and issues no acrs.
    emu.set_claims_honoured(false);
    let html = sign_in_page(&emu, &s, Some(ID_TOKEN_C1)).await;
    assert!(!html.contains("Complete MFA"), "{html}");
    let resp = pick(&emu, &html, demo::DANA, false).await;
    let body = redeem(&emu, &s, resp.headers()["location"].to_str().unwrap()).await;
    assert!(claims(body["id_token"].as_str().unwrap())["acrs"].is_null());
}

#[tokio::test]
async fn the_device_code_flow_takes_the_claims_request_on_devicecode() {
    let emu = start(EmulatorConfig::demo()).await;
    let devicecode = |claims: Option<&'static str>| {
        let emu = &emu;
        async move {
            let mut form = vec![("client_id", demo::CLI_CLIENT_ID), ("scope", API_SCOPE)];
            if let Some(c) = claims {
                form.push(("claims", c));
            }
            let resp = http()
                .post(format!(
                    "{}/{}/oauth2/v2.0/devicecode",
                    emu.base_url(),
                    demo::TENANT_ID
                ))
                .form(&form)
                .send()
                .await
                .unwrap();
            let status = resp.status();
            (status, resp.json::<Value>().await.unwrap())
        }
    };
    // The policy that blocks the device code flow must not stand in the way of this test.
    emu.set_device_code_policy_enabled(false);

    let (status, flow) = devicecode(Some(ACCESS_TOKEN_C1)).await;
    assert_eq!(status, StatusCode::OK, "{flow}");
    let (device_code, user_code) = code_of(&flow);
    // The device-login page asks for MFA, and will not complete without it.
    let page = http()
        .post(emu.device_login_url())
        .form(&[("otc", user_code.as_str()), ("action", "next")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Complete MFA"), "{page}");
    let without = http()
        .post(emu.device_login_url())
        .form(&[
            ("otc", user_code.as_str()),
            ("user", demo::DANA),
            ("action", "continue"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(without.contains("Complete MFA to continue"), "{without}");
    assert!(emu.complete_device_login(&user_code, demo::DANA).is_err());
    assert_eq!(
        emu.complete_device_login_with_mfa(&user_code, demo::DANA),
        Ok(DeviceLogin::SignedIn)
    );
    let (status, body) = poll(&emu, &device_code).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let access = claims(body["access_token"].as_str().unwrap());
    assert_eq!(access["acrs"], serde_json::json!(["c1"]), "{access}");

    // Without a claims request: no MFA step, no acrs.
    let (_, flow) = devicecode(None).await;
    let (device_code, user_code) = code_of(&flow);
    emu.complete_device_login(&user_code, demo::DANA).unwrap();
    emu.advance(chrono::Duration::seconds(10));
    let (status, body) = poll(&emu, &device_code).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(claims(body["access_token"].as_str().unwrap())["acrs"].is_null());

    // A malformed claims request is refused at /devicecode.
    let (status, body) = devicecode(Some("[\"c1\"]")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_aad_error(&body, "invalid_request", 9002313);
}
