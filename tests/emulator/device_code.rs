//! The device code flow (RFC 8628) as Entra speaks it: `/devicecode`, the device-login page,
//! polling the token endpoint, Conditional Access decided when the user completes the page, and
//! the sign-in log on Graph (v1.0 and beta).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use jitgate::emulator::{DeviceLogin, Emulator, EmulatorConfig, SignInQuirk, demo};
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{Graph, assert_aad_error, claims, graph_error, hidden_fields, http, start};

const CLI: &str = demo::CLI_CLIENT_ID;
const EXCLUDED: &str = demo::EXCLUSION_GROUP_ID;
const GRAPH_SCOPE: &str = "openid profile offline_access User.Read";

fn devicecode_url(emu: &Emulator, tenant: &str) -> String {
    format!("{}/{tenant}/oauth2/v2.0/devicecode", emu.base_url())
}

async fn devicecode_at(emu: &Emulator, tenant: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let resp = http()
        .post(devicecode_url(emu, tenant))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap())
}

/// Starts a device code flow for the CLI; returns the `/devicecode` answer.
pub(super) async fn start_flow(emu: &Emulator, scope: &str) -> Value {
    let (status, body) = start_flow_answer(emu, scope).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// The `/devicecode` answer to the CLI asking for `scope`, whatever it is.
pub(super) async fn start_flow_answer(emu: &Emulator, scope: &str) -> (StatusCode, Value) {
    devicecode_at(
        emu,
        demo::TENANT_ID,
        &[("client_id", CLI), ("scope", scope)],
    )
    .await
}

/// One poll of the token endpoint, with MSAL's extra `code=`.
pub(super) async fn poll(emu: &Emulator, device_code: &str) -> (StatusCode, Value) {
    super::token_request(
        emu,
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("client_id", CLI),
            ("device_code", device_code),
            ("code", device_code),
        ],
    )
    .await
}

pub(super) fn code_of(flow: &Value) -> (String, String) {
    (
        flow["device_code"].as_str().unwrap().to_owned(),
        flow["user_code"].as_str().unwrap().to_owned(),
    )
}

fn assert_poll_error(answer: &(StatusCode, Value), error: &str, code: u64) {
    assert_eq!(answer.0, StatusCode::BAD_REQUEST, "{}", answer.1);
    assert_aad_error(&answer.1, error, code);
}

fn secs(n: i64) -> chrono::Duration {
    chrono::Duration::seconds(n)
}

#[tokio::test]
async fn devicecode_answers_like_entra_and_rejects_bad_requests() {
    let emu = start(EmulatorConfig::demo()).await;
    let flow = start_flow(&emu, GRAPH_SCOPE).await;
    let mut keys: Vec<&str> = flow
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "device_code",
            "expires_in",
            "interval",
            "message",
            "user_code",
            "verification_uri"
        ]
    );
    assert_eq!(flow["expires_in"], 900);
    assert_eq!(flow["interval"], 5);
    assert_eq!(flow["verification_uri"], emu.device_login_url());
    assert_eq!(
        emu.device_login_url(),
        format!("{}/{}/oauth2/deviceauth", emu.base_url(), demo::TENANT_ID)
    );
    let (device_code, user_code) = code_of(&flow);
    assert_eq!(user_code.len(), 9, "{user_code}");
    assert!(
        user_code
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            && !user_code.contains(['0', 'O', '1', 'I', 'L']),
        "{user_code}"
    );
    assert!(device_code.len() >= 64, "{device_code}");
    assert_eq!(
        flow["message"],
        format!(
            "To sign in, use a web browser to open the page {} and enter the code {user_code} to authenticate.",
            emu.device_login_url()
        )
    );
    assert_ne!(code_of(&start_flow(&emu, GRAPH_SCOPE).await).1, user_code);

    let good = [("client_id", CLI), ("scope", GRAPH_SCOPE)];
    for tenant in ["common", "consumers"] {
        let (status, body) = devicecode_at(&emu, tenant, &good).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_aad_error(&body, "invalid_request", 90133);
        assert!(
            body["error_description"].as_str().unwrap().contains(
                "Device Code flow is not supported under /common or /consumers endpoint."
            )
        );
    }
    let (status, body) = devicecode_at(&emu, "contoso.example", &good).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_aad_error(&body, "invalid_tenant", 90002);

    let (status, body) = devicecode_at(&emu, demo::TENANT_ID, &[("client_id", CLI)]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_aad_error(&body, "invalid_request", 900144);
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("'scope'")
    );

    let unknown = "11111111-2222-4333-8444-555555555555";
    for client in [unknown, demo::CLIENT_ID] {
        let (status, body) = devicecode_at(
            &emu,
            demo::TENANT_ID,
            &[("client_id", client), ("scope", GRAPH_SCOPE)],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{client}");
        assert_aad_error(&body, "unauthorized_client", 700016);
        assert!(body["error_description"].as_str().unwrap().contains(client));
    }
}

