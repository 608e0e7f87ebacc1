//! The Microsoft Graph half of the emulator: `/v1.0/...` (and the same under `/beta/...`) with
//! Graph's authentication, authorization, error bodies, paging and injectable faults.

// Helpers return the finished error response as `Err`; boxing it would only add noise.
#![allow(clippy::result_large_err)]

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use super::wire::{GraphCtx, graph_error, is_guid, odata_json, percent_decode, throttled_error};
use super::{
    DemoUser, Emulator, Fault, GRAPH_APP_ID, GRAPH_RESOURCE, GraphCall, NotMemberStyle,
    graph_users, set_membership, sign_ins,
};

const WRITE_MEMBERS: &[&str] = &[
    "GroupMember.ReadWrite.All",
    "Group.ReadWrite.All",
    "Directory.ReadWrite.All",
];
pub(crate) const READ_MEMBERS: &[&str] = &[
    "GroupMember.Read.All",
    "Group.Read.All",
    "Directory.Read.All",
    "GroupMember.ReadWrite.All",
    "Group.ReadWrite.All",
    "Directory.ReadWrite.All",
];
pub(crate) const READ_USERS: &[&str] = &[
    "User.Read.All",
    "User.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];
const READ_POLICIES: &[&str] = &[
    "Policy.Read.All",
    "Policy.Read.ConditionalAccess",
    "Policy.ReadWrite.ConditionalAccess",
];

/// Properties returned for a user when no `$select` is given (user-get.md).
const DEFAULT_USER_PROPS: &[&str] = &[
    "businessPhones",
    "displayName",
    "givenName",
    "id",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
];
/// Further properties that may be asked for with `$select`.
const EXTRA_USER_PROPS: &[&str] = &[
    "accountEnabled",
    "companyName",
    "department",
    "employeeId",
    "userType",
];

const DEFAULT_PAGE: usize = 100;
const MAX_PAGE: usize = 999;
const INSUFFICIENT: &str = "Insufficient privileges to complete the operation.";

fn not_found_message(what: &str) -> String {
    format!(
        "Resource '{what}' does not exist or one of its queried reference-property objects are not present."
    )
}

/// Entry point for every `/v1.0/...` and `/beta/...` request.
pub(crate) async fn handle(
    State(emu): State<Emulator>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ctx = GraphCtx::new(&headers);
    // Carried out to the end even when the caller hangs up (a timed-out call may still land).
    let task_ctx = ctx.clone();
    let resp =
        tokio::spawn(async move { answer(&emu, &task_ctx, &method, &uri, &headers, &body).await })
            .await
            .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response());
    decorate(&ctx, resp)
}

/// Graph's headers on every answer.
pub(crate) fn decorate(ctx: &GraphCtx, mut resp: Response) -> Response {
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&ctx.request_id) {
        h.insert("request-id", v);
    }
    if let Ok(v) = HeaderValue::from_str(ctx.client_request_id()) {
        h.insert("client-request-id", v);
    }
    h.insert(
        "x-ms-ags-diagnostic",
        HeaderValue::from_static(
            r#"{"ServerInfo":{"DataCenter":"Loopback","Slice":"E","Ring":"0","ScaleUnit":"000","RoleInstance":"JITGATE_EMULATOR","ADSiteName":"LOC"}}"#,
        ),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    resp
}

