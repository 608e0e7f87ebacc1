//! The application's service principal as Graph shows it: its app roles
//! (`GET /servicePrincipals(appId='…')`) and who is assigned them
//! (`GET /servicePrincipals/{id}/appRoleAssignedTo`), from the users' current roles.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::caller::Caller;
use super::errors::{forbidden, invalid_id, not_found};
use crate::emulator::wire::{GraphCtx, is_guid, odata_json};
use crate::emulator::{Emulator, service_principal_id};

const READ_APPS: &[&str] = &[
    "Application.Read.All",
    "Application.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];

/// A stable GUID for an app role value.
fn app_role_id(value: &str) -> String {
    let d = Sha256::digest(format!("approle|{value}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    uuid::Builder::from_random_bytes(b).into_uuid().to_string()
}

/// Every role value any user of the tenant holds, sorted.
fn app_role_values(emu: &Emulator) -> Vec<String> {
    let mut values: Vec<String> = emu
        .config()
        .users
        .iter()
        .flat_map(|u| emu.roles_of(u))
        .collect();
    values.sort();
    values.dedup();
    values
}

/// `GET /servicePrincipals(appId='{appId}')`: the service principal of the app registration.
pub(super) fn by_app_id(emu: &Emulator, ctx: &GraphCtx, caller: &Caller, app_id: &str) -> Response {
    if !caller.has_any(READ_APPS) {
        return forbidden(ctx);
    }
    let cfg = emu.config();
    if !app_id.eq_ignore_ascii_case(&cfg.client_id) {
        return not_found(ctx, app_id);
    }
    let roles: Vec<Value> = app_role_values(emu)
        .iter()
        .map(|v| {
            json!({
                "id": app_role_id(v),
                "value": v,
                "displayName": v,
                "description": v,
                "allowedMemberTypes": ["User"],
                "isEnabled": true,
                "origin": "Application",
            })
        })
        .collect();
    odata_json(
        StatusCode::OK,
        &json!({
            "@odata.context": format!("{}/v1.0/$metadata#servicePrincipals/$entity", emu.base_url()),
            "id": service_principal_id(&cfg.client_id),
            "appId": cfg.client_id,
            "displayName": "jitgate",
            "appRoles": roles,
        }),
    )
}

/// `GET /applications(appId='{appId}')`: the portal's own app registration with its client
/// secrets (`passwordCredentials`, the secret never shown: only its `hint`). `keyCredentials`
/// is empty here: jitgate reads a certificate's end from the certificate itself.
pub(super) fn registration_by_app_id(
    emu: &Emulator,
    ctx: &GraphCtx,
    caller: &Caller,
    app_id: &str,
) -> Response {
    if !caller.has_any(READ_APPS) {
        return forbidden(ctx);
    }
    let cfg = emu.config();
    if !app_id.eq_ignore_ascii_case(&cfg.client_id) {
        return not_found(ctx, app_id);
    }
    let secrets = emu
        .state()
        .password_credentials
        .clone()
        .unwrap_or_else(|| cfg.password_credentials.clone());
    let passwords: Vec<Value> = secrets
        .iter()
        .map(|p| {
            json!({
                "customKeyIdentifier": null,
                "displayName": p.display_name,
                "endDateTime": p.end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "hint": p.hint,
                "keyId": p.key_id,
                "secretText": null,
                "startDateTime": (p.end - chrono::Duration::days(180))
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            })
        })
        .collect();
    odata_json(
        StatusCode::OK,
        &json!({
            "@odata.context": format!(
                "{}/v1.0/$metadata#applications(passwordCredentials,keyCredentials)/$entity",
                emu.base_url()
            ),
            "passwordCredentials": passwords,
            "keyCredentials": [],
        }),
    )
}

/// `GET /servicePrincipals/{id}/appRoleAssignedTo`: one assignment per user and role.
pub(super) fn assigned_to(emu: &Emulator, ctx: &GraphCtx, caller: &Caller, sp: &str) -> Response {
    if !caller.has_any(READ_APPS) {
        return forbidden(ctx);
    }
    if !is_guid(sp) {
        return invalid_id(ctx, sp);
    }
    let own = service_principal_id(&emu.config().client_id);
    if !sp.eq_ignore_ascii_case(&own) {
        return not_found(ctx, sp);
    }
    let mut value = Vec::new();
    for u in &emu.config().users {
        for role in emu.roles_of(u) {
            value.push(json!({
                "id": app_role_id(&format!("{}|{role}", u.id)),
                "appRoleId": app_role_id(&role),
                "principalId": u.id,
                "principalType": "User",
                "principalDisplayName": u.name,
                "resourceId": own,
                "resourceDisplayName": "jitgate",
            }));
        }
    }
    odata_json(
        StatusCode::OK,
        &json!({
            "@odata.context": format!("{}/v1.0/$metadata#servicePrincipals('{own}')/appRoleAssignedTo", emu.base_url()),
            "value": value,
        }),
    )
}
