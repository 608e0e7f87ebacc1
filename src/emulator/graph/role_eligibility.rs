//! `GET /roleManagement/directory/roleEligibilityScheduleInstances`: the PIM eligibilities in
//! effect now (on the tenant's clock), of everyone or, with `$filter=principalId eq '{id}'`, of
//! one user or group, each with its `roleDefinition` when `$expand=roleDefinition` asks. Pages
//! as long as the tenant says (`Emulator::set_role_page_size`), linked by `@odata.nextLink`.
//! Needs `RoleEligibilitySchedule.Read.Directory` or a `RoleManagement` permission: otherwise
//! 403 `Authorization_RequestDenied`.

use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::SecondsFormat;
use serde_json::{Value, json};

use super::caller::Caller;
use super::errors::{bad_request, forbidden};
use super::query::{expired_page_token, qparam};
use crate::emulator::Emulator;
use crate::emulator::directory_roles::{Eligibility, role_names};
use crate::emulator::wire::{GraphCtx, odata_json};

const READ_ELIGIBILITY: &[&str] = &[
    "RoleEligibilitySchedule.Read.Directory",
    "RoleEligibilitySchedule.ReadWrite.Directory",
    "RoleManagement.Read.All",
    "RoleManagement.Read.Directory",
    "RoleManagement.ReadWrite.Directory",
];

const ENTITY: &str = "microsoft.graph.unifiedRoleEligibilityScheduleInstance";

/// The principal of `principalId eq '{id}'` (property name in any case, spaces around as
/// written); `Err` for any other filter.
fn principal_filter(filter: &str) -> Result<String, ()> {
    let f = filter.trim();
    let (name, rest) = f.split_once(char::is_whitespace).ok_or(())?;
    let (op, value) = rest
        .trim_start()
        .split_once(char::is_whitespace)
        .ok_or(())?;
    let value = value.trim();
    let quoted = value.len() >= 2 && value.starts_with('\'') && value.ends_with('\'');
    if !name.eq_ignore_ascii_case("principalId") || !op.eq_ignore_ascii_case("eq") || !quoted {
        return Err(());
    }
    Ok(value[1..value.len() - 1].to_ascii_lowercase())
}

fn encode_skiptoken(principal: Option<&str>, offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("pim|{offset}|{}", principal.unwrap_or("*")))
}

fn decode_skiptoken(token: &str, principal: Option<&str>) -> Option<usize> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
    let mut parts = raw.split('|');
    let (_, offset, p) = (parts.next()?, parts.next()?, parts.next()?);
    (p == principal.unwrap_or("*")).then(|| offset.parse().ok())?
}

fn date(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn instance(e: &Eligibility, expand: bool) -> Value {
    let mut v = json!({
        "id": e.instance_id(),
        "principalId": e.principal,
        "roleDefinitionId": e.role,
        "directoryScopeId": "/",
        "appScopeId": null,
        "startDateTime": date(e.start),
        "endDateTime": e.end.map(date),
        "memberType": "Direct",
        "roleEligibilityScheduleId": e.schedule_id(),
    });
    if expand {
        let (name, description) = role_names(&e.role);
        v["roleDefinition"] = json!({
            "id": e.role,
            "description": description,
            "displayName": name,
            "isBuiltIn": !name.starts_with("Custom role"),
            "isEnabled": true,
            "resourceScopes": ["/"],
            "templateId": e.role,
            "version": "1",
            "rolePermissions": [],
        });
    }
    v
}

fn encoded(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// `GET /roleManagement/directory/roleEligibilityScheduleInstances`
pub(super) fn list(
    emu: &Emulator,
    ctx: &GraphCtx,
    caller: &Caller,
    query: &[(String, String)],
) -> Response {
    let q = |name: &str| qparam(query, name);
    if !caller.has_any(READ_ELIGIBILITY) {
        return forbidden(ctx);
    }
    let principal = match q("$filter").map(principal_filter) {
        None => None,
        Some(Ok(p)) => Some(p),
        Some(Err(())) => {
            return bad_request(
                ctx,
                "BadRequest",
                &format!(
                    "Invalid filter clause: the filter '{}' is not supported.",
                    q("$filter").unwrap_or_default()
                ),
            );
        }
    };
    let expand = match q("$expand").map(str::trim) {
        None | Some("") => false,
        Some(e) if e.eq_ignore_ascii_case("roleDefinition") => true,
        Some(e) => {
            return bad_request(
                ctx,
                "BadRequest",
                &format!("Could not find a property named '{e}' on type '{ENTITY}'."),
            );
        }
    };
    let offset = match q("$skiptoken") {
        None => 0,
        Some(token) => match decode_skiptoken(token, principal.as_deref()) {
            Some(offset) => offset,
            None => return expired_page_token(ctx),
        },
    };
    let (all, page) = {
        let st = emu.state();
        (
            st.directory_roles
                .eligibilities(principal.as_deref(), st.now()),
            st.directory_roles.page_size,
        )
    };
    let end = (offset + page).min(all.len());
    let value: Vec<Value> = all
        .get(offset.min(all.len())..end)
        .unwrap_or_default()
        .iter()
        .map(|e| instance(e, expand))
        .collect();
    let base = emu.base_url();
    let set = "roleManagement/directory/roleEligibilityScheduleInstances";
    let context = if expand {
        format!("{base}/v1.0/$metadata#{set}(roleDefinition())")
    } else {
        format!("{base}/v1.0/$metadata#{set}")
    };
    let mut body = json!({ "@odata.context": context, "value": value });
    if end < all.len() {
        let mut params = Vec::new();
        if let Some(f) = q("$filter") {
            params.push(format!("$filter={}", encoded(f)));
        }
        if expand {
            params.push("$expand=roleDefinition".to_owned());
        }
        params.push(format!(
            "$skiptoken={}",
            encode_skiptoken(principal.as_deref(), end)
        ));
        body["@odata.nextLink"] = json!(format!("{base}/v1.0/{set}?{}", params.join("&")));
    }
    odata_json(StatusCode::OK, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_principal_filter_is_read() {
        let id = "0B6A1C2D-3E4F-4A5B-8C6D-7E8F9A0B1C01";
        assert_eq!(
            principal_filter(&format!("principalId eq '{id}'")),
            Ok(id.to_ascii_lowercase())
        );
        assert_eq!(
            principal_filter(&format!(" PrincipalId  EQ  '{id}' ")),
            Ok(id.to_ascii_lowercase())
        );
        for bad in [
            "principalId ne 'x'",
            "roleDefinitionId eq 'x'",
            "principalId eq x",
            "principalId",
            "",
        ] {
            assert_eq!(principal_filter(bad), Err(()), "{bad}");
        }
    }

    #[test]
    fn skiptokens_belong_to_their_filter() {
        assert_eq!(
            decode_skiptoken(&encode_skiptoken(Some("a"), 3), Some("a")),
            Some(3)
        );
        assert_eq!(decode_skiptoken(&encode_skiptoken(None, 3), None), Some(3));
        assert_eq!(
            decode_skiptoken(&encode_skiptoken(Some("a"), 3), None),
            None
        );
    }
}
