//! The command line's sign-ins as Entra serves a public client: authorization code + PKCE with
//! a loopback redirect on any port, no secret, refresh tokens redeemed (and protocol tracked
//! when they came from the device code flow), and the block policy's exclusion of the requests
//! API (and only it: the portal's own API stays behind the block).

use jitgate::emulator::{DeviceLogin, EmulatorConfig, demo};
use reqwest::StatusCode;
use serde_json::Value;

use super::device_code::{code_of, poll, start_flow};
use super::{Graph, SignIn, assert_aad_error, claims, http, start, token_request};

const CLI: &str = demo::CLI_CLIENT_ID;
const API_SCOPE: &str =
    "openid profile offline_access api://3f8b9c2a-6d4e-4f1a-8b7c-2e5d9a0c1b3f/access_as_user";
const REQUESTS_SCOPE: &str =
    "openid profile offline_access api://4e2a7c9d-1b3f-4d6a-9c8e-0f1a2b3c4d5e/access_as_requester";

async fn redeem_code(
    emu: &jitgate::emulator::Emulator,
    s: &SignIn,
    code: &str,
    extra: &[(&str, &str)],
) -> (StatusCode, Value) {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("client_id", s.client_id.as_str()),
        ("code", code),
        ("redirect_uri", s.redirect_uri.as_str()),
        ("code_verifier", s.verifier.as_str()),
    ];
    form.extend_from_slice(extra);
    token_request(emu, &form).await
}

async fn refresh(
    emu: &jitgate::emulator::Emulator,
    token: &str,
    scope: Option<&str>,
) -> (StatusCode, Value) {
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("client_id", CLI),
        ("refresh_token", token),
    ];
    if let Some(s) = scope {
        form.push(("scope", s));
    }
    token_request(emu, &form).await
}

#[tokio::test]
async fn the_command_line_signs_in_with_a_loopback_redirect_and_refreshes() {
    let emu = start(EmulatorConfig::demo()).await;
    assert!(API_SCOPE.contains(demo::CLIENT_ID));
    let http = http();

    // Any loopback port; the code is the public client's, redeemed without a secret.
    let s = SignIn::cli("http://localhost:53117/");
    let code = s.code(&emu, &http, API_SCOPE, demo::DANA).await;
    let (status, body) = redeem_code(&emu, &s, &code, &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let access = claims(body["access_token"].as_str().unwrap());
    assert_eq!(access["aud"], format!("api://{}", demo::CLIENT_ID));
    assert_eq!(access["azp"], CLI);
    assert_eq!(access["azpacr"], "0", "a public client");
    assert_eq!(access["scp"], "access_as_user");
    assert_eq!(access["oid"], demo::DANA);
    let id = claims(body["id_token"].as_str().unwrap());
    assert_eq!(
        (id["aud"].as_str(), id["nonce"].as_str()),
        (Some(CLI), Some(s.nonce.as_str()))
    );
    let first_refresh = body["refresh_token"].as_str().unwrap().to_owned();

    // The same on 127.0.0.1 and another port.
    let s2 = SignIn::cli("http://127.0.0.1:8400/");
    let code2 = s2.code(&emu, &http, API_SCOPE, demo::MORGAN).await;
    assert_eq!(redeem_code(&emu, &s2, &code2, &[]).await.0, StatusCode::OK);

    // A public client presenting a secret is refused.
    let s3 = SignIn::cli("http://localhost:40000/");
    let code3 = s3.code(&emu, &http, API_SCOPE, demo::DANA).await;
    let answer = redeem_code(&emu, &s3, &code3, &[("client_secret", "x")]).await;
    assert_eq!(answer.0, StatusCode::BAD_REQUEST);
    assert_aad_error(&answer.1, "invalid_client", 700025);

    // A redirect that is not loopback (or not the root path) is never sent the code.
    for bad in [
        "http://evil.example:53117/",
        "http://localhost:53117/cb",
        "https://localhost:1/",
    ] {
        let page = http
            .get(super::authorize_url(&emu))
            .query(&SignIn::cli(bad).params(API_SCOPE, "st-1"))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert!(page.text().await.unwrap().contains("AADSTS50011"), "{bad}");
    }

    // Refreshing gives new tokens and a new refresh token; the old one still works, as in
    // Entra, until it has been idle for 90 days.
    let (status, body) = refresh(&emu, &first_refresh, Some(API_SCOPE)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        claims(body["access_token"].as_str().unwrap())["oid"],
        demo::DANA
    );
    let second_refresh = body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second_refresh, first_refresh);
    assert_eq!(refresh(&emu, &first_refresh, None).await.0, StatusCode::OK);
    emu.advance(chrono::Duration::days(91));
    let answer = refresh(&emu, &second_refresh, None).await;
    assert_aad_error(&answer.1, "invalid_grant", 700082);

    // Unknown tokens, tokens of another app, disabled accounts.
    assert_aad_error(
        &refresh(&emu, "0.nope", None).await.1,
        "invalid_grant",
        9002313,
    );
    let s4 = SignIn::cli("http://localhost:1234/");
    let code4 = s4.code(&emu, &http, API_SCOPE, demo::RILEY).await;
    let rt = redeem_code(&emu, &s4, &code4, &[]).await.1["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    emu.set_account_enabled(demo::RILEY, false);
    assert_aad_error(&refresh(&emu, &rt, None).await.1, "invalid_grant", 50057);
    let (_, portal_try) = token_request(
        &emu,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", demo::CLIENT_ID),
            ("client_secret", demo::CLIENT_SECRET),
            ("refresh_token", &rt),
        ],
    )
    .await;
    assert_aad_error(&portal_try, "invalid_grant", 70000);
}

