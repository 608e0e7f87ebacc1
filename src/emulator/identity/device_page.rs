//! The device-login page (`/{tenant}/oauth2/deviceauth`, the `verification_uri` of the device
//! code flow): the user enters the code, picks a demo user, presses Continue or Deny, and sees
//! what happened.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::claims::mfa_step;
use super::conditional_access::BLOCKED;
use super::device_login::{DeviceLogin, PageError, complete, decline, live};
use super::errors::tenant_ok;
use super::pages::{error_page, form_error, hidden, html_response, page, unknown_tenant_page};
use super::resources::app_name;
use super::user_codes::normalize_code;
use crate::emulator::config::DemoUser;
use crate::emulator::tenant::Emulator;
use crate::emulator::wire::html_escape;

/// The address that signed in: the first `X-Forwarded-For` entry when it is an IP address,
/// else the peer.
fn caller_ip(headers: &HeaderMap, peer: SocketAddr) -> String {
    headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .and_then(|v| v.trim().parse::<IpAddr>().ok())
        .unwrap_or_else(|| peer.ip())
        .to_string()
}

fn page_html(emu: &Emulator, title: &str, outcome: &str, content: &str) -> String {
    let main = format!(
        " data-outcome=\"{outcome}\" data-tenant=\"{}\"",
        html_escape(&emu.config().tenant_id)
    );
    page(title, &main, content)
}

fn form_action(emu: &Emulator) -> String {
    format!(
        "/{}/oauth2/deviceauth",
        html_escape(&emu.config().tenant_id)
    )
}

/// Step 1: the code.
fn code_form(emu: &Emulator, error: Option<&str>) -> Response {
    let error = form_error(error);
    let content = format!(
        "<p class=\"note\">Enter the code displayed on your app or device.</p>\n<form method=\"post\" action=\"{}\">\n{error}<p><input type=\"text\" name=\"otc\" id=\"otc\" autocomplete=\"off\" spellcheck=\"false\" aria-label=\"Code\" placeholder=\"Code\" required></p>\n<button type=\"submit\" name=\"action\" value=\"next\" class=\"cancel\">Next</button>\n</form>\n",
        form_action(emu)
    );
    html_response(
        StatusCode::OK,
        page_html(emu, "Enter code", "code", &content),
    )
}

/// Step 2: who is signing in (with the MFA step when the code's `claims` asked for
/// authentication contexts `acrs`), Continue or Deny.
fn account_form(
    emu: &Emulator,
    user_code: &str,
    client_id: &str,
    acrs: &[String],
    error: Option<&str>,
) -> Response {
    let app = app_name(emu, client_id);
    let error = form_error(error);
    let mut users = String::new();
    for u in &emu.config().users {
        users.push_str(&format!(
            "<li><label><input type=\"radio\" name=\"user\" value=\"{}\" data-username=\"{}\" required> <span class=\"name\">{}</span><span class=\"upn\">{}</span></label></li>\n",
            html_escape(&u.id),
            html_escape(&u.username),
            html_escape(&u.name),
            html_escape(&u.username),
        ));
    }
    let content = format!(
        "<p class=\"note\">Are you trying to sign in to <strong id=\"app\">{}</strong>? Only continue if you started the sign-in on a device you trust. Pick a demo user; no password is needed.</p>\n<form method=\"post\" action=\"{}\">\n{error}{}<ul>\n{users}</ul>\n{}<button type=\"submit\" name=\"action\" value=\"continue\" class=\"cancel\">Continue</button>\n<button type=\"submit\" name=\"action\" value=\"deny\" class=\"cancel\" formnovalidate>Deny</button>\n</form>\n",
        html_escape(&app),
        form_action(emu),
        hidden("otc", &normalize_code(user_code)),
        mfa_step(acrs),
    );
    html_response(
        StatusCode::OK,
        page_html(emu, "Pick an account", "account", &content),
    )
}

/// Step 3: what happened.
fn outcome_page(emu: &Emulator, client_id: &str, user: &DemoUser, outcome: &str) -> Response {
    let app = html_escape(&app_name(emu, client_id));
    let who = html_escape(&user.username);
    let (title, content) = match outcome {
        "signed-in" => (
            app_name(emu, client_id),
            format!(
                "<p id=\"result\">You have signed in to the {app} application on your device as {who}. You may now close this window.</p>\n"
            ),
        ),
        "blocked" => (
            "You cannot access this right now".to_owned(),
            format!(
                "<p id=\"result\">Your sign-in was successful but does not meet the criteria to access this resource. For example, you might be signing in from a browser, app, or location that is restricted by your admin.</p>\n<p class=\"error\" id=\"error\">AADSTS53003: {}</p>\n<p class=\"note\">App name: {app}<br>User: {who}<br>Error code: 53003</p>\n",
                html_escape(BLOCKED)
            ),
        ),
        _ => (
            "Sign-in cancelled".to_owned(),
            format!(
                "<p id=\"result\">You declined to sign in to {app} on the other device. You may now close this window.</p>\n"
            ),
        ),
    };
    html_response(StatusCode::OK, page_html(emu, &title, outcome, &content))
}

/// `GET /{tenant}/oauth2/deviceauth`: the device-login page.
pub(crate) async fn device_page(
    State(emu): State<Emulator>,
    Path(tenant): Path<String>,
) -> Response {
    if !tenant_ok(&emu, &tenant) {
        return unknown_tenant_page(&tenant);
    }
    code_form(&emu, None)
}

/// `POST /{tenant}/oauth2/deviceauth`: `otc` alone checks the code; with `user` and
/// `action=continue|deny` the login is completed or denied.
pub(crate) async fn device_page_submit(
    State(emu): State<Emulator>,
    Path(tenant): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if !tenant_ok(&emu, &tenant) {
        return unknown_tenant_page(&tenant);
    }
    let otc = form.get("otc").map(String::as_str).unwrap_or("");
    let checked = live(&mut emu.state(), otc).map(|(info, _)| (info.client_id, info.acrs));
    let (client_id, acrs) = match checked {
        Ok(live) => live,
        Err(e) => return code_form(&emu, Some(&e.to_string())),
    };
    let action = form.get("action").map(String::as_str).unwrap_or("next");
    if action != "continue" && action != "deny" {
        return account_form(&emu, otc, &client_id, &acrs, None);
    }
    let Some(user) = form.get("user").and_then(|id| emu.user(id)).cloned() else {
        return account_form(
            &emu,
            otc,
            &client_id,
            &acrs,
            Some("Pick an account to continue."),
        );
    };
    let ip = caller_ip(&headers, peer);
    if action == "deny" {
        return match decline(&emu, otc, &user.id, &ip) {
            Ok(()) => outcome_page(&emu, &client_id, &user, "declined"),
            Err(e) => code_form(&emu, Some(&e.to_string())),
        };
    }
    let mfa = form.get("mfa").is_some_and(|v| !v.is_empty());
    match complete(&emu, otc, &user.id, &ip, mfa) {
        Ok(DeviceLogin::SignedIn) => outcome_page(&emu, &client_id, &user, "signed-in"),
        Ok(DeviceLogin::Blocked) => outcome_page(&emu, &client_id, &user, "blocked"),
        Err(PageError::Disabled) => error_page(
            StatusCode::BAD_REQUEST,
            50057,
            "The user account is disabled.",
        ),
        Err(e @ PageError::MfaRequired) => {
            account_form(&emu, otc, &client_id, &acrs, Some(&e.to_string()))
        }
        Err(e) => code_form(&emu, Some(&e.to_string())),
    }
}
