//! The standard demo tenant: fixed ids so that configuration, tests and bookmarks stay stable.

use super::{DemoGroup, DemoUser, EmulatorConfig, RoleGrant};

/// Tenant id of the demo tenant.
pub const TENANT_ID: &str = "7d2c3f5e-0b1a-4c6d-9e8f-1a2b3c4d5e6f";
/// Application (client) id of the demo registration of jitgate.
pub const CLIENT_ID: &str = "3f8b9c2a-6d4e-4f1a-8b7c-2e5d9a0c1b3f";
/// Application (client) id of the "jitgate requests API" registration: the one jitgate
/// resource the device-code block excludes; its tokens only ask for access.
pub const REQUESTS_API_ID: &str = "4e2a7c9d-1b3f-4d6a-9c8e-0f1a2b3c4d5e";
/// Application (client) id of the jitgate command line, a public client.
pub const CLI_CLIENT_ID: &str = "9c1d4e7b-2a5f-4b8c-a3d6-5e0f1b2c7d84";
/// Client secret of the demo registration. Only ever valid against the emulator.
pub const CLIENT_SECRET: &str = "demo-secret-not-for-production";
/// Default redirect URIs (a portal listening on the default demo address).
pub const REDIRECT_URIS: [&str; 2] = [
    "http://127.0.0.1:8080/auth/callback",
    "http://localhost:8080/auth/callback",
];
/// User principal name suffix of the demo users.
pub const DOMAIN: &str = "jitgate-demo.onmicrosoft.com";

/// The group excluded from the "Block device code flow" Conditional Access policy.
pub const EXCLUSION_GROUP_ID: &str = "5a1f3f3e-6a4b-4d5e-9a8b-1c2d3e4f5a6b";
/// A second group, for approvers named by Entra group.
pub const APPROVERS_GROUP_ID: &str = "c0a8e2d4-1f3b-4a5c-8d6e-7f9a0b1c2d3e";
/// The on-call engineers, who may use break-glass in the demo (the demo puts Dana in it).
pub const ON_CALL_GROUP_ID: &str = "e1c0a11e-2b3c-4d5e-8f9a-0b1c2d3e4f5a";
/// Id of the emulated Conditional Access policy.
pub const CA_POLICY_ID: &str = "b373b922-3bf9-4d48-a6df-f8ec5a03bd70";

/// Dana: a developer (requester); manager Morgan.
pub const DANA: &str = "0b6a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c01";
/// Riley: a requester without a manager.
pub const RILEY: &str = "0b6a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c02";
/// Morgan: an approver (and Dana's manager); manager Alex.
pub const MORGAN: &str = "0b6a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c03";
/// Jordan: a second approver; manager Alex.
pub const JORDAN: &str = "0b6a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c04";
/// Avery: an auditor; manager Alex.
pub const AVERY: &str = "0b6a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c05";
/// Alex: the administrator; no manager.
pub const ALEX: &str = "0b6a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c06";
/// Sam: an IT administrator, eligible for Global Administrator through PIM, so packages that
/// deny privileged accounts refuse Sam; manager Alex. The only demo user holding a directory
/// role: the others hold none unless a test gives them one.
pub const SAM: &str = "0b6a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c07";
/// Scanner 07: a device account (one Entra account per warehouse device, signed in on the
/// device with the device code flow by an admin); holds no app role and no directory role.
/// An approver or admin asks for access on its behalf.
pub const SCANNER_07: &str = "0b6a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1d07";
/// Scanner 08: another warehouse device account.
pub const SCANNER_08: &str = "0b6a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1d08";
/// Kiosk 01: the loading dock's kiosk, a device account that stays in the exclusion group
/// without a grant (the demo's standing member), so the demo's access review has one to ask about.
pub const KIOSK_01: &str = "0b6a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1e01";

/// Template id of the built-in Global Administrator role (the same in every tenant).
pub const GLOBAL_ADMINISTRATOR: &str = "62e90394-69f5-4237-9190-012177145e10";
/// Template id of the built-in User Administrator role.
pub const USER_ADMINISTRATOR: &str = "fe930be7-5e62-47db-91af-98c3a49a38b1";

