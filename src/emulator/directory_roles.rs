//! The tenant's directory (administrator) roles: the built-in roles it knows by template id, who
//! holds which actively (users and role-assignable groups), the PIM eligibilities with their
//! start and end, and which groups are role-assignable. Graph's `transitiveMemberOf` and
//! `roleEligibilityScheduleInstances` read it; tests and the demo change it through the
//! tenant's controls.

use std::collections::BTreeSet;

use base64::Engine;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::config::RoleGrant;

/// The built-in roles the tenant knows: template id (the same in every Entra tenant), display
/// name and description.
pub(crate) const BUILT_IN_ROLES: &[(&str, &str, &str)] = &[
    (
        "62e90394-69f5-4237-9190-012177145e10",
        "Global Administrator",
        "Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities.",
    ),
    (
        "e8611ab8-c189-46e8-94e1-60213ab1f814",
        "Privileged Role Administrator",
        "Can manage role assignments in Microsoft Entra ID, and all aspects of Privileged Identity Management.",
    ),
    (
        "fe930be7-5e62-47db-91af-98c3a49a38b1",
        "User Administrator",
        "Can manage all aspects of users and groups, including resetting passwords for limited admins.",
    ),
    (
        "194ae4cb-b126-40b2-bd5b-6091b380977d",
        "Security Administrator",
        "Can read security information and reports, and manage configuration in Microsoft Entra ID and Office 365.",
    ),
    (
        "fdd7a751-b60b-444a-984c-02652fe8fa1c",
        "Groups Administrator",
        "Members of this role can create/manage groups, create/manage groups settings like naming and expiration policies, and view groups activity and audit reports.",
    ),
    (
        "729827e3-9c14-49f7-bb1b-9608f156bbb8",
        "Helpdesk Administrator",
        "Can reset passwords for non-administrators and Helpdesk Administrators.",
    ),
    (
        "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
        "Global Reader",
        "Can read everything that a Global Administrator can, but not update anything.",
    ),
];

/// A role's display name and description: a built-in one's, else a custom role's.
pub(crate) fn role_names(template_id: &str) -> (String, String) {
    BUILT_IN_ROLES
        .iter()
        .find(|(id, _, _)| id.eq_ignore_ascii_case(template_id))
        .map(|(_, name, description)| ((*name).to_owned(), (*description).to_owned()))
        .unwrap_or_else(|| {
            (
                format!("Custom role {}", &template_id[..8.min(template_id.len())]),
                "A custom directory role.".to_owned(),
            )
        })
}

