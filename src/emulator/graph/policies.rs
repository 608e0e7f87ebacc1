//! `GET /identity/conditionalAccess/policies`: the tenant's one Conditional Access policy, "Block
//! device code flow", which excludes the first group and (unless set to cover it) the portal's own
//! API.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use super::caller::Caller;
use super::errors::forbidden;
use crate::emulator::Emulator;
use crate::emulator::demo::CA_POLICY_ID;
use crate::emulator::wire::{GraphCtx, odata_json};

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
    let body = json!({
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
    odata_json(StatusCode::OK, &body)
}
