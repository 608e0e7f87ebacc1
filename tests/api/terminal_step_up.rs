//! `jitgate` and a package's step-up (issue 20, `auth_context`): the real binary, answered 401
//! `insufficient_claims`, signs in again the way it first did (the browser, or a device code),
//! passing the claims request; the emulated tenant asks for MFA; the call is made once more and
//! goes through. When the sign-in still lacks the context, the call is not retried again.

use jitgate::emulator::DeviceLogin;
use serde_json::{Value, json};

use crate::common::db::{Backend, TestDb};
use crate::common::html::{browser, form_in, location, query_param};
use crate::helpers::*;
use crate::step_up::behind_a_step_up;
use crate::terminal::{Terminal, user_code};

const ASK: [&str; 9] = [
    "request",
    "--package",
    "device-code",
    "--for",
    "1h",
    "--reason",
    "Signing in the Azure CLI on the build container",
    "--output",
    "json",
];

/// The claims of a JWT (signature not checked: the portal checked it).
fn claims_of(jwt: &str) -> Value {
    use base64::Engine;
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

/// Completes the browser sign-in at `url` as `user` (ticking the MFA box when `mfa`), up to
/// the client's loopback listener.
async fn complete_in_browser(t: &TestApp, url: &str, user: &str, mfa: bool) -> String {
    let http = browser();
    let page = http.get(url).send().await.unwrap().text().await.unwrap();
    let (action, mut fields) = form_in(&page).expect("the sign-in form");
    fields.push(("user".into(), user.into()));
    if mfa {
        fields.push(("mfa".into(), "done".into()));
    }
    let resp = http
        .post(format!("{}{action}", t.emulator.base_url()))
        .form(&fields)
        .send()
        .await
        .unwrap();
    let back = location(&resp);
    let thanks = http.get(&back).send().await.unwrap().text().await.unwrap();
    assert!(thanks.contains("You are signed in to jitgate"), "{thanks}");
    page
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_terminal_signs_in_again_for_a_step_up_and_retries_once() {
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    let mut t = behind_a_step_up(&db).await;

    // In the browser: Dana's sign-in made no step-up; asking is challenged, and the client
    // signs in again with the claims request, then asks once more.
    let dana = Terminal::new(&t.url);
    dana.login_browser(&t.emulator, DANA).await;
    let (_, listed, _) = dana.run(&["packages"]).await;
    assert!(
        listed.contains("need a fresh multi-factor sign-in (authentication context c1)"),
        "{listed}"
    );
    let mut ask = dana.spawn(&ASK);
    let said = ask.wait_stderr("needs a fresh multi-factor sign-in").await;
    assert!(said.contains("c1"), "{said}");
    let url = ask.wait_stderr("/oauth2/v2.0/authorize?").await;
    let url = url.trim().to_string();
    let claims: Value = serde_json::from_str(&query_param(&url, "claims").unwrap()).unwrap();
    assert_eq!(
        claims,
        json!({"access_token": {"acrs": {"essential": true, "value": "c1"}}})
    );
    let page = complete_in_browser(&t, &url, DANA, true).await;
    assert!(page.contains("Complete MFA"), "the tenant asked for MFA");
    let (status, out, err) = ask.finish().await;
    assert_eq!(status, 0, "{err}");
    let asked: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(asked["status"], "pending", "{asked}");
    // The new tokens are kept: the next call needs no sign-in.
    let access = claims_of(dana.cached()["access_token"].as_str().unwrap());
    assert_eq!(access["acrs"], json!(["c1"]));
    let (status, _, err) = dana.run(&["status", "--output", "json"]).await;
    assert_eq!(status, 0, "{err}");

    // With a device code: the claims request goes on /devicecode, and the device-login page
    // will not complete without MFA.
    let jordan = Terminal::new(&t.url);
    jordan.login_device_code(&t.emulator, JORDAN).await;
    let mut ask = jordan.spawn(&ASK);
    let code = user_code(&ask.wait_stderr("enter the code").await);
    assert!(
        t.emulator.complete_device_login(&code, JORDAN).is_err(),
        "not without MFA"
    );
    assert_eq!(
        t.emulator.complete_device_login_with_mfa(&code, JORDAN),
        Ok(DeviceLogin::SignedIn)
    );
    let (status, out, err) = ask.finish().await;
    assert_eq!(status, 0, "{err}");
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["status"],
        "pending"
    );

    // A provider that ignores the claims request: one step-up sign-in, one more try, then the
    // refusal, said as the portal says it (no second round).
    t.emulator.set_claims_honoured(false);
    let riley = Terminal::new(&t.url);
    riley.login_browser(&t.emulator, RILEY).await;
    let mut ask = riley.spawn(&ASK);
    let url = ask.wait_stderr("/oauth2/v2.0/authorize?").await;
    complete_in_browser(&t, url.trim(), RILEY, false).await;
    let (status, out, err) = ask.finish().await;
    assert_eq!(status, 1, "{out}{err}");
    let body: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(body["error"]["code"], "insufficient_claims", "{body}");
    assert_eq!(body["error"]["rule"], "auth_context", "{body}");
    assert_eq!(
        err.matches("/oauth2/v2.0/authorize?").count(),
        1,
        "signed in again once: {err}"
    );

    t.stop().await;
    db.cleanup().await;
}
