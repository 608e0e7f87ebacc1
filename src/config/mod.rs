//! Configuration: one TOML file (`--config PATH` or `JITGATE_CONFIG`), every key overridable by an
//! environment variable `JITGATE_<SECTION>__<KEY>` (`JITGATE_PACKAGE__0__MAX_DURATION` for arrays).
//! Invalid configuration is refused at start with a message that names the key.
//!
//! - `file`: the file's schema as written (defaults, lenient values from the environment);
//! - `env`: the environment overlay;
//! - `validate/`: turning the file into [`Settings`], one file per section, naming the key of any
//!   problem.

mod env;
mod file;
mod validate;

use std::net::SocketAddr;
use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use secrecy::SecretString;
use url::Url;

use crate::domain::Package;

#[derive(Debug, Clone)]
pub struct Settings {
    pub server: ServerSettings,
    pub database_url: String,
    pub entra: EntraSettings,
    pub roles: RoleSettings,
    pub scheduler: SchedulerSettings,
    pub directory: DirectorySettings,
    pub reconcile: ReconcileSettings,
    pub audit: AuditSettings,
    pub notify: NotifySettings,
    pub sign_ins: SignInSettings,
    pub packages: Vec<Package>,
    /// Set only by `jitgate demo`: shows the demo banner and relaxes nothing else.
    pub demo: bool,
}

#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub listen: SocketAddr,
    pub public_url: Url,
    /// Sessions end after this long without activity.
    pub session_idle: Duration,
    /// Sessions end this long after sign-in, however active.
    pub session_max: Duration,
    /// A signed-in person's account state and app roles are read again from the directory
    /// when they are older than this.
    pub role_refresh: Duration,
    /// When set, `/metrics` is served only on this address, not on `listen`.
    pub metrics_listen: Option<SocketAddr>,
    /// Reverse proxies whose `X-Forwarded-For` is believed (CIDRs).
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

#[derive(Debug, Clone)]
pub struct EntraSettings {
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: SecretString,
    pub authority_host: Url,
    pub graph_url: Url,
    /// The command-line client's app registration (a public client), for `jitgate login` and
    /// the demo's device-code try-out.
    pub cli_client_id: Option<String>,
    /// The delegated scope of the portal's API the command-line client asks for; default
    /// `api://{client_id}/access_as_user`.
    pub api_scope: Option<String>,
}

impl EntraSettings {
    /// `{authority_host}/{tenant_id}/v2.0`, the tenant-specific issuer.
    pub fn issuer(&self) -> String {
        format!(
            "{}/{}/v2.0",
            self.authority_host.as_str().trim_end_matches('/'),
            self.tenant_id
        )
    }

    /// The scope the command-line client asks for: `[entra] api_scope`, or
    /// `api://{client_id}/access_as_user`.
    pub fn api_scope(&self) -> String {
        self.api_scope
            .clone()
            .unwrap_or_else(|| format!("api://{}/access_as_user", self.client_id))
    }
}

#[derive(Debug, Clone)]
pub struct RoleSettings {
    pub approver: String,
    pub auditor: String,
    pub admin: String,
}

#[derive(Debug, Clone)]
pub struct SchedulerSettings {
    pub sweep: cron::Schedule,
    /// How long a worker owns a claimed directory operation before another may take it over.
    /// The worker renews it every third of this while a call runs, so a live worker keeps it and
    /// a dead one frees it within this long.
    pub lease: Duration,
    /// Directory additions are given up (and the grant failed) after this many attempts.
    pub max_add_attempts: i64,
}

#[derive(Debug, Clone)]
pub struct DirectorySettings {
    /// Directory operations carried out at once (for different members; one member's stay in order).
    pub concurrency: usize,
    /// Client-side pace of Graph writes, kept under Graph's write limit.
    pub write_budget: WriteBudget,
    /// Every Graph call (connect included) fails after this long.
    pub timeout: std::time::Duration,
}

/// Reading device-code sign-ins from Entra's sign-in log (`AuditLog.Read.All`).
#[derive(Debug, Clone)]
pub struct SignInSettings {
    /// Off: the log is never read (no permission asked for).
    pub read: bool,
    /// How often the log is read.
    pub every: Duration,
    /// How far back each reading goes: the log's delay, plus a margin.
    pub lookback: Duration,
}

/// Who is told what happened, and how.
#[derive(Debug, Clone, Default)]
pub struct NotifySettings {
    /// E-mail through Microsoft Graph from this mailbox (needs `Mail.Send`); none when unset.
    pub email_from: Option<String>,
    /// How long one delivery through SMTP or a webhook may take (10 s when unset).
    pub timeout: Option<std::time::Duration>,
    /// E-mail through an SMTP server instead of Graph.
    pub smtp: Option<SmtpSettings>,
    /// A Microsoft Teams Workflows webhook: admin alerts, and packages without one of their own.
    pub teams_webhook: Option<SecretUrl>,
    /// A Slack incoming webhook: admin alerts, and packages without one of their own.
    pub slack_webhook: Option<SecretUrl>,
    /// Packages' own Teams webhooks, by package id.
    pub package_teams: std::collections::HashMap<String, SecretUrl>,
    /// Packages' own Slack webhooks, by package id.
    pub package_slack: std::collections::HashMap<String, SecretUrl>,
    /// Every audit event is POSTed here, signed per Standard Webhooks.
    pub webhook: Option<WebhookSettings>,
}

