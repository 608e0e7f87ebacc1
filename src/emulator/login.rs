//! The identity half of the emulator: discovery, JWKS, the authorize page and the token endpoint.

use std::collections::HashMap;

use axum::Form;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::wire::{self, aad_error, aad_error_with, html_escape, json_response};
use super::{
    AuthorizeParams, CodeGrant, DemoUser, Emulator, Fault, GRAPH_APP_ID, GRAPH_RESOURCE,
    PendingPage, device, public_client,
};

/// Authorization codes (and the sign-in page tokens) are valid for ten minutes.
const CODE_LIFETIME_SECS: i64 = 600;
/// Access and ID tokens live one hour; `expires_in` says 3599 like Entra.
const TOKEN_LIFETIME_SECS: i64 = 3600;
const PAGE_TITLE: &str = "Sign in to the jitgate demo tenant";

pub(super) fn tenant_ok(emu: &Emulator, tenant: &str) -> bool {
    tenant.eq_ignore_ascii_case(&emu.config().tenant_id)
}

pub(super) fn tenant_not_found(tenant: &str) -> String {
    format!(
        "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."
    )
}

pub(super) fn invalid_tenant(emu: &Emulator, tenant: &str) -> Response {
    aad_error(
        &emu.base_url(),
        StatusCode::BAD_REQUEST,
        "invalid_tenant",
        90002,
        &tenant_not_found(tenant),
    )
}

pub(super) fn missing_parameter(name: &str) -> String {
    format!("The request body must contain the following parameter: '{name}'.")
}

pub(super) fn app_not_found(client_id: &str, tenant: &str) -> String {
    format!(
        "Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
    )
}

fn public_caching(resp: &mut Response) {
    let h = resp.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=86400, private"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
}

