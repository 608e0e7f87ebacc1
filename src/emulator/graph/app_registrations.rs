//! App registrations and service principals created through Graph: `GET`/`POST /applications`
//! (found by `$filter` on `identifierUris` or `displayName`), `GET`/`PATCH /applications/{id}`,
//! `GET`/`POST /servicePrincipals` (found by `appId`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::caller::Caller;
use super::errors::{bad_request, forbidden, not_found};
use super::query::{eq_filter, qparam};
use crate::emulator::Emulator;
use crate::emulator::registrations::as_read;
use crate::emulator::wire::{GraphCtx, graph_date, graph_error, odata_json};

pub(super) const WRITE_APPS: &[&str] = &["Application.ReadWrite.All", "Directory.ReadWrite.All"];
const READ_APPS: &[&str] = &[
    "Application.Read.All",
    "Application.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];

/// The objects of `all` a `$filter` (if any) keeps; Graph's 400 for a filter not understood.
pub(super) fn filtered(
    ctx: &GraphCtx,
    all: Vec<Value>,
    query: &[(String, String)],
) -> Result<Vec<Value>, Response> {
    let Some(filter) = qparam(query, "$filter") else {
        return Ok(all);
    };
    let Some((prop, value)) = eq_filter(filter) else {
        return Err(bad_request(
            ctx,
            "Request_UnsupportedQuery",
            "Unsupported or invalid query filter clause specified.",
        ));
    };
    Ok(all
        .into_iter()
        .filter(|o| match &o[prop.as_str()] {
            Value::String(s) => s.eq_ignore_ascii_case(&value),
            Value::Array(a) => a
                .iter()
                .any(|x| x.as_str().is_some_and(|s| s.eq_ignore_ascii_case(&value))),
            _ => false,
        })
        .collect())
}

pub(super) fn collection(emu: &Emulator, set: &str, value: Vec<Value>) -> Response {
    odata_json(
        StatusCode::OK,
        &json!({
            "@odata.context": format!("{}/v1.0/$metadata#{set}", emu.base_url()),
            "value": value,
        }),
    )
}

pub(super) fn created(emu: &Emulator, set: &str, mut object: Value) -> Response {
    object["@odata.context"] = json!(format!("{}/v1.0/$metadata#{set}/$entity", emu.base_url()));
    odata_json(StatusCode::CREATED, &object)
}

pub(super) fn parse_body(ctx: &GraphCtx, body: &[u8]) -> Result<Value, Response> {
    match serde_json::from_slice::<Value>(body) {
        Ok(v) if v.is_object() => Ok(v),
        _ => Err(bad_request(
            ctx,
            "BadRequest",
            "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
        )),
    }
}

/// `GET /applications`
pub(super) fn list(
    emu: &Emulator,
    ctx: &GraphCtx,
    caller: &Caller,
    query: &[(String, String)],
) -> Response {
    if !caller.has_any(READ_APPS) {
        return forbidden(ctx);
    }
    let all = emu
        .state()
        .created
        .applications
        .iter()
        .map(as_read)
        .collect();
    match filtered(ctx, all, query) {
        Ok(v) => collection(emu, "applications", v),
        Err(resp) => resp,
    }
}

/// `GET /applications/{id}`
pub(super) fn get(emu: &Emulator, ctx: &GraphCtx, caller: &Caller, id: &str) -> Response {
    if !caller.has_any(READ_APPS) {
        return forbidden(ctx);
    }
    match emu.state().created.application(id).map(as_read) {
        Some(mut app) => {
            app["@odata.context"] = json!(format!(
                "{}/v1.0/$metadata#applications/$entity",
                emu.base_url()
            ));
            odata_json(StatusCode::OK, &app)
        }
        None => not_found(ctx, id),
    }
}

fn taken_uri(emu: &Emulator, app: &Value, except: Option<&str>) -> bool {
    let uris: Vec<&str> = app["identifierUris"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    emu.state().created.applications.iter().any(|other| {
        except.is_none_or(|id| {
            !other["id"]
                .as_str()
                .is_some_and(|o| o.eq_ignore_ascii_case(id))
        }) && other["identifierUris"].as_array().is_some_and(|a| {
            a.iter().any(|u| {
                u.as_str()
                    .is_some_and(|u| uris.iter().any(|x| x.eq_ignore_ascii_case(u)))
            })
        })
    })
}

fn duplicate_uri(ctx: &GraphCtx) -> Response {
    bad_request(
        ctx,
        "Request_BadRequest",
        "Another object with the same value for property identifierUris already exists.",
    )
}

/// `POST /applications`
pub(super) fn create(emu: &Emulator, ctx: &GraphCtx, caller: &Caller, body: &[u8]) -> Response {
    if !caller.has_any(WRITE_APPS) {
        return forbidden(ctx);
    }
    let mut app = match parse_body(ctx, body) {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    if app["displayName"]
        .as_str()
        .is_none_or(|v| v.trim().is_empty())
    {
        return bad_request(
            ctx,
            "Request_BadRequest",
            "Property displayName is required.",
        );
    }
    if taken_uri(emu, &app, None) {
        return duplicate_uri(ctx);
    }
    let defaults = json!({
        "signInAudience": "AzureADMyOrg",
        "identifierUris": [],
        "appRoles": [],
        "keyCredentials": [],
        "passwordCredentials": [],
        "requiredResourceAccess": [],
        "isFallbackPublicClient": null,
        "api": {"requestedAccessTokenVersion": null, "oauth2PermissionScopes": [], "preAuthorizedApplications": []},
        "web": {"redirectUris": [], "homePageUrl": null, "logoutUrl": null},
        "publicClient": {"redirectUris": []},
    });
    for (k, v) in defaults.as_object().into_iter().flatten() {
        if app.get(k).is_none_or(Value::is_null) {
            app[k] = v.clone();
        }
    }
    app["id"] = json!(uuid::Uuid::new_v4().to_string());
    app["appId"] = json!(uuid::Uuid::new_v4().to_string());
    app["createdDateTime"] = json!(format!("{}Z", graph_date()));
    emu.state().created.applications.push(app.clone());
    created(emu, "applications", app)
}

/// `PATCH /applications/{id}`: the members sent replace those held; 204.
pub(super) fn update(
    emu: &Emulator,
    ctx: &GraphCtx,
    caller: &Caller,
    id: &str,
    body: &[u8],
) -> Response {
    if !caller.has_any(WRITE_APPS) {
        return forbidden(ctx);
    }
    let patch = match parse_body(ctx, body) {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    if ["id", "appId"].iter().any(|k| patch.get(*k).is_some()) {
        return bad_request(
            ctx,
            "Request_BadRequest",
            "Property 'appId' is read-only and cannot be set.",
        );
    }
    if patch.get("identifierUris").is_some() && taken_uri(emu, &patch, Some(id)) {
        return duplicate_uri(ctx);
    }
    let mut st = emu.state();
    let Some(app) = st.created.application_mut(id) else {
        return not_found(ctx, id);
    };
    for (k, v) in patch.as_object().into_iter().flatten() {
        app[k.as_str()] = v.clone();
    }
    drop(st);
    StatusCode::NO_CONTENT.into_response()
}

/// `GET /servicePrincipals` (Microsoft Graph's and those created).
pub(super) fn list_service_principals(
    emu: &Emulator,
    ctx: &GraphCtx,
    caller: &Caller,
    query: &[(String, String)],
) -> Response {
    if !caller.has_any(READ_APPS) {
        return forbidden(ctx);
    }
    let all = emu.state().created.service_principals();
    match filtered(ctx, all, query) {
        Ok(v) => collection(emu, "servicePrincipals", v),
        Err(resp) => resp,
    }
}

/// `POST /servicePrincipals` with the `appId` of an app registration of the tenant.
pub(super) fn create_service_principal(
    emu: &Emulator,
    ctx: &GraphCtx,
    caller: &Caller,
    body: &[u8],
) -> Response {
    if !caller.has_any(WRITE_APPS) {
        return forbidden(ctx);
    }
    let body = match parse_body(ctx, body) {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let app_id = body["appId"].as_str().unwrap_or_default().to_owned();
    let mut st = emu.state();
    if st.created.application_by_app_id(&app_id).is_none() {
        return bad_request(
            ctx,
            "Request_BadRequest",
            &format!(
                "The appId '{app_id}' of the service principal does not reference a valid application object."
            ),
        );
    }
    if st.created.service_principals.iter().any(|s| {
        s["appId"]
            .as_str()
            .is_some_and(|a| a.eq_ignore_ascii_case(&app_id))
    }) {
        return bad_request(
            ctx,
            "Request_MultipleObjectsWithSameKeyValue",
            "The service principal cannot be created, updated, or restored because the service principal name is already in use.",
        );
    }
    let id = uuid::Uuid::new_v4().to_string();
    st.created.service_principals.push(json!({
        "id": id,
        "appId": app_id,
        "servicePrincipalType": "Application",
        "accountEnabled": true,
        "appRoleAssignmentRequired": false,
    }));
    let sp = st.created.service_principal(&id).unwrap_or(Value::Null);
    drop(st);
    created(emu, "servicePrincipals", sp)
}

/// `GET /applications/{id}/federatedIdentityCredentials`
pub(super) fn list_federated(
    emu: &Emulator,
    ctx: &GraphCtx,
    caller: &Caller,
    id: &str,
) -> Response {
    if !caller.has_any(READ_APPS) {
        return forbidden(ctx);
    }
    let st = emu.state();
    if st.created.application(id).is_none() {
        return not_found(ctx, id);
    }
    let v: Vec<Value> = st
        .created
        .federated
        .iter()
        .filter(|(app, _)| app.eq_ignore_ascii_case(id))
        .map(|(_, f)| f.clone())
        .collect();
    drop(st);
    collection(
        emu,
        &format!("applications('{id}')/federatedIdentityCredentials"),
        v,
    )
}

/// `POST /applications/{id}/federatedIdentityCredentials`: `name`, `issuer`, `subject` and
/// `audiences` required; a name or an issuer and subject already held is refused.
pub(super) fn add_federated(
    emu: &Emulator,
    ctx: &GraphCtx,
    caller: &Caller,
    id: &str,
    body: &[u8],
) -> Response {
    if !caller.has_any(WRITE_APPS) {
        return forbidden(ctx);
    }
    let mut fic = match parse_body(ctx, body) {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    for required in ["name", "issuer", "subject"] {
        if fic[required].as_str().is_none_or(|v| v.trim().is_empty()) {
            return bad_request(
                ctx,
                "Request_BadRequest",
                &format!("Property {required} is required."),
            );
        }
    }
    if fic["audiences"].as_array().is_none_or(|a| a.len() != 1) {
        return bad_request(
            ctx,
            "Request_BadRequest",
            "audiences must hold exactly one value.",
        );
    }
    let mut st = emu.state();
    if st.created.application(id).is_none() {
        return not_found(ctx, id);
    }
    let clash = st.created.federated.iter().any(|(app, f)| {
        app.eq_ignore_ascii_case(id)
            && (f["name"] == fic["name"]
                || (f["issuer"] == fic["issuer"] && f["subject"] == fic["subject"]))
    });
    if clash {
        return graph_error(
            ctx,
            StatusCode::CONFLICT,
            "Request_BadRequest",
            "FederatedIdentityCredential with the same name or issuer and subject already exists.",
        );
    }
    fic["id"] = json!(uuid::Uuid::new_v4().to_string());
    st.created.federated.push((id.to_owned(), fic.clone()));
    drop(st);
    created(
        emu,
        &format!("applications('{id}')/federatedIdentityCredentials"),
        fic,
    )
}
