//! A package's step-up (issue 20, `auth_context`): asking for it, approving its requests, asking
//! to extend its grants and approving an extension need a sign-in whose token shows the
//! authentication context in `acrs`. A bearer without it gets 401 `insufficient_claims` with
//! Microsoft's claims challenge, and nothing changes; with it, the call goes through. A browser
//! is sent to sign in again with the `claims` parameter and comes back to the form as it was
//! typed; a sign-in that still lacks the context is refused once (403), not sent round again.

use base64::Engine;
use jitgate::emulator::TokenSpec;
use jitgate::emulator::demo::{CLIENT_ID, TENANT_ID};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::auth::{pick_user, signed_in};
use crate::common::db::TestDb;
use crate::common::html::{form_in, html_unescape, location};
use crate::helpers::*;
use crate::on_both_databases;

const PACKAGE: &str = "device-code";

/// The test portal with the `device-code` package behind authentication context c1.
pub(crate) async fn behind_a_step_up(db: &TestDb) -> TestApp {
    TestApp::spawn_configured(db, false, |s| {
        s.replacen(
            "id = \"device-code\"\n",
            "id = \"device-code\"\nauth_context = \"c1\"\n",
            1,
        )
    })
    .await
}

/// A token for the portal's API as `user`, its sign-in having satisfied `acrs`.
fn token(t: &TestApp, user: &str, acrs: &[&str]) -> String {
    let mut spec = TokenSpec::new(user, &format!("api://{CLIENT_ID}"));
    spec.acrs = acrs.iter().map(|a| a.to_string()).collect();
    t.emulator.mint_token(spec)
}

/// `POST path` with `body` as `user` whose sign-in satisfied `acrs`: status, the
/// `WWW-Authenticate` header (empty when none) and the body.
async fn post(
    t: &TestApp,
    user: &str,
    acrs: &[&str],
    path: &str,
    body: Value,
) -> (StatusCode, String, Value) {
    let resp = t
        .http
        .post(format!("{}{path}", t.url))
        .bearer_auth(token(t, user, acrs))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let challenge = resp
        .headers()
        .get("www-authenticate")
        .map(|h| h.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, challenge, resp.json().await.unwrap_or(Value::Null))
}

fn ask() -> Value {
    json!({"package": PACKAGE, "duration_minutes": 60, "justification": "deploying the CI runner"})
}

