//! The directory jitgate acts on: Microsoft Graph group membership, users, managers and
//! Conditional Access policies, behind the [`Directory`] trait so that the outbox worker, the
//! scheduler and the handlers can be tested with fakes.
//!
//! [`GraphClient`] is the Graph implementation:
//! - `client`: the client (where it sends, as whom) and its answers to [`Directory`];
//! - `settings`: where and as whom it talks to Graph;
//! - `token`: the app's client-credentials token and its cache;
//! - `request`: one call (paced writes, a renewed token), reads retried inline, lists read page
//!   by page;
//! - `pacer`: the client-side budget of writes;
//! - `wire`: reading Graph's answers (errors, `Retry-After`) and the id forms a path takes;
//! - `members`: adding, removing, checking and listing group members one call at a time;
//! - `delta`: what changed in a group's members since a delta link (Graph's change tracking);
//! - `batch`: many membership changes or checks in one `$batch`;
//! - `users`: a user, their manager, ending their sessions;
//! - `access`: a person's account state and app roles, and who holds a role;
//! - `roles`: the directory (administrator) roles a person holds, active or eligible through PIM;
//! - `mail`: e-mail sent as the application;
//! - `sign_ins`: device-code sign-ins from the sign-in log;
//! - `policies`: reading the Conditional Access policies, which `posture` judges;
//! - `admin`: Graph with an admin's delegated token, for `jitgate setup`.

mod access;
mod admin;
mod app_credentials;
mod batch;
mod client;
mod delta;
mod mail;
mod members;
mod pacer;
mod policies;
pub mod posture;
mod request;
mod roles;
mod settings;
mod sign_ins;
mod token;
mod users;
mod wire;

use std::time::Duration;

pub use admin::AdminGraph;
pub use batch::read_batch_answer;
pub use client::GraphClient;
pub use pacer::Pacer;
pub use settings::GraphSettings;
pub use sign_ins::read_entries as read_sign_in_entries;
pub use wire::{classify_answer, graph_error, retry_after_value};

/// One sign-in from Entra's sign-in log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SignIn {
    /// The log entry's id (stable: the same sign-in read twice has the same id).
    pub id: String,
    pub at: chrono::DateTime<chrono::Utc>,
    pub user_id: String,
    pub user_principal_name: String,
    pub app_id: String,
    pub app_name: String,
    pub ip_address: String,
    /// `success`, `failure` or `notApplied`.
    pub conditional_access: String,
    /// 0 when the sign-in succeeded; 53003 when Conditional Access blocked it.
    pub error_code: i64,
    pub failure_reason: Option<String>,
    /// The application id of the resource signed in to (the API the token is for).
    pub resource_id: String,
}

/// One reading of the sign-in log: the entries read, and those that could not be read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignInLog {
    pub sign_ins: Vec<SignIn>,
    /// Entries skipped because they are not in the shape documented (no `createdDateTime`, say):
    /// one such entry never costs the reading the others.
    pub unreadable: Vec<UnreadableSignIn>,
}

/// A sign-in log entry that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadableSignIn {
    /// The entry's id; for an entry without one, a digest of the entry (the same entry read
    /// again has the same key). An id that is empty, longer than 128 characters, or holds spaces or
    /// control characters reads as none.
    pub key: String,
    /// What is wrong with it, e.g. "missing field `createdDateTime`".
    pub problem: String,
}

impl SignIn {
    pub fn succeeded(&self) -> bool {
        self.error_code == 0
    }

    pub fn blocked_by_conditional_access(&self) -> bool {
        self.error_code == 53003
    }
}

/// Outcome of an idempotent membership change. Graph's "already a member" and "not a member"
/// answers are successes too (wire doc §1.4, §3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberChange {
    Added,
    AlreadyMember,
    Removed,
    NotMember,
    /// The user's sign-in sessions were revoked.
    SessionsRevoked,
}

/// One membership change, as a batch carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberOp {
    /// `true` to add, `false` to remove.
    pub add: bool,
    pub group_id: String,
    pub user_id: String,
}

/// A user (or other directory object) as Graph lists it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryUser {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub user_principal_name: Option<String>,
    /// The primary SMTP address, when the user has a mailbox.
    #[serde(default)]
    pub mail: Option<String>,
    /// `#microsoft.graph.user`, `#microsoft.graph.group`, ... when Graph says.
    #[serde(rename = "@odata.type", default)]
    pub odata_type: Option<String>,
}

impl DirectoryUser {
    /// Where e-mail to this user goes: `mail`, or else the user principal name.
    pub fn email(&self) -> Option<&str> {
        self.mail
            .as_deref()
            .filter(|m| !m.is_empty())
            .or(self.user_principal_name.as_deref())
    }
}

