//! `GET /users/{id}/transitiveMemberOf`, and its OData casts `/microsoft.graph.group` and
//! `/microsoft.graph.directoryRole`: the groups a user is in (as reads see them) and the
//! directory roles they hold actively, directly or through a role-assignable group they are in.
//! Paged with `$top` (100 by default, 999 at most) and `$skiptoken`; `$select` narrows the
//! properties. An app that may not read a type (roles without `RoleManagement.Read.Directory`
//! or `Directory.Read.All`, groups without a group permission) gets its objects with limited
//! information: `@odata.type` and `id`, every other property null, as Graph does.

use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use super::caller::{Caller, READ_MEMBERS, READ_USERS};
use super::errors::{bad_request, forbidden, not_found};
use super::query::{expired_page_token, page_size, qparam};
use crate::emulator::Emulator;
use crate::emulator::directory_roles::{role_names, role_object_id};
use crate::emulator::wire::{GraphCtx, odata_json};

/// Permissions that may read directory roles in full.
const READ_ROLES: &[&str] = &[
    "RoleManagement.Read.Directory",
    "RoleManagement.Read.All",
    "RoleManagement.ReadWrite.Directory",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];

const GROUP_PROPS: &[&str] = &[
    "id",
    "displayName",
    "description",
    "groupTypes",
    "isAssignableToRole",
    "mailEnabled",
    "securityEnabled",
];
const ROLE_PROPS: &[&str] = &[
    "id",
    "deletedDateTime",
    "description",
    "displayName",
    "roleTemplateId",
];

const DEFAULT_PAGE: usize = 100;
const MAX_PAGE: usize = 999;

/// What the path casts the list to.
#[derive(Clone, Copy, PartialEq)]
enum Cast {
    All,
    Groups,
    Roles,
}

impl Cast {
    fn segment(self) -> &'static str {
        match self {
            Cast::All => "",
            Cast::Groups => "/microsoft.graph.group",
            Cast::Roles => "/microsoft.graph.directoryRole",
        }
    }

    /// The entity set named in `@odata.context`, and the type `$select` is read against.
    fn set_and_type(self) -> (&'static str, &'static str) {
        match self {
            Cast::All => ("directoryObjects", "microsoft.graph.directoryObject"),
            Cast::Groups => ("groups", "microsoft.graph.group"),
            Cast::Roles => ("directoryRoles", "microsoft.graph.directoryRole"),
        }
    }

    fn props(self) -> Vec<&'static str> {
        match self {
            Cast::All => GROUP_PROPS.iter().chain(ROLE_PROPS).copied().collect(),
            Cast::Groups => GROUP_PROPS.to_vec(),
            Cast::Roles => ROLE_PROPS.to_vec(),
        }
    }
}

fn encode_skiptoken(user: &str, offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("RFNwdAoAAQ|{offset}|{}", user.to_ascii_lowercase()))
}

fn decode_skiptoken(token: &str, user: &str) -> Option<usize> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
    let mut parts = raw.split('|');
    let (_, offset, u) = (parts.next()?, parts.next()?, parts.next()?);
    u.eq_ignore_ascii_case(user).then(|| offset.parse().ok())?
}

/// The properties `$select` names (canonical spelling), or Graph's 400 for one `cast` lacks.
fn selected(
    ctx: &GraphCtx,
    cast: Cast,
    select: Option<&str>,
) -> Result<Vec<&'static str>, Response> {
    let mut out = Vec::new();
    let known = cast.props();
    for name in select
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        match known.iter().find(|p| p.eq_ignore_ascii_case(name)) {
            Some(p) if !out.contains(p) => out.push(*p),
            Some(_) => {}
            None => {
                return Err(bad_request(
                    ctx,
                    "BadRequest",
                    &format!(
                        "Could not find a property named '{name}' on type '{}'.",
                        cast.set_and_type().1
                    ),
                ));
            }
        }
    }
    Ok(out)
}

/// An object with its `@odata.type`, every property in `props` (null unless `full`), and only
/// those in `select` when it names any.
fn object(odata_type: &str, props: &[(&str, Value)], full: bool, select: &[&str]) -> Value {
    let mut obj = Map::new();
    obj.insert("@odata.type".to_owned(), json!(odata_type));
    for (name, value) in props {
        if !select.is_empty() && *name != "id" && !select.contains(name) {
            continue;
        }
        let value = if full || *name == "id" {
            value.clone()
        } else {
            Value::Null
        };
        obj.insert((*name).to_owned(), value);
    }
    Value::Object(obj)
}

