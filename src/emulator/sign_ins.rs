//! The sign-in log (wire doc §15.3): `GET /v1.0/auditLogs/signIns` and `/beta/auditLogs/signIns`
//! (application permission `AuditLog.Read.All`), newest first, with `$top`, `$skiptoken` paging
//! and the `$filter` clauses jitgate needs. A sign-in shows only after the log delay.

use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::graph_api::{Caller, bad_request, forbidden, not_found, qparam};
use super::wire::{GraphCtx, odata_json};
use super::{Emulator, SignIn};

const READ_AUDIT_LOG: &[&str] = &["AuditLog.Read.All"];
/// Graph's default and largest page of sign-ins.
const MAX_PAGE: usize = 1000;
/// `authenticationProtocol` values of the beta `protocolType` enumeration.
const PROTOCOLS: &[&str] = &[
    "none",
    "oAuth2",
    "ropc",
    "wsFederation",
    "saml20",
    "deviceCode",
    "unknownFutureValue",
    "authenticationTransfer",
    "nativeAuth",
    "implicitAccessTokenAndGetResponseMode",
];

/// The Graph JSON of a sign-in; `authenticationProtocol` exists in beta only.
fn to_graph(sign_in: &SignIn, beta: bool) -> Value {
    let mut v = json!({
        "id": sign_in.id,
        "createdDateTime": sign_in.created.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        "userDisplayName": sign_in.user_display_name,
        "userPrincipalName": sign_in.user_principal_name,
        "userId": sign_in.user_id,
        "appId": sign_in.app_id,
        "appDisplayName": sign_in.app_display_name,
        "ipAddress": sign_in.ip_address,
        "clientAppUsed": sign_in.client_app_used,
        "correlationId": sign_in.correlation_id,
        "conditionalAccessStatus": sign_in.conditional_access_status,
        "isInteractive": sign_in.is_interactive,
        "resourceDisplayName": sign_in.resource_display_name,
        "resourceId": sign_in.resource_id,
        "status": {
            "errorCode": sign_in.error_code,
            "failureReason": sign_in.failure_reason,
            "additionalDetails": sign_in.additional_details,
        },
    });
    if beta {
        v["authenticationProtocol"] = json!(sign_in.authentication_protocol);
    }
    v
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cmp {
    Eq,
    Ne,
    Ge,
    Le,
    Gt,
    Lt,
}

#[derive(Debug, PartialEq, Eq)]
enum Clause {
    UserId(String),
    AppId(String),
    Created(Cmp, DateTime<Utc>),
    Protocol(String),
    ErrorCode(Cmp, i64),
}

impl Clause {
    fn matches(&self, s: &SignIn) -> bool {
        match self {
            Clause::UserId(id) => s.user_id.eq_ignore_ascii_case(id),
            Clause::AppId(id) => s.app_id.eq_ignore_ascii_case(id),
            Clause::Protocol(p) => s.authentication_protocol.eq_ignore_ascii_case(p),
            Clause::Created(cmp, at) => compare(*cmp, &s.created, at),
            Clause::ErrorCode(cmp, code) => compare(*cmp, &s.error_code, code),
        }
    }
}

fn compare<T: PartialOrd>(cmp: Cmp, a: &T, b: &T) -> bool {
    match cmp {
        Cmp::Eq => a == b,
        Cmp::Ne => a != b,
        Cmp::Ge => a >= b,
        Cmp::Le => a <= b,
        Cmp::Gt => a > b,
        Cmp::Lt => a < b,
    }
}

/// A rejected `$filter`: (code, message) of the 400.
type FilterError = (&'static str, String);

fn unsupported(property: &str) -> FilterError {
    (
        "Request_UnsupportedQuery",
        format!(
            "Unsupported or invalid query filter clause specified for property '{property}' of resource 'SignIn'."
        ),
    )
}

/// Splits `a and b and c` into its clauses (case-insensitive `and`, not inside quotes).
fn split_and(filter: &str) -> Vec<&str> {
    let bytes = filter.as_bytes();
    let mut out = Vec::new();
    let (mut start, mut i, mut quoted) = (0, 0, false);
    while i < bytes.len() {
        if bytes[i] == b'\'' {
            quoted = !quoted;
        } else if !quoted
            && bytes[i].is_ascii_whitespace()
            && i + 5 <= bytes.len()
            && bytes[i + 1..i + 4].eq_ignore_ascii_case(b"and")
            && bytes[i + 4].is_ascii_whitespace()
        {
            out.push(&filter[start..i]);
            i += 5;
            start = i;
            continue;
        }
        i += 1;
    }
    out.push(&filter[start..]);
    out
}

/// A quoted OData string literal (`''` is a quote), or `None` when `v` is not one.
fn string_literal(v: &str) -> Option<String> {
    let inner = v.strip_prefix('\'')?.strip_suffix('\'')?;
    if inner.replace("''", "").contains('\'') {
        return None;
    }
    Some(inner.replace("''", "'"))
}

fn parse_clause(clause: &str, beta: bool) -> Result<Clause, FilterError> {
    let mut parts = clause.trim().splitn(3, char::is_whitespace);
    let property = parts.next().unwrap_or("");
    let op = parts.next().unwrap_or("").to_ascii_lowercase();
    let value = parts.next().unwrap_or("").trim();
    if let Some((_, inner)) = property.split_once('(') {
        // A function such as startsWith(userPrincipalName, 'x'): name its property.
        return Err(unsupported(inner.trim_end_matches(',')));
    }
    if op.is_empty() || value.is_empty() {
        return Err(unsupported(property));
    }
    let cmp = match op.as_str() {
        "eq" => Cmp::Eq,
        "ne" => Cmp::Ne,
        "ge" => Cmp::Ge,
        "le" => Cmp::Le,
        "gt" => Cmp::Gt,
        "lt" => Cmp::Lt,
        _ => return Err(unsupported(property)),
    };
    let string = || string_literal(value).ok_or_else(|| unsupported(property));
    match property.to_ascii_lowercase().as_str() {
        "userid" if cmp == Cmp::Eq => Ok(Clause::UserId(string()?)),
        "appid" if cmp == Cmp::Eq => Ok(Clause::AppId(string()?)),
        "authenticationprotocol" if !beta => Err((
            "BadRequest",
            "Could not find a property named 'authenticationProtocol' on type 'microsoft.graph.signIn'."
                .to_owned(),
        )),
        "authenticationprotocol" if cmp == Cmp::Eq => {
            let p = string()?;
            match PROTOCOLS.iter().find(|k| k.eq_ignore_ascii_case(&p)) {
                Some(k) => Ok(Clause::Protocol((*k).to_owned())),
                None => Err((
                    "BadRequest",
                    format!("The string '{p}' is not a valid enumeration type constant."),
                )),
            }
        }
        "createddatetime" if matches!(cmp, Cmp::Ge | Cmp::Le | Cmp::Gt | Cmp::Lt) => {
            if value.starts_with('\'') {
                let kind = match cmp {
                    Cmp::Ge => "GreaterThanOrEqual",
                    Cmp::Le => "LessThanOrEqual",
                    Cmp::Gt => "GreaterThan",
                    _ => "LessThan",
                };
                return Err((
                    "BadRequest",
                    format!(
                        "A binary operator with incompatible types was detected. Found operand types 'Edm.DateTimeOffset' and 'Edm.String' for operator kind '{kind}'."
                    ),
                ));
            }
            DateTime::parse_from_rfc3339(value)
                .map(|at| Clause::Created(cmp, at.with_timezone(&Utc)))
                .map_err(|_| {
                    (
                        "BadRequest",
                        format!(
                            "The DateTimeOffset text '{value}' should be in format 'yyyy-mm-ddThh:mm:ss('.'s+)?(zzzzzz)?' and each field value is within valid range."
                        ),
                    )
                })
        }
        "status/errorcode" if matches!(cmp, Cmp::Eq | Cmp::Ne) => value
            .parse::<i64>()
            .map(|n| Clause::ErrorCode(cmp, n))
            .map_err(|_| unsupported(property)),
        _ => Err(unsupported(property)),
    }
}

fn parse_filter(filter: &str, beta: bool) -> Result<Vec<Clause>, FilterError> {
    if filter.trim().is_empty() {
        return Ok(Vec::new());
    }
    split_and(filter)
        .into_iter()
        .map(|c| parse_clause(c, beta))
        .collect()
}

/// The position of a sign-in in the newest-first list: (created, index in the log).
type Key = (DateTime<Utc>, usize);

fn encode_skiptoken(key: Key) -> String {
    let nanos = key.0.timestamp_nanos_opt().unwrap_or_default();
    URL_SAFE_NO_PAD.encode(format!("signIns|{nanos}|{}", key.1))
}

fn decode_skiptoken(token: &str) -> Option<Key> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
    let mut parts = raw.split('|');
    if parts.next()? != "signIns" {
        return None;
    }
    let nanos: i64 = parts.next()?.parse().ok()?;
    let index: usize = parts.next()?.parse().ok()?;
    Some((DateTime::from_timestamp_nanos(nanos), index))
}

/// Sign-ins old enough to show (the log delay), newest first, with their keys.
fn visible(emu: &Emulator) -> Vec<(Key, SignIn)> {
    let st = emu.state();
    let now = st.now();
    let delay = chrono::Duration::from_std(st.sign_in_log_delay).unwrap_or(chrono::Duration::MAX);
    let mut out: Vec<(Key, SignIn)> = st
        .sign_ins
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            s.created
                .checked_add_signed(delay)
                .is_some_and(|t| t <= now)
        })
        .map(|(i, s)| ((s.created, i), s.clone()))
        .collect();
    out.sort_by_key(|(key, _)| std::cmp::Reverse(*key));
    out
}

