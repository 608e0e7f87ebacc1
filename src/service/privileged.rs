//! Privileged accounts: the Entra directory roles a person holds, active or eligible through PIM,
//! read through Graph at most once per `role_refresh` per person, and what a package's
//! `deny_privileged` and `privileged_allow` make of them. A reading that fails is never taken
//! for "holds none": the caller gets an error and nothing is decided (fail closed).

use chrono::{DateTime, Utc};

use super::Portal;
use crate::domain::Package;
use crate::domain::privileged::{self, HeldRole, Holding, PrivilegedVerdict};
use crate::error::{AppError, AppResult};
use crate::graph::{DirectoryError, DirectoryRole, RoleHolding};

/// The directory roles a person held when last read.
#[derive(Debug, Clone)]
pub(crate) struct RoleReading {
    read_at: DateTime<Utc>,
    roles: Vec<HeldRole>,
}

fn held(role: DirectoryRole) -> HeldRole {
    HeldRole {
        id: role.id,
        name: role.name,
        holding: match role.holding {
            RoleHolding::Active => Holding::Active,
            RoleHolding::Eligible => Holding::Eligible,
        },
    }
}

/// What a person (the requester, or a decider) is told when the requester's roles cannot be
/// read, and what the log says.
fn unreadable(user_id: &str, e: &DirectoryError) -> AppError {
    let permission = matches!(e, DirectoryError::Rejected { status: 403, .. });
    if permission {
        tracing::error!(user = %user_id, error = %e, "cannot read directory roles: grant the app RoleManagement.Read.Directory (jitgate check reports it)");
    } else {
        tracing::warn!(user = %user_id, error = %e, "could not read a person's directory roles");
    }
    AppError::Unavailable(
        "jitgate could not read from Entra ID whether the requester holds a directory role, which this package does not allow, so nothing was decided. Try again in a few minutes; if it keeps failing, tell an administrator."
            .to_string(),
    )
}

impl Portal {
    /// The directory roles `user_id` holds now, active or eligible through PIM (directly or
    /// through role-assignable groups), one entry per role. Read through Graph at most once per
    /// `role_refresh` per person; a failed reading is an error ([`AppError::Unavailable`]),
    /// never "holds none", and is not kept, so the next call reads again.
    pub async fn privileged_roles(&self, user_id: &str) -> AppResult<Vec<HeldRole>> {
        let key = user_id.trim().to_ascii_lowercase();
        let now = self.now();
        let every = self.settings.server.role_refresh;
        let last = self
            .privileged
            .lock()
            .expect("directory role cache poisoned")
            .get(&key)
            .cloned();
        if let Some(l) = last
            && now - l.read_at < every
            && l.read_at <= now
        {
            return Ok(l.roles);
        }
        let roles: Vec<HeldRole> = self
            .directory
            .privileged_roles(&key)
            .await
            .map_err(|e| unreadable(&key, &e))?
            .into_iter()
            .map(held)
            .collect();
        let mut cache = self
            .privileged
            .lock()
            .expect("directory role cache poisoned");
        if cache.len() > 50_000 {
            cache.clear();
        }
        cache.insert(
            key,
            RoleReading {
                read_at: now,
                roles: roles.clone(),
            },
        );
        Ok(roles)
    }

    /// What `package`'s `deny_privileged` and `privileged_allow` make of `user_id` now. No
    /// directory reading when the package does not deny privileged accounts; an error (fail
    /// closed) when one is needed and fails.
    pub async fn privileged_verdict(
        &self,
        package: &Package,
        user_id: &str,
    ) -> AppResult<PrivilegedVerdict> {
        if !package.deny_privileged {
            return Ok(PrivilegedVerdict::Allowed);
        }
        let held = self.privileged_roles(user_id).await?;
        Ok(privileged::judge(package, user_id, &held))
    }
}
