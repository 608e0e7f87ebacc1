//! The application service: every use case of the portal, shared by the JSON API, the pages, the
//! scheduler and the command line. Each state change commits together with the directory
//! operation it implies and its audit events.

pub mod audit;
pub(crate) mod lifecycle;
mod requests;

pub use requests::{DecisionInput, ListQuery};

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::Notify;

use crate::clock::Clock;
use crate::config::{RoleSettings, Settings};
use crate::domain::{AuditAction, NewAuditEvent, Package, Request, Role, UserRef};
use crate::graph::Directory;
use crate::store::Store;

/// Who is acting, as established by sign-in or a bearer token.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Principal {
    pub user: PrincipalUser,
    /// App role values from the token, as issued.
    pub raw_roles: Vec<String>,
    #[serde(skip)]
    pub client_ip: Option<String>,
    #[serde(skip)]
    pub user_agent: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PrincipalUser {
    pub id: String,
    pub name: String,
    pub username: String,
}

impl Principal {
    pub fn new(user: UserRef, raw_roles: Vec<String>) -> Principal {
        Principal {
            user: PrincipalUser {
                id: user.id,
                name: user.name,
                username: user.username,
            },
            raw_roles,
            client_ip: None,
            user_agent: None,
        }
    }

    pub fn user_ref(&self) -> UserRef {
        UserRef {
            id: self.user.id.clone(),
            name: self.user.name.clone(),
            username: self.user.username.clone(),
        }
    }

    /// The portal roles this principal holds under the configured role values.
    pub fn roles(&self, cfg: &RoleSettings) -> BTreeSet<Role> {
        let mut out = BTreeSet::new();
        for (role, value) in [
            (Role::Approver, &cfg.approver),
            (Role::Auditor, &cfg.auditor),
            (Role::Admin, &cfg.admin),
        ] {
            if self.raw_roles.iter().any(|r| r == value) {
                out.insert(role);
            }
        }
        out
    }
}

/// Wakes the background loops when there is new work.
#[derive(Default)]
pub struct Wakers {
    pub worker: Notify,
    pub scheduler: Notify,
}

#[derive(Clone)]
pub struct Portal {
    pub settings: Arc<Settings>,
    pub store: Arc<dyn Store>,
    pub directory: Arc<dyn Directory>,
    pub clock: Arc<dyn Clock>,
    pub wake: Arc<Wakers>,
    pub chain: Arc<audit::ChainWatch>,
}

impl Portal {
    pub fn new(
        settings: Arc<Settings>,
        store: Arc<dyn Store>,
        directory: Arc<dyn Directory>,
        clock: Arc<dyn Clock>,
    ) -> Portal {
        Portal {
            settings,
            store,
            directory,
            clock,
            wake: Arc::new(Wakers::default()),
            chain: Arc::default(),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn package(&self, id: &str) -> Option<&Package> {
        self.settings.package(id)
    }

    pub fn has_role(&self, who: &Principal, role: Role) -> bool {
        who.roles(&self.settings.roles).contains(&role)
    }

    /// Whether `who` may see this request: its requester, anyone who may decide it, auditors and admins.
    pub fn may_view(&self, who: &Principal, r: &Request) -> bool {
        r.requester.id == who.user.id
            || self.has_role(who, Role::Auditor)
            || self.has_role(who, Role::Admin)
            || self.has_role(who, Role::Approver)
            || r.manager_id.as_deref() == Some(who.user.id.as_str())
    }

    pub fn may_decide(&self, who: &Principal, r: &Request) -> bool {
        match self.package(&r.package) {
            Some(pkg) => r.may_be_decided_by(&who.user.id, self.has_role(who, Role::Approver), pkg),
            None => false,
        }
    }

    fn notify(&self) {
        self.wake.worker.notify_one();
        self.wake.scheduler.notify_one();
    }
}

/// An audit event about `r`, by `actor` (or the system when `None`).
pub(crate) fn event(
    actor: Option<&Principal>,
    action: AuditAction,
    r: &Request,
    at: DateTime<Utc>,
    details: serde_json::Value,
) -> NewAuditEvent {
    let (actor_id, actor_name) = match actor {
        Some(p) => (p.user.id.clone(), p.user.name.clone()),
        None => ("system".to_string(), "jitgate".to_string()),
    };
    NewAuditEvent {
        at,
        actor_id,
        actor_name,
        action,
        request_id: Some(r.id.clone()),
        subject_id: Some(r.requester.id.clone()),
        details,
        client_ip: actor.and_then(|p| p.client_ip.clone()),
        user_agent: actor.and_then(|p| p.user_agent.clone()),
    }
}