/// `GET /{version}/auditLogs/signIns`
pub(crate) fn list(
    emu: &Emulator,
    ctx: &GraphCtx,
    caller: &Caller,
    beta: bool,
    query: &[(String, String)],
) -> Response {
    let q = |name: &str| qparam(query, name);
    if !caller.has_any(READ_AUDIT_LOG) {
        return forbidden(ctx);
    }
    let filter = q("$filter").unwrap_or("");
    let clauses = match parse_filter(filter, beta) {
        Ok(c) => c,
        Err((code, message)) => return bad_request(ctx, code, &message),
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
    let after = match q("$skiptoken") {
        None => None,
        Some(token) => match decode_skiptoken(token) {
            Some(key) => Some(key),
            None => {
                return bad_request(
                    ctx,
                    "Request_BadRequest",
                    "The specified page token value has expired and can no longer be included in your request.",
                );
            }
        },
    };
    let matching: Vec<(Key, SignIn)> = visible(emu)
        .into_iter()
        .filter(|(key, _)| after.is_none_or(|a| *key < a))
        .filter(|(_, s)| clauses.iter().all(|c| c.matches(s)))
        .collect();
    let page_size = top.unwrap_or(MAX_PAGE);
    let page = &matching[..page_size.min(matching.len())];
    let version = if beta { "beta" } else { "v1.0" };
    let base = emu.base_url();
    let mut body = json!({
        "@odata.context": format!("{base}/{version}/$metadata#auditLogs/signIns"),
        "value": page.iter().map(|(_, s)| to_graph(s, beta)).collect::<Vec<_>>(),
    });
    if matching.len() > page.len()
        && let Some((last, _)) = page.last()
    {
        let mut next = url::Url::parse(&format!("{base}/{version}/auditLogs/signIns"))
            .expect("the emulator's base URL is a valid URL");
        {
            let mut pairs = next.query_pairs_mut();
            if !filter.trim().is_empty() {
                pairs.append_pair("$filter", filter);
            }
            if let Some(t) = top {
                pairs.append_pair("$top", &t.to_string());
            }
            pairs.append_pair("$skiptoken", &encode_skiptoken(*last));
        }
        body["@odata.nextLink"] = json!(next.to_string());
    }
    odata_json(StatusCode::OK, &body)
}

/// `GET /{version}/auditLogs/signIns/{id}`
pub(crate) fn get(
    emu: &Emulator,
    ctx: &GraphCtx,
    caller: &Caller,
    beta: bool,
    id: &str,
) -> Response {
    if !caller.has_any(READ_AUDIT_LOG) {
        return forbidden(ctx);
    }
    let Some((_, sign_in)) = visible(emu)
        .into_iter()
        .find(|(_, s)| s.id.eq_ignore_ascii_case(id))
    else {
        return not_found(ctx, id);
    };
    let version = if beta { "beta" } else { "v1.0" };
    let mut body = to_graph(&sign_in, beta);
    body["@odata.context"] = json!(format!(
        "{}/{version}/$metadata#auditLogs/signIns/$entity",
        emu.base_url()
    ));
    odata_json(StatusCode::OK, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_split_on_and_outside_quotes() {
        assert_eq!(
            split_and("userId eq 'a and b' AND appId eq 'x'"),
            ["userId eq 'a and b'", "appId eq 'x'"]
        );
    }

    #[test]
    fn clauses_parse() {
        let at = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            parse_filter(
                "userId eq 'u' and createdDateTime ge 2026-01-01T00:00:00Z and status/errorCode eq 53003",
                false
            )
            .unwrap(),
            [
                Clause::UserId("u".into()),
                Clause::Created(Cmp::Ge, at),
                Clause::ErrorCode(Cmp::Eq, 53003)
            ]
        );
        assert_eq!(
            parse_filter("authenticationProtocol eq 'devicecode'", true).unwrap(),
            [Clause::Protocol("deviceCode".into())]
        );
        assert_eq!(
            parse_filter("authenticationProtocol eq 'deviceCode'", false)
                .unwrap_err()
                .0,
            "BadRequest"
        );
        for bad in [
            "userPrincipalName eq 'x'",
            "userId ne 'x'",
            "startsWith(userPrincipalName, 'a')",
            "userId eq 'a' or userId eq 'b'",
            "createdDateTime eq 2026-01-01T00:00:00Z",
        ] {
            assert_eq!(
                parse_filter(bad, true).unwrap_err().0,
                "Request_UnsupportedQuery",
                "{bad}"
            );
        }
        assert_eq!(
            parse_filter("createdDateTime ge '2026-01-01T00:00:00Z'", true)
                .unwrap_err()
                .0,
            "BadRequest"
        );
    }

    #[test]
    fn skiptokens_round_trip() {
        let key = (Utc::now(), 7);
        assert_eq!(decode_skiptoken(&encode_skiptoken(key)), Some(key));
        assert_eq!(decode_skiptoken("garbage!"), None);
    }
}