/// One Graph request (on its own or inside a `$batch`): the tenant's latency, an injected fault
/// or delay, the write budget, then the request itself. Logged in the call list.
pub(crate) async fn answer(
    emu: &Emulator,
    ctx: &GraphCtx,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let path_q = uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| uri.path().to_owned());
    let mut fault = emu.take_fault(method.as_str(), &path_q, true);
    if fault.is_none() && is_write(method, uri.path()) {
        fault = chaos(emu, uri.path());
    }
    let delay =
        emu.state().conditions.latency + fault.as_ref().and_then(|f| f.delay).unwrap_or_default();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let resp = match fault.filter(|f| f.status != 0) {
        Some(fault) => fault_response(ctx, &fault),
        None => match spend_write(emu, method, uri.path()) {
            Err(wait) => {
                let mut resp = throttled_error(ctx);
                // Graph sends whole or fractional seconds.
                let secs = format!("{:.3}", wait.as_secs_f64().max(0.001));
                if let Ok(v) = HeaderValue::from_str(&secs) {
                    resp.headers_mut().insert(header::RETRY_AFTER, v);
                }
                resp.headers_mut().insert(
                    "x-ms-throttle-information",
                    HeaderValue::from_static("WriteLimitExceeded"),
                );
                resp
            }
            Ok(()) => route(emu, ctx, method, uri, headers, body),
        },
    };
    let status = resp.status().as_u16();
    tracing::debug!(
        method = %method,
        path = %uri.path(),
        status,
        request_id = %ctx.request_id,
        client_request_id = %ctx.client_request_id(),
        "emulated Graph request"
    );
    emu.state().calls.push(GraphCall {
        method: method.as_str().to_owned(),
        path: path_q,
        status,
        client_request_id: ctx.sent_client_request_id.clone(),
    });
    resp
}

/// Any POST, PATCH, PUT or DELETE but `checkMemberGroups` and `sendMail` (Exchange Online's
/// limits, not the directory's).
fn is_write(method: &Method, path: &str) -> bool {
    *method != Method::GET && !path.ends_with("/checkMemberGroups") && !path.ends_with("/sendMail")
}

/// The fault chaos picks for a write, if any.
fn chaos(emu: &Emulator, path: &str) -> Option<Fault> {
    use super::conditions::Mischief;
    let mut st = emu.state();
    let mischief = st.conditions.chaos.as_mut()?.pick(path)?;
    Some(match mischief {
        Mischief::Throttle => Fault::new(429, 1).retry_after("0.2"),
        Mischief::Unavailable => Fault::new(503, 1),
        Mischief::Hang(d) => Fault::hang(d, 1),
    })
}

/// Spends one write of the tenant's budget when `method` on `path` is a write (any POST, PATCH,
/// PUT or DELETE but `checkMemberGroups`); `Err` with the wait when the budget is spent.
fn spend_write(emu: &Emulator, method: &Method, path: &str) -> Result<(), std::time::Duration> {
    if !is_write(method, path) {
        return Ok(());
    }
    let mut st = emu.state();
    let c = &mut st.conditions;
    let Some(bucket) = c.budget.as_mut() else {
        return Ok(());
    };
    match bucket.spend() {
        Ok(()) => {
            c.accepted_writes += 1;
            Ok(())
        }
        Err(wait) => {
            c.throttled_writes += 1;
            Err(wait)
        }
    }
}

