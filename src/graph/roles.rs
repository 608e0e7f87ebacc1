//! The directory (administrator) roles a person holds: active ones from the person's
//! memberships (`GET /users/{id}/transitiveMemberOf/microsoft.graph.directoryRole`, which counts
//! roles assigned to role-assignable groups they are in, and roles activated through PIM), and
//! eligible ones from PIM (`GET /roleManagement/directory/roleEligibilityScheduleInstances`,
//! the eligibilities in effect now, filtered by principal: the person, then each
//! role-assignable group they are in, since only such groups can be made eligible for a role).
//! The eligibility read needs `RoleManagement.Read.Directory` (or
//! `RoleEligibilitySchedule.Read.Directory`); Graph refuses it otherwise (403).

use serde::Deserialize;
use serde_json::Value;

use super::client::GraphClient;
use super::wire::require_guid;
use super::{DirectoryError, DirectoryRole, RoleHolding};

/// The PIM eligibilities in effect now (schedule instances, unlike schedules, leave out those
/// that start later or have ended).
const ELIGIBILITY_INSTANCES: &str = "/roleManagement/directory/roleEligibilityScheduleInstances";

/// A `directoryRole` as `transitiveMemberOf` lists it. With limited information (an app that
/// may not read roles) only `id` is set.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ActiveRole {
    id: String,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    role_template_id: Option<String>,
}

/// A group as `transitiveMemberOf/microsoft.graph.group` lists it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Group {
    id: String,
    #[serde(default)]
    is_assignable_to_role: Option<bool>,
}

/// A `unifiedRoleEligibilityScheduleInstance`, its `roleDefinition` expanded.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Eligibility {
    role_definition_id: String,
    #[serde(default)]
    role_definition: Option<RoleDefinition>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RoleDefinition {
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    template_id: Option<String>,
}

fn read<T: serde::de::DeserializeOwned>(items: Vec<Value>) -> Result<Vec<T>, DirectoryError> {
    items
        .into_iter()
        .map(|v| {
            serde_json::from_value(v).map_err(|e| {
                DirectoryError::Transient(format!(
                    "unexpected directory role in Graph response: {e}"
                ))
            })
        })
        .collect()
}

fn named(name: Option<String>) -> Option<String> {
    name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty())
}

/// One entry per role, sorted by id; a role held both ways counts as active.
fn merged(mut roles: Vec<DirectoryRole>) -> Vec<DirectoryRole> {
    roles.sort_by(|a, b| (&a.id, a.holding).cmp(&(&b.id, b.holding)));
    roles.dedup_by(|later, first| {
        if later.id != first.id {
            return false;
        }
        if first.name.is_none() {
            first.name = later.name.take();
        }
        true
    });
    roles
}

impl GraphClient {
    /// Whether the app may read PIM's role eligibility (what `deny_privileged` needs, and what
    /// `jitgate check` asks): the number of eligibilities on the first page of the tenant's.
    pub async fn role_eligibility_readable(&self) -> Result<usize, DirectoryError> {
        let page: Value = self.read_json(&self.url(ELIGIBILITY_INSTANCES)).await?;
        Ok(page
            .get("value")
            .and_then(Value::as_array)
            .map_or(0, Vec::len))
    }

    /// The roles `user_id` holds now, active or eligible (see the module's documentation).
    pub(super) async fn roles_of(
        &self,
        user_id: &str,
    ) -> Result<Vec<DirectoryRole>, DirectoryError> {
        require_guid(user_id)?;
        let mut roles = Vec::new();
        let (_, active) = self
            .read_all(self.url(&format!(
                "/users/{user_id}/transitiveMemberOf/microsoft.graph.directoryRole?$top={}",
                self.page_size
            )))
            .await?;
        for r in read::<ActiveRole>(active)? {
            roles.push(DirectoryRole {
                id: named(r.role_template_id)
                    .unwrap_or(r.id)
                    .to_ascii_lowercase(),
                name: named(r.display_name),
                holding: RoleHolding::Active,
            });
        }
        // Eligibility may be given to the person or to a role-assignable group they are in. A
        // group shown with limited information might be one: it is asked about too.
        let (_, groups) = self
            .read_all(self.url(&format!(
                "/users/{user_id}/transitiveMemberOf/microsoft.graph.group?$select=id,isAssignableToRole&$top={}",
                self.page_size
            )))
            .await?;
        let mut principals = vec![user_id.to_ascii_lowercase()];
        for g in read::<Group>(groups)? {
            let id = g.id.to_ascii_lowercase();
            if g.is_assignable_to_role != Some(false)
                && require_guid(&id).is_ok()
                && !principals.contains(&id)
            {
                principals.push(id);
            }
        }
        for principal in principals {
            let (_, eligible) = self
                .read_all(self.url(&format!(
                    "{ELIGIBILITY_INSTANCES}?$filter=principalId%20eq%20'{principal}'&$expand=roleDefinition"
                )))
                .await?;
            for e in read::<Eligibility>(eligible)? {
                let (name, template) = match e.role_definition {
                    Some(d) => (named(d.display_name), named(d.template_id)),
                    None => (None, None),
                };
                roles.push(DirectoryRole {
                    id: template
                        .unwrap_or(e.role_definition_id)
                        .to_ascii_lowercase(),
                    name,
                    holding: RoleHolding::Eligible,
                });
            }
        }
        Ok(merged(roles))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(id: &str, name: Option<&str>, holding: RoleHolding) -> DirectoryRole {
        DirectoryRole {
            id: id.to_string(),
            name: name.map(str::to_string),
            holding,
        }
    }

    #[test]
    fn a_role_held_both_ways_counts_once_as_active() {
        let roles = merged(vec![
            role("b", Some("User Administrator"), RoleHolding::Eligible),
            role("a", None, RoleHolding::Eligible),
            role("a", None, RoleHolding::Active),
            role("b", Some("User Administrator"), RoleHolding::Eligible),
            role("a", Some("Global Administrator"), RoleHolding::Eligible),
        ]);
        assert_eq!(
            roles,
            vec![
                role("a", Some("Global Administrator"), RoleHolding::Active),
                role("b", Some("User Administrator"), RoleHolding::Eligible),
            ]
        );
    }
}
