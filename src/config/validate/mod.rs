//! Turning the file as written into [`Settings`]: every value checked, every problem named by its
//! key. This file walks the sections in a fixed order (the first problem found is the one named)
//! and holds the small checks several of them share (URLs and the schemes they may have,
//! durations, GUIDs, mailboxes, the entries of a list, each under its own key); each section is
//! checked by its own file:
//!
//! - `server`: `[server]`, where the portal listens and its sessions;
//! - `database`: `[database]`;
//! - `entra`: `[entra]`, the app registration, and `[roles]`, its app role names;
//! - `jobs`: `[scheduler]`, `[directory]`, `[reconcile]` and `[sign_ins]`, the background work;
//! - `audit`: `[audit]`, the chain's key and anchors;
//! - `notify`: `[notify]`, e-mail through Graph or SMTP, chat and audit webhooks;
//! - `package`: every `[[package]]`;
//! - `rules`: a package's rules on where from and how much (networks, places, hours);
//! - `break_glass`: a package's break-glass keys (who, how long, how often, reviewed by when).
//! - `review`: a package's access reviews.

mod audit;
mod break_glass;
mod credential;
mod database;
mod entra;
mod jobs;
mod notify;
mod package;
mod review;
mod rules;
mod server;

use std::str::FromStr;

use chrono::Duration;
use url::Url;

use super::file::RawSettings;
use super::server::is_loopback;
use super::{ConfigError, SecretUrl, Settings, err};
use crate::domain::package::parse_duration;

/// Why a URL that is neither https nor plain http on loopback is refused.
const HTTPS_ONLY: &str = "must use https (plain http is allowed only on loopback, for tests)";

/// Whether `u` is https, or plain http on loopback (for tests): the schemes every URL of the
/// configuration may have.
fn https_or_loopback(u: &Url) -> bool {
    match u.scheme() {
        "https" => true,
        "http" => is_loopback(u),
        _ => false,
    }
}

/// An http(s) URL: https, or plain http on loopback; no query or fragment.
fn http_url(key: &str, v: &str) -> Result<Url, ConfigError> {
    let u = Url::parse(v).map_err(|e| err(key, format!("'{v}' is not a URL ({e})")))?;
    if !https_or_loopback(&u) {
        return Err(match u.scheme() {
            "http" => err(key, HTTPS_ONLY),
            s => err(key, format!("scheme '{s}' is not http or https")),
        });
    }
    if u.query().is_some() || u.fragment().is_some() {
        return Err(err(key, "must not carry a query or fragment"));
    }
    Ok(u)
}

/// A webhook URL: https (http on loopback), a query allowed (Teams Workflows URLs sign
/// themselves in it). It is a credential, so errors never repeat it.
fn secret_url(key: &str, v: &str) -> Result<SecretUrl, ConfigError> {
    let u = Url::parse(v.trim()).map_err(|_| err(key, "is not a URL"))?;
    if !https_or_loopback(&u) {
        return Err(err(key, HTTPS_ONLY));
    }
    if u.fragment().is_some() {
        return Err(err(key, "must not carry a fragment"));
    }
    Ok(SecretUrl(u))
}

fn duration(key: &str, v: &str) -> Result<Duration, ConfigError> {
    parse_duration(v).map_err(|m| err(key, m))
}

fn guid(key: &str, v: &str) -> Result<String, ConfigError> {
    uuid::Uuid::from_str(v.trim())
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| err(key, format!("'{v}' is not a GUID (an object id such as 00000000-0000-0000-0000-000000000000)")))
}

/// A mailbox: an address, or a user's object id.
fn mailbox(key: &str, m: &str) -> Result<String, ConfigError> {
    let m = m.trim();
    if (m.contains('@') && !m.contains(char::is_whitespace)) || uuid::Uuid::from_str(m).is_ok() {
        Ok(m.to_string())
    } else {
        Err(err(
            key,
            format!("'{m}' is neither a mailbox address nor an object id"),
        ))
    }
}

/// Every entry of the list at `key`, each checked by `check` under its own key (`key[j]`).
fn each<T>(
    key: &str,
    items: &[String],
    check: impl Fn(&str, &str) -> Result<T, ConfigError>,
) -> Result<Vec<T>, ConfigError> {
    items
        .iter()
        .enumerate()
        .map(|(j, v)| check(&format!("{key}[{j}]"), v))
        .collect()
}

fn non_empty(key: &str, v: &str) -> Result<String, ConfigError> {
    let v = v.trim();
    if v.is_empty() {
        return Err(err(key, "must not be empty"));
    }
    Ok(v.to_string())
}