fn fault_response(ctx: &GraphCtx, fault: &Fault) -> Response {
    let status = StatusCode::from_u16(fault.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = match status.as_u16() {
        429 => throttled_error(ctx),
        503 => graph_error(
            ctx,
            status,
            "serviceNotAvailable",
            "The service is temporarily unavailable. Please retry after some time.",
        ),
        504 => graph_error(
            ctx,
            status,
            "gatewayTimeout",
            "The gateway did not receive a timely response from the upstream server.",
        ),
        401 => unauthorized(ctx, "Access token validation failure."),
        s => {
            let code = match s {
                400 => "BadRequest",
                403 => "Authorization_RequestDenied",
                404 => "Request_ResourceNotFound",
                409 => "Directory_ConcurrencyViolation",
                502 => "BadGateway",
                _ => "UnknownError",
            };
            let message = status.canonical_reason().unwrap_or("Injected fault.");
            graph_error(ctx, status, code, message)
        }
    };
    if let Some(v) = fault
        .retry_after
        .as_deref()
        .and_then(|v| HeaderValue::from_str(v).ok())
    {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

fn unauthorized(ctx: &GraphCtx, message: &str) -> Response {
    let mut resp = graph_error(
        ctx,
        StatusCode::UNAUTHORIZED,
        "InvalidAuthenticationToken",
        message,
    );
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(
            r#"Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000""#,
        ),
    );
    resp
}

pub(crate) fn forbidden(ctx: &GraphCtx) -> Response {
    graph_error(
        ctx,
        StatusCode::FORBIDDEN,
        "Authorization_RequestDenied",
        INSUFFICIENT,
    )
}

pub(crate) fn bad_request(ctx: &GraphCtx, code: &str, message: &str) -> Response {
    graph_error(ctx, StatusCode::BAD_REQUEST, code, message)
}

pub(crate) fn invalid_id(ctx: &GraphCtx, id: &str) -> Response {
    bad_request(
        ctx,
        "Request_BadRequest",
        &format!("Invalid object identifier '{id}'."),
    )
}

pub(crate) fn not_found(ctx: &GraphCtx, what: &str) -> Response {
    graph_error(
        ctx,
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
        &not_found_message(what),
    )
}

/// Application permissions (`roles`) or delegated scopes (`scp`) of the caller.
pub(crate) struct Caller {
    permissions: Vec<String>,
}

impl Caller {
    pub(crate) fn has_any(&self, needed: &[&str]) -> bool {
        self.permissions
            .iter()
            .any(|p| needed.iter().any(|n| n.eq_ignore_ascii_case(p)))
    }
}

fn authenticate(emu: &Emulator, ctx: &GraphCtx, headers: &HeaderMap) -> Result<Caller, Response> {
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
    Ok(Caller { permissions })
}

fn route(
    emu: &Emulator,
    ctx: &GraphCtx,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let (beta, rest) = match uri.path().strip_prefix("/beta") {
        Some(rest) => (true, rest),
        None => (false, uri.path().strip_prefix("/v1.0").unwrap_or("")),
    };
    let segs: Vec<String> = rest
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let query: Vec<(String, String)> = uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let q = |name: &str| qparam(&query, name);
    let caller = match authenticate(emu, ctx, headers) {
        Ok(caller) => caller,
        Err(resp) => return resp,
    };
    match (method, segs.as_slice()) {
        (&Method::POST, ["groups", g, "members", "$ref"]) => add_member(emu, ctx, &caller, g, body),
        (&Method::DELETE, ["groups", g, "members", u, "$ref"]) => {
            remove_member(emu, ctx, &caller, g, u)
        }
        // Without `$ref` Graph would delete the object itself; an app that may not do that gets 403.
        (&Method::DELETE, ["groups", _, "members", u]) if *u != "$ref" => forbidden(ctx),
        (&Method::GET, ["groups", g, "members"]) => list_members(emu, ctx, &caller, g, &query),
        // The emulator's groups hold users only: transitive members are the direct ones.
        (
            &Method::GET,
            ["groups", g, "transitiveMembers"]
            | ["groups", g, "transitiveMembers", "microsoft.graph.user"],
        ) => list_members(emu, ctx, &caller, g, &query),
        (&Method::GET, ["groups", g]) => get_group(emu, ctx, &caller, g),
        (&Method::GET, ["users", id]) => get_user(emu, ctx, &caller, id, q("$select")),
        (&Method::GET, ["users", id, "manager"]) => {
            get_manager(emu, ctx, &caller, id, q("$select"))
        }
        (&Method::GET, ["identity", "conditionalAccess", "policies"]) => {
            ca_policies(emu, ctx, &caller)
        }
        (&Method::POST, ["users" | "directoryObjects", id, "checkMemberGroups"]) => {
            graph_users::check_member_groups(emu, ctx, &caller, id, body)
        }
        (&Method::GET, [sp]) if sp.starts_with("servicePrincipals(appId=") => {
            let app_id = sp
                .trim_start_matches("servicePrincipals(appId=")
                .trim_end_matches(')')
                .trim_matches('\'');
            super::graph_apps::by_app_id(emu, ctx, &caller, app_id)
        }
        (&Method::GET, ["servicePrincipals", sp, "appRoleAssignedTo"]) => {
            super::graph_apps::assigned_to(emu, ctx, &caller, sp)
        }
        (&Method::POST, ["users", id, "sendMail"]) => {
            graph_users::send_mail(emu, ctx, &caller, id, body)
        }
        (&Method::POST, ["users", id, "revokeSignInSessions"]) => {
            graph_users::revoke_sign_in_sessions(emu, ctx, &caller, id)
        }
        (&Method::GET, ["auditLogs", "signIns"]) => sign_ins::list(emu, ctx, &caller, beta, &query),
        (&Method::GET, ["auditLogs", "signIns", id]) => sign_ins::get(emu, ctx, &caller, beta, id),
        (
            _,
            ["groups", _, "members", "$ref"]
            | ["groups", _, "members", _, "$ref"]
            | ["groups", _, "members"]
            | ["groups", _]
            | ["users", _]
            | ["users", _, "manager"]
            | ["identity", "conditionalAccess", "policies"]
            | ["auditLogs", "signIns"]
            | ["auditLogs", "signIns", _],
        ) => graph_error(
            ctx,
            StatusCode::METHOD_NOT_ALLOWED,
            "Request_BadRequest",
            "Specified HTTP method is not allowed for the request uri.",
        ),
        _ => {
            let segment = segs.last().copied().unwrap_or("v1.0");
            bad_request(
                ctx,
                "BadRequest",
                &format!("Resource not found for the segment '{segment}'."),
            )
        }
    }
}

pub(crate) fn qparam<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The member id of an `@odata.id` such as `https://graph.microsoft.com/v1.0/directoryObjects/{id}`
/// (`/users/{id}` is accepted too).
fn member_ref_id(odata_id: &str) -> Option<String> {
    let without_query = odata_id.split(['?', '#']).next().unwrap_or("");
    ["/directoryObjects/", "/users/"]
        .iter()
        .filter_map(|marker| {
            without_query
                .rfind(marker)
                .map(|i| &without_query[i + marker.len()..])
        })
        .find(|id| !id.is_empty() && !id.contains('/'))
        .map(percent_decode)
}

fn add_member(
    emu: &Emulator,
    ctx: &GraphCtx,
    caller: &Caller,
    group: &str,
    body: &[u8],
) -> Response {
    if !caller.has_any(WRITE_MEMBERS) {
        return forbidden(ctx);
    }
    if !is_guid(group) {
        return invalid_id(ctx, group);
    }
    let Ok(payload) = serde_json::from_slice::<Value>(body) else {
        return bad_request(
            ctx,
            "BadRequest",
            "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
        );
    };
    let Some(odata_id) = payload.get("@odata.id").and_then(Value::as_str) else {
        return bad_request(
            ctx,
            "BadRequest",
            "The request payload must contain an '@odata.id' reference.",
        );
    };
    let Some(member) = member_ref_id(odata_id) else {
        return bad_request(
            ctx,
            "Request_BadRequest",
            "Invalid URL format specified in @odata.id for members.",
        );
    };
    if !is_guid(&member) {
        return invalid_id(ctx, &member);
    }
    if emu.group(group).is_none() {
        return not_found(ctx, group);
    }
    if !emu
        .inner
        .config
        .users
        .iter()
        .any(|u| u.id.eq_ignore_ascii_case(&member))
    {
        return not_found(ctx, &member);
    }
    let mut st = emu.state();
    if !set_membership(&mut st, group, &member, true) {
        return bad_request(
            ctx,
            "Request_BadRequest",
            "One or more added object references already exist for the following modified properties: 'members'.",
        );
    }
    emu.persist(&st);
    StatusCode::NO_CONTENT.into_response()
}

fn remove_member(
    emu: &Emulator,
    ctx: &GraphCtx,
    caller: &Caller,
    group: &str,
    member: &str,
) -> Response {
    if !caller.has_any(WRITE_MEMBERS) {
        return forbidden(ctx);
    }
    if !is_guid(group) {
        return invalid_id(ctx, group);
    }
    if !is_guid(member) {
        return invalid_id(ctx, member);
    }
    if emu.group(group).is_none() {
        return not_found(ctx, group);
    }
    let mut st = emu.state();
    if !set_membership(&mut st, group, member, false) {
        return match st.not_member_style {
            // Graph names the *group* here although the group exists (wire doc §3).
            NotMemberStyle::NotFound404 => not_found(ctx, group),
            NotMemberStyle::BadRequest400 => bad_request(
                ctx,
                "Request_BadRequest",
                "One or more removed object references do not exist for the following modified properties: 'members'.",
            ),
        };
    }
    emu.persist(&st);
    StatusCode::NO_CONTENT.into_response()
}

/// Parses `$select` against the known user properties; returns canonical names.
fn parse_select(
    ctx: &GraphCtx,
    select: Option<&str>,
    type_name: &str,
) -> Result<Option<Vec<&'static str>>, Response> {
    let Some(select) = select else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for name in select.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let known = DEFAULT_USER_PROPS
            .iter()
            .chain(EXTRA_USER_PROPS)
            .find(|p| p.eq_ignore_ascii_case(name));
        match known {
            Some(p) if !out.contains(p) => out.push(*p),
            Some(_) => {}
            None => {
                return Err(bad_request(
                    ctx,
                    "BadRequest",
                    &format!("Could not find a property named '{name}' on type '{type_name}'."),
                ));
            }
        }
    }
    Ok(if out.is_empty() { None } else { Some(out) })
}