/// What changed in a group's members since a delta link (Graph's change tracking), or, without
/// one, every member (a full synchronisation). Ids are lower case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberDelta {
    /// Whether this is a full synchronisation: `present` then lists every member.
    pub full: bool,
    /// Members added since the link (on a full synchronisation: every member).
    pub present: Vec<String>,
    /// Members removed since the link.
    pub gone: Vec<String>,
    /// The link that asks for the changes after these.
    pub delta_link: String,
}

/// A person's standing in the directory now: whether they may sign in, and the app role
/// values of this application assigned to them (directly or through a group).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserAccess {
    pub enabled: bool,
    pub roles: Vec<String>,
}

/// How a directory role is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RoleHolding {
    /// Assigned and in effect now: directly, through a role-assignable group, or activated
    /// through PIM (`/users/{id}/transitiveMemberOf/microsoft.graph.directoryRole`).
    Active,
    /// Eligible through PIM, directly or through a role-assignable group
    /// (`/roleManagement/directory/roleEligibilityScheduleInstances`): the person may activate
    /// it at any moment.
    Eligible,
}

/// A directory (administrator) role a user holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryRole {
    /// The role's template id, lower case (for built-in roles the same in every tenant, e.g.
    /// `62e90394-69f5-4237-9190-012177145e10` for Global Administrator). When Graph shows an
    /// active role with limited information (an app that may not read roles), its object id.
    pub id: String,
    /// The display name, when Graph gives it.
    pub name: Option<String>,
    pub holding: RoleHolding,
}

/// Why a directory call failed, classified for the retry policy of the caller.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DirectoryError {
    /// 429 / 503 / 504: retry later, honouring `retry_after` when Graph sent one.
    #[error("Graph asked to slow down (HTTP {status}): {message}")]
    Throttled {
        status: u16,
        retry_after: Option<Duration>,
        message: String,
    },
    /// Network errors and other 5xx: retry with backoff.
    #[error("transient directory error: {0}")]
    Transient(String),
    /// Any other 4xx from Graph (or an id that is not a GUID): retrying will not help.
    #[error("Graph rejected the request (HTTP {status} {code}): {message}")]
    Rejected {
        status: u16,
        code: String,
        message: String,
    },
    /// The client-credentials token could not be obtained.
    #[error("could not obtain a Graph access token: {message}")]
    Token { retriable: bool, message: String },
}

impl DirectoryError {
    /// Whether the same call may succeed later.
    pub fn is_retriable(&self) -> bool {
        match self {
            DirectoryError::Throttled { .. } | DirectoryError::Transient(_) => true,
            DirectoryError::Rejected { .. } => false,
            DirectoryError::Token { retriable, .. } => *retriable,
        }
    }

