//! Sign-in against a real, independent OpenID provider: panva's certified `oidc-provider`
//! (tests/oidc/provider.mjs), served with an Entra-shaped issuer `http://127.0.0.1:<port>/<tenant>/v2.0`.
//! Each test gets its own provider process and its own portal on a fresh SQLite database.
//!
//! Needs `node` and `npm ci` in tests/oidc (scripts/test.sh does it). Without them these tests fail
//! under CI (CI=true) and are skipped, loudly, elsewhere.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jitgate::clock::SystemClock;
use jitgate::config::Settings;
use jitgate::startup::App;
use reqwest::StatusCode;
use reqwest::header::{LOCATION, SET_COOKIE};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use url::Url;

mod common;

const TENANT_ID: &str = "3c5d8e2a-7b1f-4e6a-9c0d-1f2e3a4b5c6d";
const CLIENT_ID: &str = "jit-portal";
const CLIENT_SECRET: &str = "jit-portal-secret";
const SESSION_COOKIE: &str = "jitgate_session";

/// The accounts provider.mjs knows.
const ALICE_OID: &str = "6f1c2a3b-4d5e-4f60-8a71-92b3c4d5e6f7";
const BOB_OID: &str = "0b0b0b0b-1c1c-4d2d-9e3e-4f4f5a5a6b6b";

fn oidc_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc")
}

/// Why the provider cannot be started here, if it cannot.
fn provider_missing() -> Option<String> {
    let dir = oidc_dir();
    if !dir
        .join("node_modules/oidc-provider/package.json")
        .is_file()
    {
        return Some(format!(
            "{}/node_modules is missing: run `npm ci` there (scripts/test.sh does it)",
            dir.display()
        ));
    }
    match std::process::Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(s) if s.success() => None,
        Ok(s) => Some(format!("`node --version` failed ({s})")),
        Err(e) => Some(format!(
            "node cannot be run ({e}): install Node.js 20 or later"
        )),
    }
}

/// The portal plus its OpenID provider. The provider process is killed when this is dropped.
struct Interop {
    app: Option<App>,
    url: String,
    issuer: String,
    provider: Child,
    provider_log: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

impl Interop {
    /// None (after saying so, loudly) when the provider cannot run here and this is not CI.
    async fn start() -> Option<Interop> {
        if let Some(why) = provider_missing() {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("the OpenID interoperability tests need the provider under CI: {why}");
            }
            eprintln!();
            eprintln!(
                "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
            );
            eprintln!("!! SKIPPED: OpenID interoperability test: {why}");
            eprintln!(
                "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
            );
            return None;
        }
        // The portal's address first: the provider must know the redirect URI.
        let (listener, url) = common::portal::bind().await;

        let mut provider = Command::new("node")
            .arg("provider.mjs")
            .current_dir(oidc_dir())
            .env("PORT", "0")
            .env("TENANT_ID", TENANT_ID)
            .env("REDIRECT_URI", format!("{url}/auth/callback"))
            .env("CLIENT_ID", CLIENT_ID)
            .env("CLIENT_SECRET", CLIENT_SECRET)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn node tests/oidc/provider.mjs");