impl NotifySettings {
    /// Whether e-mail is configured (through Graph or SMTP).
    pub fn email(&self) -> bool {
        self.email_from.is_some() || self.smtp.is_some()
    }
}

/// A URL that is itself a credential (chat webhooks): shown only as its host.
#[derive(Clone, PartialEq)]
pub struct SecretUrl(pub Url);

impl std::fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}://{}/…",
            self.0.scheme(),
            self.0.host_str().unwrap_or("")
        )
    }
}

/// An SMTP server e-mail is sent through.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    /// `starttls` (default), `tls` (implicit TLS, port 465) or `none` (loopback only, for tests).
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<SecretString>,
    /// The sender address.
    pub from: String,
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    StartTls,
    Tls,
    None,
}

/// The generic webhook every audit event goes to.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    pub url: Url,
    /// The Standard Webhooks secret (`whsec_…`), from `JITGATE_NOTIFY__WEBHOOK_SECRET`.
    pub secret: SecretString,
}

/// The audit trail's key and where anchors of its head go.
#[derive(Debug, Clone)]
pub struct AuditSettings {
    /// Keys the chain and signs anchors (from `JITGATE_AUDIT__KEY` only).
    pub key: Option<crate::domain::audit::ChainKey>,
    /// How often the head is anchored.
    pub anchor_every: Duration,
    /// Anchors are appended to this file (one JSON object a line), when set.
    pub anchor_file: Option<std::path::PathBuf>,
    /// Anchors are POSTed to this URL as JSON, when set.
    pub anchor_webhook: Option<Url>,
}

impl AuditSettings {
    /// Keys the chain with `secret` (checked as `JITGATE_AUDIT__KEY` is).
    pub fn set_key(&mut self, secret: &str) -> Result<(), ConfigError> {
        use crate::domain::audit::ChainKey;
        if secret.len() < ChainKey::MIN_LEN {
            return Err(err(
                "audit.key",
                format!("must be at least {} characters", ChainKey::MIN_LEN),
            ));
        }
        self.key = Some(ChainKey::new(secret.as_bytes()));
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub struct ReconcileSettings {
    pub every: Every,
    pub mode: ReconcileMode,
}

/// When a periodic job runs: a fixed interval (`"5m"`) or a cron expression (six fields,
/// seconds first).
#[derive(Debug, Clone)]
pub enum Every {
    Interval(Duration),
    Cron(Box<cron::Schedule>),
}

impl Every {
    /// The next run after one at `last` (or the first, at `now`, when there was none).
    pub fn next_after(&self, last: Option<DateTime<Utc>>, now: DateTime<Utc>) -> DateTime<Utc> {
        match (self, last) {
            (_, None) => now,
            (Every::Interval(d), Some(last)) => last + *d,
            (Every::Cron(c), Some(last)) => {
                c.after(&last).next().unwrap_or(last + Duration::hours(1))
            }
        }
    }

    /// About how long one period is (for the reconciler's turn across replicas).
    pub fn period(&self, now: DateTime<Utc>) -> Duration {
        match self {
            Every::Interval(d) => *d,
            Every::Cron(c) => {
                let mut upcoming = c.after(&now);
                match (upcoming.next(), upcoming.next()) {
                    (Some(a), Some(b)) => b - a,
                    _ => Duration::hours(1),
                }
            }
        }
    }
}

/// What reconciliation does with a member who has no active grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReconcileMode {
    /// Record `drift_detected` and remove the member.
    Remove,
    /// Only record `drift_detected`.
    Report,
}

/// `writes` Graph writes per `per`, as in `"3000/150s"` (Graph's limit per app and tenant).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteBudget {
    pub writes: u32,
    pub per: std::time::Duration,
}

impl std::str::FromStr for WriteBudget {
    type Err = String;

    fn from_str(s: &str) -> Result<WriteBudget, String> {
        let bad = || format!("'{s}' is not a budget like \"3000/150s\" (writes per duration)");
        let (writes, per) = s.split_once('/').ok_or_else(bad)?;
        let writes: u32 = writes.trim().parse().map_err(|_| bad())?;
        let per = crate::domain::package::parse_duration(per.trim()).map_err(|_| bad())?;
        if writes == 0 || per <= Duration::zero() {
            return Err(format!(
                "'{s}' must allow at least one write in a positive time"
            ));
        }
        Ok(WriteBudget {
            writes,
            per: per.to_std().map_err(|_| bad())?,
        })
    }
}

impl ServerSettings {
    /// Cookies are `Secure` unless the portal is served over plain http on loopback.
    pub fn secure_cookies(&self) -> bool {
        !(self.public_url.scheme() == "http" && is_loopback(&self.public_url))
    }
}

