//! Users as Graph shows them: the default and `$select`able properties, a user (or an unknown
//! directory object) as JSON, `GET /users/{id}` and `GET /users/{id}/manager`.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::caller::{Caller, READ_USERS};
use super::errors::{bad_request, forbidden, not_found};
use crate::emulator::wire::{GraphCtx, odata_json};
use crate::emulator::{DemoUser, Emulator};

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

/// Parses `$select` against the known user properties; returns canonical names.
pub(super) fn parse_select(
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
pub(super) fn user_object(
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

/// `{base}/v1.0/$metadata#{set}`, with the selected properties in parentheses, then `tail`.
pub(super) fn metadata_context(
    base: &str,
    set: &str,
    select: Option<&[&str]>,
    tail: &str,
) -> String {
    match select {
        Some(s) => format!("{base}/v1.0/$metadata#{set}({}){tail}", s.join(",")),
        None => format!("{base}/v1.0/$metadata#{set}{tail}"),
    }
}

/// The user `id` and the properties `select` names (as type `type_name`), when the caller may
/// read users; else the finished 403, 400 (unknown property) or 404.
fn read_user<'e>(
    emu: &'e Emulator,
    ctx: &GraphCtx,
    caller: &Caller,
    id: &str,
    select: Option<&str>,
    type_name: &str,
) -> Result<(&'e DemoUser, Option<Vec<&'static str>>), Response> {
    if !caller.has_any(READ_USERS) {
        return Err(forbidden(ctx));
    }
    let select = parse_select(ctx, select, type_name)?;
    let user = emu.user(id).ok_or_else(|| not_found(ctx, id))?;
    Ok((user, select))
}

/// `GET /users/{id}`
pub(super) fn get(
    emu: &Emulator,
    ctx: &GraphCtx,
    caller: &Caller,
    id: &str,
    select: Option<&str>,
) -> Response {
    let (user, select) = match read_user(emu, ctx, caller, id, select, "microsoft.graph.user") {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let mut body = user_object(Some(user), &user.id, select.as_deref(), false);
    if body.get("accountEnabled").is_some() {
        body["accountEnabled"] = json!(emu.account_enabled(user));
    }
    body["@odata.context"] = json!(metadata_context(
        &emu.base_url(),
        "users",
        select.as_deref(),
        "/$entity"
    ));
    odata_json(StatusCode::OK, &body)
}

/// `GET /users/{id}/manager`
pub(super) fn manager(
    emu: &Emulator,
    ctx: &GraphCtx,
    caller: &Caller,
    id: &str,
    select: Option<&str>,
) -> Response {
    let (user, select) = match read_user(
        emu,
        ctx,
        caller,
        id,
        select,
        "microsoft.graph.directoryObject",
    ) {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let Some(manager) = user.manager_id.as_deref().and_then(|m| emu.user(m)) else {
        return not_found(ctx, "manager");
    };
    let mut body = user_object(Some(manager), &manager.id, select.as_deref(), true);
    body["@odata.context"] = json!(metadata_context(
        &emu.base_url(),
        "directoryObjects",
        select.as_deref(),
        "/$entity"
    ));
    odata_json(StatusCode::OK, &body)
}

/// `GET /me`: the signed-in user of a delegated token; 400 for an app-only one.
pub(super) fn me(
    emu: &Emulator,
    ctx: &GraphCtx,
    caller: &Caller,
    select: Option<&str>,
) -> Response {
    match caller.user_id.clone() {
        Some(id) => get(emu, ctx, &caller.as_self(), &id, select),
        None => super::errors::bad_request(
            ctx,
            "BadRequest",
            "/me request is only valid with delegated authentication flow.",
        ),
    }
}

/// `GET /organization`: the tenant (its id is the tenant id), for any signed-in caller.
pub(super) fn organization(emu: &Emulator) -> Response {
    let cfg = emu.config();
    odata_json(
        StatusCode::OK,
        &json!({
            "@odata.context": format!("{}/v1.0/$metadata#organization", emu.base_url()),
            "value": [{"id": cfg.tenant_id, "displayName": "Contoso (emulated)"}],
        }),
    )
}