/// `GET /{tenant}/v2.0/.well-known/openid-configuration`
pub(crate) async fn discovery(State(emu): State<Emulator>, Path(tenant): Path<String>) -> Response {
    if !tenant_ok(&emu, &tenant) {
        return invalid_tenant(&emu, &tenant);
    }
    let base = emu.base_url();
    let t = &emu.config().tenant_id;
    let host = base.trim_start_matches("http://").to_owned();
    let body = json!({
        "token_endpoint": format!("{base}/{t}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{base}/{t}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": emu.issuer(),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": format!("{base}/oidc/userinfo"),
        "authorization_endpoint": format!("{base}/{t}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{base}/{t}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{base}/{t}/oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
        "kerberos_endpoint": format!("{base}/{t}/kerberos"),
        "tenant_region_scope": "EU",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": host,
        "rbac_url": "https://pas.windows.net",
    });
    let mut resp = json_response(StatusCode::OK, "application/json; charset=utf-8", &body);
    public_caching(&mut resp);
    resp
}

/// `GET /{tenant}/discovery/v2.0/keys`
pub(crate) async fn jwks(State(emu): State<Emulator>, Path(tenant): Path<String>) -> Response {
    if !tenant_ok(&emu, &tenant) {
        return invalid_tenant(&emu, &tenant);
    }
    let body = json!({ "keys": [emu.inner.key.jwk(&emu.issuer())] });
    let mut resp = json_response(StatusCode::OK, "application/json; charset=utf-8", &body);
    public_caching(&mut resp);
    resp
}

// ---------------------------------------------------------------------------------------------
// Authorize
// ---------------------------------------------------------------------------------------------

enum AuthorizeError {
    /// Shown on the emulator's own error page (nothing is sent to the redirect URI).
    Page(u32, String),
    /// Sent back to the (verified) redirect URI.
    Redirect {
        redirect_uri: String,
        state: String,
        error: &'static str,
        code: u32,
        message: String,
    },
}

fn validate_authorize(
    emu: &Emulator,
    q: &HashMap<String, String>,
) -> Result<AuthorizeParams, AuthorizeError> {
    let cfg = emu.config();
    let get = |k: &str| q.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let client_id =
        get("client_id").ok_or(AuthorizeError::Page(900144, missing_parameter("client_id")))?;
    let public = public_client::is_public(emu, client_id);
    if client_id != cfg.client_id && !public {
        return Err(AuthorizeError::Page(
            700016,
            app_not_found(client_id, &cfg.tenant_id),
        ));
    }
    let redirect_uri = get("redirect_uri").ok_or(AuthorizeError::Page(
        900144,
        missing_parameter("redirect_uri"),
    ))?;
    let registered = if public {
        // The command line's registration: `http://localhost` (mobile and desktop), any port.
        public_client::loopback_redirect(redirect_uri)
    } else {
        cfg.redirect_uris.iter().any(|u| u == redirect_uri)
    };
    if !registered {
        return Err(AuthorizeError::Page(
            50011,
            format!(
                "The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs configured for the application '{client_id}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this."
            ),
        ));
    }
    let state = q.get("state").cloned().unwrap_or_default();
    let redirect = |error: &'static str, code: u32, message: String| AuthorizeError::Redirect {
        redirect_uri: redirect_uri.to_owned(),
        state: state.clone(),
        error,
        code,
        message,
    };
    match get("response_type") {
        None => {
            return Err(redirect(
                "invalid_request",
                900144,
                missing_parameter("response_type"),
            ));
        }
        Some("code") => {}
        Some(other) => {
            return Err(redirect(
                "unsupported_response_type",
                700054,
                format!("response_type '{other}' is not enabled for the application."),
            ));
        }
    }
    if let Some(mode) = get("response_mode")
        && mode != "query"
    {
        return Err(redirect(
            "invalid_request",
            90023,
            format!("The emulator only supports response_mode 'query', not '{mode}'."),
        ));
    }
    let scope = get("scope")
        .ok_or_else(|| redirect("invalid_request", 900144, missing_parameter("scope")))?;
    if !scope.split_whitespace().any(|s| s == "openid") {
        return Err(redirect(
            "invalid_scope",
            70011,
            format!(
                "The provided value for the input parameter 'scope' is not valid. The scope '{scope}' does not include 'openid'."
            ),
        ));
    }
    if state.is_empty() {
        return Err(redirect(
            "invalid_request",
            900144,
            missing_parameter("state"),
        ));
    }
    let nonce = get("nonce")
        .ok_or_else(|| redirect("invalid_request", 900144, missing_parameter("nonce")))?;
    let challenge = get("code_challenge").ok_or_else(|| {
        redirect(
            "invalid_request",
            900144,
            missing_parameter("code_challenge"),
        )
    })?;
    let method = get("code_challenge_method").unwrap_or("plain");
    if method != "S256" && method != "plain" {
        return Err(redirect(
            "invalid_request",
            50148,
            format!(
                "The code_challenge_method '{method}' is not supported; use 'S256' or 'plain'."
            ),
        ));
    }
    let well_formed = (43..=128).contains(&challenge.len())
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    if !well_formed {
        return Err(redirect(
            "invalid_request",
            501491,
            "Invalid size of Code_Challenge parameter.".to_owned(),
        ));
    }
    Ok(AuthorizeParams {
        client_id: client_id.to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        scope: scope.to_owned(),
        state,
        nonce: nonce.to_owned(),
        code_challenge: challenge.to_owned(),
        code_challenge_method: method.to_owned(),
    })
}

fn redirect_to(redirect_uri: &str, pairs: &[(&str, &str)]) -> Response {
    let mut url = match url::Url::parse(redirect_uri) {
        Ok(url) => url,
        Err(_) => {
            return error_page(
                StatusCode::BAD_REQUEST,
                50011,
                "The redirect URI is not a valid URL.",
            );
        }
    };
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
    }
    let mut resp = StatusCode::FOUND.into_response();
    let headers = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(url.as_str()) {
        headers.insert(header::LOCATION, v);
    }
    wire::no_store(headers);
    resp
}