/// Asserts a step-up answer: 401 `insufficient_claims` naming the rule, with Microsoft's claims
/// challenge for c1 in the tenant.
#[track_caller]
fn assert_challenged(t: &TestApp, answer: &(StatusCode, String, Value), what: &str) {
    let (status, challenge, body) = answer;
    assert_eq!(*status, StatusCode::UNAUTHORIZED, "{what}: {body}");
    assert_eq!(
        body["error"]["code"], "insufficient_claims",
        "{what}: {body}"
    );
    assert_eq!(body["error"]["rule"], "auth_context", "{what}: {body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("c1"),
        "{what}: {body}"
    );
    assert!(challenge.starts_with("Bearer "), "{what}: {challenge}");
    assert!(
        challenge.contains(r#"error="insufficient_claims""#),
        "{what}: {challenge}"
    );
    assert!(
        challenge.contains(&format!(r#"realm="{TENANT_ID}""#)),
        "{what}: {challenge}"
    );
    assert!(
        challenge.contains(&format!(
            r#"authorization_uri="{}/{TENANT_ID}/oauth2/v2.0/authorize""#,
            t.emulator.base_url()
        )),
        "{what}: {challenge}"
    );
    let claims = challenge
        .split("claims=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("{what}: no claims in {challenge}"));
    let request = base64::engine::general_purpose::STANDARD
        .decode(claims)
        .unwrap_or_else(|e| panic!("{what}: {e}: {claims}"));
    assert_eq!(
        serde_json::from_slice::<Value>(&request).unwrap(),
        json!({"access_token": {"acrs": {"essential": true, "value": "c1"}}}),
        "{what}"
    );
}

async fn asking_needs_the_authentication_context(db: &TestDb) {
    let t = behind_a_step_up(db).await;
    // Known before asking: in the package list, and on the form.
    let packages = t.get(DANA, "/api/v1/packages").await;
    let listed = |id: &str| {
        packages["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(listed(PACKAGE)["auth_context"], "c1");
    assert!(listed("device-code-ticketed")["auth_context"].is_null());
    let page = t.fetch(Some(DANA), "/").await.text().await.unwrap();
    assert!(
        page.contains(
            "data-rule=\"auth_context\">Asking for it and approving it need a fresh multi-factor sign-in (authentication context c1)."
        ),
        "the form says so"
    );

    let before = t.audit_count().await;
    for acrs in [&[][..], &["c2"], &["c10"]] {
        let answer = post(&t, DANA, acrs, "/api/v1/requests", ask()).await;
        assert_challenged(&t, &answer, &format!("asking with acrs {acrs:?}"));
    }
    assert_eq!(t.audit_count().await, before, "nothing was asked");
    // Another package, without a step-up, is asked for as before.
    let other = json!({"package": "device-code-ticketed", "duration_minutes": 60,
        "justification": "deploying the CI runner", "ticket": "INC-1"});
    assert_eq!(
        post(&t, DANA, &[], "/api/v1/requests", other).await.0,
        StatusCode::CREATED
    );

    let (status, _, body) = post(&t, DANA, &["c2", "c1"], "/api/v1/requests", ask()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["status"], "pending");
}

async fn each_approval_needs_it_too(db: &TestDb) {
    let t = behind_a_step_up(db).await;
    let (status, _, r) = post(&t, DANA, &["c1"], "/api/v1/requests", ask()).await;
    assert_eq!(status, StatusCode::CREATED, "{r}");
    let id = r["id"].as_str().unwrap();
    let approve = format!("/api/v1/requests/{id}/approve");

    // Morgan's sign-in made no step-up: challenged, and the request waits as it was.
    let answer = post(&t, MORGAN, &[], &approve, json!({"comment": "ok"})).await;
    assert_challenged(&t, &answer, "approving without the context");
    let now = t.status_of(id).await;
    assert_eq!(now["status"], "pending");
    assert!(now["approvals"].as_array().unwrap().is_empty(), "{now}");
    // The requester's own step-up is no approver's.
    let (status, _, body) = post(&t, MORGAN, &["c1"], &approve, json!({"comment": "ok"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_ne!(body["status"], "pending", "{body}");
}

async fn extensions_need_it_too(db: &TestDb) {
    let t = behind_a_step_up(db).await;
    let (_, _, r) = post(&t, DANA, &["c1"], "/api/v1/requests", ask()).await;
    let id = r["id"].as_str().unwrap().to_string();
    let (status, _, _) = post(
        &t,
        MORGAN,
        &["c1"],
        &format!("/api/v1/requests/{id}/approve"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    wait_added(&t, &id).await;
    let ends_at = t.status_of(&id).await["ends_at"].clone();

    let extend = format!("/api/v1/requests/{id}/extend");
    let more = json!({"minutes": 30, "justification": "the rollout is not done yet"});
    let answer = post(&t, DANA, &[], &extend, more.clone()).await;
    assert_challenged(&t, &answer, "asking to extend without the context");
    let (status, _, x) = post(&t, DANA, &["c1"], &extend, more).await;
    assert_eq!(status, StatusCode::CREATED, "{x}");
    assert_eq!(x["extension"]["status"], "pending", "{x}");

    let decide = format!("/api/v1/requests/{id}/extension/approve");
    let answer = post(&t, MORGAN, &[], &decide, json!({})).await;
    assert_challenged(&t, &answer, "approving the extension without the context");
    assert_eq!(t.status_of(&id).await["ends_at"], ends_at, "not extended");
    let (status, _, x) = post(&t, MORGAN, &["c1"], &decide, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{x}");
    assert_eq!(x["extension"]["status"], "approved", "{x}");
}

/// The browser: the form posted without the context is kept, the browser sent to sign in with
/// the claims request; the emulated tenant asks for MFA; back on the form, what was typed is
/// there (for its person only), and sending it again asks. A provider that ignores the claims
/// request gets one refusal naming the rule, never another round.
async fn the_browser_signs_in_again_and_keeps_the_form(db: &TestDb) {
    let t = behind_a_step_up(db).await;
    let b = signed_in(&t, DANA).await;
    let form = [
        ("package", PACKAGE),
        ("duration_minutes", "60"),
        ("justification", "Rotating the runner's <token> & keys"),
        ("ticket", "CHG0042"),
    ];
    let r = b
        .post(format!("{}/requests", t.url))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Browsers hold the redirects of a form's submission to form-action: the sign-in is allowed.
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains(&format!("form-action 'self' {}", t.emulator.base_url())),
        "{csp}"
    );
    let login = location(&r);
    assert_eq!(login, "/auth/login?return_to=%2F&auth_context=c1");
    assert!(
        !login.contains("Rotating"),
        "what was typed stays off the URL"
    );
    let r = b.get(format!("{}{login}", t.url)).send().await.unwrap();
    let authorize = location(&r);
    assert!(
        authorize.contains("claims=") && authorize.starts_with(&t.emulator.base_url()),
        "{authorize}"
    );
    let claims = crate::common::html::query_param(&authorize, "claims").unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&claims).unwrap(),
        json!({"id_token": {"acrs": {"essential": true, "value": "c1"}}})
    );
    // The emulated tenant asks for MFA; done, the browser goes back to the portal.
    let page = b.get(&authorize).body_text().await;
    assert!(page.contains("Complete MFA"), "{page}");
    let (action, mut fields) = form_in(&page).unwrap();
    fields.push(("user".into(), DANA.into()));
    fields.push(("mfa".into(), "done".into()));
    let r = b
        .post(format!("{}{action}", t.emulator.base_url()))
        .form(&fields)
        .send()
        .await
        .unwrap();
    let r = b.get(location(&r)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/");
    let home = b.get(format!("{}/", t.url)).body_text().await;
    assert!(
        html_unescape(&home.replace("&#38;", "&amp;"))
            .contains("Rotating the runner's <token> & keys")
            && !home.contains("<token>"),
        "the justification is back, escaped: {home}"
    );
    assert!(home.contains("value=\"CHG0042\""), "the ticket is back");
    assert!(
        home.contains("Signed in again as Dana"),
        "the flash says why"
    );
    // Once: the next visit shows an empty form.
    let again = b.get(format!("{}/", t.url)).body_text().await;
    assert!(!again.contains("Rotating the runner"), "kept once only");
    // Sent again, it is asked.
    let r = b
        .post(format!("{}/requests", t.url))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/");
    assert_eq!(
        t.events("action=request_created").await.len(),
        1,
        "asked once"
    );

    // A provider that ignores the claims request: one refusal, 403, naming the rule.
    t.emulator.set_claims_honoured(false);
    let morgan = signed_in(&t, MORGAN).await;
    let r = morgan
        .get(format!(
            "{}/auth/login?return_to=%2Fapprovals&auth_context=c1",
            t.url
        ))
        .send()
        .await
        .unwrap();
    let r = pick_user(&t, &morgan, &location(&r), MORGAN).await;
    let r = morgan.get(location(&r)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(
        r.headers().get("location").is_none(),
        "not sent round again"
    );
    let text = r.text().await.unwrap();
    assert!(
        text.contains("auth_context") && text.contains("c1"),
        "{text}"
    );
    // Nonsense in place of a context is refused before anything is asked.
    let r = morgan
        .get(format!("{}/auth/login?auth_context=mfa", t.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

on_both_databases! {
    step_up_at_request => asking_needs_the_authentication_context;
    step_up_at_approval => each_approval_needs_it_too;
    step_up_at_extension => extensions_need_it_too;
    step_up_in_the_browser => the_browser_signs_in_again_and_keeps_the_form;
}