#[tokio::test]
async fn polling_answers_pending_slow_down_expired_and_unknown_codes() {
    let emu = start(EmulatorConfig::demo()).await;
    let (device_code, _) = code_of(&start_flow(&emu, GRAPH_SCOPE).await);

    let pending = poll(&emu, &device_code).await;
    assert_poll_error(&pending, "authorization_pending", 70016);
    assert!(
        pending.1["error_description"]
            .as_str()
            .unwrap()
            .contains("Authorization is pending. Continue polling.")
    );
    // Again at once: too early.
    assert_poll_error(&poll(&emu, &device_code).await, "slow_down", 70016);
    // The device must now wait 5 + 5 seconds.
    emu.advance(secs(5));
    assert_poll_error(&poll(&emu, &device_code).await, "slow_down", 70016);
    emu.advance(secs(15));
    assert_poll_error(
        &poll(&emu, &device_code).await,
        "authorization_pending",
        70016,
    );

    // A device that waits the interval is never told to slow down.
    let (patient, _) = code_of(&start_flow(&emu, GRAPH_SCOPE).await);
    for _ in 0..3 {
        assert_poll_error(&poll(&emu, &patient).await, "authorization_pending", 70016);
        emu.advance(secs(5));
    }

    // 900 seconds after it was issued the code has expired.
    let (late, user_code) = code_of(&start_flow(&emu, GRAPH_SCOPE).await);
    emu.advance(secs(900));
    assert_poll_error(&poll(&emu, &late).await, "expired_token", 70019);
    assert!(emu.complete_device_login(&user_code, demo::DANA).is_err());

    assert_poll_error(
        &poll(&emu, "DAQABIQEAAABnot-a-device-code").await,
        "bad_verification_code",
        70018,
    );

    // Only the public client may poll, and without a secret.
    let (status, body) = super::token_request(
        &emu,
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("client_id", demo::CLIENT_ID),
            ("device_code", &patient),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_aad_error(&body, "unauthorized_client", 700016);
    let (status, body) = super::token_request(
        &emu,
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("client_id", CLI),
            ("client_secret", "s3cret"),
            ("device_code", &patient),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_aad_error(&body, "invalid_client", 700025);
}

#[tokio::test]
async fn a_completed_login_yields_tokens_once() {
    let emu = start(EmulatorConfig::demo()).await;
    emu.set_member(EXCLUDED, demo::DANA, true);
    let (device_code, user_code) = code_of(&start_flow(&emu, GRAPH_SCOPE).await);
    assert_poll_error(
        &poll(&emu, &device_code).await,
        "authorization_pending",
        70016,
    );
    assert_eq!(
        emu.complete_device_login(&user_code.to_lowercase(), demo::DANA),
        Ok(DeviceLogin::SignedIn)
    );
    // Completing twice does not work.
    assert!(emu.complete_device_login(&user_code, demo::DANA).is_err());
    emu.advance(secs(5));
    let (status, body) = poll(&emu, &device_code).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "openid profile User.Read");
    assert_eq!(body["expires_in"], 3599);
    assert!(body["refresh_token"].is_string());
    let id = claims(body["id_token"].as_str().unwrap());
    assert_eq!(id["aud"], CLI);
    assert_eq!(id["oid"], demo::DANA);
    assert_eq!(id["iss"], emu.issuer());
    assert!(id.get("nonce").is_none());
    let access = claims(body["access_token"].as_str().unwrap());
    assert_eq!(access["aud"], jitgate::emulator::GRAPH_APP_ID);
    assert_eq!(access["azp"], CLI);
    assert_eq!(access["azpacr"], "0");
    assert_eq!(access["scp"], "openid profile User.Read");

    // Redeemed once only.
    emu.advance(secs(5));
    assert_poll_error(&poll(&emu, &device_code).await, "invalid_grant", 54005);

    // The portal's API, without openid or offline_access: no ID token, no refresh token.
    let api_scope = format!("api://{}/access_as_user", demo::CLIENT_ID);
    let (device_code, user_code) = code_of(&start_flow(&emu, &api_scope).await);
    emu.complete_device_login(&user_code, demo::DANA).unwrap();
    let (status, body) = poll(&emu, &device_code).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("id_token").is_none() && body.get("refresh_token").is_none());
    assert_eq!(body["scope"], api_scope);
    let access = claims(body["access_token"].as_str().unwrap());
    assert_eq!(access["aud"], format!("api://{}", demo::CLIENT_ID));
    assert_eq!(access["scp"], "access_as_user");
}

