//! One Chromium window: navigating, finding, typing, waiting, signing in, screenshots.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, Locator};
use serde_json::Value;

use super::{Portal, WAIT};
use crate::common::html::SESSION_COOKIE;

pub fn css(selector: &str) -> Locator<'_> {
    Locator::Css(selector)
}

/// One Chromium window (its own profile, so its own sign-in).
pub struct Browser {
    pub client: Client,
    /// The WebDriver session, and the driver's list of sessions to end if the test does not.
    pub(super) id: Option<String>,
    pub(super) sessions: Arc<Mutex<Vec<String>>>,
    pub(super) _profile: tempfile::TempDir,
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

    /// Whether the page shows `selector` now.
    pub async fn has(&self, selector: &str) -> bool {
        self.find(selector).await.is_some()
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

    /// Attribute `name` of the element `selector`, which must be on the page now.
    pub async fn attr(&self, selector: &str, name: &str) -> Option<String> {
        self.must(selector).await.attr(name).await.unwrap()
    }

    /// Attribute `name` of every element `selector` finds, in page order; each must have it.
    pub async fn attrs(&self, selector: &str, name: &str) -> Vec<String> {
        let mut values = Vec::new();
        for e in self.find_all(selector).await {
            let value = e.attr(name).await.unwrap();
            values.push(value.unwrap_or_else(|| panic!("`{selector}` without {name}")));
        }
        values
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
            .get_named_cookie(SESSION_COOKIE)
            .await
            .unwrap_or_else(|e| panic!("the browser holds no {SESSION_COOKIE} cookie: {e}"))
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

    /// Whom the portal's header says is signed in.
    pub async fn signed_in_as(&self) -> String {
        self.text(r#"[data-testid="signed-in-as"]"#)
            .await
            .trim()
            .to_string()
    }

    /// Follows the navigation link `nav` (`data-nav`); the page must open (200). Returns its path.
    pub async fn open_nav(&self, nav: &str) -> String {
        let link = self.must(&format!(r#"nav a[data-nav="{nav}"]"#)).await;
        self.click_and_load(&link).await;
        let url = self.url().await;
        assert_eq!(self.status().await, 200, "opening {nav}: {url}");
        url.path().to_string()
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
