//! The sign-in log (wire doc §15.3): `GET /v1.0/auditLogs/signIns` and `/beta/auditLogs/signIns`
//! (application permission `AuditLog.Read.All`), newest first, with `$top`, `$skiptoken` paging
//! and the `$filter` clauses jitgate needs. A sign-in shows only after the log delay.

use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::caller::Caller;
use super::errors::{bad_request, forbidden, not_found};
use super::query::{expired_page_token, page_size, qparam};
use super::sign_in_filter::parse_filter;
use crate::emulator::wire::{GraphCtx, odata_json};
use crate::emulator::{Emulator, SignIn, SignInQuirk};

const READ_AUDIT_LOG: &[&str] = &["AuditLog.Read.All"];
/// Graph's default and largest page of sign-ins.
const MAX_PAGE: usize = 1000;

/// The Graph JSON of a sign-in; `authenticationProtocol` exists in beta only. A quirk set by a
/// test changes its shape.
fn to_graph(sign_in: &SignIn, beta: bool, quirk: Option<SignInQuirk>) -> Value {
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
    match quirk {
        Some(SignInQuirk::NoCreatedDateTime) => {
            if let Some(o) = v.as_object_mut() {
                o.remove("createdDateTime");
            }
        }
        Some(SignInQuirk::ErrorCodeAsString) => {
            v["status"]["errorCode"] = json!(sign_in.error_code.to_string());
        }
        None => {}
    }
    v
}

/// The quirk a test set for sign-in `id`, if any.
fn quirk(emu: &Emulator, id: &str) -> Option<SignInQuirk> {
    emu.state()
        .sign_in_quirks
        .get(&id.to_ascii_lowercase())
        .copied()
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
pub(super) fn list(
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
    let top = match page_size(ctx, q("$top"), MAX_PAGE) {
        Ok(top) => top,
        Err(resp) => return resp,
    };
    let after = match q("$skiptoken") {
        None => None,
        Some(token) => match decode_skiptoken(token) {
            Some(key) => Some(key),
            None => return expired_page_token(ctx),
        },
    };
    let matching: Vec<(Key, SignIn)> = visible(emu)
        .into_iter()
        .filter(|(key, _)| after.is_none_or(|a| *key < a))
        .filter(|(_, s)| clauses.iter().all(|c| c.matches(s)))
        .collect();
    let size = top.unwrap_or(MAX_PAGE);
    let page = &matching[..size.min(matching.len())];
    let version = if beta { "beta" } else { "v1.0" };
    let base = emu.base_url();
    let mut body = json!({
        "@odata.context": format!("{base}/{version}/$metadata#auditLogs/signIns"),
        "value": page.iter().map(|(_, s)| to_graph(s, beta, quirk(emu, &s.id))).collect::<Vec<_>>(),
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
pub(super) fn get(
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
    let mut body = to_graph(&sign_in, beta, quirk(emu, &sign_in.id));
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
    fn skiptokens_round_trip() {
        let key = (Utc::now(), 7);
        assert_eq!(decode_skiptoken(&encode_skiptoken(key)), Some(key));
        assert_eq!(decode_skiptoken("garbage!"), None);
    }
}
