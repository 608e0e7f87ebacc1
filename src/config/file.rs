//! The configuration file as written: every section and key, with its default. Values that
//! arrive as strings from the environment are accepted where numbers or booleans are expected.

use secrecy::SecretString;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSettings {
    pub(super) server: RawServer,
    pub(super) database: RawDatabase,
    pub(super) entra: RawEntra,
    #[serde(default)]
    pub(super) roles: RawRoles,
    #[serde(default)]
    pub(super) scheduler: RawScheduler,
    #[serde(default)]
    pub(super) directory: RawDirectory,
    #[serde(default)]
    pub(super) reconcile: RawReconcile,
    #[serde(default)]
    pub(super) audit: RawAudit,
    #[serde(default)]
    pub(super) notify: RawNotify,
    #[serde(default)]
    pub(super) sign_ins: RawSignIns,
    #[serde(default)]
    pub(super) package: Vec<RawPackage>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNotify {
    /// The mailbox (user principal name or object id) e-mail is sent from, through Graph.
    #[serde(default)]
    pub(super) email_from: Option<String>,
    #[serde(default)]
    pub(super) smtp: Option<RawSmtp>,
    #[serde(default)]
    pub(super) teams_webhook: Option<String>,
    #[serde(default)]
    pub(super) slack_webhook: Option<String>,
    #[serde(default)]
    pub(super) webhook_url: Option<String>,
    /// Best from the environment (`JITGATE_NOTIFY__WEBHOOK_SECRET`).
    #[serde(default)]
    pub(super) webhook_secret: Option<SecretString>,
    #[serde(default)]
    pub(super) timeout: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSmtp {
    pub(super) host: String,
    #[serde(default, deserialize_with = "lenient::opt_u16")]
    pub(super) port: Option<u16>,
    #[serde(default)]
    pub(super) security: Option<String>,
    #[serde(default)]
    pub(super) username: Option<String>,
    /// Best from the environment (`JITGATE_NOTIFY__SMTP__PASSWORD`).
    #[serde(default)]
    pub(super) password: Option<SecretString>,
    pub(super) from: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAudit {
    /// Only from the environment (`JITGATE_AUDIT__KEY`); refused in the file.
    #[serde(default)]
    pub(super) key: Option<SecretString>,
    #[serde(default = "default_anchor_every")]
    pub(super) anchor_every: String,
    #[serde(default)]
    pub(super) anchor_file: Option<String>,
    #[serde(default)]
    pub(super) anchor_webhook: Option<String>,
}

impl Default for RawAudit {
    fn default() -> Self {
        RawAudit {
            key: None,
            anchor_every: default_anchor_every(),
            anchor_file: None,
            anchor_webhook: None,
        }
    }
}

fn default_anchor_every() -> String {
    "1h".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawServer {
    #[serde(default = "default_listen")]
    pub(super) listen: String,
    pub(super) public_url: String,
    #[serde(default = "default_session_idle")]
    pub(super) session_idle: String,
    #[serde(default = "default_session_max")]
    pub(super) session_max: String,
    #[serde(default = "default_role_refresh")]
    pub(super) role_refresh: String,
    #[serde(default)]
    pub(super) metrics_listen: Option<String>,
    #[serde(default)]
    pub(super) trusted_proxies: Vec<String>,
}

fn default_listen() -> String {
    "127.0.0.1:8080".into()
}
fn default_session_idle() -> String {
    "8h".into()
}
fn default_session_max() -> String {
    "12h".into()
}
fn default_role_refresh() -> String {
    "15m".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDatabase {
    pub(super) url: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEntra {
    pub(super) tenant_id: String,
    pub(super) client_id: String,
    pub(super) client_secret: SecretString,
    #[serde(default = "default_authority")]
    pub(super) authority_host: String,
    #[serde(default = "default_graph")]
    pub(super) graph_url: String,
    #[serde(default)]
    pub(super) cli_client_id: Option<String>,
    #[serde(default)]
    pub(super) api_scope: Option<String>,
}

fn default_authority() -> String {
    "https://login.microsoftonline.com".into()
}
fn default_graph() -> String {
    "https://graph.microsoft.com".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRoles {
    #[serde(default = "default_approver")]
    pub(super) approver: String,
    #[serde(default = "default_auditor")]
    pub(super) auditor: String,
    #[serde(default = "default_admin")]
    pub(super) admin: String,
}

fn default_approver() -> String {
    "Approver".into()
}
fn default_auditor() -> String {
    "Auditor".into()
}
fn default_admin() -> String {
    "Admin".into()
}

impl Default for RawRoles {
    fn default() -> Self {
        RawRoles {
            approver: default_approver(),
            auditor: default_auditor(),
            admin: default_admin(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawScheduler {
    #[serde(default = "default_sweep")]
    pub(super) sweep: String,
    #[serde(default = "default_lease")]
    pub(super) lease: String,
    #[serde(
        default = "default_max_add_attempts",
        deserialize_with = "lenient::u32"
    )]
    pub(super) max_add_attempts: u32,
}

fn default_sweep() -> String {
    "*/30 * * * * *".into()
}
fn default_lease() -> String {
    "15s".into()
}
fn default_max_add_attempts() -> u32 {
    10
}

impl Default for RawScheduler {
    fn default() -> Self {
        RawScheduler {
            sweep: default_sweep(),
            lease: default_lease(),
            max_add_attempts: default_max_add_attempts(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDirectory {
    #[serde(default = "default_concurrency", deserialize_with = "lenient::u32")]
    pub(super) concurrency: u32,
    #[serde(default = "default_write_budget")]
    pub(super) write_budget: String,
    #[serde(default = "default_timeout")]
    pub(super) timeout: String,
}

fn default_concurrency() -> u32 {
    8
}
fn default_write_budget() -> String {
    "3000/150s".into()
}
fn default_timeout() -> String {
    "10s".into()
}

impl Default for RawDirectory {
    fn default() -> Self {
        RawDirectory {
            concurrency: default_concurrency(),
            write_budget: default_write_budget(),
            timeout: default_timeout(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawReconcile {
    #[serde(default = "default_reconcile_every")]
    pub(super) every: String,
    #[serde(default = "default_reconcile_mode")]
    pub(super) mode: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSignIns {
    #[serde(default = "yes", deserialize_with = "lenient::bool")]
    pub(super) read: bool,
    #[serde(default = "default_sign_ins_every")]
    pub(super) every: String,
    #[serde(default = "default_sign_ins_lookback")]
    pub(super) lookback: String,
}

impl Default for RawSignIns {
    fn default() -> Self {
        RawSignIns {
            read: true,
            every: default_sign_ins_every(),
            lookback: default_sign_ins_lookback(),
        }
    }
}

fn default_sign_ins_every() -> String {
    "5m".into()
}
fn default_sign_ins_lookback() -> String {
    "2h".into()
}

fn default_reconcile_every() -> String {
    "5m".into()
}
fn default_reconcile_mode() -> String {
    "remove".into()
}

impl Default for RawReconcile {
    fn default() -> Self {
        RawReconcile {
            every: default_reconcile_every(),
            mode: default_reconcile_mode(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPackage {
    pub(super) id: String,
    pub(super) name: String,
    #[serde(default)]
    pub(super) description: String,
    pub(super) group_id: String,
    pub(super) min_duration: String,
    pub(super) default_duration: String,
    pub(super) max_duration: String,
    #[serde(default)]
    pub(super) duration_presets: Vec<String>,
    #[serde(default = "one", deserialize_with = "lenient::u32")]
    pub(super) approvals_required: u32,
    #[serde(default, deserialize_with = "lenient::bool")]
    pub(super) ticket_required: bool,
    #[serde(default)]
    pub(super) requester_role: Option<String>,
    #[serde(default, deserialize_with = "lenient::bool")]
    pub(super) manager_may_approve: bool,
    #[serde(default = "default_approval_timeout")]
    pub(super) approval_timeout: String,
    #[serde(default = "default_max_start_delay")]
    pub(super) max_start_delay: String,
    #[serde(default)]
    pub(super) standing_members: Vec<String>,
    #[serde(default, deserialize_with = "lenient::bool")]
    pub(super) revoke_sessions_on_end: bool,
    #[serde(default = "default_remind_before")]
    pub(super) remind_before: String,
    #[serde(default)]
    pub(super) escalate_after: Option<String>,
    #[serde(default)]
    pub(super) escalate_to: Vec<String>,
    #[serde(default)]
    pub(super) approver_groups: Vec<String>,
    #[serde(default = "yes", deserialize_with = "lenient::bool")]
    pub(super) approver_role_applies: bool,
    #[serde(default)]
    pub(super) max_extension: Option<String>,
    #[serde(default, deserialize_with = "lenient::bool")]
    pub(super) self_extend: bool,
    #[serde(default)]
    pub(super) teams_webhook: Option<String>,
    #[serde(default)]
    pub(super) slack_webhook: Option<String>,
    #[serde(default)]
    pub(super) end_after_first_sign_in: Option<String>,
}

fn yes() -> bool {
    true
}
fn default_remind_before() -> String {
    "15m".into()
}

fn one() -> u32 {
    1
}
fn default_approval_timeout() -> String {
    "24h".into()
}
fn default_max_start_delay() -> String {
    "7d".into()
}

/// Environment overrides arrive as strings; these accept either form.
mod lenient {
    use serde::{Deserialize, Deserializer, de::Error};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either<T> {
        Native(T),
        Text(String),
    }

    pub fn u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        match Either::<u32>::deserialize(d)? {
            Either::Native(v) => Ok(v),
            Either::Text(s) => s
                .trim()
                .parse()
                .map_err(|_| D::Error::custom(format!("'{s}' is not a whole number"))),
        }
    }

    pub fn opt_u16<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u16>, D::Error> {
        match Either::<u16>::deserialize(d)? {
            Either::Native(v) => Ok(Some(v)),
            Either::Text(s) => {
                s.trim().parse().map(Some).map_err(|_| {
                    D::Error::custom(format!("'{s}' is not a port number (1 to 65535)"))
                })
            }
        }
    }

    pub fn bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        match Either::<bool>::deserialize(d)? {
            Either::Native(v) => Ok(v),
            Either::Text(s) => match s.trim() {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(D::Error::custom(format!("'{s}' is not true or false"))),
            },
        }
    }
}
