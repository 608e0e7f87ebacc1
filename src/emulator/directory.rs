//! The tenant's directory as the handlers read it: users and groups by id, memberships (as they
//! are, and as lagging reads see them), app roles, account state, and the ids apps see.

use sha2::{Digest, Sha256};

use super::config::{DemoGroup, DemoUser};
use super::tenant::Emulator;

impl Emulator {
    /// Current member ids of a group.
    pub fn members(&self, group_id: &str) -> Vec<String> {
        self.state()
            .members
            .get(&group_id.to_ascii_lowercase())
            .cloned()
            .unwrap_or_default()
    }

    /// Member ids of a group as reads see them (older than the read lag).
    pub(crate) fn visible_members(&self, group_id: &str) -> Vec<String> {
        let mut st = self.state();
        let group = group_id.to_ascii_lowercase();
        let current = st.members.get(&group).cloned().unwrap_or_default();
        let mut seen: Vec<String> = current
            .iter()
            .filter(|u| st.conditions.seen(&group, u, true))
            .cloned()
            .collect();
        let now = tokio::time::Instant::now();
        seen.extend(
            st.conditions
                .unseen
                .iter()
                .filter(|((g, u), (before, at))| {
                    *g == group && *before && now < *at && !current.contains(u)
                })
                .map(|((_, u), _)| u.clone()),
        );
        seen
    }

    /// Whether reads show `user_id` in `group_id`.
    pub(crate) fn visible_member(&self, group_id: &str, user_id: &str) -> bool {
        let mut st = self.state();
        let group = group_id.to_ascii_lowercase();
        let user = user_id.to_ascii_lowercase();
        let now = st.members.get(&group).is_some_and(|m| m.contains(&user));
        st.conditions.seen(&group, &user, now)
    }

    /// The app roles `user` holds now.
    pub(crate) fn roles_of(&self, user: &DemoUser) -> Vec<String> {
        self.state()
            .roles
            .get(&user.id.to_ascii_lowercase())
            .cloned()
            .unwrap_or_else(|| user.roles.clone())
    }

    pub(crate) fn account_enabled(&self, user: &DemoUser) -> bool {
        !self
            .state()
            .disabled
            .contains(&user.id.to_ascii_lowercase())
    }

    pub(crate) fn user(&self, id_or_upn: &str) -> Option<&DemoUser> {
        self.inner.config.users.iter().find(|u| {
            u.id.eq_ignore_ascii_case(id_or_upn) || u.username.eq_ignore_ascii_case(id_or_upn)
        })
    }

    /// Every user of the tenant, in the order configured.
    pub(crate) fn users(&self) -> &[DemoUser] {
        &self.inner.config.users
    }

    pub(crate) fn group(&self, id: &str) -> Option<&DemoGroup> {
        self.inner
            .config
            .groups
            .iter()
            .find(|g| g.id.eq_ignore_ascii_case(id))
    }

    /// Stable pairwise subject for the portal's app: base64url(SHA-256(oid ‖ client id)).
    pub(crate) fn pairwise_sub(&self, oid: &str) -> String {
        self.pairwise_sub_for(oid, &self.inner.config.client_id)
    }

    /// Stable pairwise subject of `oid` for the app `client_id`.
    pub(crate) fn pairwise_sub_for(&self, oid: &str, client_id: &str) -> String {
        use base64::Engine;
        let digest =
            Sha256::digest(format!("{}|{}", oid.to_ascii_lowercase(), client_id).as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
    }
}

/// A stable GUID-shaped object id for the app's service principal (a managed identity's too).
pub fn service_principal_id(client_id: &str) -> String {
    let d = Sha256::digest(format!("sp|{client_id}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    uuid::Builder::from_random_bytes(b).into_uuid().to_string()
}
