//! The device authorization grant (RFC 8628, wire doc §12): `POST /{tenant}/oauth2/v2.0/devicecode`,
//! the device-login page where the user enters the code and picks a demo user, and the
//! `device_code` grant of the token endpoint.
//!
//! Conditional Access is decided when the user completes the page: the tenant's "Block device
//! code flow" policy blocks everyone outside its excluded group, with the memberships the
//! emulator holds at that moment. The outcome is what the polling device gets, and every
//! attempt is written to the sign-in log.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Form, Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use chrono::{DateTime, SubsecRound, Utc};
use rand::Rng;
use serde_json::{Value, json};

use super::login::{
    STYLE, TokenError, UserTokens, app_not_found, client_auth, error_page, fault_response, hidden,
    html_response, invalid_tenant, missing_parameter, tenant_not_found, tenant_ok, terr,
    token_answer, token_user, user_tokens,
};
use super::public_client::is_public;
use super::wire::{self, aad_error, html_escape, json_response};
use super::{DemoUser, Emulator, GRAPH_APP_ID, SignIn, State as EmuState, demo};

/// `grant_type` of the device code flow at the token endpoint.
pub(crate) const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// The caller's address when the page is completed from a test.
pub(crate) const LOCAL_IP: &str = "127.0.0.1";
/// Device and user codes live 15 minutes, like Entra's.
const EXPIRES_IN_SECS: i64 = 900;
/// The minimum time between two polls of one device code; grows by 5 s with every `slow_down`.
const INTERVAL_SECS: i64 = 5;
/// Expired and redeemed codes are kept this long so that late polls get the right error.
const KEEP_SECS: i64 = 3600;
/// User codes: upper-case letters and digits without the ambiguous 0, O, 1, I and L.
const USER_CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
const USER_CODE_LEN: usize = 9;
const BLOCKED: &str = "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.";
const DECLINED: &str = "User declined to consent to access the app.";
const DISABLED: &str =
    "User account is disabled. The account has been disabled by an administrator.";

/// How a completed device login ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceLogin {
    /// The user signed in; the device gets its tokens.
    SignedIn,
    /// Conditional Access blocked the sign-in (AADSTS53003); the device gets `access_denied`.
    Blocked,
}

/// Where a device code stands.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Outcome {
    /// The user has not completed the page yet.
    Pending,
    /// The user signed in (user id); the next poll gets the tokens.
    SignedIn(String),
    /// Conditional Access blocked the user (user id).
    Blocked(String),
    /// The user pressed Deny.
    Declined,
    /// The tokens were handed out.
    Redeemed,
}

struct DeviceGrant {
    client_id: String,
    scope: String,
    user_code: String,
    issued: DateTime<Utc>,
    last_poll: Option<DateTime<Utc>>,
    /// Seconds the device must wait between polls.
    interval: i64,
    outcome: Outcome,
}

impl DeviceGrant {
    fn expired(&self, now: DateTime<Utc>) -> bool {
        (now - self.issued).num_seconds() >= EXPIRES_IN_SECS
    }
}

/// The device codes handed out, by device code.
#[derive(Default)]
pub(crate) struct DeviceFlows {
    grants: HashMap<String, DeviceGrant>,
}

/// Why a code entered on the device-login page (or given to a test helper) does not work.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PageError {
    UnknownCode,
    ExpiredCode,
    UsedCode,
    UnknownUser,
    Disabled,
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PageError::UnknownCode => "That code didn't work. Check the code and try again.",
            PageError::ExpiredCode => {
                "That code has expired. Go back to the app or device and start the sign-in again."
            }
            PageError::UsedCode => {
                "That code was already used. Go back to the app or device and start the sign-in again."
            }
            PageError::UnknownUser => "The user account does not exist in the jitgate demo tenant.",
            PageError::Disabled => "AADSTS50057: The user account is disabled.",
        })
    }
}

