//! The machinery of the browser tests: chromedriver and headless Chromium, the portal with its
//! Entra emulator, signing in through the emulator's page, waiting and screenshots.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use jitgate::clock::{Clock, SystemClock};
use jitgate::emulator::demo::EXCLUSION_GROUP_ID;
use serde_json::{Value, json};

pub use jitgate::emulator::demo::{ALEX, AVERY, DANA, JORDAN, MORGAN, RILEY};

use crate::common::db::{Backend, TestDb};
use crate::common::portal::EmulatedPortal;

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// How long any single wait for the page may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(15);

/// The package every flow requests: 15 minutes to 4 hours, 2 hours by default.
pub const PACKAGE: &str = "device-code";
pub const PACKAGE_NAME: &str = "Device code flow exemption";

/// One browser test at a time: each runs up to three Chromium instances, and CI has two cores.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub async fn exclusive() -> tokio::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().await
}

fn under_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

// ---------------------------------------------------------------------------------------------
// chromedriver
// ---------------------------------------------------------------------------------------------

/// A chromedriver process on a free loopback port, in its own process group. Dropping it ends the
/// browser sessions it opened and then kills the group (chromedriver and any Chromium left over).
pub struct Driver {
    child: Child,
    port: u16,
    sessions: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A minimal HTTP/1.1 exchange with chromedriver, usable where nothing async is (in `Drop`).
fn blocking_http(port: u16, method: &str, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    s.set_write_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    // chromedriver may keep the connection open: read the head, then exactly Content-Length bytes.
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf);
        if let Some(head_end) = text.find("\r\n\r\n") {
            let length = text[..head_end]
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.trim()
                        .eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if buf.len() >= head_end + 4 + length {
                break;
            }
        }
    }
    Some(String::from_utf8_lossy(&buf).into_owned())
}

impl Driver {
    /// Starts chromedriver, or returns `None` (after saying so loudly) when Chromium or chromedriver
    /// is not installed. Under CI a missing browser fails the test instead.
    pub async fn start() -> Option<Driver> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
            .into_iter()
            .filter(|p| !Path::new(p).exists())
            .collect();
        if !missing.is_empty() {
            let msg = format!(
                "browser tests need Debian's chromium and chromium-driver, but {} is missing \
                 (scripts/test.sh installs them: apt-get install chromium chromium-driver)",
                missing.join(" and ")
            );
            assert!(!under_ci(), "{msg}");
            eprintln!("SKIPPING this browser test: {msg}");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("chromedriver.log")).unwrap();
        let child = {
            use std::os::unix::process::CommandExt;
            Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .process_group(0)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {CHROMEDRIVER}: {e}"))
        };
        let driver = Driver {
            child,
            port,
            sessions: Arc::default(),
            _dir: dir,
        };
        let status = format!("http://127.0.0.1:{port}/status");
        let http = reqwest::Client::new();
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(r) = http.get(&status).send().await
                && let Ok(v) = r.json::<Value>().await
                && v["value"]["ready"] == true
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not answer on port {port} within {WAIT:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Some(driver)
    }

