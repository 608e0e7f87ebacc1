//! A sign-in the person completes: in the browser (the address opened, or printed), or with a
//! device code entered on another device's browser. `jitgate login` starts one; a step-up the
//! portal asks for (a claims challenge) starts another the same way the first was made, with
//! the claims request.

use chrono::Utc;

use super::output::{Out, visible, when};
use super::sign_in::{self, Authority, Tokens};

/// How a sign-in is made.
#[derive(Debug, Clone, Copy)]
pub struct How {
    /// With a device code (RFC 8628), else in the browser.
    pub device_code: bool,
    /// Print the browser's address without opening a browser.
    pub no_browser: bool,
}

/// Runs a sign-in at `authority` as `how` says, with the claims request `claims` if any,
/// telling the person what to do through `out`.
pub async fn sign_in(
    authority: &Authority,
    http: &reqwest::Client,
    how: How,
    claims: Option<&str>,
    out: Out,
) -> anyhow::Result<Tokens> {
    if how.device_code {
        let (prompt, poll) = sign_in::device_code(authority, http, claims).await?;
        out.note(&visible(&prompt.message));
        out.note(&format!(
            "The code expires at {} (15 minutes). Waiting for the sign-in; Ctrl-C cancels.",
            when(prompt.expires_at, Utc::now())
        ));
        return poll.await;
    }
    let no_browser = how.no_browser;
    let show = move |url: &str| {
        if no_browser || webbrowser::open(url).is_err() {
            out.note(&format!(
                "Open this address in a browser on this machine to sign in:\n\n  {url}\n"
            ));
        } else {
            out.note(&format!(
                "Your browser was opened to sign in. If it did not open, go to:\n\n  {url}\n"
            ));
        }
        out.note("Waiting for the sign-in; Ctrl-C cancels.");
    };
    sign_in::browser(authority, http, claims, show).await
}
