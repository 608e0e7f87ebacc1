//! What a jitgate registration consists of, for one tenant and public URL.

use sha2::{Digest, Sha256};

/// Microsoft Graph's application id: its service principal in every tenant has this `appId`.
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";

/// The Graph application permissions the portal's app is granted, with admin consent (README,
/// "Registering jitgate in Entra ID", step 5; `Mail.Send`, `User.RevokeSessions.All` and
/// `RoleManagement.ReadWrite.Directory` only where a setting needs them, so not here).
pub const GRAPH_PERMISSIONS: &[&str] = &[
    "GroupMember.ReadWrite.All",
    "User.Read.All",
    "Application.Read.All",
    "Policy.Read.All",
    "AuditLog.Read.All",
    "RoleManagement.Read.Directory",
];

/// The delegated Graph scopes the admin running `jitgate setup` signs in with (no
/// `DelegatedPermissionGrant.ReadWrite.All`: the command-line client is pre-authorized on the
/// API instead of consented with a permission grant).
pub const SETUP_SCOPES: &[&str] = &[
    "Application.ReadWrite.All",
    "AppRoleAssignment.ReadWrite.All",
    "Group.ReadWrite.All",
    "Policy.ReadWrite.ConditionalAccess",
    "Policy.Read.All",
];

/// The app roles the portal knows by default (`[roles]`), each assignable to users and groups.
pub const APP_ROLES: &[(&str, &str)] = &[
    ("Approver", "Decides requests for access"),
    ("Auditor", "Reads the audit trail"),
    (
        "Admin",
        "Runs jitgate: packages, operations, the audit trail",
    ),
    (
        "RequesterOnBehalf",
        "Asks for access on others' behalf (device accounts)",
    ),
];

/// The delegated scope of the portal's API that the command line asks for.
pub const API_SCOPE: &str = "access_as_user";

/// What `jitgate setup` is to make of a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    pub tenant_id: String,
    /// The portal's public URL, without a trailing slash.
    pub public_url: String,
    /// The portal's app registration's display name.
    pub app_name: String,
    /// The command-line client's registration's display name; none: not registered.
    pub cli_name: Option<String>,
    /// The exclusion group's display name.
    pub group_name: String,
    /// Whether the group is created role-assignable (needs `RoleManagement.ReadWrite.Directory`).
    pub role_assignable: bool,
    /// The report-only "block device code flow" policy's display name.
    pub policy_name: String,
    /// A certificate to upload as the app's credential.
    pub certificate: Option<Certificate>,
    /// A federated identity credential (workload identity) to add.
    pub federated: Option<Federated>,
}

/// A certificate's public part, as Graph's `keyCredentials` take it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// Base64 of the DER certificate.
    pub key: String,
    /// Its SHA-256 thumbprint, hex: in the key credential's display name, by which a re-run
    /// finds it (Graph never returns a key credential's `key`).
    pub thumbprint: String,
}

impl Certificate {
    pub fn display_name(&self) -> String {
        format!("jitgate {}", self.thumbprint)
    }
}

/// Tokens from `issuer` about `subject` (e.g. a Kubernetes service account) accepted as the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Federated {
    pub issuer: String,
    pub subject: String,
}

/// The audience Entra expects in a federated token.
pub const TOKEN_EXCHANGE_AUDIENCE: &str = "api://AzureADTokenExchange";

impl Desired {
    /// The portal's registration is found by this identifier URI. Known before the app exists
    /// (unlike `api://{appId}`), and one of the forms Entra's default app management policy
    /// allows: `api://{tenant id}/{name}`.
    pub fn identifier_uri(&self) -> String {
        format!("api://{}/jitgate", self.tenant_id)
    }

    /// The portal's sign-in redirect URI.
    pub fn redirect_uri(&self) -> String {
        format!("{}/auth/callback", self.public_url.trim_end_matches('/'))
    }

    /// The full name of the portal's API scope.
    pub fn api_scope(&self) -> String {
        format!("{}/{API_SCOPE}", self.identifier_uri())
    }

    /// The Graph application permissions the portal's app needs: [`GRAPH_PERMISSIONS`], and
    /// `RoleManagement.ReadWrite.Directory` to manage a role-assignable group's members.
    pub fn graph_permissions(&self) -> Vec<&'static str> {
        let mut all = GRAPH_PERMISSIONS.to_vec();
        if self.role_assignable {
            all.push("RoleManagement.ReadWrite.Directory");
        }
        all
    }

    /// The id of an app role or of the API scope: stable for a tenant, so that a re-run that finds
    /// none of them under their values would propose the same ids.
    pub fn role_id(&self, value: &str) -> String {
        stable_id(&format!("{}|{value}", self.identifier_uri()))
    }
}

/// A GUID derived from `seed` (SHA-256, shaped as a version-4 UUID).
pub fn stable_id(seed: &str) -> String {
    let d = Sha256::digest(seed.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}
