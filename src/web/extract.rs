//! Who is calling: a bearer token (API clients) or the session cookie (browsers).

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::{AUTHORIZATION, USER_AGENT};
use axum::http::request::Parts;
use tower_sessions::Session;

use super::AppState;
use crate::auth::Principal;
use crate::error::AppError;
use crate::service::sessions::{SessionTimes, SessionVerdict};

/// The session key under which the signed-in principal is kept.
pub const SESSION_USER: &str = "user";
/// The session key of its [`SessionTimes`] (sign-in, last role check, last write).
pub const SESSION_TIMES: &str = "times";

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
        let who = app.oidc.validate_bearer(token.trim()).await?;
        Some(app.portal.check_bearer(who).await?)
    } else {
        let session = Session::from_request_parts(parts, app)
            .await
            .map_err(|(_, m)| AppError::Internal(anyhow::anyhow!(m)))?;
        signed_in(&session, app).await?
    };
    if let Some(p) = who.take() {
        who = Some(app.portal.with_groups(p).await);
    }
    if let Some(p) = who.as_mut() {
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join(",");
        p.client_ip = parts
            .extensions
            .get::<ConnectInfo<std::net::SocketAddr>>()
            .map(|c| {
                client_address(c.0.ip(), &forwarded, app.portal.trusted_proxies()).to_string()
            });
        p.user_agent = parts
            .headers
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(300).collect());
    }
    Ok(who)
}

fn session_error(e: tower_sessions::session::Error) -> AppError {
    AppError::Internal(e.into())
}

/// The person signed in with this browser session, after the service has decided whether the
/// session still stands (absolute lifetime, account state, roles read again when due). The
/// session is written back only when that changed something, or a minute has passed.
async fn signed_in(session: &Session, app: &AppState) -> Result<Option<Principal>, AppError> {
    let Some(who) = session
        .get::<Principal>(SESSION_USER)
        .await
        .map_err(session_error)?
    else {
        return Ok(None);
    };
    let Some(times) = session
        .get::<SessionTimes>(SESSION_TIMES)
        .await
        .map_err(session_error)?
    else {
        // A session from before sign-in times were kept: sign in again.
        session.flush().await.map_err(session_error)?;
        return Ok(None);
    };
    let user_id = who.user.id.clone();
    match app.portal.check_session(who, times).await {
        SessionVerdict::End(why) => {
            tracing::info!(user = %user_id, why, "session ended");
            session.flush().await.map_err(session_error)?;
            Ok(None)
        }
        SessionVerdict::Keep { who, times, store } => {
            if store {
                session
                    .insert(SESSION_USER, &who)
                    .await
                    .map_err(session_error)?;
                session
                    .insert(SESSION_TIMES, times)
                    .await
                    .map_err(session_error)?;
            }
            Ok(Some(*who))
        }
    }
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

/// The client's address for the audit trail: the socket's peer, unless the peer is a trusted
/// proxy; then the right-most `X-Forwarded-For` address that is not one (an entry that is not an
/// address stops the walk at the last trusted hop: nothing left of it can be believed).
pub fn client_address(
    peer: std::net::IpAddr,
    forwarded_for: &str,
    trusted: &[ipnet::IpNet],
) -> std::net::IpAddr {
    let is_trusted = |ip: &std::net::IpAddr| trusted.iter().any(|n| n.contains(ip));
    let mut client = peer;
    if !is_trusted(&client) {
        return client;
    }
    for entry in forwarded_for
        .rsplit(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        match entry.parse::<std::net::IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !is_trusted(&ip) {
                    return ip;
                }
            }
            Err(_) => return client,
        }
    }
    client
}

/// A request id from a path: anything that is not a GUID names no request.
pub fn parse_request_id(raw: &str) -> Result<crate::domain::RequestId, AppError> {
    crate::domain::RequestId::parse(raw)
        .ok_or_else(|| AppError::NotFound(format!("There is no request '{raw}'.")))
}

#[cfg(test)]
mod tests {
    use super::client_address;

    #[test]
    fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
        let nets: Vec<ipnet::IpNet> = ["10.0.0.0/8", "127.0.0.1/32"]
            .iter()
            .map(|n| n.parse().unwrap())
            .collect();
        // The address chosen for a peer and an `X-Forwarded-For` header.
        let client = |peer: &str, forwarded: &str, trusted: &[ipnet::IpNet]| {
            client_address(peer.parse().unwrap(), forwarded, trusted).to_string()
        };
        // Not from a proxy: the peer, whatever the header says.
        assert_eq!(client("198.51.100.7", "203.0.113.9", &nets), "198.51.100.7");
        // Through two trusted hops: the right-most untrusted address; a spoofed left part is ignored.
        let two_hops = "1.2.3.4, 203.0.113.9, 10.1.1.1";
        assert_eq!(client("127.0.0.1", two_hops, &nets), "203.0.113.9");
        // No header, or only trusted hops: the left-most trusted one.
        assert_eq!(client("127.0.0.1", "", &nets), "127.0.0.1");
        assert_eq!(client("127.0.0.1", "10.9.9.9", &nets), "10.9.9.9");
        // Junk stops the walk.
        let junk = "203.0.113.9, junk, 10.1.1.1";
        assert_eq!(client("127.0.0.1", junk, &nets), "10.1.1.1");
        // No trusted proxies configured: always the peer.
        assert_eq!(client("127.0.0.1", "203.0.113.9", &[]), "127.0.0.1");
    }
}
