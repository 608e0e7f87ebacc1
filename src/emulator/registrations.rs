//! What `jitgate setup` (or anyone with an admin's Graph token) creates in the tenant through
//! Graph: app registrations, service principals, groups, app role assignments and Conditional
//! Access policies, kept as Graph shows them (JSON objects), beside the tenant's configured ones.

use serde_json::{Value, json};

use super::GRAPH_APP_ID;

/// Microsoft Graph's service principal's object id in this tenant (any stable GUID).
const GRAPH_SP_ID: &str = "6d2f4c1a-8e3b-4f5a-9c7d-0b1e2f3a4b5c";

/// Microsoft Graph's application permissions as its service principal lists them (their ids
/// are Microsoft's own, the same in every tenant).
const GRAPH_APP_ROLES: &[(&str, &str)] = &[
    (
        "GroupMember.ReadWrite.All",
        "dbaae8cf-10b5-4b86-a4a1-f871c94c6695",
    ),
    (
        "GroupMember.Read.All",
        "98830695-27a2-44f7-8c18-0c3ebc9698f6",
    ),
    ("User.Read.All", "df021288-bdef-4463-88db-98f22de89214"),
    (
        "Application.Read.All",
        "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30",
    ),
    ("Policy.Read.All", "246dd0d5-5bd0-4def-940b-0421030a5b68"),
    ("AuditLog.Read.All", "b0afded3-3588-46d8-8b3d-9842eff778da"),
    (
        "RoleManagement.Read.Directory",
        "483bed4a-2ad3-4361-a73b-c83ccdbdc53c",
    ),
    ("Mail.Send", "b633e1c5-b582-4048-a93e-9f11b44c7e96"),
    (
        "User.RevokeSessions.All",
        "77f3a031-c388-4f99-b373-dc68676a979e",
    ),
];

/// Objects created through Graph.
#[derive(Default)]
pub(crate) struct Registrations {
    pub(crate) applications: Vec<Value>,
    pub(crate) service_principals: Vec<Value>,
    pub(crate) groups: Vec<Value>,
    /// App role assignments: `principalId` holds `appRoleId` of `resourceId`.
    pub(crate) assignments: Vec<Value>,
    pub(crate) policies: Vec<Value>,
    /// Federated identity credentials: the application's object id and the credential.
    pub(crate) federated: Vec<(String, Value)>,
}

/// An application as Graph reads it back: a key credential's `key` is never returned.
pub(crate) fn as_read(app: &Value) -> Value {
    let mut app = app.clone();
    if let Some(keys) = app["keyCredentials"].as_array_mut() {
        for k in keys {
            k["key"] = Value::Null;
        }
    }
    app
}

/// Microsoft Graph's service principal, with its application permissions.
pub(crate) fn graph_service_principal() -> Value {
    let roles: Vec<Value> = GRAPH_APP_ROLES
        .iter()
        .map(|(value, id)| {
            json!({
                "id": id,
                "value": value,
                "displayName": value,
                "description": value,
                "allowedMemberTypes": ["Application"],
                "isEnabled": true,
                "origin": "Application",
            })
        })
        .collect();
    json!({
        "id": GRAPH_SP_ID,
        "appId": GRAPH_APP_ID,
        "displayName": "Microsoft Graph",
        "servicePrincipalType": "Application",
        "appRoles": roles,
    })
}

fn same_id(v: &Value, key: &str, id: &str) -> bool {
    v[key].as_str().is_some_and(|x| x.eq_ignore_ascii_case(id))
}

impl Registrations {
    pub(crate) fn application(&self, id: &str) -> Option<&Value> {
        self.applications.iter().find(|a| same_id(a, "id", id))
    }

    pub(crate) fn application_mut(&mut self, id: &str) -> Option<&mut Value> {
        self.applications.iter_mut().find(|a| same_id(a, "id", id))
    }

    pub(crate) fn application_by_app_id(&self, app_id: &str) -> Option<&Value> {
        self.applications
            .iter()
            .find(|a| same_id(a, "appId", app_id))
    }

    /// A service principal as Graph shows it: Microsoft Graph's, or a created one with its
    /// application's current display name and app roles.
    pub(crate) fn service_principal(&self, id: &str) -> Option<Value> {
        let graph = graph_service_principal();
        if same_id(&graph, "id", id) {
            return Some(graph);
        }
        let sp = self
            .service_principals
            .iter()
            .find(|s| same_id(s, "id", id))?;
        Some(self.shown(sp))
    }

    pub(crate) fn service_principals(&self) -> Vec<Value> {
        let mut all = vec![graph_service_principal()];
        all.extend(self.service_principals.iter().map(|s| self.shown(s)));
        all
    }

    fn shown(&self, sp: &Value) -> Value {
        let mut sp = sp.clone();
        if let Some(app) = self.application_by_app_id(sp["appId"].as_str().unwrap_or_default()) {
            sp["displayName"] = app["displayName"].clone();
            sp["appRoles"] = app.get("appRoles").cloned().unwrap_or(json!([]));
        }
        sp
    }
}
