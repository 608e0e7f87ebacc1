//! Real-browser end to end: headless Chromium driven through chromedriver (WebDriver) against the
//! real portal, signed in through the built-in Entra emulator's sign-in page.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`scripts/test.sh` installs them). Without them
//! each test is skipped with a message, except under CI (`CI=true`), where it fails.
//! Screenshots of the main pages land in `<target dir>/screenshots/`.

#[path = "../common/mod.rs"]
mod common;
mod harness;

mod break_glass;
mod device_code;
mod escaping;
mod extend;
mod navigation;
mod on_behalf;
mod reviews;
mod sign_in;
mod step_up;
mod story;
mod validation;
