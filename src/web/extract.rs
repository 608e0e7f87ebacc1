//! Who is calling: a bearer token (API clients) or the session cookie (browsers).

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::{AUTHORIZATION, USER_AGENT};
use axum::http::request::Parts;
use tower_sessions::Session;

use super::AppState;
use crate::auth::Principal;
use crate::error::AppError;

/// The session key under which the signed-in principal is kept.
pub const SESSION_USER: &str = "user";

/// A signed-in caller; 401 otherwise.
pub struct Auth(pub Principal);

/// A signed-in caller, if any.
pub struct MaybeAuth(pub Option<Principal>);

async fn principal(parts: &mut Parts, app: &AppState) -> Result<Option<Principal>, AppError> {
    let mut who = if let Some(h) = parts.headers.get(AUTHORIZATION) {
        let h = h
            .to_str()
            .map_err(|_| AppError::Unauthorized("The Authorization header is malformed.".into()))?;
        let token = h
            .strip_prefix("Bearer ")
            .or_else(|| h.strip_prefix("bearer "))
            .ok_or_else(|| AppError::Unauthorized("Only Bearer tokens are accepted.".into()))?;
        Some(app.oidc.validate_bearer(token.trim()).await?)
    } else {
        let session = Session::from_request_parts(parts, app)
            .await
            .map_err(|(_, m)| AppError::Internal(anyhow::anyhow!(m)))?;
        session
            .get::<Principal>(SESSION_USER)
            .await
            .map_err(|e| AppError::Internal(e.into()))?
    };
    if let Some(p) = who.as_mut() {
        p.client_ip = parts
            .extensions
            .get::<ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip().to_string());
        p.user_agent = parts
            .headers
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(300).collect());
    }
    Ok(who)
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &AppState,
    ) -> Result<Self, Self::Rejection> {
        principal(parts, app)
            .await?
            .map(Auth)
            .ok_or_else(|| AppError::Unauthorized("Sign in or send a bearer access token.".into()))
    }
}

impl FromRequestParts<AppState> for MaybeAuth {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(MaybeAuth(principal(parts, app).await?))
    }
}

/// A request id from a path: anything that is not a GUID names no request.
pub fn parse_request_id(raw: &str) -> Result<crate::domain::RequestId, AppError> {
    crate::domain::RequestId::parse(raw)
        .ok_or_else(|| AppError::NotFound(format!("There is no request '{raw}'.")))
}