/// A device-code sign-in by `user` for `scope`: started, completed on the page, redeemed.
async fn device_code_tokens(
    emu: &jitgate::emulator::Emulator,
    user: &str,
    scope: &str,
) -> (DeviceLogin, StatusCode, Value) {
    let (device_code, user_code) = code_of(&start_flow(emu, scope).await);
    let login = emu.complete_device_login(&user_code, user).unwrap();
    let (status, body) = poll(emu, &device_code).await;
    (login, status, body)
}

#[tokio::test]
async fn the_block_policy_excludes_the_requests_api_and_tracks_device_code_refreshes() {
    let emu = start(EmulatorConfig::demo()).await;
    assert!(REQUESTS_SCOPE.contains(demo::REQUESTS_API_ID));
    let excluded_apps = |emu: &jitgate::emulator::Emulator| {
        let emu = emu.clone();
        async move {
            let policies: Value = Graph::new(&emu)
                .await
                .get("/identity/conditionalAccess/policies")
                .await
                .json()
                .await
                .unwrap();
            policies["value"][0]["conditions"]["applications"]["excludeApplications"].clone()
        }
    };

    // The requests API is excluded from the block: anyone signs in to it by device code, and
    // the log says no policy applied. Its token names the requests API and carries no app
    // roles (its registration defines none).
    let (login, status, body) = device_code_tokens(&emu, demo::MORGAN, REQUESTS_SCOPE).await;
    assert_eq!(
        (login, status),
        (DeviceLogin::SignedIn, StatusCode::OK),
        "{body}"
    );
    let access = claims(body["access_token"].as_str().unwrap());
    assert_eq!(access["aud"], format!("api://{}", demo::REQUESTS_API_ID));
    assert_eq!(access["scp"], "access_as_requester");
    assert!(access.get("roles").is_none(), "{access}");
    let logged = emu.sign_ins().pop().unwrap();
    assert_eq!(
        (
            logged.error_code,
            logged.conditional_access_status.as_str(),
            logged.resource_id.as_str(),
            logged.resource_display_name.as_str(),
        ),
        (
            0,
            "notApplied",
            demo::REQUESTS_API_ID,
            "jitgate requests API"
        )
    );
    assert_eq!(
        excluded_apps(&emu).await,
        serde_json::json!([demo::REQUESTS_API_ID])
    );

    // The portal's own API stays behind the block, as does anything else.
    let (login, status, body) = device_code_tokens(&emu, demo::DANA, API_SCOPE).await;
    assert_eq!(
        (login, status),
        (DeviceLogin::Blocked, StatusCode::BAD_REQUEST)
    );
    assert_aad_error(&body, "access_denied", 53003);
    let graph_scope = "openid profile offline_access User.Read";
    let (login, status, body) = device_code_tokens(&emu, demo::DANA, graph_scope).await;
    assert_eq!(
        (login, status),
        (DeviceLogin::Blocked, StatusCode::BAD_REQUEST)
    );
    assert_aad_error(&body, "access_denied", 53003);
    // A scope naming two of the tenant's APIs is refused, as Entra refuses two resources.
    let mixed = format!(
        "{API_SCOPE} api://{}/access_as_requester",
        demo::REQUESTS_API_ID
    );
    let (status, body) = super::device_code::start_flow_answer(&emu, &mixed).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_aad_error(&body, "invalid_scope", 28000);

    // A tenant that does not exclude the requests API blocks the command line too.
    emu.set_device_code_policy_excludes_requests_api(false);
    let (login, _, body) = device_code_tokens(&emu, demo::DANA, REQUESTS_SCOPE).await;
    assert_eq!(login, DeviceLogin::Blocked);
    assert_aad_error(&body, "access_denied", 53003);
    assert_eq!(excluded_apps(&emu).await, serde_json::json!([]));
    // A tenant that wrongly excludes the portal's own API lets device code reach it.
    emu.set_device_code_policy_excludes_requests_api(true);
    emu.set_device_code_policy_excludes_portal(true);
    let (login, _, _) = device_code_tokens(&emu, demo::DANA, API_SCOPE).await;
    assert_eq!(login, DeviceLogin::SignedIn);
    assert_eq!(
        excluded_apps(&emu).await,
        serde_json::json!([demo::REQUESTS_API_ID, demo::CLIENT_ID])
    );
    emu.set_device_code_policy_excludes_portal(false);

    // Protocol tracking: a Graph token obtained by device code during a grant refreshes while
    // the grant lasts, and no longer once it is over.
    emu.set_member(demo::EXCLUSION_GROUP_ID, demo::DANA, true);
    let (login, status, body) = device_code_tokens(&emu, demo::DANA, graph_scope).await;
    assert_eq!(
        (login, status),
        (DeviceLogin::SignedIn, StatusCode::OK),
        "{body}"
    );
    let rt = body["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(refresh(&emu, &rt, None).await.0, StatusCode::OK);
    emu.set_member(demo::EXCLUSION_GROUP_ID, demo::DANA, false);
    let (status, body) = refresh(&emu, &rt, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_aad_error(&body, "invalid_grant", 53003);
}
