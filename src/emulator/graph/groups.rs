//! `GET /groups/{id}`: a group of the tenant as a security group.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use super::caller::{Caller, READ_MEMBERS};
use super::errors::{forbidden, invalid_id, not_found};
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
