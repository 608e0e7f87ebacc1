//! Graph actions on a user: `checkMemberGroups` (reads, subject to the read lag),
//! `revokeSignInSessions` and `sendMail` (wire doc §4.3, §15.1, §15.2).

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::caller::{Caller, READ_MEMBERS, READ_USERS};
use super::errors::{bad_request, forbidden, invalid_id, not_found};
use crate::emulator::wire::{GraphCtx, graph_error, is_guid, odata_json};
use crate::emulator::{Emulator, SentMail};

const REVOKE: &[&str] = &[
    "User.RevokeSessions.All",
    "User.ReadWrite.All",
    "Directory.ReadWrite.All",
];

/// `POST /users/{id}/checkMemberGroups` `{"groupIds": [...]}`: those of the groups (at most 20)
/// the user is a member of, as reads see it.
pub(super) fn check_member_groups(
    emu: &Emulator,
    ctx: &GraphCtx,
    caller: &Caller,
    user: &str,
    body: &[u8],
) -> Response {
    if !caller.has_any(READ_MEMBERS) || !caller.has_any(READ_USERS) {
        return forbidden(ctx);
    }
    if !is_guid(user) {
        return invalid_id(ctx, user);
    }
    let ids: Option<Vec<String>> = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("groupIds").cloned())
        .and_then(|v| serde_json::from_value(v).ok());
    let Some(ids) = ids else {
        return bad_request(
            ctx,
            "Request_BadRequest",
            "The request payload must contain 'groupIds'.",
        );
    };
    if ids.is_empty() || ids.len() > 20 {
        return bad_request(
            ctx,
            "Request_BadRequest",
            "The number of groupIds must be between 1 and 20.",
        );
    }
    if emu.user(user).is_none() {
        return not_found(ctx, user);
    }
    let value: Vec<&String> = ids.iter().filter(|g| emu.visible_member(g, user)).collect();
    odata_json(
        StatusCode::OK,
        &json!({
            "@odata.context": format!("{}/v1.0/$metadata#Collection(Edm.String)", emu.base_url()),
            "value": value,
        }),
    )
}

/// `POST /users/{id}/revokeSignInSessions`: 200 `{"value": true}`, recorded.
pub(super) fn revoke_sign_in_sessions(
    emu: &Emulator,
    ctx: &GraphCtx,
    caller: &Caller,
    user: &str,
) -> Response {
    if !caller.has_any(REVOKE) {
        return forbidden(ctx);
    }
    let Some(u) = emu.user(user) else {
        return not_found(ctx, user);
    };
    let id = u.id.clone();
    emu.state().revocations.push((id, chrono::Utc::now()));
    odata_json(
        StatusCode::OK,
        &json!({
            "@odata.context": format!("{}/v1.0/$metadata#Edm.Boolean", emu.base_url()),
            "value": true,
        }),
    )
}

/// `POST /users/{sender}/sendMail` as the application (`Mail.Send`): 202, and the message is
/// recorded as delivered to every recipient (`toRecipients`, `ccRecipients`, `bccRecipients`;
/// at least one in all).
pub(super) fn send_mail(
    emu: &Emulator,
    ctx: &GraphCtx,
    caller: &Caller,
    sender: &str,
    body: &[u8],
) -> Response {
    if !caller.has_any(&["Mail.Send"]) {
        return forbidden(ctx);
    }
    let Some(from) = emu.user(sender).map(|u| u.username.clone()) else {
        return graph_error(
            ctx,
            StatusCode::NOT_FOUND,
            "ErrorInvalidUser",
            &format!("The requested user '{sender}' is invalid."),
        );
    };
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let message = &v["message"];
    let addresses = |field: &str| -> Vec<String> {
        message[field]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|r| r["emailAddress"]["address"].as_str())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let (to, cc, bcc) = (
        addresses("toRecipients"),
        addresses("ccRecipients"),
        addresses("bccRecipients"),
    );
    let (Some(subject), Some(content)) = (
        message["subject"].as_str(),
        message["body"]["content"].as_str(),
    ) else {
        return bad_request(
            ctx,
            "ErrorInvalidRequest",
            "The message must have a subject and a body.",
        );
    };
    if to.is_empty() && cc.is_empty() && bcc.is_empty() {
        return bad_request(
            ctx,
            "ErrorInvalidRecipients",
            "At least one recipient is not valid.",
        );
    }
    emu.state().mail.push(SentMail {
        from,
        to,
        cc,
        bcc,
        subject: subject.to_owned(),
        body: content.to_owned(),
        at: chrono::Utc::now(),
    });
    axum::response::IntoResponse::into_response(StatusCode::ACCEPTED)
}
