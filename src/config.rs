//! Configuration: one TOML file (`--config PATH` or `JITGATE_CONFIG`), every key overridable by an
//! environment variable `JITGATE_<SECTION>__<KEY>` (`JITGATE_PACKAGE__0__MAX_DURATION` for arrays).
//! Invalid configuration is refused at start with a message that names the key.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::Path;
use std::str::FromStr;

use chrono::Duration;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

use crate::domain::Package;
use crate::domain::package::parse_duration;

#[derive(Debug, Clone)]
pub struct Settings {
    pub server: ServerSettings,
    pub database_url: String,
    pub entra: EntraSettings,
    pub roles: RoleSettings,
    pub scheduler: SchedulerSettings,
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
}

#[derive(Debug, Clone)]
pub struct EntraSettings {
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: SecretString,
    pub authority_host: Url,
    pub graph_url: Url,
}

impl EntraSettings {
    /// What the Graph client needs: the app registration and where to find the authority and Graph.
    pub fn graph_settings(&self) -> crate::graph::GraphSettings {
        crate::graph::GraphSettings {
            authority_host: self
                .authority_host
                .as_str()
                .trim_end_matches('/')
                .to_string(),
            tenant_id: self.tenant_id.clone(),
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            graph_url: self.graph_url.as_str().trim_end_matches('/').to_string(),
        }
    }

