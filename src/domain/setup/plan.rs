//! For each object setup looks after, the Graph write that makes what was found what is wanted:
//! a `POST` when nothing was found, a `PATCH` of only the members that differ, or nothing.
//! Lists that others may have added to (redirect URIs, app roles, scopes, excluded groups) are
//! only ever added to.

use serde_json::{Map, Value, json};

use super::calls::{Call, Method, differing};
use super::credentials::key_credentials;
use super::desired::{API_SCOPE, APP_ROLES, Desired, GRAPH_APP_ID};

/// The loopback redirect of the command-line client (any port; see the README, step 7).
const CLI_REDIRECT: &str = "http://127.0.0.1";
/// A Conditional Access policy's report-only state: it is evaluated and logged, never enforced.
const REPORT_ONLY: &str = "enabledForReportingButNotEnforced";

fn list(v: &Value, key: &str) -> Vec<Value> {
    v.get(key)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// `found` with each of `wanted` whose `key` member no item of `found` has, appended.
fn add_missing(mut found: Vec<Value>, wanted: Vec<Value>, key: &str) -> Vec<Value> {
    for w in wanted {
        let k = &w[key];
        if !found.iter().any(|f| match (&f[key], k) {
            (Value::String(a), Value::String(b)) => a.eq_ignore_ascii_case(b),
            (a, b) => a == b,
        }) {
            found.push(w);
        }
    }
    found
}

/// Strings in `found` plus those of `wanted` not among them.
fn add_strings(found: Vec<Value>, wanted: &[&str]) -> Vec<Value> {
    let mut out = found;
    for w in wanted.iter().map(|s| json!(s)) {
        if !out.iter().any(|f| {
            f.as_str()
                .zip(w.as_str())
                .is_some_and(|(a, b)| a.eq_ignore_ascii_case(b))
        }) {
            out.push(w);
        }
    }
    out
}

/// The call that creates `body` at `collection`, or patches `found` (at `collection/{id}`) with
/// what differs.
fn create_or_patch(
    collection: &str,
    body: Value,
    found: Option<&Value>,
    what: &str,
) -> Option<Call> {
    match found {
        None => Some(Call::post(collection, body, format!("create {what}"))),
        Some(f) => {
            let diff: Map<String, Value> = differing(&body, f);
            if diff.is_empty() {
                return None;
            }
            let id = f["id"].as_str().unwrap_or_default();
            let fields: Vec<&str> = diff.keys().map(String::as_str).collect();
            Some(Call {
                method: Method::Patch,
                path: format!("{collection}/{id}"),
                what: format!("update {what}: {}", fields.join(", ")),
                body: Value::Object(diff),
            })
        }
    }
}

/// The portal's app registration (found by its identifier URI): single tenant, the redirect URI,
/// the app roles, the API scope with v2 tokens, the Graph application permissions it asks for
/// (`graph` is Microsoft Graph's service principal, whose app roles name them) and, once the
/// command-line client exists (`cli_app_id`), that client pre-authorized for the scope.
pub fn application_call(
    d: &Desired,
    found: Option<&Value>,
    graph: &Value,
    cli_app_id: Option<&str>,
) -> Result<Option<Call>, String> {
    let empty = json!({});
    let f = found.unwrap_or(&empty);
    let mut web = f
        .get("web")
        .cloned()
        .filter(Value::is_object)
        .unwrap_or(json!({}));
    web["redirectUris"] = json!(add_strings(
        list(&web, "redirectUris"),
        &[&d.redirect_uri()]
    ));
    let roles: Vec<Value> = APP_ROLES
        .iter()
        .map(|(value, description)| {
            json!({
                "id": d.role_id(value),
                "value": value,
                "displayName": value,
                "description": description,
                "allowedMemberTypes": ["User"],
                "isEnabled": true,
            })
        })
        .collect();
    let roles = add_missing(list(f, "appRoles"), roles, "value");
    let mut api = f
        .get("api")
        .cloned()
        .filter(Value::is_object)
        .unwrap_or(json!({}));
    let scope = json!({
        "id": d.role_id(API_SCOPE),
        "value": API_SCOPE,
        "type": "User",
        "isEnabled": true,
        "adminConsentDisplayName": "Use jitgate as the signed-in user",
        "adminConsentDescription": "Lets the jitgate command line ask for and decide access as the signed-in user.",
        "userConsentDisplayName": "Use jitgate as you",
        "userConsentDescription": "Lets the jitgate command line act as you in jitgate.",
    });
    let scopes = add_missing(list(&api, "oauth2PermissionScopes"), vec![scope], "value");
    let scope_id = scopes
        .iter()
        .find(|s| s["value"].as_str() == Some(API_SCOPE))
        .and_then(|s| s["id"].as_str())
        .unwrap_or_default()
        .to_owned();
    api["requestedAccessTokenVersion"] = json!(2);
    api["oauth2PermissionScopes"] = json!(scopes);
    if let Some(cli) = cli_app_id {
        let pre = json!({"appId": cli, "delegatedPermissionIds": [scope_id]});
        api["preAuthorizedApplications"] = json!(add_missing(
            list(&api, "preAuthorizedApplications"),
            vec![pre],
            "appId"
        ));
    }
    let mut access = Vec::new();
    for name in d.graph_permissions() {
        access.push(json!({"id": graph_role_id(graph, name)?, "type": "Role"}));
    }
    let mut required: Vec<Value> = list(f, "requiredResourceAccess");
    match required
        .iter_mut()
        .find(|r| r["resourceAppId"].as_str() == Some(GRAPH_APP_ID))
    {
        Some(r) => {
            r["resourceAccess"] = json!(add_missing(list(r, "resourceAccess"), access, "id"))
        }
        None => required.push(json!({"resourceAppId": GRAPH_APP_ID, "resourceAccess": access})),
    }
    let mut body = json!({
        "displayName": d.app_name,
        "signInAudience": "AzureADMyOrg",
        "identifierUris": add_strings(list(f, "identifierUris"), &[&d.identifier_uri()]),
        "web": web,
        "appRoles": roles,
        "api": api,
        "requiredResourceAccess": required,
    });
    if let Some(keys) = key_credentials(d, found)? {
        body["keyCredentials"] = keys;
    }
    Ok(create_or_patch(
        "/applications",
        body,
        found,
        "the jitgate app registration",
    ))
}

/// The id of Microsoft Graph's application permission `name` (an app role of its service principal).
fn graph_role_id(graph: &Value, name: &str) -> Result<String, String> {
    list(graph, "appRoles")
        .iter()
        .find(|r| r["value"].as_str() == Some(name))
        .and_then(|r| r["id"].as_str().map(str::to_owned))
        .ok_or_else(|| {
            format!("Microsoft Graph's service principal has no application permission '{name}'")
        })
}

/// The service principal ("enterprise application") of the app `app_id`, if none was found.
pub fn service_principal_call(app_id: &str, found: Option<&Value>, what: &str) -> Option<Call> {
    match found {
        Some(_) => None,
        None => Some(Call::post(
            "/servicePrincipals",
            json!({"appId": app_id}),
            format!("create the service principal of {what}"),
        )),
    }
}

/// The command-line client's registration (found by its display name): a public client with
/// the loopback redirect, asking for the portal's API scope (`api_app` is the portal's
/// registration).
pub fn cli_client_call(
    d: &Desired,
    name: &str,
    found: Option<&Value>,
    api_app: &Value,
) -> Option<Call> {
    let empty = json!({});
    let f = found.unwrap_or(&empty);
    let mut public = f
        .get("publicClient")
        .cloned()
        .filter(Value::is_object)
        .unwrap_or(json!({}));
    public["redirectUris"] = json!(add_strings(list(&public, "redirectUris"), &[CLI_REDIRECT]));
    let api_app_id = api_app["appId"].as_str().unwrap_or_default();
    let scope = json!({"id": d.role_id(API_SCOPE), "type": "Scope"});
    let mut required: Vec<Value> = list(f, "requiredResourceAccess");
    match required
        .iter_mut()
        .find(|r| r["resourceAppId"].as_str() == Some(api_app_id))
    {
        Some(r) => {
            r["resourceAccess"] = json!(add_missing(list(r, "resourceAccess"), vec![scope], "id"))
        }
        None => required.push(json!({"resourceAppId": api_app_id, "resourceAccess": [scope]})),
    }
    let body = json!({
        "displayName": name,
        "signInAudience": "AzureADMyOrg",
        "isFallbackPublicClient": true,
        "publicClient": public,
        "requiredResourceAccess": required,
    });
    create_or_patch(
        "/applications",
        body,
        found,
        "the command-line client's registration",
    )
}

/// The exclusion group (found by its display name): a security group, role-assignable if asked.
/// A group found is left as it is: whether it is role-assignable cannot be changed once made.
pub fn group_call(d: &Desired, found: Option<&Value>) -> Option<Call> {
    if found.is_some() {
        return None;
    }
    let nickname: String = d
        .group_name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    let mut body = json!({
        "displayName": d.group_name,
        "description": "Members are exempt from the device-code block while jitgate grants it. Managed by jitgate.",
        "mailEnabled": false,
        "mailNickname": if nickname.is_empty() { "jitgate".to_owned() } else { nickname },
        "securityEnabled": true,
    });
    if d.role_assignable {
        body["isAssignableToRole"] = json!(true);
    }
    Some(Call::post("/groups", body, "create the exclusion group"))
}

/// Admin consent for each Graph application permission the portal's service principal
/// (`sp_id`) does not hold yet: an app role assignment on Microsoft Graph's service principal.
/// `assigned` is the portal's service principal's `appRoleAssignments`.
pub fn graph_permission_calls(
    d: &Desired,
    graph: &Value,
    sp_id: &str,
    assigned: &[Value],
) -> Result<Vec<Call>, String> {
    let graph_sp = graph["id"].as_str().unwrap_or_default();
    let mut calls = Vec::new();
    for name in d.graph_permissions() {
        let role = graph_role_id(graph, name)?;
        let held = assigned.iter().any(|a| {
            a["appRoleId"]
                .as_str()
                .is_some_and(|r| r.eq_ignore_ascii_case(&role))
                && a["resourceId"]
                    .as_str()
                    .is_some_and(|r| r.eq_ignore_ascii_case(graph_sp))
        });
        if !held {
            calls.push(Call::post(
                format!("/servicePrincipals/{graph_sp}/appRoleAssignedTo"),
                json!({"principalId": sp_id, "resourceId": graph_sp, "appRoleId": role}),
                format!("grant {name} (application permission, admin consent)"),
            ));
        }
    }
    Ok(calls)
}

/// The portal's `Admin` app role for the signed-in admin (`admin_id`), unless they hold it.
/// `app` is the portal's registration (its role ids), `assigned` its service principal's
/// `appRoleAssignedTo`.
pub fn admin_role_call(
    app: &Value,
    sp_id: &str,
    admin_id: &str,
    assigned: &[Value],
) -> Option<Call> {
    let role = list(app, "appRoles")
        .into_iter()
        .find(|r| r["value"].as_str() == Some("Admin"))?;
    let role = role["id"].as_str()?.to_owned();
    let held = assigned.iter().any(|a| {
        a["appRoleId"]
            .as_str()
            .is_some_and(|r| r.eq_ignore_ascii_case(&role))
            && a["principalId"]
                .as_str()
                .is_some_and(|p| p.eq_ignore_ascii_case(admin_id))
    });
    (!held).then(|| {
        Call::post(
            format!("/servicePrincipals/{sp_id}/appRoleAssignedTo"),
            json!({"principalId": admin_id, "resourceId": sp_id, "appRoleId": role}),
            "assign the Admin role to you",
        )
    })
}

/// The "block device code flow" policy (found by its display name among `policies`): created
/// report-only, excluding the group; a policy found keeps its state (never enabled, never
/// switched off here) and only gains the group among its excluded ones if it lacks it.
pub fn policy_call(d: &Desired, group_id: &str, policies: &[Value]) -> Option<Call> {
    let found = policies
        .iter()
        .find(|p| p["displayName"].as_str() == Some(d.policy_name.as_str()));
    let Some(found) = found else {
        return Some(Call::post(
            "/identity/conditionalAccess/policies",
            json!({
                "displayName": d.policy_name,
                "state": REPORT_ONLY,
                "conditions": {
                    "clientAppTypes": ["all"],
                    "applications": {"includeApplications": ["All"]},
                    "users": {"includeUsers": ["All"], "excludeGroups": [group_id]},
                    "authenticationFlows": {"transferMethods": "deviceCodeFlow"},
                },
                "grantControls": {"operator": "OR", "builtInControls": ["block"]},
            }),
            "create the device-code block policy, report-only",
        ));
    };
    let mut conditions = found["conditions"].clone();
    let excluded = list(&conditions["users"], "excludeGroups");
    if excluded
        .iter()
        .any(|g| g.as_str().is_some_and(|g| g.eq_ignore_ascii_case(group_id)))
    {
        return None;
    }
    conditions["users"]["excludeGroups"] = json!(add_strings(excluded, &[group_id]));
    let id = found["id"].as_str().unwrap_or_default();
    Some(Call {
        method: Method::Patch,
        path: format!("/identity/conditionalAccess/policies/{id}"),
        body: json!({"conditions": conditions}),
        what: "exclude the group from the device-code block policy".into(),
    })
}
