//! Who is calling Graph: the bearer token checked as Graph checks it (signature, lifetime,
//! audience, issuer), the caller's permissions, and the permission lists several endpoints share.

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde_json::Value;

use super::errors::unauthorized;
use crate::emulator::wire::{GraphCtx, graph_error};
use crate::emulator::{Emulator, GRAPH_APP_ID, GRAPH_RESOURCE};

/// Permissions that may read groups and their members.
pub(super) const READ_MEMBERS: &[&str] = &[
    "GroupMember.Read.All",
    "Group.Read.All",
    "Directory.Read.All",
    "GroupMember.ReadWrite.All",
    "Group.ReadWrite.All",
    "Directory.ReadWrite.All",
];
/// Permissions that may read users.
pub(super) const READ_USERS: &[&str] = &[
    "User.Read.All",
    "User.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];

/// Application permissions (`roles`) or delegated scopes (`scp`) of the caller.
pub(super) struct Caller {
    permissions: Vec<String>,
    /// The signed-in user of a delegated token (`oid`), none for an app-only one.
    pub(super) user_id: Option<String>,
}

impl Caller {
    pub(super) fn has_any(&self, needed: &[&str]) -> bool {
        self.permissions
            .iter()
            .any(|p| needed.iter().any(|n| n.eq_ignore_ascii_case(p)))
    }

    /// The caller reading their own account (`/me`): `User.Read` lets them read it as
    /// `User.Read.All` would.
    pub(super) fn as_self(&self) -> Caller {
        let mut permissions = self.permissions.clone();
        if self.has_any(&["User.Read"]) {
            permissions.push("User.Read.All".into());
        }
        Caller {
            permissions,
            user_id: self.user_id.clone(),
        }
    }
}

/// The caller of a request, from its bearer token; the finished 401 (or 403) when Graph would
/// refuse the token.
pub(super) fn authenticate(
    emu: &Emulator,
    ctx: &GraphCtx,
    headers: &HeaderMap,
) -> Result<Caller, Response> {
    let raw = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim();
    let token = raw
        .strip_prefix("Bearer ")
        .or_else(|| raw.strip_prefix("bearer "))
        .unwrap_or("")
        .trim();
    if token.is_empty() {
        return Err(unauthorized(ctx, "Access token is empty."));
    }
    if token.split('.').count() != 3 {
        return Err(unauthorized(
            ctx,
            "CompactToken parsing failed with error code: 80049217",
        ));
    }
    let claims = emu
        .inner
        .key
        .verify(token)
        .map_err(|_| unauthorized(ctx, "Access token validation failure."))?;
    let now = chrono::Utc::now().timestamp();
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
    if exp <= now {
        return Err(unauthorized(
            ctx,
            "Lifetime validation failed, the token is expired.",
        ));
    }
    if claims.get("nbf").and_then(Value::as_i64).unwrap_or(0) > now + 300 {
        return Err(unauthorized(
            ctx,
            "Lifetime validation failed, the token is not yet valid.",
        ));
    }
    let aud = claims.get("aud").and_then(Value::as_str).unwrap_or("");
    let graph_audience = [GRAPH_RESOURCE, "https://graph.microsoft.com/", GRAPH_APP_ID]
        .iter()
        .any(|a| a.eq_ignore_ascii_case(aud));
    if !graph_audience {
        return Err(unauthorized(
            ctx,
            "Access token validation failure. Invalid audience.",
        ));
    }
    if claims.get("iss").and_then(Value::as_str) != Some(emu.issuer().as_str()) {
        return Err(unauthorized(
            ctx,
            "Access token validation failure. Invalid issuer.",
        ));
    }
    let roles = claims.get("roles").and_then(Value::as_array);
    let scp = claims.get("scp").and_then(Value::as_str);
    if roles.is_none() && scp.is_none() {
        return Err(graph_error(
            ctx,
            StatusCode::FORBIDDEN,
            "AccessDenied",
            "Required roles claim values are not provided.",
        ));
    }
    let mut permissions: Vec<String> = roles
        .into_iter()
        .flatten()
        .filter_map(|r| r.as_str().map(str::to_owned))
        .collect();
    permissions.extend(scp.unwrap_or("").split_whitespace().map(str::to_owned));
    let user_id = scp
        .and(claims.get("oid"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok(Caller {
        permissions,
        user_id,
    })
}