fn user_value(user: &DemoUser, prop: &str) -> Value {
    let (given, surname) = match user.name.split_once(' ') {
        Some((g, s)) => (json!(g), json!(s)),
        None => (json!(user.name), Value::Null),
    };
    match prop {
        "businessPhones" => json!([]),
        "displayName" => json!(user.name),
        "givenName" => given,
        "surname" => surname,
        "id" => json!(user.id),
        "mail" => json!(user.username),
        "userPrincipalName" => json!(user.username),
        "preferredLanguage" => json!("en-US"),
        "accountEnabled" => json!(true),
        "companyName" => json!("jitgate demo"),
        "userType" => json!("Member"),
        _ => Value::Null,
    }
}

/// A user (or an unknown directory object, shown with its id only) with the selected properties.
fn user_object(
    user: Option<&DemoUser>,
    id: &str,
    select: Option<&[&'static str]>,
    odata_type: bool,
) -> Value {
    let mut obj = Map::new();
    if odata_type {
        obj.insert("@odata.type".to_owned(), json!("#microsoft.graph.user"));
    }
    let props = select.unwrap_or(DEFAULT_USER_PROPS);
    for prop in props.iter().copied().chain(std::iter::once("id")) {
        let value = match user {
            Some(u) => user_value(u, prop),
            None if prop == "id" => json!(id),
            None => Value::Null,
        };
        obj.insert(prop.to_owned(), value);
    }
    Value::Object(obj)
}

fn encode_skiptoken(group: &str, offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!(
        "RFNwdAIAAQ|{offset}|{}",
        group.to_ascii_lowercase()
    ))
}

