//! `GET /groups/{id}`: a group of the tenant as a security group; `GET /groups` found by
//! display name, and `POST /groups` for a new security group.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use super::app_registrations::{collection, created, filtered, parse_body};
use super::caller::{Caller, READ_MEMBERS};
use super::errors::{bad_request, forbidden, invalid_id, not_found};
use crate::emulator::Emulator;
use crate::emulator::wire::{GraphCtx, is_guid, odata_json};

/// `GET /groups/{id}`
pub(super) fn get(emu: &Emulator, ctx: &GraphCtx, caller: &Caller, group: &str) -> Response {
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

/// The tenant's groups as Graph lists them: the configured ones, then those created.
fn all_groups(emu: &Emulator) -> Vec<serde_json::Value> {
    let mut all: Vec<serde_json::Value> = emu
        .config()
        .groups
        .iter()
        .map(|g| {
            json!({
                "id": g.id,
                "displayName": g.display_name,
                "groupTypes": [],
                "mailEnabled": false,
                "securityEnabled": true,
                "isAssignableToRole": false,
            })
        })
        .collect();
    all.extend(emu.state().created.groups.iter().cloned());
    all
}

/// `GET /groups` (with `$filter=displayName eq '…'`).
pub(super) fn list(
    emu: &Emulator,
    ctx: &GraphCtx,
    caller: &Caller,
    query: &[(String, String)],
) -> Response {
    if !caller.has_any(READ_MEMBERS) {
        return forbidden(ctx);
    }
    match filtered(ctx, all_groups(emu), query) {
        Ok(v) => collection(emu, "groups", v),
        Err(resp) => resp,
    }
}

/// `POST /groups`: a security group (mail-enabled and Microsoft 365 groups are not made here).
pub(super) fn create(emu: &Emulator, ctx: &GraphCtx, caller: &Caller, body: &[u8]) -> Response {
    if !caller.has_any(&[
        "Group.ReadWrite.All",
        "Directory.ReadWrite.All",
        "Group.Create",
    ]) {
        return forbidden(ctx);
    }
    let mut group = match parse_body(ctx, body) {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    for required in ["displayName", "mailNickname"] {
        if group[required].as_str().is_none_or(|v| v.trim().is_empty()) {
            return bad_request(
                ctx,
                "Request_BadRequest",
                &format!("Property {required} is required."),
            );
        }
    }
    if group["mailEnabled"] != json!(false) || group["securityEnabled"] != json!(true) {
        return bad_request(
            ctx,
            "Request_BadRequest",
            "Only security groups (mailEnabled false, securityEnabled true) can be created here.",
        );
    }
    group["id"] = json!(uuid::Uuid::new_v4().to_string());
    if group.get("groupTypes").is_none() {
        group["groupTypes"] = json!([]);
    }
    if group.get("isAssignableToRole").is_none() {
        group["isAssignableToRole"] = json!(false);
    }
    emu.state().created.groups.push(group.clone());
    created(emu, "groups", group)
}
