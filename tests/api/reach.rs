//! What a device-code sign-in may do (issue 19, part 1). The block policy lets device-code
//! sign-ins reach one jitgate resource, the requests API, so that `jitgate login --device-code`
//! works on a headless machine before any grant. A token for it (phished or not) may ask for
//! access and act on its holder's own requests, and nothing else, whatever roles its holder has;
//! the portal's own API stays behind the block.

use jitgate::emulator::DeviceLogin;
use jitgate::emulator::TokenSpec;
use jitgate::emulator::demo::{CLI_CLIENT_ID, CLIENT_ID, REQUESTS_API_ID, TENANT_ID};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::db::TestDb;
use crate::helpers::*;
use crate::on_both_databases;

/// The scopes the portal tells the command line to ask for in a device-code sign-in.
pub(crate) async fn device_code_scopes(t: &TestApp) -> String {
    let cli = t.try_get(None, "/api/v1/cli").await.1;
    let scopes = match cli["device_code_scopes"].as_array() {
        Some(s) if !s.is_empty() => s,
        _ => cli["scopes"].as_array().unwrap(),
    };
    scopes
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A device-code sign-in by `user` to `scope`, as the command line makes it: started by the CLI
/// client, completed on the device-login page, redeemed for an access token.
pub(crate) async fn device_code_token(
    t: &TestApp,
    user: &str,
    scope: &str,
) -> Result<String, DeviceLogin> {
    let token_url = format!("{}/{TENANT_ID}/oauth2/v2.0", t.emulator.base_url());
    let started: Value = t
        .http
        .post(format!("{token_url}/devicecode"))
        .form(&[
            ("client_id", CLI_CLIENT_ID),
            ("scope", &format!("openid profile offline_access {scope}")),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code = started["user_code"].as_str().expect("a user code");
    match t.emulator.complete_device_login(code, user).unwrap() {
        DeviceLogin::SignedIn => {}
        other => return Err(other),
    }
    let answer: Value = t
        .http
        .post(format!("{token_url}/token"))
        .form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("client_id", CLI_CLIENT_ID),
            ("device_code", started["device_code"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    Ok(answer["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("a token: {answer}"))
        .to_string())
}

/// Calls the API with `token`.
async fn call_with(
    t: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = t
        .http
        .request(method, format!("{}{path}", t.url))
        .bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let body = resp.json().await.unwrap_or(Value::Null);
    (status, body)
}

async fn a_device_code_sign_in_cannot_decide(t: &mut TestApp) {
    let id = t.request(DANA, "device-code", 60).await;
    // Morgan, an approver, signs in by device code as README step 8 allows anyone to, before
    // any grant: the sign-in works.
    let scopes = device_code_scopes(t).await;
    let token = device_code_token(t, MORGAN, &scopes)
        .await
        .unwrap_or_else(|e| panic!("the command line's device-code sign-in works: {e:?}"));
    // Whoever holds that token (Morgan, or whoever phished it) cannot approve with it.
    let (status, body) = call_with(
        t,
        &token,
        Method::POST,
        &format!("/api/v1/requests/{id}/approve"),
        Some(json!({"comment": "phished"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("device-code")),
        "{body}"
    );
    assert_eq!(t.status_of(&id).await["status"], "pending");
    // Nor read Dana's request, nor the approvals queue.
    let (status, _) = call_with(
        t,
        &token,
        Method::GET,
        &format!("/api/v1/requests/{id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call_with(t, &token, Method::GET, "/api/v1/approvals", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // And the portal's own API stays behind the block: a device-code sign-in to it is refused.
    let portal = format!("api://{CLIENT_ID}/access_as_user");
    assert_eq!(
        device_code_token(t, MORGAN, &portal).await.err(),
        Some(DeviceLogin::Blocked)
    );
}

/// One action of the matrix, and what it answers for each kind of token.
struct Cell {
    what: &'static str,
    portal: StatusCode,
    requests: StatusCode,
}

async fn what_each_token_may_do(t: &mut TestApp) {
    let portal_token = |user: &str| t.token(user);
    let requests_token = |user: &str| {
        t.emulator
            .mint_token(TokenSpec::new(user, &format!("api://{REQUESTS_API_ID}")))
    };
    let mut table: Vec<String> = Vec::new();
    for (who, name) in [
        (DANA, "requester"),
        (MORGAN, "approver"),
        (AVERY, "auditor"),
        (ALEX, "admin"),
    ] {
        let mut cells: Vec<Cell> = Vec::new();
        for requests_only in [false, true] {
            let token = if requests_only {
                requests_token(who)
            } else {
                portal_token(who)
            };
            let mut answers: Vec<(&'static str, StatusCode)> = Vec::new();
            let mut note = |what: &'static str, s: StatusCode| answers.push((what, s));
            // Their own requests.
            let (s, mine) = call_with(
                t,
                &token,
                Method::POST,
                "/api/v1/requests",
                Some(json!({"package": "device-code", "duration_minutes": 60, "justification": "token matrix row", "ticket": "INC-1"})),
            )
            .await;
            note("ask", s);
            let mine = mine["id"]
                .as_str()
                .unwrap_or_else(|| panic!("asked: {mine}"))
                .to_string();
            let (s, _) = call_with(
                t,
                &token,
                Method::GET,
                &format!("/api/v1/requests/{mine}"),
                None,
            )
            .await;
            note("read own", s);
            let (s, list) =
                call_with(t, &token, Method::GET, "/api/v1/requests?limit=1000", None).await;
            note("list", s);
            let others = list["requests"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["requester"]["id"] != who)
                .count();
            if requests_only {
                assert_eq!(
                    others, 0,
                    "{name} through the requests API lists only their own"
                );
            }
            let (s, _) = call_with(
                t,
                &token,
                Method::POST,
                &format!("/api/v1/requests/{mine}/cancel"),
                None,
            )
            .await;
            note("cancel own", s);
            let grant = t.request(who, "device-code", 60).await;
            let decider = if who == JORDAN { MORGAN } else { JORDAN };
            t.approve(decider, &grant).await;
            let (s, _) = call_with(
                t,
                &token,
                Method::POST,
                &format!("/api/v1/requests/{grant}/extend"),
                Some(json!({"minutes": 30, "justification": "token matrix row"})),
            )
            .await;
            note("extend own", s);
            let (s, _) = call_with(
                t,
                &token,
                Method::POST,
                &format!("/api/v1/requests/{grant}/end"),
                Some(json!({"reason": "matrix"})),
            )
            .await;
            note("end own", s);
            // Someone else's: Riley's, pending and then active.
            let riley = t.request(RILEY, "device-code", 60).await;
            let (s, _) = call_with(
                t,
                &token,
                Method::GET,
                &format!("/api/v1/requests/{riley}"),
                None,
            )
            .await;
            note("read another's", s);
            let (s, _) = call_with(t, &token, Method::GET, "/api/v1/approvals", None).await;
            note("approvals queue", s);
            let (s, _) = call_with(
                t,
                &token,
                Method::POST,
                &format!("/api/v1/requests/{riley}/deny"),
                Some(json!({"comment": "matrix"})),
            )
            .await;
            note("deny another's", s);
            let other = t
                .create(
                    RILEY,
                    json!({"package": "device-code-ticketed", "duration_minutes": 60, "justification": "token matrix row", "ticket": "INC-2"}),
                )
                .await;
            let (s, _) = call_with(
                t,
                &token,
                Method::POST,
                &format!("/api/v1/requests/{other}/approve"),
                Some(json!({})),
            )
            .await;
            note("approve another's", s);
            if t.status_of(&riley).await["status"] == "pending" {
                t.approve(JORDAN, &riley).await;
            }
            let (s, _) = call_with(
                t,
                &token,
                Method::POST,
                &format!("/api/v1/requests/{riley}/revoke"),
                Some(json!({"reason": "matrix"})),
            )
            .await;
            note("revoke another's", s);
            for (what, path) in [
                ("audit trail", "/api/v1/audit"),
                ("audit export", "/api/v1/audit?format=csv"),
                ("audit verify", "/api/v1/audit/verify"),
            ] {
                let (s, _) = call_with(t, &token, Method::GET, path, None).await;
                note(what, s);
            }
            for (what, s) in answers {
                match cells.iter_mut().find(|c| c.what == what) {
                    Some(c) => c.requests = s,
                    None => cells.push(Cell {
                        what,
                        portal: s,
                        requests: StatusCode::IM_A_TEAPOT,
                    }),
                }
            }
            tidy(t).await;
        }
        for c in &cells {
            table.push(format!(
                "{name:<9} {:<18} portal API {:>3}   requests API {:>3}",
                c.what,
                c.portal.as_u16(),
                c.requests.as_u16()
            ));
            let own = matches!(
                c.what,
                "ask" | "read own" | "list" | "cancel own" | "extend own" | "end own"
            );
            if own {
                assert!(c.requests.is_success(), "{name} {}: {}", c.what, c.requests);
            } else {
                assert_eq!(
                    c.requests,
                    StatusCode::FORBIDDEN,
                    "{name} {} through the requests API",
                    c.what
                );
            }
        }
        // The same person through the portal's API keeps what their role gives.
        let portal = |what: &str| cells.iter().find(|c| c.what == what).unwrap().portal;
        match name {
            "approver" => assert!(portal("deny another's").is_success()),
            "auditor" => assert!(portal("audit trail").is_success()),
            "admin" => assert!(portal("revoke another's").is_success()),
            _ => {}
        }
    }
    eprintln!("token kinds x actions:\n{}", table.join("\n"));
}

/// E-mail through Graph, and the sign-in log read every minute.
async fn with_mail_and_sign_ins(db: &TestDb) -> TestApp {
    TestApp::spawn_configured(db, false, |s| {
        format!(
            "{s}\n[notify]\nemail_from = \"alex@jitgate-demo.onmicrosoft.com\"\n\
             [sign_ins]\nevery = \"1m\"\nlookback = \"2h\"\n"
        )
    })
    .await
}

async fn what_a_device_code_sign_in_asks_is_told(db: &TestDb) {
    let mut t = with_mail_and_sign_ins(db).await;
    // Dana signs in by device code, as the command line does, and asks.
    let scopes = device_code_scopes(&t).await;
    let token = device_code_token(&t, DANA, &scopes).await.unwrap();
    let (status, asked) = call_with(
        &t,
        &token,
        Method::POST,
        "/api/v1/requests",
        Some(json!({"package": "device-code", "duration_minutes": 60, "justification": "az login on the build box", "ticket": "INC-7"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{asked}");
    let id = asked["id"].as_str().unwrap().to_string();
    // The audit trail says it came through the requests API, and from where.
    let e = event_details(&t, &id, "request_created").await;
    assert_eq!(e["via"], "requests_api", "{e}");
    assert_eq!(e["from_ip"], "127.0.0.1", "{e}");
    // So does the request's page.
    let page = t
        .fetch(Some(MORGAN), &format!("/requests/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("from a device-code sign-in (the requests API), IP 127.0.0.1"),
        "{page}"
    );
    // Dana hears of it by e-mail, with the address: a phished token asking in her name shows.
    eventually("the in-your-name e-mail to Dana", || async {
        t.emulator.mail().iter().any(|m| {
            m.subject
                .starts_with("A device-code sign-in as you asked for")
                && m.to == ["dana@jitgate-demo.onmicrosoft.com"]
                && m.body.contains("127.0.0.1")
        })
    })
    .await;
    // An extension asked the same way is told too.
    t.approve(MORGAN, &id).await;
    let (status, x) = call_with(
        &t,
        &token,
        Method::POST,
        &format!("/api/v1/requests/{id}/extend"),
        Some(json!({"minutes": 30, "justification": "the image build runs long"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{x}");
    eventually("the in-your-name e-mail about the extension", || async {
        t.emulator
            .mail()
            .iter()
            .any(|m| m.subject.contains("asked for an extension of"))
    })
    .await;
    // A request asked through the portal's own API sends no such e-mail.
    let before = t.emulator.mail().len();
    let other = t.request(RILEY, "device-code", 60).await;
    let e = event_details(&t, &other, "request_created").await;
    assert!(e.get("via").is_none(), "{e}");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        !t.emulator.mail()[before..]
            .iter()
            .any(|m| m.subject.starts_with("A device-code sign-in as you")),
        "no in-your-name e-mail for a browser's request"
    );

    // The device-code sign-in itself, read from the tenant's sign-in log, is in the audit trail
    // and on Dana's own page; it is no use of the exemption (on no grant's timeline).
    let mut seen = Vec::new();
    for _ in 0..10 {
        t.emulator.advance(chrono::Duration::minutes(1));
        t.advance(chrono::Duration::minutes(1));
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        seen = t.events("action=portal_sign_in").await;
        if !seen.is_empty() {
            break;
        }
    }
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0]["subject"], DANA);
    assert_eq!(seen[0]["details"]["resource_id"], REQUESTS_API_ID);
    assert_eq!(seen[0]["details"]["result"], "signed in");
    let sign_ins = t
        .get(DANA, &format!("/api/v1/requests/{id}/sign-ins"))
        .await;
    assert_eq!(
        sign_ins["sign_ins"].as_array().unwrap().len(),
        0,
        "{sign_ins}"
    );
    let home = t.fetch(Some(DANA), "/").await.text().await.unwrap();
    assert!(home.contains("portal-sign-ins"), "{home}");
    assert!(home.contains("jitgate CLI"), "{home}");
    let morgan_home = t.fetch(Some(MORGAN), "/").await.text().await.unwrap();
    assert!(!morgan_home.contains("portal-sign-ins"), "only one's own");
    t.stop().await;
}

/// Ends or cancels whatever is still open, so the next person starts clean.
async fn tidy(t: &TestApp) {
    let v = t
        .get(
            ALEX,
            "/api/v1/requests?status=pending,approved,active&limit=1000",
        )
        .await;
    for req in v["requests"].as_array().unwrap() {
        let id = req["id"].as_str().unwrap();
        let owner = req["requester"]["id"].as_str().unwrap();
        match req["status"].as_str().unwrap() {
            "active" => t.revoke(ALEX, id, Some("matrix tidy")).await,
            _ => t.cancel(owner, id).await,
        };
    }
}

on_both_databases! {
    with TestApp;
    device_code_cannot_decide => a_device_code_sign_in_cannot_decide;
    matrix => what_each_token_may_do;
}

on_both_databases! {
    told => what_a_device_code_sign_in_asks_is_told;
}
