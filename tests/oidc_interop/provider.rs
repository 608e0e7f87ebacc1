//! The portal with a real, independent OpenID provider (panva's `oidc-provider`, run by node):
//! starting both, and the browser's side of a sign-in.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jitgate::clock::SystemClock;
use jitgate::config::Settings;
use jitgate::startup::App;
use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use url::Url;

use crate::common;
use crate::common::html::{form_in, location, query_param, session_cookie, set_cookie};

pub const TENANT_ID: &str = "3c5d8e2a-7b1f-4e6a-9c0d-1f2e3a4b5c6d";
pub const CLIENT_ID: &str = "jit-portal";
pub const CLIENT_SECRET: &str = "jit-portal-secret";

/// The accounts provider.mjs knows.
pub const ALICE_OID: &str = "6f1c2a3b-4d5e-4f60-8a71-92b3c4d5e6f7";
pub const BOB_OID: &str = "0b0b0b0b-1c1c-4d2d-9e3e-4f4f5a5a6b6b";

pub fn oidc_dir() -> PathBuf {
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

/// Submits a form found on `page` (its `action`, its `fields`); the answer, redirects not followed.
async fn submit(
    b: &reqwest::Client,
    page: &Url,
    action: &str,
    fields: &[(String, String)],
) -> reqwest::Response {
    let to = page.join(action).unwrap();
    b.post(to).form(fields).send().await.unwrap()
}

/// The portal plus its OpenID provider. The provider process is killed when this is dropped.
pub struct Interop {
    app: Option<App>,
    url: String,
    pub issuer: String,
    provider: Child,
    provider_log: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

impl Interop {
    /// None (after saying so, loudly) when the provider cannot run here and this is not CI.
    pub async fn start() -> Option<Interop> {
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

    pub fn portal(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// Whether the provider has written a line containing `needle` to stderr.
    pub fn provider_said(&self, needle: &str) -> bool {
        self.provider_log
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains(needle))
    }

    /// As [`Self::provider_said`], allowing a moment for the line to come through the pipe.
    pub async fn provider_says(&self, needle: &str) -> bool {
        for _ in 0..100 {
            if self.provider_said(needle) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    pub async fn stop(mut self) {
        if let Some(app) = self.app.take() {
            app.stop().await;
        }
        let _ = self.provider.kill().await;
    }

    /// `GET /auth/login`: checks the request sent to the provider, returns (authorize URL, login cookie).
    pub async fn start_login(&self, b: &reqwest::Client, return_to: &str) -> (String, String) {
        let r = b
            .get(self.portal(&format!("/auth/login?return_to={return_to}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "/auth/login");
        let cookie = set_cookie(&r, "jitgate_login")
            .and_then(|c| c.split(';').next().map(str::to_string))
            .expect("a login cookie when the sign-in starts");
        assert!(
            session_cookie(&r).is_none(),
            "starting a sign-in makes no session"
        );
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

    /// Starts a sign-in at the portal (see [`Self::start_login`]) and opens the provider's sign-in
    /// page; returns (page URL, HTML, the login cookie the portal set).
    pub async fn open_login_page(
        &self,
        b: &reqwest::Client,
        return_to: &str,
    ) -> (Url, String, String) {
        let (authorize, cookie) = self.start_login(b, return_to).await;
        let mut at = Url::parse(&authorize).unwrap();
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
            return (at, html, cookie);
        }
        panic!("no sign-in page reached from {authorize}");
    }

    /// Follows the provider's redirects (and submits any further form, such as consent) until it
    /// sends the browser back to the portal; returns that URL, not yet visited.
    pub async fn follow_provider(&self, b: &reqwest::Client, mut r: reqwest::Response) -> String {
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
            r = submit(b, &at, &action, &fields).await;
        }
        panic!("the provider never sent the browser back to the portal");
    }

    /// Signs in at the provider as `login`; returns the callback URL (not yet visited) and the
    /// session cookie the portal set when the sign-in started.
    pub async fn authorize(
        &self,
        b: &reqwest::Client,
        login: &str,
        return_to: &str,
    ) -> (String, String) {
        let (page, html, cookie) = self.open_login_page(b, return_to).await;
        let (action, mut fields) = form_in(&html).expect("the sign-in form");
        fields.retain(|(k, _)| k != "login" && k != "password");
        fields.push(("login".into(), login.into()));
        fields.push(("password".into(), "any password will do".into()));
        let r = submit(b, &page, &action, &fields).await;
        let callback = self.follow_provider(b, r).await;
        (callback, cookie)
    }

    /// A full sign-in; returns the portal's answer to the callback.
    pub async fn sign_in(
        &self,
        b: &reqwest::Client,
        login: &str,
        return_to: &str,
    ) -> reqwest::Response {
        let (callback, _) = self.authorize(b, login, return_to).await;
        b.get(callback).send().await.unwrap()
    }

    pub async fn me(&self, b: &reqwest::Client) -> (StatusCode, Value) {
        let r = b.get(self.portal("/api/v1/me")).send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Follows the provider's answer `r` back to the portal: the answer must carry `access_denied`
    /// and no code, and the portal must refuse it (see [`Self::refused`]) and name the error.
    /// Returns the portal's page.
    pub async fn refused_denial(&self, b: &reqwest::Client, r: reqwest::Response) -> String {
        let callback = self.follow_provider(b, r).await;
        assert_eq!(
            query_param(&callback, "error").as_deref(),
            Some("access_denied"),
            "{callback}"
        );
        assert!(query_param(&callback, "code").is_none(), "{callback}");
        let body = self.refused(b, &callback, StatusCode::UNAUTHORIZED).await;
        assert!(body.contains("access_denied"), "{body}");
        body
    }

    /// Visits `url` (an answer at the callback) and checks the portal refused the sign-in with
    /// `status` on its "Sign-in failed" page and left the browser signed out; returns the page.
    pub async fn refused(&self, b: &reqwest::Client, url: &str, status: StatusCode) -> String {
        let r = b.get(url).send().await.unwrap();
        assert_eq!(r.status(), status, "{url}");
        let body = r.text().await.unwrap();
        assert!(body.contains("Sign-in failed"), "{body}");
        assert_eq!(
            self.me(b).await.0,
            StatusCode::UNAUTHORIZED,
            "still signed out"
        );
        body
    }
}
