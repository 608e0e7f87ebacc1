//! Group members: `POST /groups/{id}/members/$ref` adds a user, `DELETE
//! /groups/{id}/members/{user}/$ref` removes one, and `GET /groups/{id}/members` (and
//! `transitiveMembers`) lists them as reads see them, paged with `$top` and `$skiptoken`. A write
//! a test holds (see `late_writes`) is accepted here and answered by the entry once it landed.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::caller::{Caller, READ_MEMBERS};
use super::errors::{bad_request, forbidden, invalid_id, not_found};
use super::query::{expired_page_token, page_size, qparam};
use super::users::{metadata_context, parse_select, user_object};
use crate::emulator::late_writes::HeldAnswer;
use crate::emulator::wire::{GraphCtx, is_guid, odata_json, percent_decode};
use crate::emulator::{Emulator, NotMemberStyle, set_membership};

const WRITE_MEMBERS: &[&str] = &[
    "GroupMember.ReadWrite.All",
    "Group.ReadWrite.All",
    "Directory.ReadWrite.All",
];

const DEFAULT_PAGE: usize = 100;
const MAX_PAGE: usize = 999;

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

/// `POST /groups/{id}/members/$ref` `{"@odata.id": ".../directoryObjects/{user}"}`
pub(super) fn add(
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
        .config()
        .users
        .iter()
        .any(|u| u.id.eq_ignore_ascii_case(&member))
    {
        return not_found(ctx, &member);
    }
    if let Some(rx) = emu.hold_write(group, &member, true) {
        return held(rx);
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

/// `DELETE /groups/{id}/members/{user}/$ref`
pub(super) fn remove(
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
    if let Some(rx) = emu.hold_write(group, member, false) {
        return held(rx);
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

/// A write held to land late: the entry answers it once it has landed.
fn held(rx: tokio::sync::oneshot::Receiver<()>) -> Response {
    let mut resp = StatusCode::GATEWAY_TIMEOUT.into_response();
    resp.extensions_mut().insert(HeldAnswer::new(rx));
    resp
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

/// `GET /groups/{id}/members`: a page of the members as reads see them.
pub(super) fn list(
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
    let top = match page_size(ctx, q("$top"), MAX_PAGE) {
        Ok(top) => top,
        Err(resp) => return resp,
    };
    let offset = match q("$skiptoken") {
        None => 0,
        Some(token) => match decode_skiptoken(token, group) {
            Some(offset) => offset,
            None => return expired_page_token(ctx),
        },
    };
    let page = top.unwrap_or(DEFAULT_PAGE);
    let members = emu.visible_members(group);
    let end = (offset + page).min(members.len());
    let value: Vec<Value> = members
        .get(offset.min(members.len())..end)
        .unwrap_or_default()
        .iter()
        .map(|id| user_object(emu.user(id), id, select.as_deref(), true))
        .collect();
    let base = emu.base_url();
    let mut body = json!({
        "@odata.context": metadata_context(&base, "directoryObjects", select.as_deref(), ""),
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
