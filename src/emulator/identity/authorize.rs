//! The authorize page (`/{tenant}/oauth2/v2.0/authorize`): the sign-in page where a demo user is
//! picked, its POST that hands out the authorization code, and the redirects back to the app.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::authorize_request::{AuthorizeError, validate_authorize};
use super::claims::{mfa_done, mfa_step, requested_acrs};
use super::errors::tenant_ok;
use super::pages::{error_page, form_error, hidden, html_response, page, unknown_tenant_page};
use crate::emulator::grants::{AuthorizeParams, CODE_LIFETIME_SECS, CodeGrant, PendingPage};
use crate::emulator::tenant::Emulator;
use crate::emulator::wire::{self, html_escape};

const PAGE_TITLE: &str = "Sign in to the jitgate demo tenant";

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

/// The sign-in page: the demo users to pick from, and the MFA step when the authorize request
/// asked for authentication contexts `acrs`.
fn render_sign_in(
    emu: &Emulator,
    p: &AuthorizeParams,
    page_token: &str,
    acrs: &[String],
    error: Option<&str>,
) -> String {
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
    let content = format!(
        "<p class=\"note\">This is jitgate's built-in Entra ID emulator. Pick a demo user to sign in as; no password is needed.</p>\n<form method=\"post\" action=\"/{}/oauth2/v2.0/authorize\">\n{}{fields}{}<ul>\n{users}</ul>\n<button type=\"submit\" name=\"cancel\" value=\"1\" class=\"cancel\" formnovalidate>Cancel</button>\n</form>\n",
        html_escape(&cfg.tenant_id),
        form_error(error),
        mfa_step(acrs),
    );
    page(PAGE_TITLE, "", &content)
}

/// `GET /{tenant}/oauth2/v2.0/authorize`
pub(crate) async fn authorize_page(
    State(emu): State<Emulator>,
    Path(tenant): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if !tenant_ok(&emu, &tenant) {
        return unknown_tenant_page(&tenant);
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
            let acrs = match requested_acrs(q.get("claims").map(String::as_str)) {
                Ok(_) if emu.state().claims_ignored => Vec::new(),
                Ok(acrs) => acrs,
                Err(message) => {
                    let description = format!("AADSTS9002313: {message}");
                    return redirect_to(
                        &params.redirect_uri,
                        &[
                            ("error", "invalid_request"),
                            ("error_description", &description),
                            ("state", &params.state),
                        ],
                    );
                }
            };
            let page_token = wire::random_token(32);
            let now = chrono::Utc::now();
            let page = render_sign_in(&emu, &params, &page_token, &acrs, None);
            {
                let mut st = emu.state();
                st.pages
                    .retain(|_, p| (now - p.created).num_seconds() < CODE_LIFETIME_SECS);
                st.pages.insert(
                    page_token.clone(),
                    PendingPage {
                        params,
                        created: now,
                        acrs,
                    },
                );
            }
            html_response(StatusCode::OK, page)
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
        return unknown_tenant_page(&tenant);
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
    // The authorize request asked for authentication contexts: no code before the MFA step is
    // done; the page stays open for it.
    let acrs = pending.acrs;
    if !mfa_done(&acrs, &form) {
        let page = render_sign_in(
            &emu,
            &params,
            token,
            &acrs,
            Some("Complete MFA to continue: your organisation requires it for this application."),
        );
        emu.state().pages.insert(
            token.clone(),
            PendingPage {
                params,
                created: pending.created,
                acrs,
            },
        );
        return html_response(StatusCode::OK, page);
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
                acrs,
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
