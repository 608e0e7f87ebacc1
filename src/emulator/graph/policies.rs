//! `GET /identity/conditionalAccess/policies`: the tenant's configured Conditional Access policy,
//! "Block device code flow", which excludes the first group and (unless set to cover it) the
//! portal's own API, then those created with `POST`, which `PATCH` changes.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::app_registrations::{created, parse_body};
use super::caller::Caller;
use super::errors::{bad_request, forbidden, not_found};
use crate::emulator::Emulator;
use crate::emulator::demo::CA_POLICY_ID;
use crate::emulator::wire::{GraphCtx, graph_date, odata_json};

const READ_POLICIES: &[&str] = &[
    "Policy.Read.All",
    "Policy.Read.ConditionalAccess",
    "Policy.ReadWrite.ConditionalAccess",
];

/// `GET /identity/conditionalAccess/policies`
pub(super) fn list(emu: &Emulator, ctx: &GraphCtx, caller: &Caller) -> Response {
    if !caller.has_any(READ_POLICIES) {
        return forbidden(ctx);
    }
    let base = emu.base_url();
    let policy_id = CA_POLICY_ID;
    let (state, exclude_apps) = {
        let st = emu.state();
        let state = if st.device_code_policy_off {
            "disabled"
        } else {
            "enabled"
        };
        // The requests API is excluded, so that the command line can sign in by device code.
        (state, st.device_code_excluded_apps(emu.config()))
    };
    let exclude: Vec<&str> = emu
        .config()
        .groups
        .first()
        .map(|g| g.id.as_str())
        .into_iter()
        .collect();
    let mut body = json!({
        "@odata.context": format!("{base}/v1.0/$metadata#identity/conditionalAccess/policies"),
        "value": [{
            "id": policy_id,
            "templateId": null,
            "displayName": "Block device code flow",
            "createdDateTime": "2025-05-30T19:45:30.4862179Z",
            "modifiedDateTime": "2025-06-07T07:31:16.8430613Z",
            "state": state,
            "sessionControls": null,
            "conditions": {
                "userRiskLevels": [],
                "signInRiskLevels": [],
                "servicePrincipalRiskLevels": [],
                "insiderRiskLevels": null,
                "clientAppTypes": ["all"],
                "platforms": null,
                "locations": null,
                "devices": null,
                "clientApplications": null,
                "authenticationFlows": { "transferMethods": "deviceCodeFlow,authenticationTransfer" },
                "applications": {
                    "includeApplications": ["All"],
                    "excludeApplications": exclude_apps,
                    "includeUserActions": [],
                    "includeAuthenticationContextClassReferences": [],
                    "applicationFilter": null
                },
                "users": {
                    "includeUsers": ["All"],
                    "excludeUsers": [],
                    "includeGroups": [],
                    "excludeGroups": exclude,
                    "includeRoles": [],
                    "excludeRoles": [],
                    "includeGuestsOrExternalUsers": null,
                    "excludeGuestsOrExternalUsers": null
                }
            },
            "grantControls": {
                "operator": "OR",
                "builtInControls": ["block"],
                "customAuthenticationFactors": [],
                "termsOfUse": [],
                "authenticationStrength@odata.context": format!(
                    "{base}/v1.0/$metadata#identity/conditionalAccess/policies('{policy_id}')/grantControls/authenticationStrength/$entity"
                ),
                "authenticationStrength": null
            }
        }]
    });
    if let Some(list) = body["value"].as_array_mut() {
        list.extend(emu.state().created.policies.iter().cloned());
    }
    odata_json(StatusCode::OK, &body)
}

const WRITE_POLICIES: &[&str] = &["Policy.ReadWrite.ConditionalAccess"];
const STATES: &[&str] = &["enabled", "disabled", "enabledForReportingButNotEnforced"];

fn bad_state(ctx: &GraphCtx, policy: &Value) -> Option<Response> {
    let state = policy.get("state")?;
    (!state.as_str().is_some_and(|s| STATES.contains(&s))).then(|| {
        bad_request(
            ctx,
            "BadRequest",
            "state must be one of enabled, disabled, enabledForReportingButNotEnforced.",
        )
    })
}

/// `POST /identity/conditionalAccess/policies`
pub(super) fn create(emu: &Emulator, ctx: &GraphCtx, caller: &Caller, body: &[u8]) -> Response {
    if !caller.has_any(WRITE_POLICIES) {
        return forbidden(ctx);
    }
    let mut policy = match parse_body(ctx, body) {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    if policy["displayName"]
        .as_str()
        .is_none_or(|v| v.trim().is_empty())
        || policy.get("conditions").is_none_or(|c| !c.is_object())
    {
        return bad_request(
            ctx,
            "BadRequest",
            "displayName and conditions are required.",
        );
    }
    if policy.get("state").is_none() {
        return bad_request(ctx, "BadRequest", "state is required.");
    }
    if let Some(resp) = bad_state(ctx, &policy) {
        return resp;
    }
    policy["id"] = json!(uuid::Uuid::new_v4().to_string());
    policy["createdDateTime"] = json!(format!("{}Z", graph_date()));
    policy["modifiedDateTime"] = Value::Null;
    emu.state().created.policies.push(policy.clone());
    created(emu, "identity/conditionalAccess/policies", policy)
}

/// `PATCH /identity/conditionalAccess/policies/{id}`: 204.
pub(super) fn update(
    emu: &Emulator,
    ctx: &GraphCtx,
    caller: &Caller,
    id: &str,
    body: &[u8],
) -> Response {
    if !caller.has_any(WRITE_POLICIES) {
        return forbidden(ctx);
    }
    let patch = match parse_body(ctx, body) {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    if let Some(resp) = bad_state(ctx, &patch) {
        return resp;
    }
    let mut st = emu.state();
    let Some(policy) = st
        .created
        .policies
        .iter_mut()
        .find(|p| p["id"].as_str().is_some_and(|p| p.eq_ignore_ascii_case(id)))
    else {
        return not_found(ctx, id);
    };
    for (k, v) in patch.as_object().into_iter().flatten() {
        policy[k.as_str()] = v.clone();
    }
    policy["modifiedDateTime"] = json!(format!("{}Z", graph_date()));
    drop(st);
    StatusCode::NO_CONTENT.into_response()
}