/// Upper case, without spaces and dashes (people type codes in many ways).
fn normalize_code(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

fn new_user_code(flows: &DeviceFlows) -> String {
    let mut rng = rand::thread_rng();
    loop {
        let code: String = (0..USER_CODE_LEN)
            .map(|_| char::from(USER_CODE_ALPHABET[rng.gen_range(0..USER_CODE_ALPHABET.len())]))
            .collect();
        if !flows.grants.values().any(|g| g.user_code == code) {
            return code;
        }
    }
}

/// The device code whose user code is `user_code`.
fn by_user_code<'a>(
    flows: &'a mut DeviceFlows,
    user_code: &str,
) -> Option<(&'a String, &'a mut DeviceGrant)> {
    let code = normalize_code(user_code);
    if code.is_empty() {
        return None;
    }
    flows.grants.iter_mut().find(|(_, g)| g.user_code == code)
}

/// The name Entra shows for an app.
fn app_name(emu: &Emulator, client_id: &str) -> String {
    if client_id.eq_ignore_ascii_case(demo::CLI_CLIENT_ID) {
        "jitgate CLI".to_owned()
    } else if client_id.eq_ignore_ascii_case(&emu.config().client_id) {
        "jitgate".to_owned()
    } else {
        client_id.to_owned()
    }
}

/// The resource a scope string asks for: (display name, id).
fn resource_of(emu: &Emulator, scope: &str) -> (String, String) {
    let client_id = &emu.config().client_id;
    let api = format!("api://{client_id}/");
    if scope.split_whitespace().any(|s| s.starts_with(&api)) {
        ("jitgate".to_owned(), client_id.clone())
    } else {
        ("Microsoft Graph".to_owned(), GRAPH_APP_ID.to_owned())
    }
}