impl RawSettings {
    pub(super) fn validate(self) -> Result<Settings, ConfigError> {
        let server = server::check(&self.server)?;
        let database_url = database::check(&self.database)?;
        let entra = entra::check(self.entra)?;
        let roles = entra::roles(&self.roles)?;
        let scheduler = jobs::scheduler(&self.scheduler)?;
        let directory = jobs::directory(&self.directory)?;
        let reconcile = jobs::reconcile(&self.reconcile)?;
        let audit = audit::check(&self.audit)?;
        let mut notify = notify::check(self.notify)?;
        let packages = package::check(self.package, &mut notify)?;
        let sign_ins = jobs::sign_ins(&self.sign_ins)?;
        Ok(Settings {
            server,
            database_url,
            entra,
            roles,
            scheduler,
            directory,
            reconcile,
            audit,
            notify,
            sign_ins,
            packages,
            demo: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::config::tests::{GOOD, key_of, load};

    /// Each `(variable, value, key)`: that one variable set over [`GOOD`] is refused, naming
    /// `key`.
    pub(super) fn assert_refused(cases: &[(&str, &str, &str)]) {
        for (var, value, key) in cases {
            assert_eq!(key_of(GOOD, &[(var, value)]), *key, "{var}={value}");
        }
    }

    /// Issue 8 and 9 settings: sessions, the audit key and anchors, e-mail.
    #[test]
    fn session_audit_and_notify_settings_are_checked() {
        let s = load(GOOD, &[]).unwrap();
        assert_eq!(s.server.session_max, chrono::Duration::hours(12));
        assert_eq!(s.server.role_refresh, chrono::Duration::minutes(15));
        assert!(s.audit.key.is_none() && s.notify.email_from.is_none());
        assert_refused(&[
            ("JITGATE_SERVER__ROLE_REFRESH", "30s", "server.role_refresh"),
            ("JITGATE_SERVER__SESSION_MAX", "1m", "server.session_max"),
            ("JITGATE_AUDIT__KEY", "too short", "audit.key"),
            ("JITGATE_AUDIT__ANCHOR_EVERY", "10s", "audit.anchor_every"),
            (
                "JITGATE_AUDIT__ANCHOR_WEBHOOK",
                "http://siem.contoso.example/",
                "audit.anchor_webhook",
            ),
            ("JITGATE_NOTIFY__EMAIL_FROM", "jitgate", "notify.email_from"),
        ]);
        let s = load(
            GOOD,
            &[
                (
                    "JITGATE_AUDIT__KEY",
                    "an audit key of thirty-two characters or more",
                ),
                ("JITGATE_NOTIFY__EMAIL_FROM", "jitgate@contoso.example"),
            ],
        )
        .unwrap();
        assert!(s.audit.key.is_some());
        assert_eq!(
            s.notify.email_from.as_deref(),
            Some("jitgate@contoso.example")
        );
    }

    /// Issue 19: the anchor webhook's URL is a credential (a token in its path or query): a bad
    /// one is refused without repeating it, and the settings never show more than its host.
    #[test]
    fn the_anchor_webhook_url_is_never_repeated() {
        for bad in [
            "http://siem.contoso.example/hook/s3cr3t-token",
            "ftp://siem.contoso.example/hook/s3cr3t-token",
            "not a url s3cr3t-token",
        ] {
            let e = load(GOOD, &[("JITGATE_AUDIT__ANCHOR_WEBHOOK", bad)]).unwrap_err();
            assert_eq!(e.key, "audit.anchor_webhook");
            assert!(!e.to_string().contains("s3cr3t"), "{e}");
        }
        let url = "https://siem.contoso.example/hook/s3cr3t-token?sig=s3cr3t";
        let s = load(GOOD, &[("JITGATE_AUDIT__ANCHOR_WEBHOOK", url)]).unwrap();
        assert!(!format!("{:?}", s.audit).contains("s3cr3t"));
    }

    #[test]
    fn errors_name_the_key() {
        assert_refused(&[
            ("JITGATE_SERVER__LISTEN", "nope", "server.listen"),
            (
                "JITGATE_SERVER__PUBLIC_URL",
                "http://jit.contoso.example",
                "server.public_url",
            ),
            ("JITGATE_DATABASE__URL", "mysql://x", "database.url"),
            ("JITGATE_ENTRA__TENANT_ID", "contoso", "entra.tenant_id"),
            ("JITGATE_ENTRA__CLIENT_SECRET", " ", "entra.client_secret"),
            (
                "JITGATE_ENTRA__API_SCOPE",
                "access_as_user",
                "entra.api_scope",
            ),
            ("JITGATE_ENTRA__API_SCOPE", "api://x/", "entra.api_scope"),
            (
                "JITGATE_ENTRA__API_SCOPE",
                "/access_as_user",
                "entra.api_scope",
            ),
            ("JITGATE_ENTRA__API_SCOPE", "api://x/a b", "entra.api_scope"),
            (
                "JITGATE_ENTRA__CLI_CLIENT_ID",
                "jitgate-cli",
                "entra.cli_client_id",
            ),
            ("JITGATE_SCHEDULER__SWEEP", "*/5 * * * *", "scheduler.sweep"),
            (
                "JITGATE_PACKAGE__0__MAX_DURATION",
                "10m",
                "package[0].min_duration",
            ),
            (
                "JITGATE_PACKAGE__0__DEFAULT_DURATION",
                "5h",
                "package[0].default_duration",
            ),
            (
                "JITGATE_PACKAGE__0__MIN_DURATION",
                "2 fortnights",
                "package[0].min_duration",
            ),
            (
                "JITGATE_PACKAGE__0__MIN_DURATION",
                "90s",
                "package[0].min_duration",
            ),
            (
                "JITGATE_PACKAGE__0__GROUP_ID",
                "exclusion",
                "package[0].group_id",
            ),
            (
                "JITGATE_PACKAGE__0__APPROVALS_REQUIRED",
                "many",
                "package[0].approvals_required",
            ),
            ("JITGATE_PACKAGE__0__ID", "Device Code", "package[0].id"),
        ]);
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
}