pub(super) fn html_response(status: StatusCode, body: String) -> Response {
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    wire::no_store(h);
    resp
}

pub(super) const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f3f2f1;margin:0;padding:2rem}\
main{max-width:32rem;margin:auto;background:#fff;padding:2rem;box-shadow:0 2px 6px rgba(0,0,0,.2)}\
h1{font-size:1.4rem;margin-top:0}.note{color:#605e5c}ul{list-style:none;padding:0}\
li{margin:.5rem 0}button{width:100%;text-align:left;padding:.6rem .8rem;border:1px solid #8a8886;\
background:#fff;cursor:pointer;font:inherit}button:hover{background:#edebe9}.name{font-weight:600;display:block}\
.upn,.roles{color:#605e5c;font-size:.9rem;display:block}button.cancel{text-align:center;margin-top:1rem}\
.error{color:#a4262c}";

pub(super) fn error_page(status: StatusCode, code: u32, message: &str) -> Response {
    let body = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign-in error: jitgate demo tenant</title><style>{STYLE}</style></head>\n<body><main><h1>Sorry, but we’re having trouble signing you in.</h1>\n<p class=\"error\" id=\"error\">AADSTS{code}: {}</p>\n</main></body></html>\n",
        html_escape(message)
    );
    html_response(status, body)
}

pub(super) fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
        html_escape(name),
        html_escape(value)
    )
}

fn render_sign_in(emu: &Emulator, p: &AuthorizeParams, page_token: &str) -> String {
    let cfg = emu.config();
    let mut fields = String::new();
    fields.push_str(&hidden("page_token", page_token));
    fields.push_str(&hidden("client_id", &p.client_id));
    fields.push_str(&hidden("redirect_uri", &p.redirect_uri));
    fields.push_str(&hidden("scope", &p.scope));
    fields.push_str(&hidden("state", &p.state));
    fields.push_str(&hidden("nonce", &p.nonce));
    fields.push_str(&hidden("code_challenge", &p.code_challenge));
    fields.push_str(&hidden("code_challenge_method", &p.code_challenge_method));
    let mut users = String::new();
    for u in &cfg.users {
        let roles = if u.roles.is_empty() {
            "no app roles".to_owned()
        } else {
            format!("roles: {}", u.roles.join(", "))
        };
        users.push_str(&format!(
            "<li><button type=\"submit\" name=\"user\" value=\"{}\" data-username=\"{}\"><span class=\"name\">{}</span><span class=\"upn\">{}</span><span class=\"roles\">{}</span></button></li>\n",
            html_escape(&u.id),
            html_escape(&u.username),
            html_escape(&u.name),
            html_escape(&u.username),
            html_escape(&roles),
        ));
    }
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{PAGE_TITLE}</title><style>{STYLE}</style></head>\n<body><main>\n<h1>{PAGE_TITLE}</h1>\n<p class=\"note\">This is jitgate's built-in Entra ID emulator. Pick a demo user to sign in as; no password is needed.</p>\n<form method=\"post\" action=\"/{}/oauth2/v2.0/authorize\">\n{fields}<ul>\n{users}</ul>\n<button type=\"submit\" name=\"cancel\" value=\"1\" class=\"cancel\">Cancel</button>\n</form>\n</main></body></html>\n",
        html_escape(&cfg.tenant_id),
    )
}

/// `GET /{tenant}/oauth2/v2.0/authorize`
pub(crate) async fn authorize_page(
    State(emu): State<Emulator>,
    Path(tenant): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if !tenant_ok(&emu, &tenant) {
        return error_page(StatusCode::BAD_REQUEST, 90002, &tenant_not_found(&tenant));
    }
    match validate_authorize(&emu, &q) {
        Err(AuthorizeError::Page(code, message)) => {
            tracing::debug!(
                code,
                "emulator authorize request rejected on the error page"
            );
            error_page(StatusCode::BAD_REQUEST, code, &message)
        }
        Err(AuthorizeError::Redirect {
            redirect_uri,
            state,
            error,
            code,
            message,
        }) => {
            tracing::debug!(
                code,
                error,
                "emulator authorize request rejected with a redirect"
            );
            let description = format!("AADSTS{code}: {message}");
            let mut pairs = vec![
                ("error", error),
                ("error_description", description.as_str()),
            ];
            if !state.is_empty() {
                pairs.push(("state", state.as_str()));
            }
            redirect_to(&redirect_uri, &pairs)
        }
        Ok(params) => {
            let page_token = wire::random_token(32);
            let now = chrono::Utc::now();
            {
                let mut st = emu.state();
                st.pages
                    .retain(|_, p| (now - p.created).num_seconds() < CODE_LIFETIME_SECS);
                st.pages.insert(
                    page_token.clone(),
                    PendingPage {
                        params: params.clone(),
                        created: now,
                    },
                );
            }
            html_response(StatusCode::OK, render_sign_in(&emu, &params, &page_token))
        }
    }
}

/// `POST /{tenant}/oauth2/v2.0/authorize`: the user picked an account (or cancelled).
pub(crate) async fn authorize_submit(
    State(emu): State<Emulator>,
    Path(tenant): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if !tenant_ok(&emu, &tenant) {
        return error_page(StatusCode::BAD_REQUEST, 90002, &tenant_not_found(&tenant));
    }
    let expired = || {
        error_page(
            StatusCode::BAD_REQUEST,
            50058,
            "This sign-in page has expired or was already used. Start the sign-in again from the application.",
        )
    };
    let Some(token) = form.get("page_token") else {
        return expired();
    };
    let now = chrono::Utc::now();
    let Some(pending) = emu.state().pages.remove(token) else {
        return expired();
    };
    if (now - pending.created).num_seconds() >= CODE_LIFETIME_SECS {
        return expired();
    }
    let field = |k: &str| form.get(k).cloned().unwrap_or_default();
    let submitted = AuthorizeParams {
        client_id: field("client_id"),
        redirect_uri: field("redirect_uri"),
        scope: field("scope"),
        state: field("state"),
        nonce: field("nonce"),
        code_challenge: field("code_challenge"),
        code_challenge_method: field("code_challenge_method"),
    };
    let params = pending.params;
    if submitted != params {
        return error_page(
            StatusCode::BAD_REQUEST,
            90015,
            "The sign-in form does not match the authorization request. Start the sign-in again from the application.",
        );
    }
    if form.contains_key("cancel") {
        tracing::debug!("emulator sign-in cancelled");
        return redirect_to(
            &params.redirect_uri,
            &[
                ("error", "access_denied"),
                (
                    "error_description",
                    "AADSTS50126: the user canceled the authentication",
                ),
                ("state", &params.state),
            ],
        );
    }
    let Some(user) = form
        .get("user")
        .and_then(|id| emu.config().users.iter().find(|u| &u.id == id))
    else {
        return error_page(
            StatusCode::BAD_REQUEST,
            50034,
            "The user account does not exist in the jitgate demo tenant.",
        );
    };
    if !emu.account_enabled(user) {
        return error_page(
            StatusCode::BAD_REQUEST,
            50057,
            "The user account is disabled.",
        );
    }
    let code = format!("1.{}", wire::random_token(48));
    {
        let mut st = emu.state();
        // Keep redeemed and expired codes for an hour so that replays get the right error.
        st.codes
            .retain(|_, c| (now - c.issued).num_seconds() < 6 * CODE_LIFETIME_SECS);
        st.codes.insert(
            code.clone(),
            CodeGrant {
                params: params.clone(),
                user_id: user.id.clone(),
                issued: now,
                redeemed: false,
            },
        );
    }
    tracing::debug!(user = %user.id, "emulator issued an authorization code");
    redirect_to(
        &params.redirect_uri,
        &[("code", &code), ("state", &params.state)],
    )
}

// ---------------------------------------------------------------------------------------------
// Token endpoint
// ---------------------------------------------------------------------------------------------

/// A token endpoint error, answered with [`aad_error_with`].
pub(super) struct TokenError {
    status: StatusCode,
    error: &'static str,
    code: u32,
    message: String,
    /// Extra top-level members of the error body.
    extra: Vec<(&'static str, Value)>,
}

impl TokenError {
    /// Adds a top-level member to the error body.
    pub(super) fn with(mut self, key: &'static str, value: Value) -> Self {
        self.extra.push((key, value));
        self
    }
}

pub(super) fn terr(
    status: StatusCode,
    error: &'static str,
    code: u32,
    message: impl Into<String>,
) -> TokenError {
    TokenError {
        status,
        error,
        code,
        message: message.into(),
        extra: Vec::new(),
    }
}

fn same_secret(a: &str, b: &str) -> bool {
    // Compare digests so that the comparison time does not depend on a common prefix.
    Sha256::digest(a.as_bytes()) == Sha256::digest(b.as_bytes())
}

/// Client id and secret from `Authorization: Basic` (RFC 6749 §2.3.1) or the form body.
pub(super) fn client_auth(
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<(Option<String>, Option<String>), TokenError> {
    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        let bad = || {
            terr(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000216,
                "The Authorization header is not a valid Basic credential.",
            )
        };
        let value = auth.to_str().map_err(|_| bad())?;
        let encoded = value
            .strip_prefix("Basic ")
            .or_else(|| value.strip_prefix("basic "))
            .ok_or_else(bad)?;
        let decoded = STANDARD.decode(encoded.trim()).map_err(|_| bad())?;
        let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
        let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
        let id = form_decode(id);
        let secret = form_decode(secret);
        if let Some(body_id) = form.get("client_id")
            && body_id != &id
        {
            return Err(terr(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                900023,
                "The client_id in the request body does not match the client_id of the Authorization header.",
            ));
        }
        return Ok((Some(id), Some(secret)));
    }
    Ok((
        form.get("client_id").cloned().filter(|v| !v.is_empty()),
        form.get("client_secret").cloned().filter(|v| !v.is_empty()),
    ))
}

fn form_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("v={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// The answer of an identity endpoint to an injected fault (an AADSTS body).
pub(super) fn fault_response(emu: &Emulator, fault: &Fault) -> Response {
    tracing::debug!(
        status = fault.status,
        "emulator identity endpoint answered with an injected fault"
    );
    let status = StatusCode::from_u16(fault.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let error = if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
        "temporarily_unavailable"
    } else {
        "invalid_request"
    };
    let mut resp = aad_error(
        &emu.base_url(),
        status,
        error,
        90033,
        "A transient error has occurred. Please try again.",
    );
    if let Some(ra) = fault
        .retry_after
        .as_deref()
        .and_then(|v| HeaderValue::from_str(v).ok())
    {
        resp.headers_mut().insert(header::RETRY_AFTER, ra);
    }
    resp
}

/// A token endpoint answer: the token JSON, or the error.
pub(super) fn token_answer(emu: &Emulator, result: Result<Value, TokenError>) -> Response {
    match result {
        Ok(body) => {
            let mut resp = json_response(StatusCode::OK, "application/json; charset=utf-8", &body);
            wire::no_store(resp.headers_mut());
            resp
        }
        Err(e) => {
            tracing::debug!(
                code = e.code,
                error = e.error,
                "emulator token request rejected"
            );
            aad_error_with(
                &emu.base_url(),
                e.status,
                e.error,
                e.code,
                &e.message,
                &e.extra,
            )
        }
    }
}

/// `POST /{tenant}/oauth2/v2.0/token`
pub(crate) async fn token(
    State(emu): State<Emulator>,
    Path(tenant): Path<String>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    emu.state().token_requests += 1;
    let path = format!("/{tenant}/oauth2/v2.0/token");
    if let Some(fault) = emu.take_fault(method.as_str(), &path, false) {
        return fault_response(&emu, &fault);
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
        issue(&emu, &headers, &form)
    };
    token_answer(&emu, result)
}

fn issue(
    emu: &Emulator,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<Value, TokenError> {
    let cfg = emu.config();
    let grant_type = form
        .get("grant_type")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            terr(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                900144,
                missing_parameter("grant_type"),
            )
        })?;
    if grant_type == device::DEVICE_CODE_GRANT {
        return device::redeem(emu, headers, form);
    }
    if !["authorization_code", "client_credentials", "refresh_token"].contains(&grant_type.as_str())
    {
        return Err(terr(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{grant_type}'."),
        ));
    }
    let (client_id, secret) = client_auth(headers, form)?;
    let client_id = client_id.ok_or_else(|| {
        terr(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            missing_parameter("client_id"),
        )
    })?;
    if public_client::is_public(emu, &client_id) {
        if secret.is_some() || form.contains_key("client_assertion") {
            return Err(terr(
                StatusCode::BAD_REQUEST,
                "invalid_client",
                700025,
                "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
            ));
        }
        return match grant_type.as_str() {
            "authorization_code" => authorization_code(emu, form, &client_id, false),
            "refresh_token" => public_client::refresh(emu, form, &client_id, false),
            _ => Err(terr(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
            )),
        };
    }
    if client_id != cfg.client_id {
        return Err(terr(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            app_not_found(&client_id, &cfg.tenant_id),
        ));
    }
    let secret = secret.ok_or_else(|| {
        terr(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        )
    })?;
    if !same_secret(&secret, &cfg.client_secret) {
        return Err(terr(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000215,
            format!(
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{}'.",
                cfg.client_id
            ),
        ));
    }
    match grant_type.as_str() {
        "client_credentials" => client_credentials(emu, form),
        "refresh_token" => public_client::refresh(emu, form, &cfg.client_id, true),
        _ => authorization_code(emu, form, &cfg.client_id, true),
    }
}

fn client_credentials(emu: &Emulator, form: &HashMap<String, String>) -> Result<Value, TokenError> {
    let cfg = emu.config();
    let scope = form
        .get("scope")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            terr(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                900144,
                missing_parameter("scope"),
            )
        })?;
    let resource = match scope.strip_suffix("/.default") {
        Some(r) if !scope.contains(char::is_whitespace) => r.trim_end_matches('/'),
        _ => {
            return Err(terr(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                1002012,
                format!(
                    "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
                ),
            ));
        }
    };
    let now = chrono::Utc::now().timestamp();
    let own_api = format!("api://{}", cfg.client_id);
    let graph = [GRAPH_RESOURCE, GRAPH_APP_ID, emu.base_url().as_str()]
        .iter()
        .any(|g| g.eq_ignore_ascii_case(resource));
    let mut claims = json!({
        "iss": emu.issuer(),
        "iat": now,
        "nbf": now,
        "exp": now + TOKEN_LIFETIME_SECS,
        "tid": cfg.tenant_id,
        "oid": service_principal_id(&cfg.client_id),
        "sub": service_principal_id(&cfg.client_id),
        "idtyp": "app",
        "uti": wire::random_token(16),
    });
    if graph {
        claims["aud"] = json!(GRAPH_RESOURCE);
        claims["appid"] = json!(cfg.client_id);
        claims["appidacr"] = json!("1");
        claims["ver"] = json!("1.0");
        if !cfg.app_permissions.is_empty() {
            claims["roles"] = json!(cfg.app_permissions);
        }
    } else if resource == own_api || resource == cfg.client_id {
        claims["aud"] = json!(own_api);
        claims["azp"] = json!(cfg.client_id);
        claims["azpacr"] = json!("1");
        claims["ver"] = json!("2.0");
    } else {
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
    tracing::debug!(graph, "emulator issued an app-only token");
    Ok(json!({
        "token_type": "Bearer",
        "expires_in": TOKEN_LIFETIME_SECS - 1,
        "ext_expires_in": TOKEN_LIFETIME_SECS - 1,
        "access_token": emu.inner.key.sign(&claims),
    }))
}

/// A stable GUID-shaped object id for the app's service principal.
pub(crate) fn service_principal_id(client_id: &str) -> String {
    let d = Sha256::digest(format!("sp|{client_id}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    uuid::Builder::from_random_bytes(b).into_uuid().to_string()
}

/// The `authorization_code` grant for `client_id` (authenticated already: with its secret when
/// `confidential`, a public client with none).
fn authorization_code(
    emu: &Emulator,
    form: &HashMap<String, String>,
    client_id: &str,
    confidential: bool,
) -> Result<Value, TokenError> {
    let bad =
        |code: u32, message: &str| terr(StatusCode::BAD_REQUEST, "invalid_grant", code, message);
    let code = form.get("code").filter(|v| !v.is_empty()).ok_or_else(|| {
        terr(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            missing_parameter("code"),
        )
    })?;
    let (params, user_id) = {
        let mut st = emu.state();
        let grant = st
            .codes
            .get_mut(code)
            .ok_or_else(|| bad(9002313, "Invalid request. Request is malformed or invalid."))?;
        if grant.redeemed {
            return Err(bad(
                54005,
                "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
            ));
        }
        if (chrono::Utc::now() - grant.issued).num_seconds() >= CODE_LIFETIME_SECS {
            return Err(bad(
                70008,
                "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
            ));
        }
        if !grant.params.client_id.eq_ignore_ascii_case(client_id) {
            return Err(bad(
                70000,
                "The provided value for the 'code' parameter is not valid.",
            ));
        }
        let redirect_uri = form.get("redirect_uri").map(String::as_str).unwrap_or("");
        if redirect_uri != grant.params.redirect_uri {
            return Err(bad(
                50011,
                &format!(
                    "The redirect URI '{redirect_uri}' specified in the request does not match the redirect URI used in the authorization request."
                ),
            ));
        }
        let verifier = form.get("code_verifier").map(String::as_str).unwrap_or("");
        let computed = if grant.params.code_challenge_method == "S256" {
            URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
        } else {
            verifier.to_owned()
        };
        if verifier.is_empty() || !same_secret(&computed, &grant.params.code_challenge) {
            return Err(bad(
                501481,
                "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
            ));
        }
        grant.redeemed = true;
        (grant.params.clone(), grant.user_id.clone())
    };
    let user = token_user(emu, &user_id)?;
    let requested = match form.get("scope") {
        Some(s) if !s.trim().is_empty() => s.clone(),
        _ => params.scope.clone(),
    };
    let asked: Vec<&str> = params
        .scope
        .split_whitespace()
        .chain(requested.split_whitespace())
        .collect();
    let body = user_tokens(
        emu,
        &UserTokens {
            user: &user,
            client_id,
            confidential,
            asked: &asked,
            requested: &requested,
            nonce: Some(&params.nonce),
            id_token: true,
            device_code: false,
        },
    );
    tracing::debug!(user = %user.id, "emulator redeemed an authorization code");
    Ok(body)
}

/// The user a grant was issued to, when tokens may still be minted for them: `invalid_grant`
/// 50034 for an account that no longer exists, 50057 for a disabled one.
pub(super) fn token_user(emu: &Emulator, user_id: &str) -> Result<DemoUser, TokenError> {
    let bad =
        |code: u32, message: &str| terr(StatusCode::BAD_REQUEST, "invalid_grant", code, message);
    let user = emu
        .user(user_id)
        .cloned()
        .ok_or_else(|| bad(50034, "The user account does not exist in the directory."))?;
    if !emu.account_enabled(&user) {
        return Err(bad(50057, "The user account is disabled."));
    }
    Ok(user)
}

/// What a user's token response is minted for.
pub(super) struct UserTokens<'a> {
    pub(super) user: &'a DemoUser,
    /// The app the tokens are issued to (`aud` of the ID token, `azp` of the access token).
    pub(super) client_id: &'a str,
    /// Whether that app authenticated with a secret (`azpacr` 1) or is a public client (0).
    pub(super) confidential: bool,
    /// Every scope asked for: decides the OIDC claims and the refresh token.
    pub(super) asked: &'a [&'a str],
    /// The scopes that pick the access token's resource (the portal's API or Graph).
    pub(super) requested: &'a str,
    pub(super) nonce: Option<&'a str>,
    /// Whether an ID token is part of the answer.
    pub(super) id_token: bool,
    /// The tokens come from the device code flow (their refresh token stays subject to the
    /// policy that blocks it).
    pub(super) device_code: bool,
}

/// The token JSON of a user sign-in (wire doc §11.3): an access token for the portal's API when
/// `api://{client id}/...` scopes are requested, else for Graph (`User.Read`); an ID token when
/// asked; a refresh token with `offline_access`.
pub(super) fn user_tokens(emu: &Emulator, t: &UserTokens<'_>) -> Value {
    let cfg = emu.config();
    let user = t.user;
    let asked = t.asked;
    let roles = emu.roles_of(user);
    let now = chrono::Utc::now().timestamp();
    let sub = emu.pairwise_sub_for(&user.id, t.client_id);
    let mut id_claims = json!({
        "aud": t.client_id,
        "iss": emu.issuer(),
        "iat": now,
        "nbf": now,
        "exp": now + TOKEN_LIFETIME_SECS,
        "oid": user.id,
        "tid": cfg.tenant_id,
        "sub": sub,
        "name": user.name,
        "preferred_username": user.username,
        "uti": wire::random_token(16),
        "ver": "2.0",
    });
    if let Some(nonce) = t.nonce {
        id_claims["nonce"] = json!(nonce);
    }
    if !roles.is_empty() {
        id_claims["roles"] = json!(roles);
    }
    let api_prefix = format!("api://{}/", cfg.client_id);
    let api_scopes: Vec<&str> = t
        .requested
        .split_whitespace()
        .filter(|s| s.starts_with(&api_prefix))
        .collect();
    let mut access = json!({
        "iss": emu.issuer(),
        "iat": now,
        "nbf": now,
        "exp": now + TOKEN_LIFETIME_SECS,
        "oid": user.id,
        "tid": cfg.tenant_id,
        "sub": sub,
        "name": user.name,
        "preferred_username": user.username,
        "azp": t.client_id,
        "azpacr": if t.confidential { "1" } else { "0" },
        "uti": wire::random_token(16),
        "ver": "2.0",
    });
    let response_scope;
    if api_scopes.is_empty() {
        let mut graph_scopes: Vec<&str> = ["openid", "profile", "email"]
            .into_iter()
            .filter(|s| asked.contains(s))
            .collect();
        graph_scopes.push("User.Read");
        response_scope = graph_scopes.join(" ");
        access["aud"] = json!(GRAPH_APP_ID);
        access["scp"] = json!(response_scope);
    } else {
        let names: Vec<&str> = api_scopes
            .iter()
            .map(|s| s.trim_start_matches(&api_prefix))
            .collect();
        response_scope = api_scopes.join(" ");
        access["aud"] = json!(format!("api://{}", cfg.client_id));
        access["scp"] = json!(names.join(" "));
        if !roles.is_empty() {
            access["roles"] = json!(roles);
        }
    }
    let mut body = json!({
        "token_type": "Bearer",
        "scope": response_scope,
        "expires_in": TOKEN_LIFETIME_SECS - 1,
        "ext_expires_in": TOKEN_LIFETIME_SECS - 1,
        "access_token": emu.inner.key.sign(&access),
    });
    if t.id_token {
        body["id_token"] = json!(emu.inner.key.sign(&id_claims));
    }
    if asked.contains(&"offline_access") {
        body["refresh_token"] = json!(super::public_client::issue(emu, t));
    }
    body
}
