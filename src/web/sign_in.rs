//! The sign-in routes: `/auth/login` sends the browser to the identity provider, `/auth/callback`
//! takes its answer, `/auth/logout` ends the session. The OpenID Connect work itself is in `auth`.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tower_sessions::Session;

use super::AppState;
use super::extract::{SESSION_TIMES, SESSION_USER};
use super::pages::{PageError, set_flash};
use super::return_path::safe_return_path;
use crate::auth::{CallbackParams, LOGIN_LIFETIME, SignInFailure};
use crate::domain::step_up::parse_auth_context;
use crate::error::AppError;
use crate::service::sessions::SessionTimes;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/login", get(login))
        .route("/auth/callback", get(callback))
        .route("/auth/logout", post(logout))
}

#[derive(Deserialize)]
struct LoginQuery {
    return_to: Option<String>,
    /// A step-up: the authentication context the sign-in must satisfy (`c1`..`c99`).
    auth_context: Option<String>,
}

/// The cookie that carries a started sign-in to its callback (`__Host-` over https, like the
/// session's).
fn login_cookie_name(app: &AppState) -> &'static str {
    if super::session_cookie_name(app.portal.server()).starts_with("__Host-") {
        "__Host-jitgate_login"
    } else {
        "jitgate_login"
    }
}

fn login_cookie(app: &AppState, value: &str, max_age: std::time::Duration) -> String {
    let secure = if app.portal.server().secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        login_cookie_name(app),
        max_age.as_secs()
    )
}

/// Starting a sign-in writes nothing on the server: the login state travels in a sealed cookie.
async fn login(
    State(app): State<AppState>,
    Query(q): Query<LoginQuery>,
) -> Result<Response, PageError> {
    let return_to = safe_return_path(app.portal.public_url(), q.return_to.as_deref());
    let step_up = match q.auth_context.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => {
            Some(parse_auth_context(c).map_err(|e| PageError::sign_in(400, format!("{e}.")))?)
        }
    };
    let (url, login) = app.oidc.begin_sign_in(return_to, step_up).await?;
    let cookie = login_cookie(&app, &app.oidc.seal_login(&login), LOGIN_LIFETIME);
    Ok(([(SET_COOKIE, cookie)], Redirect::to(&url)).into_response())
}

async fn callback(
    State(app): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Query(q): Query<CallbackParams>,
) -> Result<Response, PageError> {
    let name = login_cookie_name(&app);
    let login = headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .filter(|(n, _)| *n == name)
        .find_map(|(_, v)| app.oidc.open_login(v));
    let Some(login) = login else {
        return Err(PageError::sign_in(
            400,
            "This sign-in link has expired or was already used. Please sign in again.".into(),
        ));
    };
    // Nothing in an answer is believed, not even an error to show, unless it belongs to this browser's sign-in.
    if !login.answers(q.state.as_deref()) {
        tracing::warn!("sign-in callback with a state that does not match the session");
        return Err(PageError::sign_in(
            400,
            "The sign-in answer does not belong to this browser session. Please sign in again."
                .into(),
        ));
    }
    // One use only: the browser forgets the login state whatever comes next.
    let forget = [(
        SET_COOKIE,
        login_cookie(&app, "", std::time::Duration::ZERO),
    )];
    let return_to = safe_return_path(app.portal.public_url(), Some(login.return_to()));
    let step_up = login.step_up().map(str::to_string);
    let principal = match app.oidc.finish_sign_in(login, q).await {
        Ok(p) => p,
        Err(SignInFailure::Refused { status, message }) => {
            return Ok((forget, PageError::sign_in(status, message)).into_response());
        }
        Err(SignInFailure::Error(e)) => return Ok((forget, PageError::from(e)).into_response()),
    };
    session
        .cycle_id()
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    session
        .insert(SESSION_USER, &principal)
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    session
        .insert(SESSION_TIMES, SessionTimes::new(app.portal.now()))
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    tracing::info!(user = %principal.user.id, "signed in");
    let flash = match step_up {
        Some(context) => format!(
            "Signed in again as {}, with the multi-factor sign-in that authentication context {context} asks for. What you sent before was not done: check it and send it again.",
            principal.user.name
        ),
        None => format!("Signed in as {}.", principal.user.name),
    };
    set_flash(&session, flash).await;
    Ok((forget, Redirect::to(&return_to)).into_response())
}

async fn logout(session: Session) -> Result<Response, PageError> {
    session
        .flush()
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(Redirect::to("/").into_response())
}