/// The scopes of a device code request: `Err` with the token endpoint error when one names an
/// unknown resource or the request mixes resources.
pub(crate) fn check_scope(emu: &Emulator, scope: &str) -> Result<(), TokenError> {
    let cfg = emu.config();
    let api = format!("api://{}/", cfg.client_id);
    let graph_prefixes = [
        "https://graph.microsoft.com/",
        "00000003-0000-0000-c000-000000000000/",
    ];
    let (mut api_scopes, mut graph_scopes) = (0, 0);
    for s in scope.split_whitespace() {
        if ["openid", "profile", "email", "offline_access"].contains(&s) {
            continue;
        }
        if s.starts_with(&api) && s.len() > api.len() {
            api_scopes += 1;
        } else if graph_prefixes.iter().any(|p| s.starts_with(p)) || !s.contains(['/', ':']) {
            graph_scopes += 1;
        } else {
            let resource = s.rsplit_once('/').map_or(s, |(r, _)| r);
            return Err(terr(
                StatusCode::BAD_REQUEST,
                "invalid_resource",
                500011,
                format!(
                    "The resource principal named {resource} was not found in the tenant named {}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.",
                    cfg.tenant_id
                ),
            ));
        }
    }
    if api_scopes > 0 && graph_scopes > 0 {
        return Err(terr(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            28000,
            format!(
                "Provided value for the input parameter scope '{scope}' is not valid because it contains more than one resource. The scope {scope} is not valid."
            ),
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// POST /{tenant}/oauth2/v2.0/devicecode
// ---------------------------------------------------------------------------------------------

/// `POST /{tenant}/oauth2/v2.0/devicecode` (form: `client_id`, `scope`).
pub(crate) async fn device_code(
    State(emu): State<Emulator>,
    Path(tenant): Path<String>,
    method: Method,
    body: Bytes,
) -> Response {
    let path = format!("/{tenant}/oauth2/v2.0/devicecode");
    if let Some(fault) = emu.take_fault(method.as_str(), &path, false) {
        return fault_response(&emu, &fault);
    }
    if tenant.eq_ignore_ascii_case("common") || tenant.eq_ignore_ascii_case("consumers") {
        return aad_error(
            &emu.base_url(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90133,
            "Device Code flow is not supported under /common or /consumers endpoint.",
        );
    }
    if !tenant_ok(&emu, &tenant) {
        return invalid_tenant(&emu, &tenant);
    }
    let result = if method != Method::POST {
        Err(terr(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900561,
            format!("The endpoint only accepts POST requests. Received a {method} request."),
        ))
    } else {
        let form: HashMap<String, String> =
            url::form_urlencoded::parse(&body).into_owned().collect();
        start(&emu, &form)
    };
    match result {
        Ok(body) => {
            let mut resp = json_response(StatusCode::OK, "application/json; charset=utf-8", &body);
            wire::no_store(resp.headers_mut());
            resp
        }
        Err(e) => token_answer(&emu, Err(e)),
    }
}

fn start(emu: &Emulator, form: &HashMap<String, String>) -> Result<Value, TokenError> {
    let cfg = emu.config();
    let get = |k: &str| form.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let client_id = get("client_id").ok_or_else(|| {
        terr(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            missing_parameter("client_id"),
        )
    })?;
    if !is_public(emu, client_id) {
        return Err(terr(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            app_not_found(client_id, &cfg.tenant_id),
        ));
    }
    let scope = get("scope").ok_or_else(|| {
        terr(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            missing_parameter("scope"),
        )
    })?;
    check_scope(emu, scope)?;
    let device_code = format!("DAQABIQEAAAB{}", wire::random_token(96));
    let verification_uri = emu.device_login_url();
    let user_code = {
        let mut st = emu.state();
        let now = st.now();
        st.device
            .grants
            .retain(|_, g| (now - g.issued).num_seconds() < KEEP_SECS);
        let user_code = new_user_code(&st.device);
        st.device.grants.insert(
            device_code.clone(),
            DeviceGrant {
                client_id: client_id.to_owned(),
                scope: scope.to_owned(),
                user_code: user_code.clone(),
                issued: now,
                last_poll: None,
                interval: INTERVAL_SECS,
                outcome: Outcome::Pending,
            },
        );
        user_code
    };
    tracing::debug!(client_id, "emulator issued a device code");
    Ok(json!({
        "user_code": user_code,
        "device_code": device_code,
        "verification_uri": verification_uri,
        "expires_in": EXPIRES_IN_SECS,
        "interval": INTERVAL_SECS,
        "message": format!(
            "To sign in, use a web browser to open the page {verification_uri} and enter the code {user_code} to authenticate."
        ),
    }))
}

// ---------------------------------------------------------------------------------------------
// The token endpoint's device_code grant
// ---------------------------------------------------------------------------------------------

/// The `urn:ietf:params:oauth:grant-type:device_code` grant (wire doc §12.2). MSAL's extra
/// `code=` is ignored.
pub(crate) fn redeem(
    emu: &Emulator,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<Value, TokenError> {
    let cfg = emu.config();
    let bad = |error: &'static str, code: u32, message: &str| {
        terr(StatusCode::BAD_REQUEST, error, code, message)
    };
    let (client_id, secret) = client_auth(headers, form)?;
    let client_id =
        client_id.ok_or_else(|| bad("invalid_request", 900144, &missing_parameter("client_id")))?;
    if !is_public(emu, &client_id) {
        return Err(bad(
            "unauthorized_client",
            700016,
            &app_not_found(&client_id, &cfg.tenant_id),
        ));
    }
    if secret.is_some() || form.contains_key("client_assertion") {
        return Err(bad(
            "invalid_client",
            700025,
            "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
        ));
    }
    let device_code = form
        .get("device_code")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| bad("invalid_request", 900144, &missing_parameter("device_code")))?;
    let (user_id, scope) = {
        let mut st = emu.state();
        let now = st.now();
        let unknown = || {
            bad(
                "bad_verification_code",
                70018,
                "Invalid verification code entered.",
            )
        };
        let grant = st.device.grants.get_mut(device_code).ok_or_else(unknown)?;
        if !grant.client_id.eq_ignore_ascii_case(&client_id) {
            return Err(unknown());
        }
        if grant.outcome == Outcome::Redeemed {
            return Err(bad(
                "invalid_grant",
                54005,
                "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
            ));
        }
        if grant.expired(now) {
            return Err(bad("expired_token", 70019, "Verification code expired."));
        }
        let too_soon = grant
            .last_poll
            .is_some_and(|last| now - last < chrono::Duration::seconds(grant.interval));
        grant.last_poll = Some(now);
        if too_soon {
            // RFC 8628 §3.5: the device must add 5 seconds to its interval from now on.
            grant.interval += 5;
            return Err(bad(
                "slow_down",
                70016,
                "OAuth 2.0 device flow error. Polling too frequently: slow down and add 5 seconds to the polling interval.",
            ));
        }
        match grant.outcome.clone() {
            Outcome::Pending => {
                return Err(bad(
                    "authorization_pending",
                    70016,
                    "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
                ));
            }
            Outcome::Declined => {
                return Err(bad("authorization_declined", 65004, DECLINED));
            }
            Outcome::Blocked(_) => {
                return Err(
                    bad("access_denied", 53003, BLOCKED).with("suberror", json!("message_only"))
                );
            }
            Outcome::Redeemed => unreachable!("handled above"),
            Outcome::SignedIn(user) => {
                grant.outcome = Outcome::Redeemed;
                (user, grant.scope.clone())
            }
        }
    };
    let user = token_user(emu, &user_id)?;
    let asked: Vec<&str> = scope.split_whitespace().collect();
    let body = user_tokens(
        emu,
        &UserTokens {
            user: &user,
            client_id: &client_id,
            confidential: false,
            asked: &asked,
            requested: &scope,
            nonce: None,
            id_token: asked.contains(&"openid"),
            device_code: true,
        },
    );
    tracing::debug!(user = %user.id, "emulator redeemed a device code");
    Ok(body)
}

// ---------------------------------------------------------------------------------------------
// Completing the device login (the page and the test helpers)
// ---------------------------------------------------------------------------------------------

/// What the page needs to know about a code that works.
struct Live {
    client_id: String,
    scope: String,
}

/// The grant for `user_code` when it can still be completed.
fn live<'a>(
    st: &'a mut EmuState,
    user_code: &str,
) -> Result<(Live, &'a mut DeviceGrant), PageError> {
    let now = st.now();
    let (_, grant) = by_user_code(&mut st.device, user_code).ok_or(PageError::UnknownCode)?;
    if grant.expired(now) {
        return Err(PageError::ExpiredCode);
    }
    if grant.outcome != Outcome::Pending {
        return Err(PageError::UsedCode);
    }
    let info = Live {
        client_id: grant.client_id.clone(),
        scope: grant.scope.clone(),
    };
    Ok((info, grant))
}

/// Whether the "Block device code flow" policy blocks `user` signing in to the resource of
/// `scope`: it is on, the resource is not among its excluded applications (the portal's own API
/// is, unless a test says otherwise), and the user is not a member of its excluded group, with
/// the memberships as they are now (not as lagging Graph reads show them).
fn blocked_by_conditional_access(
    emu: &Emulator,
    st: &EmuState,
    user: &DemoUser,
    scope: &str,
) -> bool {
    if st.device_code_policy_off {
        return false;
    }
    let (_, resource) = resource_of(emu, scope);
    if resource.eq_ignore_ascii_case(&emu.config().client_id)
        && !st.device_code_policy_covers_portal
    {
        return false;
    }
    // The policy excludes the tenant's first group (see the Graph policy list).
    let excluded = emu.config().groups.first().is_some_and(|g| {
        st.members
            .get(&g.id.to_ascii_lowercase())
            .is_some_and(|m| m.iter().any(|u| u.eq_ignore_ascii_case(&user.id)))
    });
    !excluded
}

/// The same decision, for a refresh of a token obtained through the device code flow (Entra's
/// protocol tracking).
pub(crate) fn blocks_device_code(emu: &Emulator, user: &DemoUser, scope: &str) -> bool {
    let st = emu.state();
    blocked_by_conditional_access(emu, &st, user, scope)
}

struct Attempt<'a> {
    user: Option<&'a DemoUser>,
    client_id: &'a str,
    scope: &'a str,
    ip: &'a str,
    conditional_access: &'static str,
    error_code: i64,
    failure_reason: &'a str,
    additional_details: Option<&'a str>,
}

/// Writes one device-code sign-in to the log.
fn record(emu: &Emulator, st: &mut EmuState, a: Attempt<'_>) {
    let (resource_name, resource_id) = resource_of(emu, a.scope);
    let entry = SignIn {
        id: uuid::Uuid::new_v4().to_string(),
        // Microseconds are plenty, and keep `createdDateTime` short.
        created: st.now().trunc_subsecs(6),
        user_id: a.user.map(|u| u.id.clone()).unwrap_or_default(),
        user_principal_name: a.user.map(|u| u.username.clone()).unwrap_or_default(),
        user_display_name: a.user.map(|u| u.name.clone()).unwrap_or_default(),
        app_id: a.client_id.to_owned(),
        app_display_name: app_name(emu, a.client_id),
        ip_address: a.ip.to_owned(),
        client_app_used: "Mobile Apps and Desktop clients".to_owned(),
        is_interactive: true,
        conditional_access_status: a.conditional_access.to_owned(),
        error_code: a.error_code,
        failure_reason: a.failure_reason.to_owned(),
        additional_details: a.additional_details.map(str::to_owned),
        authentication_protocol: "deviceCode".to_owned(),
        resource_display_name: resource_name,
        resource_id,
        correlation_id: uuid::Uuid::new_v4().to_string(),
    };
    tracing::debug!(user = %entry.user_id, error_code = entry.error_code, "emulator logged a device-code sign-in");
    st.sign_ins.push(entry);
}

/// Completes the device login for `user_code` as `user_id`, seen from `ip`.
pub(crate) fn complete(
    emu: &Emulator,
    user_code: &str,
    user_id: &str,
    ip: &str,
) -> Result<DeviceLogin, PageError> {
    let user = emu.user(user_id);
    let mut st = emu.state();
    let (info, _) = live(&mut st, user_code)?;
    let user = user.ok_or(PageError::UnknownUser)?;
    if st.disabled.contains(&user.id.to_ascii_lowercase()) {
        record(
            emu,
            &mut st,
            Attempt {
                user: Some(user),
                client_id: &info.client_id,
                scope: &info.scope,
                ip,
                conditional_access: "notApplied",
                error_code: 50057,
                failure_reason: DISABLED,
                additional_details: None,
            },
        );
        return Err(PageError::Disabled);
    }
    let blocked = blocked_by_conditional_access(emu, &st, user, &info.scope);
    let (_, grant) = live(&mut st, user_code)?;
    grant.outcome = if blocked {
        Outcome::Blocked(user.id.clone())
    } else {
        Outcome::SignedIn(user.id.clone())
    };
    let attempt = if blocked {
        Attempt {
            user: Some(user),
            client_id: &info.client_id,
            scope: &info.scope,
            ip,
            conditional_access: "failure",
            error_code: 53003,
            failure_reason: BLOCKED,
            additional_details: Some(
                "Your sign-in was successful but does not meet the criteria to access this resource.",
            ),
        }
    } else {
        // The only policy excludes this user (or is off): no policy applied.
        Attempt {
            user: Some(user),
            client_id: &info.client_id,
            scope: &info.scope,
            ip,
            conditional_access: "notApplied",
            error_code: 0,
            failure_reason: "Other.",
            additional_details: None,
        }
    };
    record(emu, &mut st, attempt);
    Ok(if blocked {
        DeviceLogin::Blocked
    } else {
        DeviceLogin::SignedIn
    })
}

/// Denies the device login for `user_code` as `user_id`, seen from `ip`.
pub(crate) fn decline(
    emu: &Emulator,
    user_code: &str,
    user_id: &str,
    ip: &str,
) -> Result<(), PageError> {
    let user = emu.user(user_id);
    let mut st = emu.state();
    let (info, grant) = live(&mut st, user_code)?;
    let user = user.ok_or(PageError::UnknownUser)?;
    grant.outcome = Outcome::Declined;
    record(
        emu,
        &mut st,
        Attempt {
            user: Some(user),
            client_id: &info.client_id,
            scope: &info.scope,
            ip,
            conditional_access: "notApplied",
            error_code: 65004,
            failure_reason: DECLINED,
            additional_details: Some("The user pressed Deny on the device login page."),
        },
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The device-login page
// ---------------------------------------------------------------------------------------------

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
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title><style>{STYLE}</style></head>\n<body><main data-outcome=\"{outcome}\" data-tenant=\"{}\">\n<h1>{}</h1>\n{content}</main></body></html>\n",
        html_escape(title),
        html_escape(&emu.config().tenant_id),
        html_escape(title),
    )
}

fn form_action(emu: &Emulator) -> String {
    format!(
        "/{}/oauth2/deviceauth",
        html_escape(&emu.config().tenant_id)
    )
}

/// Step 1: the code.
fn code_form(emu: &Emulator, error: Option<&str>) -> Response {
    let error = error
        .map(|e| format!("<p class=\"error\" id=\"error\">{}</p>\n", html_escape(e)))
        .unwrap_or_default();
    let content = format!(
        "<p class=\"note\">Enter the code displayed on your app or device.</p>\n<form method=\"post\" action=\"{}\">\n{error}<p><input type=\"text\" name=\"otc\" id=\"otc\" autocomplete=\"off\" spellcheck=\"false\" aria-label=\"Code\" placeholder=\"Code\" required></p>\n<button type=\"submit\" name=\"action\" value=\"next\" class=\"cancel\">Next</button>\n</form>\n",
        form_action(emu)
    );
    html_response(
        StatusCode::OK,
        page_html(emu, "Enter code", "code", &content),
    )
}

/// Step 2: who is signing in, Continue or Deny.
fn account_form(emu: &Emulator, user_code: &str, client_id: &str, error: Option<&str>) -> Response {
    let app = app_name(emu, client_id);
    let error = error
        .map(|e| format!("<p class=\"error\" id=\"error\">{}</p>\n", html_escape(e)))
        .unwrap_or_default();
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
        "<p class=\"note\">Are you trying to sign in to <strong id=\"app\">{}</strong>? Only continue if you started the sign-in on a device you trust. Pick a demo user; no password is needed.</p>\n<form method=\"post\" action=\"{}\">\n{error}{}<ul>\n{users}</ul>\n<button type=\"submit\" name=\"action\" value=\"continue\" class=\"cancel\">Continue</button>\n<button type=\"submit\" name=\"action\" value=\"deny\" class=\"cancel\">Deny</button>\n</form>\n",
        html_escape(&app),
        form_action(emu),
        hidden("otc", &normalize_code(user_code)),
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
pub(crate) async fn page(State(emu): State<Emulator>, Path(tenant): Path<String>) -> Response {
    if !tenant_ok(&emu, &tenant) {
        return error_page(StatusCode::BAD_REQUEST, 90002, &tenant_not_found(&tenant));
    }
    code_form(&emu, None)
}

/// `POST /{tenant}/oauth2/deviceauth`: `otc` alone checks the code; with `user` and
/// `action=continue|deny` the login is completed or denied.
pub(crate) async fn page_submit(
    State(emu): State<Emulator>,
    Path(tenant): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if !tenant_ok(&emu, &tenant) {
        return error_page(StatusCode::BAD_REQUEST, 90002, &tenant_not_found(&tenant));
    }
    let otc = form.get("otc").map(String::as_str).unwrap_or("");
    let checked = live(&mut emu.state(), otc).map(|(info, _)| info.client_id);
    let client_id = match checked {
        Ok(client_id) => client_id,
        Err(e) => return code_form(&emu, Some(&e.to_string())),
    };
    let action = form.get("action").map(String::as_str).unwrap_or("next");
    if action != "continue" && action != "deny" {
        return account_form(&emu, otc, &client_id, None);
    }
    let Some(user) = form.get("user").and_then(|id| emu.user(id)).cloned() else {
        return account_form(&emu, otc, &client_id, Some("Pick an account to continue."));
    };
    let ip = caller_ip(&headers, peer);
    if action == "deny" {
        return match decline(&emu, otc, &user.id, &ip) {
            Ok(()) => outcome_page(&emu, &client_id, &user, "declined"),
            Err(e) => code_form(&emu, Some(&e.to_string())),
        };
    }
    match complete(&emu, otc, &user.id, &ip) {
        Ok(DeviceLogin::SignedIn) => outcome_page(&emu, &client_id, &user, "signed-in"),
        Ok(DeviceLogin::Blocked) => outcome_page(&emu, &client_id, &user, "blocked"),
        Err(PageError::Disabled) => error_page(
            StatusCode::BAD_REQUEST,
            50057,
            "The user account is disabled.",
        ),
        Err(e) => code_form(&emu, Some(&e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_are_nine_unambiguous_characters() {
        let flows = DeviceFlows::default();
        for _ in 0..50 {
            let code = new_user_code(&flows);
            assert_eq!(code.len(), USER_CODE_LEN);
            assert!(
                code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b)),
                "{code}"
            );
            assert!(!code.contains(['0', 'O', '1', 'I', 'L']));
        }
    }

    #[test]
    fn codes_are_normalized() {
        assert_eq!(normalize_code(" abc-def ghj "), "ABCDEFGHJ");
    }
}