fn decode_skiptoken(token: &str, group: &str) -> Option<usize> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
    let mut parts = raw.split('|');
    let (_, offset, g) = (parts.next()?, parts.next()?, parts.next()?);
    if !g.eq_ignore_ascii_case(group) {
        return None;
    }
    offset.parse().ok()
}

fn list_members(
    emu: &Emulator,
    ctx: &GraphCtx,
    caller: &Caller,
    group: &str,
    query: &[(String, String)],
) -> Response {
    let q = |name: &str| qparam(query, name);
    if !caller.has_any(READ_MEMBERS) {
        return forbidden(ctx);
    }
    if !is_guid(group) {
        return invalid_id(ctx, group);
    }
    if emu.group(group).is_none() {
        return not_found(ctx, group);
    }
    let select = match parse_select(ctx, q("$select"), "microsoft.graph.directoryObject") {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let top = match q("$top") {
        None => None,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => Some(n),
            _ => {
                return bad_request(
                    ctx,
                    "Request_BadRequest",
                    &format!(
                        "Invalid page size specified: '{v}'. Must be between 1 and {MAX_PAGE} inclusive."
                    ),
                );
            }
        },
    };
    let offset = match q("$skiptoken") {
        None => 0,
        Some(token) => match decode_skiptoken(token, group) {
            Some(offset) => offset,
            None => {
                return bad_request(
                    ctx,
                    "Request_BadRequest",
                    "The specified page token value has expired and can no longer be included in your request.",
                );
            }
        },
    };
    let page_size = top.unwrap_or(DEFAULT_PAGE);
    let members = emu.visible_members(group);
    let end = (offset + page_size).min(members.len());
    let value: Vec<Value> = members
        .get(offset.min(members.len())..end)
        .unwrap_or_default()
        .iter()
        .map(|id| user_object(emu.user(id), id, select.as_deref(), true))
        .collect();
    let base = emu.base_url();
    let mut body = json!({
        "@odata.context": match &select {
            Some(s) => format!("{base}/v1.0/$metadata#directoryObjects({})", s.join(",")),
            None => format!("{base}/v1.0/$metadata#directoryObjects"),
        },
        "value": value,
    });
    if end < members.len() {
        // Selected names are canonical property names and the token is base64url: no escaping needed.
        let mut params = Vec::new();
        if let Some(s) = &select {
            params.push(format!("$select={}", s.join(",")));
        }
        if let Some(t) = top {
            params.push(format!("$top={t}"));
        }
        params.push(format!("$skiptoken={}", encode_skiptoken(group, end)));
        body["@odata.nextLink"] = json!(format!(
            "{base}/v1.0/groups/{}/members?{}",
            group.to_ascii_lowercase(),
            params.join("&")
        ));
    }
    odata_json(StatusCode::OK, &body)
}

