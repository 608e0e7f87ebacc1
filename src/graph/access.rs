//! What a signed-in person may still do: whether their account is enabled, and which of this
//! application's app roles are assigned to them now, directly or through a group.

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use super::client::GraphClient;
use super::wire::require_guid;
use super::{Directory, DirectoryError, DirectoryUser, UserAccess};

/// Groups per `checkMemberGroups` call (Graph's limit).
const GROUPS_PER_CHECK: usize = 20;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Account {
    #[serde(default)]
    account_enabled: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AppRole {
    id: String,
    #[serde(default)]
    value: Option<String>,
    #[serde(default = "enabled")]
    is_enabled: bool,
}

fn enabled() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ServicePrincipal {
    id: String,
    #[serde(default)]
    app_roles: Vec<AppRole>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Assignment {
    app_role_id: String,
    principal_id: String,
    #[serde(default)]
    principal_type: Option<String>,
}

fn unexpected(e: impl std::fmt::Display) -> DirectoryError {
    DirectoryError::Transient(format!("unexpected Graph response: {e}"))
}

impl GraphClient {
    /// This application's service principal, with its app roles.
    async fn service_principal(&self) -> Result<ServicePrincipal, DirectoryError> {
        self.read_json(&self.url(&format!(
            "/servicePrincipals(appId='{}')?$select=id,appRoles",
            self.settings.client_id
        )))
        .await
    }

    /// Every assignment of the application's app roles (users and groups).
    async fn assignments(&self, sp: &ServicePrincipal) -> Result<Vec<Assignment>, DirectoryError> {
        let (_, items) = self
            .read_all(self.url(&format!(
                "/servicePrincipals/{}/appRoleAssignedTo?$top=999",
                sp.id
            )))
            .await?;
        items
            .into_iter()
            .map(|v| serde_json::from_value(v).map_err(unexpected))
            .collect()
    }

    /// The users holding app role `value`: assigned directly, or members of an assigned group.
    pub(super) async fn holders_of(
        &self,
        value: &str,
    ) -> Result<Vec<DirectoryUser>, DirectoryError> {
        let sp = self.service_principal().await?;
        let Some(role) = sp
            .app_roles
            .iter()
            .find(|r| r.is_enabled && r.value.as_deref() == Some(value))
        else {
            return Ok(Vec::new());
        };
        let mut users: Vec<DirectoryUser> = Vec::new();
        for a in self.assignments(&sp).await? {
            if !a.app_role_id.eq_ignore_ascii_case(&role.id) {
                continue;
            }
            match a.principal_type.as_deref() {
                Some("Group") => {
                    for m in self.list_members(&a.principal_id).await? {
                        if m.odata_type.as_deref().is_none_or(|t| t.ends_with(".user")) {
                            users.push(m);
                        }
                    }
                }
                _ => {
                    if let Some(u) = self.get_user(&a.principal_id).await? {
                        users.push(u);
                    }
                }
            }
        }
        users.sort_by(|a, b| a.id.cmp(&b.id));
        users.dedup_by(|a, b| a.id.eq_ignore_ascii_case(&b.id));
        Ok(users)
    }

    /// Which of `groups` the user is in, directly or through nested groups (lower-case ids;
    /// `checkMemberGroups`, twenty groups a call).
    pub(super) async fn member_groups_among(
        &self,
        user_id: &str,
        groups: &[&str],
    ) -> Result<Vec<String>, DirectoryError> {
        require_guid(user_id)?;
        let mut in_groups: Vec<String> = Vec::new();
        for chunk in groups.chunks(GROUPS_PER_CHECK) {
            let url = self.url(&format!("/users/{user_id}/checkMemberGroups"));
            let body = self
                .execute(Method::POST, &url, Some(&json!({ "groupIds": chunk })))
                .await?;
            let v: Value = serde_json::from_slice(&body).map_err(unexpected)?;
            in_groups.extend(
                v.get("value")
                    .and_then(Value::as_array)
                    .ok_or_else(|| unexpected("no value"))?
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_ascii_lowercase),
            );
        }
        Ok(in_groups)
    }

    /// `None` when the user no longer exists.
    pub(super) async fn access_of(
        &self,
        user_id: &str,
    ) -> Result<Option<UserAccess>, DirectoryError> {
        require_guid(user_id)?;
        let url = self.url(&format!("/users/{user_id}?$select=id,accountEnabled"));
        let account = match self.read_json::<Account>(&url).await {
            Ok(a) => a,
            Err(DirectoryError::Rejected { status: 404, .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        if account.account_enabled == Some(false) {
            return Ok(Some(UserAccess {
                enabled: false,
                roles: Vec::new(),
            }));
        }
        let sp = self.service_principal().await?;
        let assignments = self.assignments(&sp).await?;
        // Groups the app's roles are assigned to: is the user in any of them (transitively)?
        let mut groups: Vec<&str> = assignments
            .iter()
            .filter(|a| a.principal_type.as_deref() == Some("Group"))
            .map(|a| a.principal_id.as_str())
            .collect();
        groups.sort_unstable();
        groups.dedup();
        let in_groups = self.member_groups_among(user_id, &groups).await?;
        let holds = |a: &Assignment| {
            a.principal_id.eq_ignore_ascii_case(user_id)
                || in_groups.contains(&a.principal_id.to_ascii_lowercase())
        };
        let mut roles: Vec<String> = assignments
            .iter()
            .filter(|a| holds(a))
            .filter_map(|a| {
                sp.app_roles
                    .iter()
                    .find(|r| r.is_enabled && r.id.eq_ignore_ascii_case(&a.app_role_id))
                    .and_then(|r| r.value.clone())
            })
            .collect();
        roles.sort();
        roles.dedup();
        Ok(Some(UserAccess {
            enabled: true,
            roles,
        }))
    }
}