        let provider_log = Arc::new(Mutex::new(Vec::new()));
        let mut stderr = BufReader::new(provider.stderr.take().unwrap()).lines();
        let log = provider_log.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = stderr.next_line().await {
                eprintln!("[oidc-provider] {line}");
                log.lock().unwrap().push(line);
            }
        });
        let mut stdout = BufReader::new(provider.stdout.take().unwrap()).lines();
        let first = tokio::time::timeout(Duration::from_secs(30), stdout.next_line())
            .await
            .expect("the provider did not print ISSUER= within 30 s");
        let issuer = match first {
            Ok(Some(line)) if line.starts_with("ISSUER=") => line["ISSUER=".len()..].to_string(),
            other => {
                tokio::time::sleep(Duration::from_millis(200)).await;
                panic!(
                    "the provider did not start (first stdout line {other:?}); its stderr:\n{}",
                    provider_log.lock().unwrap().join("\n")
                );
            }
        };
        tokio::spawn(async move { while let Ok(Some(_)) = stdout.next_line().await {} });

        let expected_suffix = format!("/{TENANT_ID}/v2.0");
        assert!(issuer.ends_with(&expected_suffix), "issuer {issuer}");
        let authority_host = &issuer[..issuer.len() - expected_suffix.len()];

        let dir = tempfile::tempdir().unwrap();
        let db_url = format!("sqlite://{}?mode=rwc", dir.path().join("db").display());
        let toml = format!(
            r#"
[server]
listen = "127.0.0.1:0"
public_url = "{url}"

[database]
url = "{db_url}"

[entra]
tenant_id = "{TENANT_ID}"
client_id = "{CLIENT_ID}"
client_secret = "{CLIENT_SECRET}"
authority_host = "{authority_host}"
# Sign-in never calls Graph; nothing listens here.
graph_url = "http://127.0.0.1:9"

[[package]]
id = "device-code"
name = "Device code flow exemption"
group_id = "5a1f3f3e-6a4b-4d5e-9a8b-1c2d3e4f5a6b"
min_duration = "15m"
default_duration = "1h"
max_duration = "4h"
"#
        );
        let settings = Settings::from_toml(&toml, []).unwrap();
        assert_eq!(
            settings.entra.issuer(),
            issuer,
            "the portal's idea of the issuer"
        );
        let app = common::portal::boot(listener, settings, Arc::new(SystemClock)).await;
        Some(Interop {
            app: Some(app),
            url,
            issuer,
            provider,
            provider_log,
            _dir: dir,
        })
    }

    fn portal(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// Whether the provider has written a line containing `needle` to stderr.
    fn provider_said(&self, needle: &str) -> bool {
        self.provider_log
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains(needle))
    }

    /// As [`Self::provider_said`], allowing a moment for the line to come through the pipe.
    async fn provider_says(&self, needle: &str) -> bool {
        for _ in 0..100 {
            if self.provider_said(needle) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    async fn stop(mut self) {
        if let Some(app) = self.app.take() {
            app.stop().await;
        }
        let _ = self.provider.kill().await;
    }

    /// `GET /auth/login`: checks the request sent to the provider, returns (authorize URL, session cookie).
    async fn start_login(&self, b: &reqwest::Client, return_to: &str) -> (String, String) {
        let r = b
            .get(self.portal(&format!("/auth/login?return_to={return_to}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "/auth/login");
        let cookie = session_cookie(&r).expect("a session cookie when the sign-in starts");
        let authorize = location(&r);
        let u = Url::parse(&authorize).unwrap();
        assert_eq!(
            u.as_str().split('?').next().unwrap(),
            format!("{}/auth", self.issuer),
            "the provider's discovered authorization endpoint"
        );
        let q = |k: &str| {
            u.query_pairs()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.into_owned())
        };
        assert_eq!(q("response_type").as_deref(), Some("code"));
        assert_eq!(q("client_id").as_deref(), Some(CLIENT_ID));
        assert_eq!(
            q("redirect_uri").as_deref(),
            Some(self.portal("/auth/callback").as_str())
        );
        assert_eq!(q("code_challenge_method").as_deref(), Some("S256"));
        assert!(q("code_challenge").is_some_and(|c| c.len() >= 43));
        assert!(q("state").is_some_and(|s| !s.is_empty()));
        assert!(q("nonce").is_some_and(|s| !s.is_empty()));
        let scopes: Vec<String> = q("scope")
            .unwrap_or_default()
            .split(' ')
            .map(str::to_string)
            .collect();
        for s in ["openid", "profile", "email"] {
            assert!(scopes.iter().any(|x| x == s), "scope {s} in {scopes:?}");
        }
        (authorize, cookie)
    }

    /// Opens the provider's sign-in page for `authorize`; returns (page URL, HTML).
    async fn provider_login_page(&self, b: &reqwest::Client, authorize: &str) -> (Url, String) {
        let mut at = Url::parse(authorize).unwrap();
        for _ in 0..5 {
            let r = b.get(at.clone()).send().await.unwrap();
            if r.status().is_redirection() {
                at = at.join(&location(&r)).unwrap();
                continue;
            }
            assert_eq!(r.status(), StatusCode::OK, "{at}");
            let html = r.text().await.unwrap();
            assert!(
                html.contains("name=\"login\""),
                "a login form at {at}:\n{html}"
            );
            return (at, html);
        }
        panic!("no sign-in page reached from {authorize}");
    }

    /// Follows the provider's redirects (and submits any further form, such as consent) until it
    /// sends the browser back to the portal; returns that URL, not yet visited.
    async fn follow_provider(&self, b: &reqwest::Client, mut r: reqwest::Response) -> String {
        let callback = self.portal("/auth/callback?");
        for _ in 0..10 {
            let at = r.url().clone();
            if r.status().is_redirection() {
                let next = at.join(&location(&r)).unwrap();
                if next.as_str().starts_with(&callback) {
                    return next.to_string();
                }
                assert!(
                    next.as_str().starts_with(&self.issuer),
                    "the provider redirected elsewhere: {next}"
                );
                r = b.get(next).send().await.unwrap();
                continue;
            }
            assert_eq!(r.status(), StatusCode::OK, "{at}");
            let html = r.text().await.unwrap();
            let (action, fields) = form_in(&html).unwrap_or_else(|| panic!("{at}:\n{html}"));
            r = b
                .post(at.join(&action).unwrap())
                .form(&fields)
                .send()
                .await
                .unwrap();
        }
        panic!("the provider never sent the browser back to the portal");
    }

    /// Signs in at the provider as `login`; returns the callback URL (not yet visited) and the
    /// session cookie the portal set when the sign-in started.
    async fn authorize(
        &self,
        b: &reqwest::Client,
        login: &str,
        return_to: &str,
    ) -> (String, String) {
        let (authorize, cookie) = self.start_login(b, return_to).await;
        let (page, html) = self.provider_login_page(b, &authorize).await;
        let (action, mut fields) = form_in(&html).expect("the sign-in form");
        fields.retain(|(k, _)| k != "login" && k != "password");
        fields.push(("login".into(), login.into()));
        fields.push(("password".into(), "any password will do".into()));
        let r = b
            .post(page.join(&action).unwrap())
            .form(&fields)
            .send()
            .await
            .unwrap();
        let callback = self.follow_provider(b, r).await;
        (callback, cookie)
    }

    /// A full sign-in; returns the portal's answer to the callback.
    async fn sign_in(
        &self,
        b: &reqwest::Client,
        login: &str,
        return_to: &str,
    ) -> reqwest::Response {
        let (callback, _) = self.authorize(b, login, return_to).await;
        b.get(callback).send().await.unwrap()
    }

    async fn me(&self, b: &reqwest::Client) -> (StatusCode, Value) {
        let r = b.get(self.portal("/api/v1/me")).send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

/// A browser: a cookie jar, and redirects followed by hand.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get(LOCATION)
        .unwrap_or_else(|| panic!("a redirect from {} ({})", r.url(), r.status()))
        .to_str()
        .unwrap()
        .to_string()
}

/// `jitgate_session=<value>` if the response sets the portal's session cookie.
fn session_cookie(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .find(|c| c.starts_with(&format!("{SESSION_COOKIE}=")))
        .map(str::to_string)
}

fn query_param(url: &str, name: &str) -> Option<String> {
    Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn html_unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&#x2F;", "/")
        .replace("&#47;", "/")
        .replace("&lt;", "<")
        .replace("&#60;", "<")
        .replace("&gt;", ">")
        .replace("&#62;", ">")
        .replace("&amp;", "&")
}

/// The value of attribute `name` in one HTML tag.
fn attr(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = tag[start..].find('"')? + start;
    Some(html_unescape(&tag[start..end]))
}

/// The first form on a page: its action and its hidden fields.
fn form_in(html: &str) -> Option<(String, Vec<(String, String)>)> {
    let form = &html[html.find("<form")?..];
    let form = &form[..form.find("</form>")?];
    let action = attr(&form[..form.find('>')?], "action")?;
    let fields = form
        .split("<input")
        .skip(1)
        .map(|chunk| &chunk[..chunk.find('>').unwrap_or(chunk.len())])
        .filter(|tag| attr(tag, "type").as_deref() == Some("hidden"))
        .filter_map(|tag| Some((attr(tag, "name")?, attr(tag, "value").unwrap_or_default())))
        .collect();
    Some((action, fields))
}

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
    assert_ne!(before, after, "a new session id at sign-in");
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

    let r = b.get(forged).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body = r.text().await.unwrap();
    assert!(body.contains("Sign-in failed"), "{body}");
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
    assert_eq!(t.me(&b).await.0, StatusCode::UNAUTHORIZED);
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
    let r = attacker.get(replay).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body = r.text().await.unwrap();
    assert!(body.contains("did not accept the sign-in code"), "{body}");
    assert!(
        t.provider_says("grant.error: invalid_grant").await,
        "the provider itself refused the code"
    );
    assert_eq!(t.me(&attacker).await.0, StatusCode::UNAUTHORIZED);
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
    let (authorize, _) = t.start_login(&b, "/").await;
    let (page, _) = t.provider_login_page(&b, &authorize).await;
    // The provider refuses this user, with a description that must not become markup.
    let mut deny = page.clone();
    deny.set_path(&format!("{}/deny", page.path()));
    deny.query_pairs_mut().append_pair(
        "error_description",
        "<script>alert('jit')</script> is not allowed",
    );
    let r = b.get(deny).send().await.unwrap();
    let callback = t.follow_provider(&b, r).await;
    assert_eq!(
        query_param(&callback, "error").as_deref(),
        Some("access_denied")
    );
    assert!(query_param(&callback, "code").is_none());

    let r = b.get(&callback).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body = r.text().await.unwrap();
    assert!(body.contains("Sign-in failed"), "{body}");
    assert!(body.contains("access_denied"), "{body}");
    assert!(
        !body.contains("<script>alert"),
        "markup from the provider: {body}"
    );
    assert!(
        html_unescape(&body).contains("<script>alert('jit')</script> is not allowed"),
        "the description, escaped: {body}"
    );
    assert_eq!(t.me(&b).await.0, StatusCode::UNAUTHORIZED);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_cancelled_at_the_provider_is_refused() {
    let Some(t) = Interop::start().await else {
        return;
    };
    let b = browser();
    let (authorize, _) = t.start_login(&b, "/").await;
    let (page, html) = t.provider_login_page(&b, &authorize).await;
    // The provider's own "Cancel" link.
    let abort = html
        .split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(html_unescape)
        .find(|h| h.ends_with("/abort"))
        .unwrap_or_else(|| panic!("a cancel link:\n{html}"));
    let r = b.get(page.join(&abort).unwrap()).send().await.unwrap();
    let callback = t.follow_provider(&b, r).await;
    assert_eq!(
        query_param(&callback, "error").as_deref(),
        Some("access_denied")
    );

    let r = b.get(&callback).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body = r.text().await.unwrap();
    assert!(body.contains("Sign-in failed"), "{body}");
    assert!(body.contains("access_denied"), "{body}");
    assert!(body.contains("End-User aborted interaction"), "{body}");
    assert_eq!(t.me(&b).await.0, StatusCode::UNAUTHORIZED);
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
