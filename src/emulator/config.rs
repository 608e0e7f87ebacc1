//! What the emulated tenant contains and how its app registration is set up: the configuration,
//! its users, its groups and the directory roles held from the start.

use std::path::PathBuf;

/// A user of the emulated tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoUser {
    /// Object id (GUID), the `oid` claim and Graph `id`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// User principal name (`preferred_username`).
    pub username: String,
    /// App role values put in the `roles` claim of ID and access tokens.
    pub roles: Vec<String>,
    /// Object id of the user's manager, if any.
    pub manager_id: Option<String>,
}

/// A security group of the emulated tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoGroup {
    pub id: String,
    pub display_name: String,
}

/// A directory (administrator) role held from the tenant's start, by a user or a group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleGrant {
    /// The user or (role-assignable) group holding it.
    pub principal_id: String,
    /// The role's template id, e.g. [`GLOBAL_ADMINISTRATOR`](super::demo::GLOBAL_ADMINISTRATOR).
    pub role_template_id: String,
    /// Eligible through PIM (with no end) rather than active.
    pub eligible: bool,
}

/// A federated identity credential of the app registration: tokens from `issuer` about
/// `subject` for `audience` stand for the app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FederatedCredential {
    pub issuer: String,
    /// Case-sensitive, no wildcards, as Entra compares it.
    pub subject: String,
    /// `api://AzureADTokenExchange`.
    pub audience: String,
    /// The issuer's signing key (PEM, SPKI or PKCS#1); none for the emulated tenant's own
    /// issuer (a managed identity's tokens), whose keys it has.
    pub public_key_pem: Option<String>,
}

/// A client secret of the app registration as Graph lists it (`passwordCredentials`): never
/// the secret itself, only its first characters (`hint`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasswordCredential {
    pub key_id: String,
    pub display_name: String,
    pub hint: String,
    pub end: chrono::DateTime<chrono::Utc>,
}

/// What the emulated tenant contains and how its app registration is set up.
#[derive(Clone, Debug)]
pub struct EmulatorConfig {
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: String,
    /// Registered redirect URIs; exact match at authorize and at code redemption.
    pub redirect_uris: Vec<String>,
    pub users: Vec<DemoUser>,
    pub groups: Vec<DemoGroup>,
    /// `roles` of app-only Graph tokens.
    pub app_permissions: Vec<String>,
    /// When set, group memberships are loaded from and saved to this JSON file on every change.
    pub state_file: Option<PathBuf>,
    /// Client ids of public clients (no secret) that may use the device code flow.
    pub public_clients: Vec<String>,
    /// The "jitgate requests API" registration (an API with no secret and no sign-in of its
    /// own), which the "Block device code flow" policy excludes by default.
    pub requests_api_id: Option<String>,
    /// Directory roles held from the start (tests give and take more with
    /// `Emulator::give_directory_role`).
    pub directory_roles: Vec<RoleGrant>,
    /// Certificates uploaded to the app registration (PEM): assertions signed with their keys
    /// authenticate it, while the certificate is valid.
    pub certificates: Vec<String>,
    /// Federated identity credentials of the app registration.
    pub federated_credentials: Vec<FederatedCredential>,
    /// Client ids of the user-assigned managed identities the metadata endpoint
    /// (`/metadata/identity/oauth2/token`) gives tokens for.
    pub managed_identities: Vec<String>,
    /// The app registration's client secrets as `GET /applications(appId='…')` lists them.
    pub password_credentials: Vec<PasswordCredential>,
}