    /// The delay Graph asked for (`Retry-After`), if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            DirectoryError::Throttled { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// The directory operations jitgate needs.
#[async_trait::async_trait]
pub trait Directory: Send + Sync + 'static {
    /// Adds `user_id` to `group_id`; "already a member" is [`MemberChange::AlreadyMember`].
    async fn add_member(
        &self,
        group_id: &str,
        user_id: &str,
    ) -> Result<MemberChange, DirectoryError>;
    /// Removes `user_id` from `group_id`; "not a member" is [`MemberChange::NotMember`].
    async fn remove_member(
        &self,
        group_id: &str,
        user_id: &str,
    ) -> Result<MemberChange, DirectoryError>;
    /// Several membership changes at once (Graph's JSON batching where the directory has it),
    /// one answer per change, in order. By default one call each.
    async fn change_members(&self, ops: &[MemberOp]) -> Vec<Result<MemberChange, DirectoryError>> {
        let mut out = Vec::with_capacity(ops.len());
        for op in ops {
            out.push(if op.add {
                self.add_member(&op.group_id, &op.user_id).await
            } else {
                self.remove_member(&op.group_id, &op.user_id).await
            });
        }
        out
    }
    /// Whether reads show `user_id` as a member of `group_id` now (Graph is eventually
    /// consistent: a change may take a moment to show).
    async fn is_member(&self, group_id: &str, user_id: &str) -> Result<bool, DirectoryError>;
    /// [`Directory::is_member`] for several (group, user) pairs, in order.
    async fn are_members(&self, pairs: &[(String, String)]) -> Vec<Result<bool, DirectoryError>> {
        let mut out = Vec::with_capacity(pairs.len());
        for (g, u) in pairs {
            out.push(self.is_member(g, u).await);
        }
        out
    }
    /// Ends every sign-in session of the user (`revokeSignInSessions`).
    async fn revoke_sign_in_sessions(&self, user_id: &str) -> Result<(), DirectoryError>;
    /// What changed in `group_id`'s members since `delta_link` (`GET /groups/delta`), or every
    /// member without one. A link Graph no longer knows is refused (a 4xx, e.g. 400
    /// `syncStateNotFound` or 410): start over without it.
    async fn member_delta(
        &self,
        group_id: &str,
        delta_link: Option<&str>,
    ) -> Result<MemberDelta, DirectoryError>;
    /// All direct members, following `@odata.nextLink` verbatim.
    async fn list_members(&self, group_id: &str) -> Result<Vec<DirectoryUser>, DirectoryError>;
    /// The users in a group, directly or through nested groups
    /// (`/groups/{id}/transitiveMembers/microsoft.graph.user`).
    async fn list_transitive_members(
        &self,
        group_id: &str,
    ) -> Result<Vec<DirectoryUser>, DirectoryError>;
    /// A user by object id (or user principal name); `None` when Graph answers 404.
    async fn get_user(&self, id: &str) -> Result<Option<DirectoryUser>, DirectoryError>;
    /// Users whose display name or user principal name has a word starting with `term`
    /// (Graph's `$search`), at most `top`.
    async fn search_users(
        &self,
        term: &str,
        top: usize,
    ) -> Result<Vec<DirectoryUser>, DirectoryError>;
    /// The user's manager; `None` when no manager is set.
    async fn get_manager(&self, user_id: &str) -> Result<Option<DirectoryUser>, DirectoryError>;
    /// Whether `user_id`'s account is enabled and which of this application's app roles they
    /// hold now; `None` when the user no longer exists.
    async fn user_access(&self, user_id: &str) -> Result<Option<UserAccess>, DirectoryError>;
    /// Which of `groups` the user is in, directly or transitively (lower-case object ids).
    async fn member_groups_among(
        &self,
        user_id: &str,
        groups: &[String],
    ) -> Result<Vec<String>, DirectoryError>;
    /// The directory (administrator) roles `user_id` holds now, active or eligible through PIM,
    /// directly or through role-assignable groups; one entry per role (active when both).
    /// Needs `RoleManagement.Read.Directory`: without it the eligibility read is refused (403).
    async fn privileged_roles(&self, user_id: &str) -> Result<Vec<DirectoryRole>, DirectoryError>;
    /// The users holding this application's app role `value`, directly or through a group.
    async fn app_role_holders(&self, value: &str) -> Result<Vec<DirectoryUser>, DirectoryError>;
    /// Sends a plain-text e-mail from the mailbox `sender` (a user id or principal name) to
    /// `to` (addresses), as the application (`Mail.Send`): one recipient in `To`, several all in
    /// `Bcc`, so no recipient sees another's address. Accepted is not delivered: Exchange
    /// Online delivers it later.
    async fn send_mail(
        &self,
        sender: &str,
        to: &[String],
        subject: &str,
        body: &str,
    ) -> Result<(), DirectoryError>;
    /// Device-code sign-ins at or after `since`, of everyone or of one user, newest first
    /// (`GET /beta/auditLogs/signIns`, `AuditLog.Read.All`). Entra adds sign-ins to its log
    /// minutes after they happen. Each entry is read on its own: one that cannot be read is
    /// listed as unreadable, and the others are kept.
    async fn device_code_sign_ins(
        &self,
        since: chrono::DateTime<chrono::Utc>,
        user_id: Option<&str>,
    ) -> Result<SignInLog, DirectoryError>;
    /// `GET /identity/conditionalAccess/policies`, all pages merged into one `value` array.
    async fn list_conditional_access_policies(&self) -> Result<serde_json::Value, DirectoryError>;
    /// The client secrets and certificates of the app registration `app_id`
    /// (`GET /applications(appId='…')`, `Application.Read.All`): names and ends, never a secret.
    async fn app_credentials(&self, app_id: &str) -> Result<Vec<AppCredential>, DirectoryError>;
}

/// One credential of an app registration as Graph lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppCredential {
    /// `"secret"` (`passwordCredentials`) or `"certificate"` (`keyCredentials`).
    pub kind: &'static str,
    pub key_id: String,
    pub display_name: Option<String>,
    /// A secret's first characters, as Entra shows them.
    pub hint: Option<String>,
    /// None when Graph gives no end.
    pub end: Option<chrono::DateTime<chrono::Utc>>,
}

impl AppCredential {
    /// How the credential is named in metrics and pages: the hint and key id, never the secret.
    pub fn label(&self) -> String {
        match &self.hint {
            Some(h) if !h.is_empty() => format!("{h}… ({})", self.key_id),
            _ => self.key_id.clone(),
        }
    }
}

/// True for the 36-character hyphenated GUID form of directory object ids.
pub fn is_object_id(s: &str) -> bool {
    s.len() == 36 && uuid::Uuid::try_parse(s).is_ok()
}