/// `GET /users/{id}/transitiveMemberOf[/{cast}]`
pub(super) fn list(
    emu: &Emulator,
    ctx: &GraphCtx,
    caller: &Caller,
    user_id: &str,
    cast: Option<&str>,
    query: &[(String, String)],
) -> Response {
    let q = |name: &str| qparam(query, name);
    if !caller.has_any(READ_USERS) && !caller.has_any(READ_MEMBERS) {
        return forbidden(ctx);
    }
    let cast = match cast {
        None => Cast::All,
        Some(c) if c.eq_ignore_ascii_case("microsoft.graph.group") => Cast::Groups,
        Some(c) if c.eq_ignore_ascii_case("microsoft.graph.directoryRole") => Cast::Roles,
        Some(c) => {
            return bad_request(
                ctx,
                "BadRequest",
                &format!("Resource not found for the segment '{c}'."),
            );
        }
    };
    let Some(user) = emu.user(user_id) else {
        return not_found(ctx, user_id);
    };
    let select = match selected(ctx, cast, q("$select")) {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let top = match page_size(ctx, q("$top"), MAX_PAGE) {
        Ok(top) => top,
        Err(resp) => return resp,
    };
    let offset = match q("$skiptoken") {
        None => 0,
        Some(token) => match decode_skiptoken(token, &user.id) {
            Some(offset) => offset,
            None => return expired_page_token(ctx),
        },
    };
    let groups: Vec<_> = emu
        .config()
        .groups
        .iter()
        .filter(|g| emu.visible_member(&g.id, &user.id))
        .collect();
    let mut items = Vec::new();
    let st = emu.state();
    let holders = &st.directory_roles;
    if cast != Cast::Roles {
        let full = caller.has_any(READ_MEMBERS);
        for g in &groups {
            let props = [
                ("id", json!(g.id)),
                ("displayName", json!(g.display_name)),
                ("description", Value::Null),
                ("groupTypes", json!([])),
                ("isAssignableToRole", json!(holders.is_assignable(&g.id))),
                ("mailEnabled", json!(false)),
                ("securityEnabled", json!(true)),
            ];
            items.push(object("#microsoft.graph.group", &props, full, &select));
        }
    }
    if cast != Cast::Groups {
        let mut principals = vec![user.id.to_ascii_lowercase()];
        principals.extend(
            groups
                .iter()
                .filter(|g| holders.is_assignable(&g.id))
                .map(|g| g.id.to_ascii_lowercase()),
        );
        let full = caller.has_any(READ_ROLES);
        for template in holders.active_roles(&principals) {
            let (name, description) = role_names(&template);
            let props = [
                ("id", json!(role_object_id(&template))),
                ("deletedDateTime", Value::Null),
                ("description", json!(description)),
                ("displayName", json!(name)),
                ("roleTemplateId", json!(template)),
            ];
            items.push(object(
                "#microsoft.graph.directoryRole",
                &props,
                full,
                &select,
            ));
        }
    }
    drop(st);
    let page = top.unwrap_or(DEFAULT_PAGE);
    let end = (offset + page).min(items.len());
    let value: Vec<Value> = items
        .get(offset.min(items.len())..end)
        .unwrap_or_default()
        .to_vec();
    let base = emu.base_url();
    let (set, _) = cast.set_and_type();
    let context = if select.is_empty() {
        format!("{base}/v1.0/$metadata#{set}")
    } else {
        format!("{base}/v1.0/$metadata#{set}({})", select.join(","))
    };
    let mut body = json!({ "@odata.context": context, "value": value });
    if end < items.len() {
        let mut params = Vec::new();
        if !select.is_empty() {
            params.push(format!("$select={}", select.join(",")));
        }
        if let Some(t) = top {
            params.push(format!("$top={t}"));
        }
        params.push(format!("$skiptoken={}", encode_skiptoken(&user.id, end)));
        body["@odata.nextLink"] = json!(format!(
            "{base}/v1.0/users/{}/transitiveMemberOf{}?{}",
            user.id.to_ascii_lowercase(),
            cast.segment(),
            params.join("&")
        ));
    }
    odata_json(StatusCode::OK, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skiptokens_belong_to_their_user() {
        let u = "0b6a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c01";
        assert_eq!(decode_skiptoken(&encode_skiptoken(u, 7), u), Some(7));
        assert_eq!(decode_skiptoken(&encode_skiptoken(u, 7), "other"), None);
        assert_eq!(decode_skiptoken("garbage!", u), None);
    }

    #[test]
    fn limited_objects_keep_only_their_type_and_id() {
        let props = [
            ("id", json!("x")),
            ("displayName", json!("Global Administrator")),
        ];
        let limited = object("#microsoft.graph.directoryRole", &props, false, &[]);
        assert_eq!(
            limited,
            json!({"@odata.type": "#microsoft.graph.directoryRole", "id": "x", "displayName": null})
        );
        let narrowed = object("#microsoft.graph.group", &props, true, &["id"]);
        assert_eq!(
            narrowed,
            json!({"@odata.type": "#microsoft.graph.group", "id": "x"})
        );
    }
}
