//! Who is acting, as established by sign-in or a bearer token.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::config::RoleSettings;
use crate::domain::{Role, UserRef};

/// How far a sign-in reaches into jitgate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reach {
    /// A browser session, or a token for the portal's own API (which the device-code block
    /// covers): whatever the person's roles allow.
    #[default]
    Portal,
    /// A token for the requests API, the one jitgate resource that device-code sign-ins reach (so
    /// one that may have been phished): the person may ask for access and act on their own
    /// requests, nothing else, whatever their roles.
    Requests,
}

/// A signed-in person: their directory identity, the app roles their token carried and the
/// authentication contexts their sign-in satisfied. Kept in the browser session as JSON
/// (`{"user": {...}, "raw_roles": [...], "acrs": [...]}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub user: UserRef,
    /// App role values from the token, as issued.
    pub raw_roles: Vec<String>,
    /// The Conditional Access authentication contexts (`c1`..`c99`) the sign-in satisfied: the
    /// `acrs` claim of the ID token (a browser session) or of the access token (a bearer).
    #[serde(default)]
    pub acrs: Vec<String>,
    /// The packages' approver groups this person is in (lower-case object ids), as the
    /// directory last said; filled in by the service, never from the token.
    #[serde(skip)]
    pub groups: Vec<String>,
    #[serde(skip)]
    pub client_ip: Option<String>,
    #[serde(skip)]
    pub user_agent: Option<String>,
    /// What the sign-in may reach; a browser session always reaches the whole portal.
    #[serde(skip)]
    pub reach: Reach,
}

/// The `acrs` claim: a list of authentication context ids (Entra's form), or one id alone.
pub(super) fn acrs_claim<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Acrs {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Option::<Acrs>::deserialize(d)? {
        None => Vec::new(),
        Some(Acrs::One(a)) => vec![a],
        Some(Acrs::Many(all)) => all,
    })
}

impl Principal {
    pub fn new(user: UserRef, raw_roles: Vec<String>) -> Principal {
        Principal {
            user,
            raw_roles,
            acrs: Vec::new(),
            groups: Vec::new(),
            client_ip: None,
            user_agent: None,
            reach: Reach::Portal,
        }
    }

    /// Whether this sign-in may only ask for access and act on the person's own requests.
    pub fn requests_only(&self) -> bool {
        self.reach == Reach::Requests
    }

    /// Whether the sign-in satisfied the authentication context `context` (step-up).
    pub fn satisfies(&self, context: &str) -> bool {
        crate::domain::step_up::satisfied(&self.acrs, context)
    }

    /// The person a verified token names by object id `oid`: known by `username` (the first of
    /// the token's usernames it carries, else the object id) and by `name` (else the username),
    /// with the authentication contexts `acrs` the sign-in satisfied.
    pub(super) fn from_token(
        oid: String,
        name: Option<String>,
        username: Option<String>,
        raw_roles: Vec<String>,
        acrs: Vec<String>,
    ) -> Principal {
        let username = username.unwrap_or_else(|| oid.clone());
        let mut who = Principal::new(
            UserRef {
                id: oid,
                name: name.unwrap_or_else(|| username.clone()),
                username,
            },
            raw_roles,
        );
        // Bounded: a claim is the provider's, but a session keeps it.
        who.acrs = acrs
            .into_iter()
            .filter(|a| a.len() <= 64)
            .take(100)
            .collect();
        who
    }

    /// The portal roles this principal holds under the configured role values: none through
    /// the requests API, whatever the token says.
    pub fn roles(&self, cfg: &RoleSettings) -> BTreeSet<Role> {
        let mut out = BTreeSet::new();
        if self.requests_only() {
            return out;
        }
        for (role, value) in [
            (Role::Approver, &cfg.approver),
            (Role::Auditor, &cfg.auditor),
            (Role::Admin, &cfg.admin),
            (Role::RequesterOnBehalf, &cfg.requester_on_behalf),
        ] {
            if self.raw_roles.iter().any(|r| r == value) {
                out.insert(role);
            }
        }
        out
    }
}