/// A stable GUID-shaped id from `seed`.
fn derived_guid(seed: &str) -> String {
    let d = Sha256::digest(seed.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    uuid::Builder::from_random_bytes(b).into_uuid().to_string()
}

/// The object id of the activated role `template_id` in this tenant (differs from the template
/// id, as in Entra).
pub(crate) fn role_object_id(template_id: &str) -> String {
    derived_guid(&format!(
        "directoryRole|{}",
        template_id.to_ascii_lowercase()
    ))
}

/// One PIM eligibility.
#[derive(Clone, Debug)]
pub(crate) struct Eligibility {
    /// The principal: a user or a role-assignable group (lower case).
    pub(crate) principal: String,
    /// The role's template id (lower case); built-in roles' definitions carry the same id.
    pub(crate) role: String,
    pub(crate) start: DateTime<Utc>,
    /// `None`: permanently eligible.
    pub(crate) end: Option<DateTime<Utc>>,
}

impl Eligibility {
    /// In effect at `now` (what schedule instances list).
    pub(crate) fn in_effect(&self, now: DateTime<Utc>) -> bool {
        self.start <= now && self.end.is_none_or(|end| now < end)
    }

    /// The instance id, in the shape Graph's take: base64url of the ids, then `-1-e`.
    pub(crate) fn instance_id(&self) -> String {
        let bytes: Vec<u8> = [&self.role, &self.principal]
            .iter()
            .flat_map(|id| {
                uuid::Uuid::parse_str(id)
                    .map(|u| u.as_bytes().to_vec())
                    .unwrap_or_else(|_| id.as_bytes().to_vec())
            })
            .collect();
        format!(
            "{}-1-e",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        )
    }

    /// The id of the eligibility schedule the instance comes from.
    pub(crate) fn schedule_id(&self) -> String {
        derived_guid(&format!("eligibility|{}|{}", self.principal, self.role))
    }
}

/// Who holds which directory role.
pub(crate) struct RoleHolders {
    /// Active assignments: (principal, role template id), lower case, in order given.
    pub(crate) active: Vec<(String, String)>,
    /// PIM eligibilities, in order given.
    pub(crate) eligible: Vec<Eligibility>,
    /// Groups that can be assigned roles (`isAssignableToRole`), lower case.
    pub(crate) assignable_groups: BTreeSet<String>,
    /// How many eligibility instances a page of Graph's answer holds.
    pub(crate) page_size: usize,
}

impl Default for RoleHolders {
    fn default() -> Self {
        RoleHolders {
            active: Vec::new(),
            eligible: Vec::new(),
            assignable_groups: BTreeSet::new(),
            page_size: 100,
        }
    }
}

impl RoleHolders {
    /// The roles held from the tenant's start.
    pub(crate) fn from_grants(grants: &[RoleGrant], now: DateTime<Utc>) -> RoleHolders {
        let mut holders = RoleHolders::default();
        for g in grants {
            holders.give(&g.principal_id, &g.role_template_id, g.eligible, now, None);
        }
        holders
    }

    /// Gives `principal` the role, active or eligible (from `now` until `end`, or for good); an
    /// eligibility given again replaces the earlier one.
    pub(crate) fn give(
        &mut self,
        principal: &str,
        role: &str,
        eligible: bool,
        now: DateTime<Utc>,
        end: Option<DateTime<Utc>>,
    ) {
        let (principal, role) = (principal.to_ascii_lowercase(), role.to_ascii_lowercase());
        if eligible {
            self.eligible
                .retain(|e| !(e.principal == principal && e.role == role));
            self.eligible.push(Eligibility {
                principal,
                role,
                start: now,
                end,
            });
        } else if !self.active.contains(&(principal.clone(), role.clone())) {
            self.active.push((principal, role));
        }
    }

    /// Takes the role from `principal`, active and eligible alike.
    pub(crate) fn take(&mut self, principal: &str, role: &str) {
        let (principal, role) = (principal.to_ascii_lowercase(), role.to_ascii_lowercase());
        self.active
            .retain(|(p, r)| !(*p == principal && *r == role));
        self.eligible
            .retain(|e| !(e.principal == principal && e.role == role));
    }

    /// The roles (template ids) held actively by any of `principals`, each once, in order given.
    pub(crate) fn active_roles(&self, principals: &[String]) -> Vec<String> {
        let mut roles: Vec<String> = Vec::new();
        for (p, r) in &self.active {
            if principals.contains(p) && !roles.contains(r) {
                roles.push(r.clone());
            }
        }
        roles
    }

    /// The eligibilities in effect at `now`, of `principal` (or of everyone).
    pub(crate) fn eligibilities(
        &self,
        principal: Option<&str>,
        now: DateTime<Utc>,
    ) -> Vec<Eligibility> {
        self.eligible
            .iter()
            .filter(|e| e.in_effect(now))
            .filter(|e| principal.is_none_or(|p| p.eq_ignore_ascii_case(&e.principal)))
            .cloned()
            .collect()
    }

    pub(crate) fn is_assignable(&self, group: &str) -> bool {
        self.assignable_groups.contains(&group.to_ascii_lowercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const USER: &str = "0b6a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c01";
    const GA: &str = "62E90394-69F5-4237-9190-012177145E10";

    #[test]
    fn eligibilities_are_in_effect_between_start_and_end() {
        let now = Utc::now();
        let mut h = RoleHolders::default();
        h.give(USER, GA, true, now, Some(now + chrono::Duration::hours(1)));
        assert_eq!(h.eligibilities(Some(USER), now).len(), 1);
        assert!(
            h.eligibilities(Some(USER), now - chrono::Duration::seconds(1))
                .is_empty()
        );
        assert!(
            h.eligibilities(Some(USER), now + chrono::Duration::hours(1))
                .is_empty()
        );
        assert!(h.active_roles(&[USER.to_owned()]).is_empty());
        h.give(USER, GA, false, now, None);
        assert_eq!(
            h.active_roles(&[USER.to_owned()]),
            [GA.to_ascii_lowercase()]
        );
        h.take(USER, GA);
        assert!(h.eligible.is_empty() && h.active.is_empty());
    }

    #[test]
    fn ids_look_like_graphs() {
        let e = Eligibility {
            principal: USER.to_owned(),
            role: GA.to_ascii_lowercase(),
            start: Utc::now(),
            end: None,
        };
        assert!(e.instance_id().ends_with("-1-e"));
        assert!(uuid::Uuid::parse_str(&e.schedule_id()).is_ok());
        assert_ne!(role_object_id(GA), GA.to_ascii_lowercase());
        assert_eq!(role_names(GA).0, "Global Administrator");
    }
}