/// Default application permissions (`roles`) of app-only Graph tokens.
pub const APP_PERMISSIONS: [&str; 8] = [
    "GroupMember.ReadWrite.All",
    "User.Read.All",
    "Application.Read.All",
    "Policy.Read.All",
    "User.RevokeSessions.All",
    "Mail.Send",
    "AuditLog.Read.All",
    "RoleManagement.Read.Directory",
];

fn user(id: &str, name: &str, login: &str, roles: &[&str], manager: Option<&str>) -> DemoUser {
    DemoUser {
        id: id.to_owned(),
        name: name.to_owned(),
        username: format!("{login}@{DOMAIN}"),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        manager_id: manager.map(str::to_owned),
    }
}

/// The demo users, one or more per persona.
pub fn users() -> Vec<DemoUser> {
    vec![
        user(DANA, "Dana Developer", "dana", &[], Some(MORGAN)),
        user(RILEY, "Riley Requester", "riley", &[], None),
        user(
            MORGAN,
            "Morgan Manager",
            "morgan",
            &["Approver"],
            Some(ALEX),
        ),
        user(
            JORDAN,
            "Jordan Approver",
            "jordan",
            &["Approver"],
            Some(ALEX),
        ),
        user(AVERY, "Avery Auditor", "avery", &["Auditor"], Some(ALEX)),
        user(ALEX, "Alex Admin", "alex", &["Admin"], None),
        user(SAM, "Sam Sysadmin", "sam", &[], Some(ALEX)),
        user(
            SCANNER_07,
            "Scanner 07 (warehouse)",
            "scanner-07",
            &[],
            None,
        ),
        user(
            SCANNER_08,
            "Scanner 08 (warehouse)",
            "scanner-08",
            &[],
            None,
        ),
        user(KIOSK_01, "Kiosk 01 (loading dock)", "kiosk-01", &[], None),
    ]
}

/// The directory roles held from the start: Sam is eligible for Global Administrator.
pub fn directory_roles() -> Vec<RoleGrant> {
    vec![RoleGrant {
        principal_id: SAM.to_owned(),
        role_template_id: GLOBAL_ADMINISTRATOR.to_owned(),
        eligible: true,
    }]
}

/// The demo groups; the first one is the exclusion group of the Conditional Access policy.
pub fn groups() -> Vec<DemoGroup> {
    vec![
        DemoGroup {
            id: EXCLUSION_GROUP_ID.to_owned(),
            display_name: "Device code flow exclusion".to_owned(),
        },
        DemoGroup {
            id: APPROVERS_GROUP_ID.to_owned(),
            display_name: "jitgate approvers".to_owned(),
        },
        DemoGroup {
            id: ON_CALL_GROUP_ID.to_owned(),
            display_name: "On-call engineers".to_owned(),
        },
    ]
}

impl EmulatorConfig {
    /// The standard demo tenant (see the constants in [`crate::emulator::demo`]).
    /// `redirect_uris` default to a portal on `127.0.0.1:8080`/`localhost:8080`; override them
    /// when the portal listens elsewhere. No state file is set. The jitgate command line
    /// ([`CLI_CLIENT_ID`]) is the one public client.
    pub fn demo() -> Self {
        EmulatorConfig {
            tenant_id: TENANT_ID.to_owned(),
            client_id: CLIENT_ID.to_owned(),
            client_secret: CLIENT_SECRET.to_owned(),
            redirect_uris: REDIRECT_URIS.iter().map(|u| (*u).to_owned()).collect(),
            users: users(),
            groups: groups(),
            app_permissions: APP_PERMISSIONS.iter().map(|p| (*p).to_owned()).collect(),
            state_file: None,
            public_clients: vec![CLI_CLIENT_ID.to_owned()],
            requests_api_id: Some(REQUESTS_API_ID.to_owned()),
            directory_roles: directory_roles(),
            certificates: Vec::new(),
            federated_credentials: Vec::new(),
            managed_identities: Vec::new(),
            password_credentials: Vec::new(),
        }
    }
}