#[tokio::test]
async fn deny_declines_the_login() {
    let emu = start(EmulatorConfig::demo()).await;
    let (device_code, user_code) = code_of(&start_flow(&emu, GRAPH_SCOPE).await);
    emu.decline_device_login(&user_code, demo::RILEY).unwrap();
    assert_poll_error(
        &poll(&emu, &device_code).await,
        "authorization_declined",
        65004,
    );
    let log = emu.sign_ins();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].user_id, demo::RILEY);
    assert_eq!(log[0].error_code, 65004);
    assert_eq!(log[0].conditional_access_status, "notApplied");
    assert!(emu.decline_device_login(&user_code, demo::RILEY).is_err());
}

#[tokio::test]
async fn conditional_access_blocks_users_outside_the_exclusion_group() {
    let emu = start(EmulatorConfig::demo()).await;
    let (device_code, user_code) = code_of(&start_flow(&emu, GRAPH_SCOPE).await);
    assert_eq!(
        emu.complete_device_login(&user_code, demo::DANA),
        Ok(DeviceLogin::Blocked)
    );
    let blocked = poll(&emu, &device_code).await;
    assert_poll_error(&blocked, "access_denied", 53003);
    assert!(
        blocked.1["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS53003: Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.")
    );
    assert_eq!(blocked.1["suberror"], "message_only");
    let log = emu.sign_ins();
    let last = log.last().unwrap();
    assert_eq!(last.user_id, demo::DANA);
    assert_eq!(last.conditional_access_status, "failure");
    assert_eq!(last.error_code, 53003);
    assert_eq!(last.app_display_name, "jitgate CLI");
    assert_eq!(last.ip_address, "127.0.0.1");

    // In the exclusion group: signed in.
    emu.set_member(EXCLUDED, demo::DANA, true);
    let (device_code, user_code) = code_of(&start_flow(&emu, GRAPH_SCOPE).await);
    assert_eq!(
        emu.complete_device_login(&user_code, demo::DANA),
        Ok(DeviceLogin::SignedIn)
    );
    assert_eq!(poll(&emu, &device_code).await.0, StatusCode::OK);
    let last = emu.sign_ins().pop().unwrap();
    assert_eq!(
        (last.error_code, last.conditional_access_status.as_str()),
        (0, "notApplied")
    );
    assert_eq!(last.failure_reason, "Other.");

    // The decision is taken when the page is completed: removing Dana later does not matter.
    let (device_code, user_code) = code_of(&start_flow(&emu, GRAPH_SCOPE).await);
    emu.complete_device_login(&user_code, demo::DANA).unwrap();
    emu.set_member(EXCLUDED, demo::DANA, false);
    assert_eq!(poll(&emu, &device_code).await.0, StatusCode::OK);

    // Out of the group again: blocked again.
    let (device_code, user_code) = code_of(&start_flow(&emu, GRAPH_SCOPE).await);
    assert_eq!(
        emu.complete_device_login(&user_code, demo::DANA),
        Ok(DeviceLogin::Blocked)
    );
    assert_poll_error(&poll(&emu, &device_code).await, "access_denied", 53003);

    // Membership changed through Graph counts the same way.
    let graph = Graph::new(&emu).await;
    assert_eq!(
        graph.add(EXCLUDED, demo::RILEY).await.status(),
        StatusCode::NO_CONTENT
    );
    let (_, user_code) = code_of(&start_flow(&emu, GRAPH_SCOPE).await);
    assert_eq!(
        emu.complete_device_login(&user_code, demo::RILEY),
        Ok(DeviceLogin::SignedIn)
    );

    // With the policy off nobody is blocked, and Graph shows it disabled.
    emu.set_device_code_policy_enabled(false);
    let (_, user_code) = code_of(&start_flow(&emu, GRAPH_SCOPE).await);
    assert_eq!(
        emu.complete_device_login(&user_code, demo::MORGAN),
        Ok(DeviceLogin::SignedIn)
    );
    let policies: Value = graph
        .get("/identity/conditionalAccess/policies")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(policies["value"][0]["state"], "disabled");

    // A disabled account cannot complete the page; the attempt is logged.
    emu.set_account_enabled(demo::JORDAN, false);
    let (_, user_code) = code_of(&start_flow(&emu, GRAPH_SCOPE).await);
    assert!(emu.complete_device_login(&user_code, demo::JORDAN).is_err());
    assert_eq!(emu.sign_ins().pop().unwrap().error_code, 50057);
}

fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The page, driven like a browser: code, account, Continue or Deny.
#[tokio::test]
async fn the_device_login_page() {
    let emu = start(EmulatorConfig::demo()).await;
    emu.set_member(EXCLUDED, demo::AVERY, true);
    let page_url = emu.device_login_url();
    let http = http();
    let post = |form: Vec<(String, String)>, forwarded: Option<&'static str>| {
        let mut req = http.post(&page_url).form(&form);
        if let Some(ip) = forwarded {
            req = req.header("X-Forwarded-For", ip);
        }
        async move {
            let resp = req.send().await.unwrap();
            (resp.status(), resp.text().await.unwrap())
        }
    };

    let resp = http.get(&page_url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let html = resp.text().await.unwrap();
    assert!(html.contains("name=\"otc\""), "{html}");
    assert!(html.contains("data-outcome=\"code\""));

    // A wrong code shows an error on the page.
    let (status, html) = post(fields(&[("otc", "WRONGCODE")]), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"error\""), "{html}");
    assert!(html.contains("That code didn"), "{html}");

    // The right code asks who is signing in, for which app.
    let (device_code, user_code) = code_of(&start_flow(&emu, GRAPH_SCOPE).await);
    let (status, html) = post(fields(&[("otc", &user_code)]), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("data-outcome=\"account\""), "{html}");
    assert!(html.contains("jitgate CLI"));
    assert!(html.contains(&format!("value=\"{}\"", demo::AVERY)));
    assert!(html.contains("value=\"continue\"") && html.contains("value=\"deny\""));
    let mut form = hidden_fields(&html);
    assert_eq!(form, [("otc".to_owned(), user_code.clone())]);
    form.push(("user".to_owned(), demo::AVERY.to_owned()));
    form.push(("action".to_owned(), "continue".to_owned()));
    let (status, html) = post(form, Some("203.0.113.7")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("data-outcome=\"signed-in\""), "{html}");
    assert!(html.contains("You have signed in to the jitgate CLI application"));
    assert_eq!(poll(&emu, &device_code).await.0, StatusCode::OK);
    let last = emu.sign_ins().pop().unwrap();
    assert_eq!(last.ip_address, "203.0.113.7");
    assert_eq!(last.user_id, demo::AVERY);

    // The used code no longer works.
    let (_, html) = post(fields(&[("otc", &user_code)]), None).await;
    assert!(html.contains("already used"), "{html}");

    // Continue without picking an account asks again.
    let (_, user_code) = code_of(&start_flow(&emu, GRAPH_SCOPE).await);
    let (_, html) = post(fields(&[("otc", &user_code), ("action", "continue")]), None).await;
    assert!(html.contains("Pick an account"), "{html}");

    // Dana is not excluded from the policy: "You cannot access this right now".
    let (status, html) = post(
        fields(&[
            ("otc", &user_code),
            ("user", demo::DANA),
            ("action", "continue"),
        ]),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("data-outcome=\"blocked\""), "{html}");
    assert!(html.contains("You cannot access this right now"));
    assert!(html.contains("AADSTS53003"));

    // Deny.
    let (device_code, user_code) = code_of(&start_flow(&emu, GRAPH_SCOPE).await);
    let (_, html) = post(
        fields(&[
            ("otc", &user_code),
            ("user", demo::RILEY),
            ("action", "deny"),
        ]),
        None,
    )
    .await;
    assert!(html.contains("data-outcome=\"declined\""), "{html}");
    assert_poll_error(
        &poll(&emu, &device_code).await,
        "authorization_declined",
        65004,
    );

    // Another tenant's page does not exist.
    let resp = http
        .get(format!(
            "{}/contoso.example/oauth2/deviceauth",
            emu.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
}

/// Signs `user` in with the device code flow (blocked or not); the clock moves `gap` on after.
async fn sign_in(emu: &Emulator, user: &str, gap: i64) {
    let (_, user_code) = code_of(&start_flow(emu, GRAPH_SCOPE).await);
    emu.complete_device_login(&user_code, user).unwrap();
    emu.advance(secs(gap));
}

async fn list(graph: &Graph, path: &str) -> Value {
    let resp = graph.get(path).await;
    assert_eq!(resp.status(), StatusCode::OK, "{path}");
    resp.json().await.unwrap()
}

fn user_ids(page: &Value) -> Vec<String> {
    page["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["userId"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_sign_in_log_filters_pages_and_needs_audit_log_read_all() {
    let emu = start(EmulatorConfig::demo()).await;
    emu.set_member(EXCLUDED, demo::MORGAN, true);
    sign_in(&emu, demo::DANA, 60).await; // blocked
    sign_in(&emu, demo::MORGAN, 60).await; // signed in
    let since = emu.now();
    sign_in(&emu, demo::DANA, 60).await; // blocked
    sign_in(&emu, demo::MORGAN, 60).await;
    sign_in(&emu, demo::RILEY, 60).await; // blocked

    let graph = Graph::new(&emu).await;
    let beta = format!("{}/beta", emu.base_url());
    let all = list(&graph, "/auditLogs/signIns").await;
    assert_eq!(
        all["@odata.context"],
        format!("{}/v1.0/$metadata#auditLogs/signIns", emu.base_url())
    );
    // Newest first.
    assert_eq!(
        user_ids(&all),
        [
            demo::RILEY,
            demo::MORGAN,
            demo::DANA,
            demo::MORGAN,
            demo::DANA
        ]
    );
    assert!(all.get("@odata.nextLink").is_none());
    let first = &all["value"][0];
    assert_eq!(
        first["userPrincipalName"],
        format!("riley@{}", demo::DOMAIN)
    );
    assert_eq!(first["userDisplayName"], "Riley Requester");
    assert_eq!(first["appId"], CLI);
    assert_eq!(first["appDisplayName"], "jitgate CLI");
    assert_eq!(first["ipAddress"], "127.0.0.1");
    assert_eq!(first["clientAppUsed"], "Mobile Apps and Desktop clients");
    assert_eq!(first["isInteractive"], true);
    assert_eq!(first["conditionalAccessStatus"], "failure");
    assert_eq!(first["status"]["errorCode"], 53003);
    assert_eq!(first["resourceDisplayName"], "Microsoft Graph");
    assert!(first.get("authenticationProtocol").is_none(), "beta only");
    let created = first["createdDateTime"].as_str().unwrap();
    assert!(created.ends_with('Z'), "{created}");
    chrono::DateTime::parse_from_rfc3339(created).unwrap();

    let dana = list(
        &graph,
        &format!("/auditLogs/signIns?$filter=userId eq '{}'", demo::DANA),
    )
    .await;
    assert_eq!(user_ids(&dana), [demo::DANA, demo::DANA]);

    let recent = list(
        &graph,
        &format!(
            "/auditLogs/signIns?$filter=createdDateTime ge {}",
            since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ),
    )
    .await;
    assert_eq!(user_ids(&recent), [demo::RILEY, demo::MORGAN, demo::DANA]);

    let blocked = list(
        &graph,
        "/auditLogs/signIns?$filter=status/errorCode eq 53003",
    )
    .await;
    assert_eq!(user_ids(&blocked).len(), 3);
    let by_app = list(
        &graph,
        &format!("/auditLogs/signIns?$filter=appId eq '{CLI}'"),
    )
    .await;
    assert_eq!(user_ids(&by_app).len(), 5);

    // What jitgate asks the beta endpoint.
    let filter = format!(
        "userId eq '{}' and createdDateTime ge {} and authenticationProtocol eq 'deviceCode'",
        demo::MORGAN,
        since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    let mut url = url::Url::parse(&format!("{beta}/auditLogs/signIns")).unwrap();
    url.query_pairs_mut().append_pair("$filter", &filter);
    let morgan = list(&graph, url.as_str()).await;
    assert_eq!(user_ids(&morgan), [demo::MORGAN]);
    assert_eq!(morgan["value"][0]["authenticationProtocol"], "deviceCode");
    assert_eq!(morgan["value"][0]["status"]["errorCode"], 0);
    assert_eq!(
        morgan["@odata.context"],
        format!("{}/beta/$metadata#auditLogs/signIns", emu.base_url())
    );

    // authenticationProtocol does not exist in v1.0; other clauses are not supported.
    let msg = graph_error(
        graph
            .get("/auditLogs/signIns?$filter=authenticationProtocol eq 'deviceCode'")
            .await,
        StatusCode::BAD_REQUEST,
        "BadRequest",
    )
    .await;
    assert!(msg.contains("authenticationProtocol"), "{msg}");
    for filter in [
        "userPrincipalName eq 'dana@x'",
        "userId eq 'a' or userId eq 'b'",
        "startsWith(userPrincipalName, 'dana')",
    ] {
        graph_error(
            graph
                .get(&format!("/auditLogs/signIns?$filter={filter}"))
                .await,
            StatusCode::BAD_REQUEST,
            "Request_UnsupportedQuery",
        )
        .await;
    }
    graph_error(
        graph.get("/auditLogs/signIns?$top=1001").await,
        StatusCode::BAD_REQUEST,
        "Request_BadRequest",
    )
    .await;

    // Paging through nextLink, with the filter carried along.
    let mut seen = Vec::new();
    let mut next = Some(format!(
        "{beta}/auditLogs/signIns?$top=2&$filter=appId eq '{CLI}'"
    ));
    let mut pages = 0;
    while let Some(link) = next {
        let page = list(&graph, &link).await;
        assert!(page["value"].as_array().unwrap().len() <= 2);
        seen.extend(
            page["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["id"].clone()),
        );
        next = page["@odata.nextLink"].as_str().map(str::to_owned);
        if let Some(link) = &next {
            assert!(
                link.contains("skiptoken") && link.contains("filter"),
                "{link}"
            );
        }
        pages += 1;
    }
    assert_eq!(pages, 3);
    let ids: Vec<Value> = all["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].clone())
        .collect();
    assert_eq!(seen, ids);

    // One sign-in by id.
    let id = all["value"][0]["id"].as_str().unwrap();
    let one = list(&graph, &format!("/auditLogs/signIns/{id}")).await;
    assert_eq!(one["userId"], demo::RILEY);

    // Without AuditLog.Read.All: 403.
    let mut config = EmulatorConfig::demo();
    config.app_permissions.retain(|p| p != "AuditLog.Read.All");
    let other = start(config).await;
    let graph = Graph::new(&other).await;
    for path in [
        format!("{}/v1.0/auditLogs/signIns", other.base_url()),
        format!("{}/beta/auditLogs/signIns", other.base_url()),
    ] {
        graph_error(
            graph.get(&path).await,
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
        )
        .await;
    }
}

#[tokio::test]
async fn sign_ins_show_in_the_log_after_the_delay() {
    let emu = start(EmulatorConfig::demo()).await;
    emu.set_sign_in_log_delay(std::time::Duration::from_secs(300));
    let before = emu.now();
    sign_in(&emu, demo::DANA, 0).await;
    let signed = emu.sign_ins();
    assert_eq!(signed.len(), 1);
    assert!(signed[0].created >= before && signed[0].created <= emu.now());
    let graph = Graph::new(&emu).await;
    assert!(user_ids(&list(&graph, "/auditLogs/signIns").await).is_empty());
    emu.advance(secs(299));
    assert!(user_ids(&list(&graph, "/auditLogs/signIns").await).is_empty());
    emu.advance(secs(1));
    assert_eq!(
        user_ids(&list(&graph, "/auditLogs/signIns").await),
        [demo::DANA]
    );
}

/// A test can have the log serve one entry out of shape (issue 19, item 7): without
/// `createdDateTime`, or with `status.errorCode` as a string; in lists and alone, until cleared.
#[tokio::test]
async fn sign_in_log_entries_can_be_served_out_of_shape() {
    let emu = start(EmulatorConfig::demo()).await;
    sign_in(&emu, demo::DANA, 60).await; // blocked: 53003
    sign_in(&emu, demo::RILEY, 60).await;
    let ids: Vec<String> = emu.sign_ins().into_iter().map(|s| s.id).collect();
    emu.set_sign_in_quirk(&ids[0].to_uppercase(), Some(SignInQuirk::ErrorCodeAsString));
    emu.set_sign_in_quirk(&ids[1], Some(SignInQuirk::NoCreatedDateTime));
    let graph = Graph::new(&emu).await;
    let all = list(&graph, "/auditLogs/signIns").await;
    let entry = |id: &str| {
        all["value"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(entry(&ids[0])["status"]["errorCode"], "53003");
    assert!(entry(&ids[0])["createdDateTime"].is_string());
    assert!(entry(&ids[1]).get("createdDateTime").is_none(), "{all}");
    assert!(entry(&ids[1])["status"]["errorCode"].is_number());
    let one = list(&graph, &format!("/auditLogs/signIns/{}", ids[1])).await;
    assert!(one.get("createdDateTime").is_none(), "{one}");
    // Filters still see the entry as it was recorded.
    let since = list(
        &graph,
        &format!(
            "/auditLogs/signIns?$filter=createdDateTime ge {}",
            (emu.now() - chrono::Duration::hours(1))
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ),
    )
    .await;
    assert_eq!(since["value"].as_array().unwrap().len(), 2);
    emu.set_sign_in_quirk(&ids[1], None);
    let one = list(&graph, &format!("/auditLogs/signIns/{}", ids[1])).await;
    assert!(one["createdDateTime"].is_string(), "{one}");
}

/// A third-party client: the `oauth2` crate's device flow (through `openidconnect`), with the
/// device authorization endpoint from discovery.
mod third_party {
    use super::*;
    use openidconnect::core::{
        CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClient, CoreClientAuthMethod,
        CoreDeviceAuthorizationResponse, CoreGrantType, CoreJsonWebKey,
        CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm, CoreResponseMode,
        CoreResponseType, CoreSubjectIdentifierType,
    };
    use openidconnect::{
        AdditionalProviderMetadata, ClientId, DeviceAuthorizationUrl, DeviceCodeErrorResponseType,
        IssuerUrl, Nonce, OAuth2TokenResponse, ProviderMetadata, RequestTokenError, Scope,
        TokenResponse,
    };

    #[derive(Clone, Debug, serde::Deserialize, serde::Serialize)]
    struct DeviceEndpoint {
        device_authorization_endpoint: DeviceAuthorizationUrl,
    }
    impl AdditionalProviderMetadata for DeviceEndpoint {}
    type Metadata = ProviderMetadata<
        DeviceEndpoint,
        CoreAuthDisplay,
        CoreClientAuthMethod,
        CoreClaimName,
        CoreClaimType,
        CoreGrantType,
        CoreJweContentEncryptionAlgorithm,
        CoreJweKeyManagementAlgorithm,
        CoreJsonWebKey,
        CoreResponseMode,
        CoreResponseType,
        CoreSubjectIdentifierType,
    >;

    /// Runs the device flow for `user`; the page is completed during the client's first wait,
    /// and every wait moves the emulator's clock instead of sleeping.
    async fn device_flow(
        emu: &Emulator,
        user: &'static str,
    ) -> Result<
        openidconnect::core::CoreTokenResponse,
        RequestTokenError<
            openidconnect::HttpClientError<reqwest::Error>,
            openidconnect::DeviceCodeErrorResponse,
        >,
    > {
        let http = http();
        let metadata = Metadata::discover_async(IssuerUrl::new(emu.issuer()).unwrap(), &http)
            .await
            .unwrap();
        let endpoint = metadata
            .additional_metadata()
            .device_authorization_endpoint
            .clone();
        assert_eq!(
            endpoint.as_str(),
            format!(
                "{}/{}/oauth2/v2.0/devicecode",
                emu.base_url(),
                demo::TENANT_ID
            )
        );
        let client =
            CoreClient::from_provider_metadata(metadata, ClientId::new(CLI.to_owned()), None)
                .set_device_authorization_url(endpoint);
        let details: CoreDeviceAuthorizationResponse = client
            .exchange_device_code()
            .add_scope(Scope::new("profile".to_owned()))
            .add_scope(Scope::new(format!(
                "api://{}/access_as_user",
                demo::CLIENT_ID
            )))
            .request_async(&http)
            .await
            .unwrap();
        assert_eq!(details.verification_uri().as_str(), emu.device_login_url());
        assert!(details.verification_uri_complete().is_none());
        assert_eq!(details.interval(), std::time::Duration::from_secs(5));
        let user_code = details.user_code().secret().clone();
        let waits = Arc::new(AtomicU32::new(0));
        let sleep = {
            let (emu, waits) = (emu.clone(), waits.clone());
            move |interval: std::time::Duration| {
                if waits.fetch_add(1, Ordering::SeqCst) == 0 {
                    emu.complete_device_login(&user_code, user).unwrap();
                }
                emu.advance(chrono::Duration::from_std(interval).unwrap());
                std::future::ready(())
            }
        };
        let result = client
            .exchange_device_access_token(&details)
            .unwrap()
            .request_async(&http, sleep, None)
            .await;
        assert_eq!(
            waits.load(Ordering::SeqCst),
            1,
            "one pending poll, then the answer"
        );
        if let Ok(token) = &result {
            let id_token = token.id_token().expect("an ID token");
            let verified = id_token
                .claims(&client.id_token_verifier(), |_: Option<&Nonce>| Ok(()))
                .unwrap();
            assert!(!verified.subject().as_str().is_empty());
            assert_eq!(claims(&id_token.to_string())["oid"], user);
        }
        result
    }

    #[tokio::test]
    async fn openidconnect_device_flow_signs_in_and_sees_the_block() {
        let emu = start(EmulatorConfig::demo()).await;
        // A tenant whose block covers every application, the requests API included.
        emu.set_device_code_policy_excludes_requests_api(false);
        emu.set_member(EXCLUDED, demo::ALEX, true);
        let token = device_flow(&emu, demo::ALEX).await.unwrap();
        let access = claims(token.access_token().secret());
        assert_eq!(access["aud"], format!("api://{}", demo::CLIENT_ID));
        assert_eq!(access["oid"], demo::ALEX);
        assert_eq!(access["roles"], json!(["Admin"]));
        assert!(token.refresh_token().is_none());

        match device_flow(&emu, demo::DANA).await {
            Err(RequestTokenError::ServerResponse(e)) => {
                assert_eq!(*e.error(), DeviceCodeErrorResponseType::AccessDenied);
                let description = e.error_description().unwrap();
                assert!(description.starts_with("AADSTS53003: "), "{description}");
            }
            other => panic!("expected the Conditional Access block, got {other:?}"),
        }
        let log = emu.sign_ins();
        assert_eq!(
            log.iter()
                .map(|s| (s.user_id.as_str(), s.error_code))
                .collect::<Vec<_>>(),
            [(demo::ALEX, 0), (demo::DANA, 53003)]
        );
        assert_eq!(log[0].resource_display_name, "jitgate");
    }
}
