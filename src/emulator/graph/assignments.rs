//! App role assignments of the service principals created through Graph: what a service
//! principal holds (`GET /servicePrincipals/{id}/appRoleAssignments`), who holds its roles
//! (`GET /servicePrincipals/{id}/appRoleAssignedTo`) and granting one
//! (`POST /servicePrincipals/{id}/appRoleAssignedTo`: an app role to a user, or an application
//! permission, the admin consent, to another service principal).

use axum::response::Response;
use serde_json::{Value, json};

use super::app_registrations::{collection, created, parse_body};
use super::caller::Caller;
use super::errors::{bad_request, forbidden, not_found};
use crate::emulator::Emulator;
use crate::emulator::wire::{GraphCtx, graph_date};

const READ: &[&str] = &[
    "Application.Read.All",
    "Application.ReadWrite.All",
    "AppRoleAssignment.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];
const WRITE: &[&str] = &["AppRoleAssignment.ReadWrite.All"];

fn same(v: &Value, key: &str, id: &str) -> bool {
    v[key].as_str().is_some_and(|x| x.eq_ignore_ascii_case(id))
}

/// Whether `sp` is a service principal created through Graph (or Microsoft Graph's).
pub(super) fn known(emu: &Emulator, sp: &str) -> bool {
    emu.state().created.service_principal(sp).is_some()
}

/// `GET /servicePrincipals/{id}/appRoleAssignments`: the roles `sp` holds.
pub(super) fn held_by(emu: &Emulator, ctx: &GraphCtx, caller: &Caller, sp: &str) -> Response {
    if !caller.has_any(READ) {
        return forbidden(ctx);
    }
    if !known(emu, sp) {
        return not_found(ctx, sp);
    }
    let v: Vec<Value> = emu
        .state()
        .created
        .assignments
        .iter()
        .filter(|a| same(a, "principalId", sp))
        .cloned()
        .collect();
    collection(
        emu,
        &format!("servicePrincipals('{sp}')/appRoleAssignments"),
        v,
    )
}

/// `GET /servicePrincipals/{id}/appRoleAssignedTo`: who holds `sp`'s roles.
pub(super) fn assigned_to(emu: &Emulator, ctx: &GraphCtx, caller: &Caller, sp: &str) -> Response {
    if !caller.has_any(READ) {
        return forbidden(ctx);
    }
    let v: Vec<Value> = emu
        .state()
        .created
        .assignments
        .iter()
        .filter(|a| same(a, "resourceId", sp))
        .cloned()
        .collect();
    collection(
        emu,
        &format!("servicePrincipals('{sp}')/appRoleAssignedTo"),
        v,
    )
}

/// `POST /servicePrincipals/{id}/appRoleAssignedTo`
pub(super) fn assign(
    emu: &Emulator,
    ctx: &GraphCtx,
    caller: &Caller,
    sp: &str,
    body: &[u8],
) -> Response {
    if !caller.has_any(WRITE) {
        return forbidden(ctx);
    }
    let body = match parse_body(ctx, body) {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let principal = body["principalId"].as_str().unwrap_or_default().to_owned();
    let role = body["appRoleId"].as_str().unwrap_or_default().to_owned();
    if !same(&body, "resourceId", sp) {
        return bad_request(
            ctx,
            "Request_BadRequest",
            "The resourceId of the app role assignment must be the service principal it is posted to.",
        );
    }
    let user = emu.user(&principal).map(|u| (u.name.clone(), "User"));
    let mut st = emu.state();
    let Some(resource) = st.created.service_principal(sp) else {
        return not_found(ctx, sp);
    };
    let principal_sp = st.created.service_principal(&principal);
    let (name, kind) = match (&user, &principal_sp) {
        (Some((name, kind)), _) => (name.clone(), *kind),
        (None, Some(p)) => (
            p["displayName"].as_str().unwrap_or_default().to_owned(),
            "ServicePrincipal",
        ),
        (None, None) => return not_found(ctx, &principal),
    };
    let defined = resource["appRoles"]
        .as_array()
        .is_some_and(|roles| roles.iter().any(|r| same(r, "id", &role)));
    if !defined {
        return bad_request(
            ctx,
            "Request_BadRequest",
            "Permission being assigned was not found on application",
        );
    }
    if st.created.assignments.iter().any(|a| {
        same(a, "principalId", &principal)
            && same(a, "resourceId", sp)
            && same(a, "appRoleId", &role)
    }) {
        return bad_request(
            ctx,
            "Request_BadRequest",
            "Permission being assigned already exists on the object",
        );
    }
    let assignment = json!({
        "id": crate::emulator::wire::random_token(32),
        "appRoleId": role,
        "principalId": principal,
        "principalType": kind,
        "principalDisplayName": name,
        "resourceId": resource["id"],
        "resourceDisplayName": resource["displayName"],
        "createdDateTime": format!("{}Z", graph_date()),
        "deletedDateTime": null,
    });
    st.created.assignments.push(assignment.clone());
    drop(st);
    created(emu, "appRoleAssignments", assignment)
}
