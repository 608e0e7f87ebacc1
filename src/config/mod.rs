//! Configuration: one TOML file (`--config PATH` or `JITGATE_CONFIG`), every key overridable by an
//! environment variable `JITGATE_<SECTION>__<KEY>` (`JITGATE_PACKAGE__0__MAX_DURATION` for arrays).
//! Invalid configuration is refused at start with a message that names the key.
//!
//! This file holds [`Settings`], its loading and [`ConfigError`]; the rest goes one way, from
//! the file as written to the settings the portal uses:
//!
//! - `file/`: the file's schema as written, one file per section (its keys, their defaults,
//!   lenient values from the environment);
//! - `env`: the environment overlay;
//! - `validate/`: turning the file into [`Settings`], one file per section, naming the key of any
//!   problem;
//! - the settings each section becomes, as the portal uses them: `server` (`[server]`), `entra`
//!   (`[entra]` and `[roles]`), `jobs` (`[scheduler]`, `[directory]`, `[reconcile]`,
//!   `[sign_ins]`), `audit` (`[audit]`, and the rule for its key, which `validate/` applies
//!   too) and `notify` (`[notify]`); packages become [`Package`]s of the domain.

mod audit;
mod entra;
mod env;
mod file;
mod jobs;
mod notify;
mod server;
mod validate;

use std::path::Path;

pub use audit::AuditSettings;
pub use entra::{EntraCredential, EntraSettings, IMDS_ENDPOINT, RoleSettings};
pub use jobs::{
    DirectorySettings, Every, ReconcileMode, ReconcileSettings, SchedulerSettings, SignInSettings,
    WriteBudget,
};
pub use notify::{NotifySettings, SecretUrl, SmtpSecurity, SmtpSettings, WebhookSettings};
pub use server::{ServerSettings, TimeZoneName};

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
        let env: Vec<(String, String)> = env.into_iter().collect();
        env::apply(&mut value, env.clone())?;
        env::apply_azure(&mut value, &env);
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

    /// What the configuration allows but weakens, one sentence each: logged as warnings when
    /// the portal starts and reported by `jitgate check`.
    pub fn warnings(&self) -> Vec<String> {
        self.notify.warnings()
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
    use chrono::Duration;

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

    mod properties {
        use proptest::prelude::*;

        use super::{GOOD, load};

        /// Keys an override may name (some valid, some not), and values of every kind.
        const KEYS: &[&str] = &[
            "JITGATE_PACKAGE__0__MAX_DURATION",
            "JITGATE_PACKAGE__0__MIN_DURATION",
            "JITGATE_PACKAGE__0__DEFAULT_DURATION",
            "JITGATE_PACKAGE__0__APPROVAL_TIMEOUT",
            "JITGATE_PACKAGE__0__REMIND_BEFORE",
            "JITGATE_PACKAGE__0__END_AFTER_FIRST_SIGN_IN",
            "JITGATE_PACKAGE__0__APPROVALS_REQUIRED",
            "JITGATE_PACKAGE__1__ID",
            "JITGATE_PACKAGE__2__ID",
            "JITGATE_SIGN_INS__EVERY",
            "JITGATE_SIGN_INS__LOOKBACK",
            "JITGATE_RECONCILE__EVERY",
            "JITGATE_DIRECTORY__WRITE_BUDGET",
            "JITGATE_DIRECTORY__TIMEOUT",
            "JITGATE_SCHEDULER__LEASE",
            "JITGATE_SERVER__PUBLIC_URL",
            "JITGATE_SERVER__LISTEN",
            "JITGATE_SERVER__LISTEN__X",
            "JITGATE_NOTIFY__WEBHOOK_SECRET",
            "JITGATE_NOTIFY__SMTP__PORT",
            "JITGATE_AUDIT__KEY",
            "JITGATE_ENTRA__CLIENT_SECRET",
            "JITGATE_NOTIFY__SMTP__PASSWORD",
            "JITGATE___",
        ];

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(128))]

            /// What the `config` fuzz target checks: whatever the overrides, the file loads or
            /// is refused naming a key, and what loads has usable durations.
            #[test]
            fn any_overrides_load_or_name_a_key(
                overrides in proptest::collection::vec(
                    (0..KEYS.len(), prop_oneof![
                        "[0-9]{1,12}(ms|s|m|h|d|y)",
                        "[0-9]{1,6}/[0-9]{1,6}(s|m)",
                        "\\PC{0,20}",
                        "-?[0-9]{1,20}",
                    ]),
                    0..4,
                ),
                cut in 0usize..600,
            ) {
                let env: Vec<(&str, &str)> =
                    overrides.iter().map(|(k, v)| (KEYS[*k], v.as_str())).collect();
                // The file cut short somewhere (at a character boundary) is read too.
                let mut end = cut.min(GOOD.len());
                while !GOOD.is_char_boundary(end) {
                    end -= 1;
                }
                for text in [GOOD, &GOOD[..end]] {
                    match load(text, &env) {
                        Ok(s) => {
                            let p = &s.packages[0];
                            prop_assert!(p.min_duration <= p.default_duration);
                            prop_assert!(p.default_duration <= p.max_duration);
                            prop_assert!(p.max_duration <= chrono::Duration::days(36_525));
                            prop_assert!(p.min_duration.num_seconds() % 60 == 0);
                        }
                        Err(e) => {
                            prop_assert!(!e.key.is_empty());
                            // Secrets never reach error texts.
                            for (k, v) in &env {
                                let secret = ["KEY", "SECRET", "PASSWORD"].iter().any(|s| k.ends_with(s));
                                let alone = env.iter().filter(|(_, w)| w.contains(v.trim())).count() == 1;
                                if secret && alone && v.trim().len() >= 8 {
                                    prop_assert!(!e.to_string().contains(v.trim()), "{} shows {}", e, k);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
