//! Who is calling, what they may request, and how the command-line client signs in.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A person, as Entra names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Person {
    /// The Entra object id (`oid`).
    pub id: String,
    pub name: String,
    /// The user principal name.
    pub username: String,
}

/// `GET /api/v1/people`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeopleQuery {
    /// The start of a word of a display name, or of a user principal name (2 to 64 characters).
    #[param(min_length = 2, max_length = 64)]
    pub search: String,
}

/// The people found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PersonList {
    pub people: Vec<Person>,
}

/// `GET /api/v1/me`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Me {
    pub id: String,
    pub name: String,
    pub username: String,
    /// The portal roles: `approver`, `auditor`, `admin`, `requester_on_behalf`.
    pub roles: Vec<String>,
    /// The app role values the token carried, as issued.
    pub app_roles: Vec<String>,
    /// `requests` for a token of the requests API (a device-code sign-in's): it may only ask
    /// for access and act on the caller's own requests, and `roles` is empty; else `portal`.
    #[serde(default = "portal_reach")]
    pub reach: String,
}

fn portal_reach() -> String {
    "portal".into()
}

/// A package: one Entra group and the rules for requesting it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Package {
    pub id: String,
    pub name: String,
    pub description: String,
    pub group_id: String,
    pub min_duration_minutes: i64,
    pub default_duration_minutes: i64,
    pub max_duration_minutes: i64,
    pub duration_presets_minutes: Vec<i64>,
    pub approvals_required: u32,
    pub ticket_required: bool,
    /// The form the whole ticket must have (a regular expression), if the package sets one.
    pub ticket_pattern: Option<String>,
    /// What a ticket looks like, in words (e.g. "A change or incident number, e.g. CHG0012345").
    pub ticket_hint: Option<String>,
    /// Tickets are checked with the package's ticket system (`ticket_validator`) when asking
    /// and at each approval; a ticket it refuses is refused (422, rule `ticket_validator`).
    #[serde(default)]
    pub ticket_validated: bool,
    /// Step-up: the Conditional Access authentication context (`c1`..`c99`) a sign-in must
    /// have satisfied (its token's `acrs` claim) to ask for the package or approve its
    /// requests; without it the API answers 401 `insufficient_claims` with a claims challenge.
    #[serde(default)]
    pub auth_context: Option<String>,
    pub manager_may_approve: bool,
    pub approval_timeout_minutes: i64,
    /// Extensions take effect without approval.
    pub self_extend: bool,
    /// One-shot windows: the grant ends this long after its first device-code sign-in.
    pub end_after_first_sign_in_minutes: Option<i64>,
    /// Whether the caller is eligible to request it.
    pub may_request: bool,
    /// Holders of an Entra directory role, active or eligible through PIM, may not request it
    /// (checked when asking, at each approval and before the membership is added).
    #[serde(default)]
    pub deny_privileged: bool,
    /// Whether the caller is one of the package's exceptions to `deny_privileged`
    /// (`privileged_allow`; each use is audited). The list itself is not shown.
    #[serde(default)]
    pub privileged_exception: bool,
    /// Members (transitively) of any of these Entra groups may request it (empty: anyone the
    /// app role allows).
    #[serde(default)]
    pub eligible_groups: Vec<String>,
    /// Requests and decisions only from these client networks (empty: anywhere).
    #[serde(default)]
    pub trusted_networks: Vec<String>,
    /// Never more than this many people hold it at once.
    #[serde(default)]
    pub max_active: Option<u32>,
    /// Granted time per person in a rolling window, as configured (e.g. `8h/7d`).
    #[serde(default)]
    pub max_hours_per_user: Option<String>,
    /// Rules that approve a request at once, without a person, tried in order.
    #[serde(default)]
    pub auto_approve: Vec<AutoApproveRule>,
    /// Break-glass: taken at once in an emergency, without approval, then reviewed (absent:
    /// not allowed).
    #[serde(default)]
    pub break_glass: Option<BreakGlassPolicy>,
    /// Every rule above that the package sets, in words, keyed by its configuration name.
    #[serde(default)]
    pub rules: Vec<PackageRule>,
}

/// A rule that approves a request without a person when all it names holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AutoApproveRule {
    pub name: String,
    /// The requester must be in one of these groups (transitively); empty: anyone.
    pub groups: Vec<String>,
    pub max_duration_minutes: Option<i64>,
    /// Days and hours, e.g. `Mon-Fri 07:00-19:00`, in `time_zone`.
    pub hours: Option<String>,
    /// The portal's time zone (`[server] time_zone`, an IANA name).
    pub time_zone: String,
    pub ticket_required: bool,
}

/// A package's break-glass settings: who may take it at once, without approval, for how long
/// and how often, and by when an approver must review each use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BreakGlassPolicy {
    /// Members (transitively) of any of these Entra groups may use it.
    pub groups: Vec<String>,
    /// The longest break-glass grant.
    pub max_minutes: i64,
    /// An approver must review each use within this long.
    pub review_within_minutes: i64,
    /// Uses per person in a rolling window, as configured (e.g. `2/30d`).
    pub per_user: String,
}

/// One of a package's rules, in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PackageRule {
    /// The rule's configuration key (`eligible_groups`, `auth_context`, `trusted_networks`,
    /// `max_active`, `max_hours_per_user`, …).
    pub rule: String,
    /// What it asks, as a sentence.
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PackageList {
    pub packages: Vec<Package>,
}

/// `GET /api/v1/cli`: what the command-line client needs to sign in to this portal's API.
/// Anyone may read it; it holds no secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "authority_host": "https://login.microsoftonline.com",
    "tenant_id": "7d2c3f5e-0b1a-4c6d-9e8f-1a2b3c4d5e6f",
    "client_id": "9c1d4e7b-2a5f-4b8c-a3d6-5e0f1b2c7d84",
    "scopes": ["api://3f8b9c2a-6d4e-4f1a-8b7c-2e5d9a0c1b3f/access_as_user"]
}))]
pub struct CliSignIn {
    /// The sign-in service, e.g. `https://login.microsoftonline.com`.
    pub authority_host: String,
    /// The tenant: sign-ins go to `{authority_host}/{tenant_id}`, never `/common`.
    pub tenant_id: String,
    /// The command-line client's own registration (a public client).
    pub client_id: String,
    /// The delegated scopes of the portal's API the client asks for in a browser sign-in.
    pub scopes: Vec<String>,
    /// The scopes a device-code sign-in asks for: the requests API's, the one jitgate resource
    /// the device-code block excludes, whose tokens may only ask for access and act on the
    /// caller's own requests. Empty when the portal has no requests API: a device-code sign-in
    /// then asks for `scopes`, which the block covers.
    #[serde(default)]
    pub device_code_scopes: Vec<String>,
}