    /// Opens a new headless Chromium with a fresh profile: its own cookies, its own session.
    pub async fn browser(&self) -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            },
        });
        let Value::Object(caps) = caps else {
            unreachable!()
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("chromedriver could not start Chromium");
        let id = client.session_id().await.ok().flatten();
        if let Some(id) = &id {
            self.sessions.lock().unwrap().push(id.clone());
        }
        Browser {
            client,
            id,
            sessions: self.sessions.clone(),
            _profile: profile,
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // Closing the sessions lets each Chromium exit cleanly; the group kill catches the rest.
        for id in self.sessions.lock().unwrap().drain(..) {
            let _ = blocking_http(self.port, "DELETE", &format!("/session/{id}"));
        }
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------------
// One browser
// ---------------------------------------------------------------------------------------------

pub fn css(selector: &str) -> Locator<'_> {
    Locator::Css(selector)
}

/// One Chromium window (its own profile, so its own sign-in).
pub struct Browser {
    pub client: Client,
    /// The WebDriver session, and the driver's list of sessions to end if the test does not.
    id: Option<String>,
    sessions: Arc<Mutex<Vec<String>>>,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
    }

    pub async fn url(&self) -> url::Url {
        self.client.current_url().await.unwrap()
    }

    /// Waits for an element to appear.
    pub async fn wait_for(&self, selector: &str) -> Element {
        match self
            .client
            .wait()
            .at_most(WAIT)
            .for_element(css(selector))
            .await
        {
            Ok(e) => e,
            Err(e) => {
                let url = self.client.current_url().await.map(|u| u.to_string());
                panic!(
                    "`{selector}` did not appear within {WAIT:?} on {}: {e}",
                    url.unwrap_or_default()
                )
            }
        }
    }

    /// The element if it is on the page now.
    pub async fn find(&self, selector: &str) -> Option<Element> {
        match self.client.find(css(selector)).await {
            Ok(e) => Some(e),
            Err(e) if e.is_no_such_element() => None,
            Err(e) => panic!("finding `{selector}`: {e}"),
        }
    }

    pub async fn find_all(&self, selector: &str) -> Vec<Element> {
        self.client.find_all(css(selector)).await.unwrap()
    }

    /// The element, which must be on the page now.
    pub async fn must(&self, selector: &str) -> Element {
        match self.find(selector).await {
            Some(e) => e,
            None => panic!(
                "`{selector}` is not on {} (page text: {})",
                self.url().await,
                self.body_text().await
            ),
        }
    }

    pub async fn text(&self, selector: &str) -> String {
        self.must(selector).await.text().await.unwrap()
    }

    pub async fn body_text(&self) -> String {
        match self.client.find(css("body")).await {
            Ok(b) => b.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Clicks something that loads a new page, and waits until the new page has loaded.
    pub async fn click_and_load(&self, e: &Element) {
        self.js("window.__jitgateOldPage = true; return null;", vec![])
            .await;
        e.click().await.unwrap();
        self.wait_new_page().await;
    }

    /// Runs a script that loads a new page (such as `form.requestSubmit()`) and waits for it.
    pub async fn run_and_load(&self, script: &str, args: Vec<Value>) {
        self.js("window.__jitgateOldPage = true; return null;", vec![])
            .await;
        self.js(script, args).await;
        self.wait_new_page().await;
    }

    async fn wait_new_page(&self) {
        let deadline = Instant::now() + WAIT;
        loop {
            // While the old document is still there, or the new one is still loading, keep waiting.
            let r = self
                .client
                .execute(
                    "return window.__jitgateOldPage === undefined && document.readyState === 'complete';",
                    vec![],
                )
                .await;
            if matches!(r, Ok(Value::Bool(true))) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "no new page loaded within {WAIT:?} (still on {})",
                self.url().await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn reload(&self) {
        self.client.refresh().await.unwrap();
    }

    /// The HTTP status of the document on screen (Navigation Timing's `responseStatus`).
    pub async fn status(&self) -> u16 {
        let v = self
            .js(
                "const n = performance.getEntriesByType('navigation')[0]; return n ? n.responseStatus : 0;",
                vec![],
            )
            .await;
        v.as_u64().unwrap_or(0) as u16
    }

    /// The value of a form field as the page holds it now.
    pub async fn value(&self, selector: &str) -> String {
        self.must(selector)
            .await
            .prop("value")
            .await
            .unwrap()
            .unwrap_or_default()
    }

    /// Types into a field after clearing it.
    pub async fn fill(&self, selector: &str, text: &str) {
        let e = self.must(selector).await;
        e.clear().await.unwrap();
        e.send_keys(text).await.unwrap();
    }

    /// The text of an open alert dialog, if one is open.
    pub async fn alert(&self) -> Option<String> {
        self.client.get_alert_text().await.ok()
    }

    /// The value of the portal's session cookie in this browser.
    pub async fn session_cookie(&self) -> String {
        self.client
            .get_named_cookie("jitgate_session")
            .await
            .expect("the browser holds no jitgate_session cookie")
            .value()
            .to_string()
    }

    /// Saves a PNG of the viewport as `<target>/screenshots/<name>.png`.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        assert!(
            png.starts_with(b"\x89PNG"),
            "the screenshot of {name} is not a PNG"
        );
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// Signs in from the landing page: `a#sign-in`, then the user's button on the emulator's page.
    pub async fn sign_in(&self, portal: &Portal, user: &str) {
        self.goto(&format!("{}/", portal.url)).await;
        let link = self.wait_for("a#sign-in").await;
        self.click_and_load(&link).await;
        self.choose_user(user).await;
    }

    /// On the emulator's sign-in page: clicks the user's button and waits for the portal's header.
    pub async fn choose_user(&self, user: &str) {
        let button = self
            .wait_for(&format!(r#"button[name="user"][value="{user}"]"#))
            .await;
        self.click_and_load(&button).await;
        self.wait_for(r#"[data-testid="signed-in-as"]"#).await;
    }

    pub async fn sign_out(&self) {
        let b = self.must("form#sign-out button").await;
        self.click_and_load(&b).await;
    }

    /// Ends the browser session (Chromium exits).
    pub async fn close(self) {
        if self.client.clone().close().await.is_ok()
            && let Some(id) = &self.id
        {
            self.sessions.lock().unwrap().retain(|s| s != id);
        }
    }
}

pub fn screenshot_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
        .join("screenshots")
}

/// Retries `check` (reloading the page in between) until it holds.
pub async fn eventually<F, Fut>(b: &Browser, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + WAIT;
    loop {
        if check().await {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {WAIT:?} waiting for {what} on {} (page text: {})",
            b.url().await,
            b.body_text().await
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
        b.reload().await;
    }
}

// ---------------------------------------------------------------------------------------------
// The portal
// ---------------------------------------------------------------------------------------------

/// The real portal on a loopback port, signed in through the built-in Entra emulator, on the real
/// clock, in demo mode, with its own database.
pub struct Portal {
    portal: EmulatedPortal,
    db: Option<TestDb>,
}

impl Deref for Portal {
    type Target = EmulatedPortal;
    fn deref(&self) -> &EmulatedPortal {
        &self.portal
    }
}

fn sections() -> String {
    format!(
        r#"
[[package]]
id = "{PACKAGE}"
name = "{PACKAGE_NAME}"
description = "Membership of the group excluded from the policy that blocks the device code flow."
group_id = "{EXCLUSION_GROUP_ID}"
min_duration = "15m"
default_duration = "2h"
max_duration = "4h"
duration_presets = ["30m", "1h", "2h", "4h"]
"#
    )
}

impl Portal {
    /// `None` when the backend is PostgreSQL and it cannot be reached outside CI.
    pub async fn spawn(backend: Backend) -> Option<Portal> {
        let db = TestDb::new(backend).await?;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let portal = EmulatedPortal::spawn(&db.url, &sections(), clock, true).await;
        Some(Portal {
            portal,
            db: Some(db),
        })
    }

    pub async fn stop(mut self) {
        self.portal.stop().await;
        if let Some(db) = self.db.take() {
            db.cleanup().await;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The "My access" form
// ---------------------------------------------------------------------------------------------

pub fn package_form(package: &str) -> String {
    format!(r#"form[data-package="{package}"]"#)
}

/// Fills the request form of `package` (duration as a preset value in minutes) without submitting.
pub async fn fill_request(
    b: &Browser,
    package: &str,
    minutes: &str,
    justification: &str,
    ticket: &str,
) {
    let form = package_form(package);
    b.must(&format!(r#"{form} select[name="duration_minutes"]"#))
        .await
        .select_by_value(minutes)
        .await
        .unwrap_or_else(|e| panic!("no duration option with value {minutes}: {e}"));
    b.fill(
        &format!(r#"{form} textarea[name="justification"]"#),
        justification,
    )
    .await;
    b.fill(&format!(r#"{form} input[name="ticket"]"#), ticket)
        .await;
}

/// Fills and submits the request form, and waits for the page that answers.
pub async fn request_access(
    b: &Browser,
    package: &str,
    minutes: &str,
    justification: &str,
    ticket: &str,
) {
    fill_request(b, package, minutes, justification, ticket).await;
    let submit = b
        .must(&format!(
            r#"{} button[type="submit"]"#,
            package_form(package)
        ))
        .await;
    b.click_and_load(&submit).await;
}

/// The id of the only request on "My access" (an `article.grant`), waiting for it to appear.
pub async fn only_request_id(b: &Browser) -> String {
    b.wait_for("article.grant[data-request-id]").await;
    let all = b.find_all("article.grant[data-request-id]").await;
    assert_eq!(all.len(), 1, "expected exactly one request on My access");
    all[0].attr("data-request-id").await.unwrap().unwrap()
}