fn get_group(emu: &Emulator, ctx: &GraphCtx, caller: &Caller, group: &str) -> Response {
    if !caller.has_any(READ_MEMBERS) {
        return forbidden(ctx);
    }
    if !is_guid(group) {
        return invalid_id(ctx, group);
    }
    let Some(g) = emu.group(group) else {
        return not_found(ctx, group);
    };
    let nickname: String = g
        .display_name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    let body = json!({
        "@odata.context": format!("{}/v1.0/$metadata#groups/$entity", emu.base_url()),
        "id": g.id,
        "displayName": g.display_name,
        "description": null,
        "groupTypes": [],
        "isAssignableToRole": false,
        "mailEnabled": false,
        "mailNickname": nickname,
        "securityEnabled": true,
        "visibility": null,
    });
    odata_json(StatusCode::OK, &body)
}

fn get_user(
    emu: &Emulator,
    ctx: &GraphCtx,
    caller: &Caller,
    id: &str,
    select: Option<&str>,
) -> Response {
    if !caller.has_any(READ_USERS) {
        return forbidden(ctx);
    }
    let select = match parse_select(ctx, select, "microsoft.graph.user") {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let Some(user) = emu.user(id) else {
        return not_found(ctx, id);
    };
    let mut body = user_object(Some(user), &user.id, select.as_deref(), false);
    if body.get("accountEnabled").is_some() {
        body["accountEnabled"] = json!(emu.account_enabled(user));
    }
    let base = emu.base_url();
    body["@odata.context"] = json!(match &select {
        Some(s) => format!("{base}/v1.0/$metadata#users({})/$entity", s.join(",")),
        None => format!("{base}/v1.0/$metadata#users/$entity"),
    });
    odata_json(StatusCode::OK, &body)
}

fn get_manager(
    emu: &Emulator,
    ctx: &GraphCtx,
    caller: &Caller,
    id: &str,
    select: Option<&str>,
) -> Response {
    if !caller.has_any(READ_USERS) {
        return forbidden(ctx);
    }
    let select = match parse_select(ctx, select, "microsoft.graph.directoryObject") {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let Some(user) = emu.user(id) else {
        return not_found(ctx, id);
    };
    let Some(manager) = user.manager_id.as_deref().and_then(|m| emu.user(m)) else {
        return not_found(ctx, "manager");
    };
    let mut body = user_object(Some(manager), &manager.id, select.as_deref(), true);
    let base = emu.base_url();
    body["@odata.context"] = json!(match &select {
        Some(s) => format!(
            "{base}/v1.0/$metadata#directoryObjects({})/$entity",
            s.join(",")
        ),
        None => format!("{base}/v1.0/$metadata#directoryObjects/$entity"),
    });
    odata_json(StatusCode::OK, &body)
}

fn ca_policies(emu: &Emulator, ctx: &GraphCtx, caller: &Caller) -> Response {
    if !caller.has_any(READ_POLICIES) {
        return forbidden(ctx);
    }
    let base = emu.base_url();
    let policy_id = super::demo::CA_POLICY_ID;
    let (state, covers_portal) = {
        let st = emu.state();
        let state = if st.device_code_policy_off {
            "disabled"
        } else {
            "enabled"
        };
        (state, st.device_code_policy_covers_portal)
    };
    // The portal's own API is excluded, so that the command line can sign in by device code.
    let exclude_apps: Vec<&str> = if covers_portal {
        vec![]
    } else {
        vec![emu.config().client_id.as_str()]
    };
    let exclude: Vec<&str> = emu
        .config()
        .groups
        .first()
        .map(|g| g.id.as_str())
        .into_iter()
        .collect();
    let body = json!({
        "@odata.context": format!("{base}/v1.0/$metadata#identity/conditionalAccess/policies"),
        "value": [{
            "id": policy_id,
            "templateId": null,
            "displayName": "Block device code flow",
            "createdDateTime": "2025-05-30T19:45:30.4862179Z",
            "modifiedDateTime": "2025-06-07T07:31:16.8430613Z",
            "state": state,
            "sessionControls": null,
            "conditions": {
                "userRiskLevels": [],
                "signInRiskLevels": [],
                "servicePrincipalRiskLevels": [],
                "insiderRiskLevels": null,
                "clientAppTypes": ["all"],
                "platforms": null,
                "locations": null,
                "devices": null,
                "clientApplications": null,
                "authenticationFlows": { "transferMethods": "deviceCodeFlow,authenticationTransfer" },
                "applications": {
                    "includeApplications": ["All"],
                    "excludeApplications": exclude_apps,
                    "includeUserActions": [],
                    "includeAuthenticationContextClassReferences": [],
                    "applicationFilter": null
                },
                "users": {
                    "includeUsers": ["All"],
                    "excludeUsers": [],
                    "includeGroups": [],
                    "excludeGroups": exclude,
                    "includeRoles": [],
                    "excludeRoles": [],
                    "includeGuestsOrExternalUsers": null,
                    "excludeGuestsOrExternalUsers": null
                }
            },
            "grantControls": {
                "operator": "OR",
                "builtInControls": ["block"],
                "customAuthenticationFactors": [],
                "termsOfUse": [],
                "authenticationStrength@odata.context": format!(
                    "{base}/v1.0/$metadata#identity/conditionalAccess/policies('{policy_id}')/grantControls/authenticationStrength/$entity"
                ),
                "authenticationStrength": null
            }
        }]
    });
    odata_json(StatusCode::OK, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_refs() {
        let id = "87d349ed-44d7-43e1-9a83-5f2406dee5bd";
        assert_eq!(
            member_ref_id(&format!(
                "https://graph.microsoft.com/v1.0/directoryObjects/{id}"
            ))
            .as_deref(),
            Some(id)
        );
        assert_eq!(
            member_ref_id(&format!("http://127.0.0.1:1/v1.0/users/{id}")).as_deref(),
            Some(id)
        );
        assert_eq!(
            member_ref_id("https://graph.microsoft.com/v1.0/groups/x"),
            None
        );
        assert_eq!(
            member_ref_id("https://graph.microsoft.com/v1.0/directoryObjects/"),
            None
        );
    }

    #[test]
    fn skiptokens_round_trip() {
        let g = "5a1f3f3e-6a4b-4d5e-9a8b-1c2d3e4f5a6b";
        assert_eq!(decode_skiptoken(&encode_skiptoken(g, 42), g), Some(42));
        assert_eq!(decode_skiptoken(&encode_skiptoken(g, 42), "other"), None);
        assert_eq!(decode_skiptoken("garbage!", g), None);
    }
}
