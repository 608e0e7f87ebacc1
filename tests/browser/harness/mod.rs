//! The machinery of the browser tests: chromedriver and headless Chromium, the portal with its
//! Entra emulator, signing in through the emulator's page, waiting and screenshots.

#![allow(dead_code)]

mod browser;
mod driver;

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use jitgate::clock::{Clock, SystemClock};
use jitgate::emulator::demo::EXCLUSION_GROUP_ID;

pub use browser::{Browser, eventually};
pub use driver::Driver;
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

/// What every browser test starts with: its turn (one test at a time), chromedriver, and the
/// portal on `backend`. `None` (after saying why) when the browser or PostgreSQL is missing
/// outside CI.
pub async fn start(backend: Backend) -> Option<Session> {
    start_configured(backend, &sections(), Arc::new(SystemClock)).await
}

/// As [`start`], with the configuration sections after `[entra]` and the clock given.
pub async fn start_configured(
    backend: Backend,
    sections: &str,
    clock: Arc<dyn Clock>,
) -> Option<Session> {
    let turn = exclusive().await;
    let driver = Driver::start().await?;
    let portal = Portal::spawn_configured(backend, sections, clock).await?;
    Some(Session {
        driver,
        portal,
        _turn: turn,
    })
}

/// One browser test's chromedriver and portal, for as long as it has its turn.
pub struct Session {
    driver: Driver,
    pub portal: Portal,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

impl Session {
    /// A new Chromium window, not signed in.
    pub async fn browser(&self) -> Browser {
        self.driver.browser().await
    }

    /// A new Chromium window, signed in as `user` from the landing page.
    pub async fn signed_in(&self, user: &str) -> Browser {
        let b = self.browser().await;
        b.sign_in(&self.portal, user).await;
        b
    }

    /// The portal's address for `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.portal.url)
    }

    /// Closes the windows, ends chromedriver, stops the portal and gives the turn to the next test.
    pub async fn finish(self, browsers: impl IntoIterator<Item = Browser>) {
        let Session {
            driver,
            portal,
            _turn,
        } = self;
        for b in browsers {
            b.close().await;
        }
        drop(driver);
        portal.stop().await;
    }
}

fn under_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
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

/// The browser tests' package, as configuration.
pub fn sections() -> String {
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

/// A demo user as the service sees them, holding the app roles `roles`.
pub fn person(id: &str, roles: &[&str]) -> jitgate::auth::Principal {
    let u = jitgate::emulator::demo::users()
        .into_iter()
        .find(|u| u.id == id)
        .unwrap_or_else(|| panic!("no demo user {id}"));
    jitgate::auth::Principal::new(
        jitgate::domain::UserRef {
            id: u.id,
            name: u.name,
            username: u.username,
        },
        roles.iter().map(|r| r.to_string()).collect(),
    )
}

impl Portal {
    /// `user` asks for `minutes` of [`PACKAGE`] and Morgan approves, through the service (for
    /// tests whose story starts with a grant). The request as approved.
    pub async fn granted(&self, user: &str, minutes: i64) -> jitgate::domain::Request {
        let portal = self.portal();
        let r = portal
            .create_request(
                &person(user, &[]),
                jitgate::domain::NewRequestInput {
                    package: PACKAGE.into(),
                    duration_minutes: Some(minutes),
                    justification: "Registering the build runner".into(),
                    ticket: None,
                    starts_at: None,
                    emergency: false,
                },
            )
            .await
            .unwrap();
        let id = jitgate::domain::RequestId::parse(&r.id).unwrap();
        portal
            .decide(
                &person(MORGAN, &["Approver"]),
                &id,
                jitgate::domain::Decision::Approve,
                jitgate::service::DecisionInput {
                    comment: None,
                    duration_minutes: None,
                },
            )
            .await
            .unwrap()
    }

    /// `None` when the backend is PostgreSQL and it cannot be reached outside CI.
    pub async fn spawn(backend: Backend) -> Option<Portal> {
        Portal::spawn_configured(backend, &sections(), Arc::new(SystemClock)).await
    }

    pub async fn spawn_configured(
        backend: Backend,
        sections: &str,
        clock: Arc<dyn Clock>,
    ) -> Option<Portal> {
        let db = TestDb::new(backend).await?;
        let portal = EmulatedPortal::spawn(&db.url, sections, clock, true).await;
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
    submit_request(b, package).await;
}

/// Submits the request form of `package` as it is, and waits for the page that answers.
pub async fn submit_request(b: &Browser, package: &str) {
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
    let all = b
        .attrs("article.grant[data-request-id]", "data-request-id")
        .await;
    assert_eq!(all.len(), 1, "expected exactly one request on My access");
    all[0].clone()
}