fn is_loopback(u: &Url) -> bool {
    match u.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {key}: {message}")]
pub struct ConfigError {
    pub key: String,
    pub message: String,
}

fn err(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError {
        key: key.into(),
        message: message.into(),
    }
}

impl Settings {
    /// Reads the file and applies `JITGATE_*` overrides from `env`.
    pub fn load(
        path: &Path,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| err("--config", format!("cannot read {}: {e}", path.display())))?;
        Settings::from_toml(&text, env)
    }

    /// A minimal valid configuration served at `public_url`.
    #[cfg(test)]
    pub(crate) fn for_tests(public_url: &str) -> Settings {
        let toml = format!(
            r#"
[server]
public_url = "{public_url}"
[database]
url = "sqlite::memory:"
[entra]
tenant_id = "72f988bf-86f1-41af-91ab-2d7cd011db47"
client_id = "c"
client_secret = "s"
[[package]]
id = "p"
name = "P"
group_id = "5a1f3f3e-6a4b-4d5e-9a8b-1c2d3e4f5a6b"
min_duration = "15m"
default_duration = "1h"
max_duration = "2h"
"#
        );
        Settings::from_toml(&toml, []).unwrap()
    }

    pub fn from_toml(
        text: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, ConfigError> {
        let mut value: toml::Value = toml::from_str(text).map_err(|e| {
            let msg = e.message().to_string();
            err(
                format!(
                    "line {}",
                    line_of(text, e.span().map(|s| s.start).unwrap_or(0))
                ),
                msg,
            )
        })?;
        if value.get("audit").and_then(|a| a.get("key")).is_some() {
            return Err(err(
                "audit.key",
                "must come from the environment (JITGATE_AUDIT__KEY), never from the file",
            ));
        }
        env::apply(&mut value, env)?;
        let raw: file::RawSettings = serde_path_to_error::deserialize(value).map_err(|e| {
            let key = e.path().to_string();
            err(
                if key == "." {
                    "(top level)".to_string()
                } else {
                    key
                },
                e.into_inner().to_string(),
            )
        })?;
        raw.validate()
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

impl Settings {
    pub fn package(&self, id: &str) -> Option<&Package> {
        self.packages.iter().find(|p| p.id == id)
    }

    /// The redirect URI registered in Entra.
    pub fn redirect_uri(&self) -> String {
        format!(
            "{}/auth/callback",
            self.server.public_url.as_str().trim_end_matches('/')
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) const GOOD: &str = r#"
[server]
listen = "127.0.0.1:8080"
public_url = "https://jit.contoso.example"

[database]
url = "sqlite://jitgate.db?mode=rwc"

[entra]
tenant_id = "72f988bf-86f1-41af-91ab-2d7cd011db47"
client_id = "11111111-2222-3333-4444-555555555555"
client_secret = "s3cr3t-value"

[scheduler]
sweep = "*/30 * * * * *"

[[package]]
id = "device-code-exemption"
name = "Device code flow exemption"
group_id = "5a1f3f3e-6a4b-4d5e-9a8b-1c2d3e4f5a6b"
min_duration = "15m"
default_duration = "2h"
max_duration = "4h"
approvals_required = 1
"#;

    pub(super) fn load(text: &str, env: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        Settings::from_toml(
            text,
            env.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        )
    }

    pub(super) fn key_of(text: &str, env: &[(&str, &str)]) -> String {
        load(text, env).unwrap_err().key
    }

    #[test]
    fn the_contract_example_loads() {
        let s = load(GOOD, &[]).unwrap();
        assert_eq!(s.server.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(
            s.entra.issuer(),
            "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0"
        );
        assert_eq!(s.entra.graph_url.as_str(), "https://graph.microsoft.com/");
        assert_eq!(s.roles.approver, "Approver");
        let p = s.package("device-code-exemption").unwrap();
        assert_eq!(
            (p.min_duration, p.default_duration, p.max_duration),
            (
                Duration::minutes(15),
                Duration::hours(2),
                Duration::hours(4)
            )
        );
        assert_eq!(
            p.duration_presets,
            vec![
                Duration::minutes(15),
                Duration::hours(2),
                Duration::hours(4)
            ]
        );
        assert_eq!(
            s.redirect_uri(),
            "https://jit.contoso.example/auth/callback"
        );
        assert!(s.server.secure_cookies());
        assert_eq!(
            s.entra.api_scope(),
            "api://11111111-2222-3333-4444-555555555555/access_as_user"
        );
        let custom = load(
            GOOD,
            &[(
                "JITGATE_ENTRA__API_SCOPE",
                "https://jit.contoso.example/api/user_impersonation",
            )],
        )
        .unwrap();
        assert_eq!(
            custom.entra.api_scope(),
            "https://jit.contoso.example/api/user_impersonation"
        );
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let s = load(GOOD, &[]).unwrap();
        let dbg = format!("{s:?}");
        assert!(!dbg.contains("s3cr3t-value"), "{dbg}");
    }

    #[test]
    fn a_syntax_error_names_the_line() {
        let e = load("[server]\nlisten = \n", &[]).unwrap_err();
        assert_eq!(e.key, "line 2");
    }
}