    /// `{authority_host}/{tenant_id}/v2.0`, the tenant-specific issuer.
    pub fn issuer(&self) -> String {
        format!(
            "{}/{}/v2.0",
            self.authority_host.as_str().trim_end_matches('/'),
            self.tenant_id
        )
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
    pub lease: Duration,
    /// Directory additions are given up (and the grant failed) after this many attempts.
    pub max_add_attempts: i64,
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

// ---- the file as written ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    server: RawServer,
    database: RawDatabase,
    entra: RawEntra,
    #[serde(default)]
    roles: RawRoles,
    #[serde(default)]
    scheduler: RawScheduler,
    #[serde(default)]
    package: Vec<RawPackage>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    #[serde(default = "default_listen")]
    listen: String,
    public_url: String,
    #[serde(default = "default_session_idle")]
    session_idle: String,
}

fn default_listen() -> String {
    "127.0.0.1:8080".into()
}
fn default_session_idle() -> String {
    "8h".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDatabase {
    url: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntra {
    tenant_id: String,
    client_id: String,
    client_secret: SecretString,
    #[serde(default = "default_authority")]
    authority_host: String,
    #[serde(default = "default_graph")]
    graph_url: String,
}

fn default_authority() -> String {
    "https://login.microsoftonline.com".into()
}
fn default_graph() -> String {
    "https://graph.microsoft.com".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoles {
    #[serde(default = "default_approver")]
    approver: String,
    #[serde(default = "default_auditor")]
    auditor: String,
    #[serde(default = "default_admin")]
    admin: String,
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
struct RawScheduler {
    #[serde(default = "default_sweep")]
    sweep: String,
    #[serde(default = "default_lease")]
    lease: String,
    #[serde(
        default = "default_max_add_attempts",
        deserialize_with = "lenient::u32"
    )]
    max_add_attempts: u32,
}

fn default_sweep() -> String {
    "*/30 * * * * *".into()
}
fn default_lease() -> String {
    "60s".into()
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
struct RawPackage {
    id: String,
    name: String,
    #[serde(default)]
    description: String,
    group_id: String,
    min_duration: String,
    default_duration: String,
    max_duration: String,
    #[serde(default)]
    duration_presets: Vec<String>,
    #[serde(default = "one", deserialize_with = "lenient::u32")]
    approvals_required: u32,
    #[serde(default, deserialize_with = "lenient::bool")]
    ticket_required: bool,
    #[serde(default)]
    requester_role: Option<String>,
    #[serde(default, deserialize_with = "lenient::bool")]
    manager_may_approve: bool,
    #[serde(default = "default_approval_timeout")]
    approval_timeout: String,
    #[serde(default = "default_max_start_delay")]
    max_start_delay: String,
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
        apply_env(&mut value, env)?;
        let raw: RawSettings = serde_path_to_error::deserialize(value).map_err(|e| {
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

/// `JITGATE_ENTRA__CLIENT_SECRET=x` sets `entra.client_secret`; numeric segments index arrays.
fn apply_env(
    root: &mut toml::Value,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<(), ConfigError> {
    let mut vars: Vec<(String, String)> = env
        .into_iter()
        .filter(|(k, _)| k.starts_with("JITGATE_") && k.contains("__"))
        .collect();
    vars.sort();
    for (name, val) in vars {
        let path: Vec<String> = name["JITGATE_".len()..]
            .split("__")
            .map(|s| s.to_ascii_lowercase())
            .collect();
        if path.iter().any(String::is_empty) {
            return Err(err(name, "malformed override name"));
        }
        let mut cur = &mut *root;
        for (i, seg) in path.iter().enumerate() {
            let last = i + 1 == path.len();
            let next_is_index = path.get(i + 1).is_some_and(|s| s.parse::<usize>().is_ok());
            let fresh = || {
                if next_is_index {
                    toml::Value::Array(vec![])
                } else {
                    toml::Value::Table(Default::default())
                }
            };
            cur = match cur {
                toml::Value::Table(t) => {
                    if last {
                        t.insert(seg.clone(), toml::Value::String(val.clone()));
                        break;
                    }
                    t.entry(seg.clone()).or_insert_with(fresh)
                }
                toml::Value::Array(a) => {
                    let idx: usize = seg
                        .parse()
                        .map_err(|_| err(&name, format!("'{seg}' is not an array index")))?;
                    if idx > a.len() {
                        return Err(err(
                            &name,
                            format!("index {idx} skips entries (there are {})", a.len()),
                        ));
                    }
                    if idx == a.len() {
                        a.push(fresh());
                    }
                    if last {
                        a[idx] = toml::Value::String(val.clone());
                        break;
                    }
                    &mut a[idx]
                }
                _ => {
                    return Err(err(
                        &name,
                        "overrides a plain value as if it were a section",
                    ));
                }
            };
        }
    }
    Ok(())
}

fn http_url(key: &str, v: &str) -> Result<Url, ConfigError> {
    let u = Url::parse(v).map_err(|e| err(key, format!("'{v}' is not a URL ({e})")))?;
    match u.scheme() {
        "https" => {}
        "http" if is_loopback(&u) => {}
        "http" => {
            return Err(err(
                key,
                "must use https (plain http is allowed only on loopback, for tests)",
            ));
        }
        s => return Err(err(key, format!("scheme '{s}' is not http or https"))),
    }
    if u.query().is_some() || u.fragment().is_some() {
        return Err(err(key, "must not carry a query or fragment"));
    }
    Ok(u)
}

fn duration(key: &str, v: &str) -> Result<Duration, ConfigError> {
    parse_duration(v).map_err(|m| err(key, m))
}

fn minutes(key: &str, v: &str) -> Result<Duration, ConfigError> {
    let d = duration(key, v)?;
    if d.num_seconds() % 60 != 0 {
        return Err(err(key, format!("'{v}' must be whole minutes")));
    }
    Ok(d)
}

fn guid(key: &str, v: &str) -> Result<String, ConfigError> {
    uuid::Uuid::from_str(v.trim())
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| err(key, format!("'{v}' is not a GUID (an object id such as 00000000-0000-0000-0000-000000000000)")))
}

fn non_empty(key: &str, v: &str) -> Result<String, ConfigError> {
    let v = v.trim();
    if v.is_empty() {
        return Err(err(key, "must not be empty"));
    }
    Ok(v.to_string())
}

impl RawSettings {
    fn validate(self) -> Result<Settings, ConfigError> {
        let listen = self.server.listen.parse().map_err(|_| {
            err(
                "server.listen",
                format!(
                    "'{}' is not an address like 127.0.0.1:8080",
                    self.server.listen
                ),
            )
        })?;
        let public_url = http_url("server.public_url", &self.server.public_url)?;
        let session_idle = duration("server.session_idle", &self.server.session_idle)?;

        let url = self.database.url.trim().to_string();
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres:")
            || url.starts_with("postgresql:"))
        {
            return Err(err("database.url", "must start with sqlite: or postgres:"));
        }

        let e = self.entra;
        if e.client_secret.expose_secret().trim().is_empty() {
            return Err(err("entra.client_secret", "must not be empty"));
        }
        let entra = EntraSettings {
            tenant_id: guid("entra.tenant_id", &e.tenant_id)?,
            client_id: non_empty("entra.client_id", &e.client_id)?,
            client_secret: e.client_secret,
            authority_host: http_url("entra.authority_host", &e.authority_host)?,
            graph_url: http_url("entra.graph_url", &e.graph_url)?,
        };

        let roles = RoleSettings {
            approver: non_empty("roles.approver", &self.roles.approver)?,
            auditor: non_empty("roles.auditor", &self.roles.auditor)?,
            admin: non_empty("roles.admin", &self.roles.admin)?,
        };

        let sweep = cron::Schedule::from_str(&self.scheduler.sweep).map_err(|e| {
            err(
                "scheduler.sweep",
                format!("'{}' is not a cron expression with six fields, seconds first, like \"*/30 * * * * *\" ({e})", self.scheduler.sweep),
            )
        })?;
        if self.scheduler.max_add_attempts == 0 {
            return Err(err("scheduler.max_add_attempts", "must be at least 1"));
        }
        let scheduler = SchedulerSettings {
            sweep,
            lease: duration("scheduler.lease", &self.scheduler.lease)?,
            max_add_attempts: self.scheduler.max_add_attempts.into(),
        };

        if self.package.is_empty() {
            return Err(err("package", "at least one [[package]] is needed"));
        }
        let mut seen = HashSet::new();
        let mut packages = Vec::new();
        for (i, p) in self.package.into_iter().enumerate() {
            let k = |f: &str| format!("package[{i}].{f}");
            let id = non_empty(&k("id"), &p.id)?;
            if !id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            {
                return Err(err(
                    k("id"),
                    format!("'{id}' may hold only lower-case letters, digits and '-'"),
                ));
            }
            if !seen.insert(id.clone()) {
                return Err(err(k("id"), format!("'{id}' is used by two packages")));
            }
            let min = minutes(&k("min_duration"), &p.min_duration)?;
            let default = minutes(&k("default_duration"), &p.default_duration)?;
            let max = minutes(&k("max_duration"), &p.max_duration)?;
            if min > max {
                return Err(err(k("min_duration"), "is longer than max_duration"));
            }
            if default < min || default > max {
                return Err(err(
                    k("default_duration"),
                    "must lie between min_duration and max_duration",
                ));
            }
            let mut presets = Vec::new();
            for (j, s) in p.duration_presets.iter().enumerate() {
                let d = minutes(&format!("package[{i}].duration_presets[{j}]"), s)?;
                if d < min || d > max {
                    return Err(err(
                        format!("package[{i}].duration_presets[{j}]"),
                        "lies outside min_duration..max_duration",
                    ));
                }
                presets.push(d);
            }
            if presets.is_empty() {
                presets = vec![min, default, max];
                presets.dedup();
            }
            if p.approvals_required == 0 {
                return Err(err(k("approvals_required"), "must be at least 1"));
            }
            packages.push(Package {
                id,
                name: non_empty(&k("name"), &p.name)?,
                description: p.description.trim().to_string(),
                group_id: guid(&k("group_id"), &p.group_id)?,
                min_duration: min,
                default_duration: default,
                max_duration: max,
                duration_presets: presets,
                approvals_required: p.approvals_required,
                ticket_required: p.ticket_required,
                requester_role: p
                    .requester_role
                    .map(|r| r.trim().to_string())
                    .filter(|r| !r.is_empty()),
                manager_may_approve: p.manager_may_approve,
                approval_timeout: duration(&k("approval_timeout"), &p.approval_timeout)?,
                max_start_delay: duration(&k("max_start_delay"), &p.max_start_delay)?,
            });
        }

        Ok(Settings {
            server: ServerSettings {
                listen,
                public_url,
                session_idle,
            },
            database_url: url,
            entra,
            roles,
            scheduler,
            packages,
            demo: false,
        })
    }
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

    const GOOD: &str = r#"
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

    fn load(text: &str, env: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        Settings::from_toml(
            text,
            env.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        )
    }

    fn key_of(text: &str, env: &[(&str, &str)]) -> String {
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
    }

    #[test]
    fn environment_overrides_any_key() {
        let s = load(
            GOOD,
            &[
                ("JITGATE_ENTRA__CLIENT_SECRET", "12345"),
                ("JITGATE_PACKAGE__0__MAX_DURATION", "8h"),
                ("JITGATE_PACKAGE__0__APPROVALS_REQUIRED", "2"),
                ("JITGATE_PACKAGE__0__TICKET_REQUIRED", "true"),
                ("JITGATE_ROLES__ADMIN", "Portal.Admin"),
                ("JITGATE_CONFIG", "/ignored/because/no/section"),
            ],
        )
        .unwrap();
        assert_eq!(s.entra.client_secret.expose_secret(), "12345");
        let p = &s.packages[0];
        assert_eq!(
            (p.max_duration, p.approvals_required, p.ticket_required),
            (Duration::hours(8), 2, true)
        );
        assert_eq!(s.roles.admin, "Portal.Admin");
    }

    #[test]
    fn errors_name_the_key() {
        assert_eq!(
            key_of(GOOD, &[("JITGATE_SERVER__LISTEN", "nope")]),
            "server.listen"
        );
        assert_eq!(
            key_of(
                GOOD,
                &[("JITGATE_SERVER__PUBLIC_URL", "http://jit.contoso.example")]
            ),
            "server.public_url"
        );
        assert_eq!(
            key_of(GOOD, &[("JITGATE_DATABASE__URL", "mysql://x")]),
            "database.url"
        );
        assert_eq!(
            key_of(GOOD, &[("JITGATE_ENTRA__TENANT_ID", "contoso")]),
            "entra.tenant_id"
        );
        assert_eq!(
            key_of(GOOD, &[("JITGATE_ENTRA__CLIENT_SECRET", " ")]),
            "entra.client_secret"
        );
        assert_eq!(
            key_of(GOOD, &[("JITGATE_SCHEDULER__SWEEP", "*/5 * * * *")]),
            "scheduler.sweep"
        );
        assert_eq!(
            key_of(GOOD, &[("JITGATE_PACKAGE__0__MAX_DURATION", "10m")]),
            "package[0].min_duration"
        );
        assert_eq!(
            key_of(GOOD, &[("JITGATE_PACKAGE__0__DEFAULT_DURATION", "5h")]),
            "package[0].default_duration"
        );
        assert_eq!(
            key_of(
                GOOD,
                &[("JITGATE_PACKAGE__0__MIN_DURATION", "2 fortnights")]
            ),
            "package[0].min_duration"
        );
        assert_eq!(
            key_of(GOOD, &[("JITGATE_PACKAGE__0__MIN_DURATION", "90s")]),
            "package[0].min_duration"
        );
        assert_eq!(
            key_of(GOOD, &[("JITGATE_PACKAGE__0__GROUP_ID", "exclusion")]),
            "package[0].group_id"
        );
        assert_eq!(
            key_of(GOOD, &[("JITGATE_PACKAGE__0__APPROVALS_REQUIRED", "many")]),
            "package[0].approvals_required"
        );
        assert_eq!(
            key_of(GOOD, &[("JITGATE_PACKAGE__0__ID", "Device Code")]),
            "package[0].id"
        );
        assert_eq!(
            key_of(&GOOD.replace("client_secret", "client_secrt"), &[]),
            "entra.client_secrt"
        );
        assert_eq!(
            key_of(
                &GOOD.replace("[database]\nurl = \"sqlite://jitgate.db?mode=rwc\"", ""),
                &[]
            ),
            "(top level)"
        );
        let e = load(GOOD, &[("JITGATE_SCHEDULER__SWEEP", "*/5 * * * *")]).unwrap_err();
        assert!(e.to_string().contains("seconds first"), "{e}");
    }

    #[test]
    fn duplicate_packages_are_refused() {
        let twice = format!("{GOOD}\n{}", &GOOD[GOOD.find("[[package]]").unwrap()..]);
        assert_eq!(key_of(&twice, &[]), "package[1].id");
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let s = load(GOOD, &[]).unwrap();
        let dbg = format!("{s:?}");
        assert!(!dbg.contains("s3cr3t-value"), "{dbg}");
    }

    #[test]
    fn plain_http_is_allowed_on_loopback_only() {
        let s = load(
            GOOD,
            &[
                ("JITGATE_SERVER__PUBLIC_URL", "http://127.0.0.1:8080"),
                ("JITGATE_ENTRA__AUTHORITY_HOST", "http://localhost:9000"),
            ],
        )
        .unwrap();
        assert!(!s.server.secure_cookies());
        assert_eq!(
            key_of(
                GOOD,
                &[("JITGATE_ENTRA__GRAPH_URL", "http://graph.example")]
            ),
            "entra.graph_url"
        );
    }

    #[test]
    fn a_syntax_error_names_the_line() {
        let e = load("[server]\nlisten = \n", &[]).unwrap_err();
        assert_eq!(e.key, "line 2");
    }
}
