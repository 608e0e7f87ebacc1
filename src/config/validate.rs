//! Turning the file as written into [`Settings`]: every value checked, every problem named by its key.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use chrono::Duration;
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::file::{RawSettings, RawSmtp};
use super::{
    AuditSettings, ConfigError, DirectorySettings, EntraSettings, Every, NotifySettings,
    ReconcileMode, ReconcileSettings, RoleSettings, SchedulerSettings, SecretUrl, ServerSettings,
    Settings, SignInSettings, SmtpSecurity, SmtpSettings, WebhookSettings, err, is_loopback,
};
use crate::domain::Package;
use crate::domain::audit::ChainKey;
use crate::domain::package::parse_duration;

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

/// A webhook URL: https (http on loopback), a query allowed (Teams Workflows URLs sign
/// themselves in it). It is a credential, so errors never repeat it.
fn secret_url(key: &str, v: &str) -> Result<SecretUrl, ConfigError> {
    let u = Url::parse(v.trim()).map_err(|_| err(key, "is not a URL"))?;
    match u.scheme() {
        "https" => {}
        "http" if is_loopback(&u) => {}
        _ => {
            return Err(err(
                key,
                "must use https (plain http is allowed only on loopback, for tests)",
            ));
        }
    }
    if u.fragment().is_some() {
        return Err(err(key, "must not carry a fragment"));
    }
    Ok(SecretUrl(u))
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

/// A delegated scope of an API: `<application ID URI>/<scope name>`, e.g.
/// `api://<client id>/access_as_user`.
fn scope(key: &str, v: &str) -> Result<String, ConfigError> {
    let v = v.trim();
    match v.rsplit_once('/') {
        Some((uri, name))
            if !uri.is_empty()
                && uri.contains(':')
                && !name.is_empty()
                && !v.contains(char::is_whitespace) =>
        {
            Ok(v.to_string())
        }
        _ => Err(err(
            key,
            format!(
                "'{v}' is not an API scope like api://<client id>/access_as_user (the Application ID URI, a slash, the scope's name)"
            ),
        )),
    }
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

fn smtp(raw: RawSmtp) -> Result<SmtpSettings, ConfigError> {
    let host = non_empty("notify.smtp.host", &raw.host)?;
    let security = match raw.security.as_deref().map(str::trim) {
        None | Some("starttls") => SmtpSecurity::StartTls,
        Some("tls") => SmtpSecurity::Tls,
        Some("none") => {
            let local = host == "localhost"
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|a| a.is_loopback());
            if !local {
                return Err(err(
                    "notify.smtp.security",
                    "none (no encryption) is allowed only for a server on loopback",
                ));
            }
            SmtpSecurity::None
        }
        Some(other) => {
            return Err(err(
                "notify.smtp.security",
                format!("'{other}' is not starttls, tls or none"),
            ));
        }
    };
    let port = match raw.port {
        Some(0) => return Err(err("notify.smtp.port", "must be 1 to 65535")),
        Some(p) => p,
        None if security == SmtpSecurity::Tls => 465,
        None if security == SmtpSecurity::None => 25,
        None => 587,
    };
    let username = raw
        .username
        .map(|u| u.trim().to_string())
        .filter(|u| !u.is_empty());
    if username.is_some() != raw.password.is_some() {
        return Err(err(
            "notify.smtp.password",
            "username and password go together (the password best from JITGATE_NOTIFY__SMTP__PASSWORD)",
        ));
    }
    Ok(SmtpSettings {
        host,
        port,
        security,
        username,
        password: raw.password,
        from: mailbox("notify.smtp.from", &raw.from)?,
    })
}

/// A Standard Webhooks secret: `whsec_` and base64 of 24 to 64 bytes.
fn webhook_secret(s: SecretString) -> Result<SecretString, ConfigError> {
    use base64::Engine;
    let v = s.expose_secret().trim();
    let b64 = v.strip_prefix("whsec_").unwrap_or(v);
    match base64::engine::general_purpose::STANDARD.decode(b64) {
        Ok(bytes) if (24..=64).contains(&bytes.len()) => Ok(SecretString::from(v.to_string())),
        _ => Err(err(
            "notify.webhook_secret",
            "must be whsec_ followed by base64 of 24 to 64 random bytes (for example: echo whsec_$(openssl rand -base64 32))",
        )),
    }
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
        let session_max = duration("server.session_max", &self.server.session_max)?;
        let role_refresh = duration("server.role_refresh", &self.server.role_refresh)?;
        if role_refresh < Duration::minutes(1) {
            return Err(err(
                "server.role_refresh",
                "must be at least 1m (each check reads the directory)",
            ));
        }
        if session_max < Duration::minutes(5) {
            return Err(err("server.session_max", "must be at least 5m"));
        }
        let mut trusted_proxies = Vec::new();
        for (i, c) in self.server.trusted_proxies.iter().enumerate() {
            let c = c.trim();
            // A bare address is a network of one.
            let net = c
                .parse::<ipnet::IpNet>()
                .or_else(|_| c.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    err(
                        format!("server.trusted_proxies[{i}]"),
                        format!("'{c}' is not an address or a CIDR like 10.0.0.0/8"),
                    )
                })?;
            trusted_proxies.push(net);
        }
        let metrics_listen = match self.server.metrics_listen.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(a) => Some(a.parse().map_err(|_| {
                err(
                    "server.metrics_listen",
                    format!("'{a}' is not an address like 127.0.0.1:9090"),
                )
            })?),
        };

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
            cli_client_id: e
                .cli_client_id
                .as_deref()
                .map(|c| guid("entra.cli_client_id", c))
                .transpose()?,
            api_scope: e
                .api_scope
                .as_deref()
                .map(|s| scope("entra.api_scope", s))
                .transpose()?,
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
        if scheduler.lease < Duration::seconds(3) {
            return Err(err("scheduler.lease", "must be at least 3s"));
        }
        let d = &self.directory;
        if !(1..=64).contains(&d.concurrency) {
            return Err(err("directory.concurrency", "must be between 1 and 64"));
        }
        let timeout = duration("directory.timeout", &d.timeout)?;
        if timeout < Duration::seconds(1) || timeout > Duration::minutes(5) {
            return Err(err("directory.timeout", "must be between 1s and 5m"));
        }
        let directory = DirectorySettings {
            concurrency: d.concurrency as usize,
            write_budget: d
                .write_budget
                .parse()
                .map_err(|m: String| err("directory.write_budget", m))?,
            timeout: timeout
                .to_std()
                .unwrap_or(std::time::Duration::from_secs(10)),
        };

        let every = &self.reconcile.every;
        let reconcile = ReconcileSettings {
            every: match parse_duration(every) {
                Ok(d) if d < Duration::seconds(10) => {
                    return Err(err("reconcile.every", "must be at least 10s"));
                }
                Ok(d) => Every::Interval(d),
                Err(_) => Every::Cron(Box::new(cron::Schedule::from_str(every).map_err(|_| {
                    err(
                        "reconcile.every",
                        format!("'{every}' is neither a duration like \"5m\" nor a cron expression with six fields, seconds first"),
                    )
                })?)),
            },
            mode: match self.reconcile.mode.trim() {
                "remove" => ReconcileMode::Remove,
                "report" => ReconcileMode::Report,
                other => {
                    return Err(err(
                        "reconcile.mode",
                        format!("'{other}' is not remove or report"),
                    ));
                }
            },
        };

        let audit = AuditSettings {
            key: match &self.audit.key {
                None => None,
                Some(k) if k.expose_secret().len() < ChainKey::MIN_LEN => {
                    return Err(err(
                        "audit.key",
                        format!(
                            "must be at least {} characters (for example: openssl rand -base64 48)",
                            ChainKey::MIN_LEN
                        ),
                    ));
                }
                Some(k) => Some(ChainKey::new(k.expose_secret().as_bytes())),
            },
            anchor_every: match duration("audit.anchor_every", &self.audit.anchor_every)? {
                d if d < Duration::minutes(1) => {
                    return Err(err("audit.anchor_every", "must be at least 1m"));
                }
                d => d,
            },
            anchor_file: self
                .audit
                .anchor_file
                .as_deref()
                .map(|f| non_empty("audit.anchor_file", f).map(std::path::PathBuf::from))
                .transpose()?,
            anchor_webhook: self
                .audit
                .anchor_webhook
                .as_deref()
                .map(|u| http_url("audit.anchor_webhook", u))
                .transpose()?,
        };

        let raw_notify = self.notify;
        let mut notify = NotifySettings {
            email_from: raw_notify
                .email_from
                .as_deref()
                .map(|m| mailbox("notify.email_from", m))
                .transpose()?,
            smtp: raw_notify.smtp.map(smtp).transpose()?,
            timeout: match raw_notify.timeout.as_deref() {
                None => None,
                Some(v) => {
                    let d = duration("notify.timeout", v)?;
                    if d < Duration::seconds(1) || d > Duration::minutes(1) {
                        return Err(err("notify.timeout", "must be between 1s and 1m"));
                    }
                    d.to_std().ok()
                }
            },
            teams_webhook: raw_notify
                .teams_webhook
                .as_deref()
                .map(|u| secret_url("notify.teams_webhook", u))
                .transpose()?,
            slack_webhook: raw_notify
                .slack_webhook
                .as_deref()
                .map(|u| secret_url("notify.slack_webhook", u))
                .transpose()?,
            webhook: match (raw_notify.webhook_url, raw_notify.webhook_secret) {
                (None, None) => None,
                (None, Some(_)) => {
                    return Err(err("notify.webhook_url", "is needed with webhook_secret"));
                }
                (Some(_), None) => {
                    return Err(err(
                        "notify.webhook_secret",
                        "is needed with webhook_url (JITGATE_NOTIFY__WEBHOOK_SECRET, whsec_ and base64)",
                    ));
                }
                (Some(u), Some(secret)) => Some(WebhookSettings {
                    url: secret_url("notify.webhook_url", &u)?.0,
                    secret: webhook_secret(secret)?,
                }),
            },
            ..NotifySettings::default()
        };
        if notify.email_from.is_some() && notify.smtp.is_some() {
            return Err(err(
                "notify.smtp",
                "e-mail goes through Graph (email_from) or SMTP, not both: remove one",
            ));
        }

        if self.package.is_empty() {
            return Err(err("package", "at least one [[package]] is needed"));
        }
        let mut seen = HashSet::new();
        let mut packages = Vec::new();
        let (mut package_teams, mut package_slack) = (HashMap::new(), HashMap::new());
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
            if !p.approver_role_applies && p.approver_groups.is_empty() && !p.manager_may_approve {
                return Err(err(
                    k("approver_role_applies"),
                    "is false, but the package has no approver_groups and manager_may_approve is off: nobody could decide its requests",
                ));
            }
            if let Some(u) = &p.teams_webhook {
                package_teams.insert(id.clone(), secret_url(&k("teams_webhook"), u)?);
            }
            if let Some(u) = &p.slack_webhook {
                package_slack.insert(id.clone(), secret_url(&k("slack_webhook"), u)?);
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
                standing_members: p
                    .standing_members
                    .iter()
                    .enumerate()
                    .map(|(j, m)| guid(&k(&format!("standing_members[{j}]")), m))
                    .collect::<Result<_, _>>()?,
                revoke_sessions_on_end: p.revoke_sessions_on_end,
                remind_before: match p.remind_before.trim() {
                    "off" | "none" => None,
                    v => Some(minutes(&k("remind_before"), v)?),
                },
                escalate_after: p
                    .escalate_after
                    .as_deref()
                    .map(|v| minutes(&k("escalate_after"), v))
                    .transpose()?,
                escalate_to: p
                    .escalate_to
                    .iter()
                    .enumerate()
                    .map(|(j, m)| mailbox(&k(&format!("escalate_to[{j}]")), m))
                    .collect::<Result<_, _>>()?,
                approver_groups: p
                    .approver_groups
                    .iter()
                    .enumerate()
                    .map(|(j, g)| guid(&k(&format!("approver_groups[{j}]")), g))
                    .collect::<Result<_, _>>()?,
                approver_role_applies: p.approver_role_applies,
                max_extension: p
                    .max_extension
                    .as_deref()
                    .map(|v| minutes(&k("max_extension"), v))
                    .transpose()?,
                self_extend: p.self_extend,
                end_after_first_sign_in: p
                    .end_after_first_sign_in
                    .as_deref()
                    .map(|v| minutes(&k("end_after_first_sign_in"), v))
                    .transpose()?,
            });
        }

        let sign_ins = SignInSettings {
            read: self.sign_ins.read,
            every: duration("sign_ins.every", &self.sign_ins.every)?,
            lookback: duration("sign_ins.lookback", &self.sign_ins.lookback)?,
        };
        if sign_ins.every < Duration::seconds(30) {
            return Err(err(
                "sign_ins.every",
                "must be at least 30s (the sign-in log API is throttled tightly)",
            ));
        }
        if sign_ins.lookback < sign_ins.every {
            return Err(err("sign_ins.lookback", "must be at least sign_ins.every"));
        }
        notify.package_teams = package_teams;
        notify.package_slack = package_slack;
        Ok(Settings {
            server: ServerSettings {
                listen,
                public_url,
                session_idle,
                session_max,
                role_refresh,
                metrics_listen,
                trusted_proxies,
            },
            database_url: url,
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

    /// Issue 8 and 9 settings: sessions, the audit key and anchors, e-mail.
    #[test]
    fn session_audit_and_notify_settings_are_checked() {
        let s = load(GOOD, &[]).unwrap();
        assert_eq!(s.server.session_max, chrono::Duration::hours(12));
        assert_eq!(s.server.role_refresh, chrono::Duration::minutes(15));
        assert!(s.audit.key.is_none() && s.notify.email_from.is_none());
        for (var, value, key) in [
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
        ] {
            assert_eq!(key_of(GOOD, &[(var, value)]), key, "{var}={value}");
        }
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

    /// Issue 9 settings: channels, reminders, escalation, extensions, approver groups.
    #[test]
    fn notification_and_extension_settings_are_checked() {
        let s = load(GOOD, &[]).unwrap();
        let p = &s.packages[0];
        assert_eq!(p.remind_before, Some(chrono::Duration::minutes(15)));
        assert!(p.escalate_after.is_none() && p.approver_role_applies && !p.self_extend);
        assert!(s.notify.smtp.is_none() && s.notify.webhook.is_none());
        let smtp = [
            ("JITGATE_NOTIFY__SMTP__HOST", "smtp.contoso.example"),
            ("JITGATE_NOTIFY__SMTP__FROM", "jitgate@contoso.example"),
        ];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut v = smtp.to_vec();
            v.extend_from_slice(extra);
            v
        };
        for (vars, key) in [
            (
                vec![("JITGATE_PACKAGE__0__REMIND_BEFORE", "soon")],
                "package[0].remind_before",
            ),
            (
                vec![("JITGATE_PACKAGE__0__ESCALATE_AFTER", "30s")],
                "package[0].escalate_after",
            ),
            (
                vec![("JITGATE_PACKAGE__0__ESCALATE_TO__0", "backup approver")],
                "package[0].escalate_to[0]",
            ),
            (
                vec![("JITGATE_PACKAGE__0__APPROVER_GROUPS__0", "approvers")],
                "package[0].approver_groups[0]",
            ),
            (
                vec![("JITGATE_PACKAGE__0__APPROVER_ROLE_APPLIES", "false")],
                "package[0].approver_role_applies",
            ),
            (
                vec![("JITGATE_PACKAGE__0__MAX_EXTENSION", "forever")],
                "package[0].max_extension",
            ),
            (
                vec![(
                    "JITGATE_PACKAGE__0__TEAMS_WEBHOOK",
                    "http://teams.example/hook",
                )],
                "package[0].teams_webhook",
            ),
            (
                vec![("JITGATE_NOTIFY__SLACK_WEBHOOK", "hooks.slack.com")],
                "notify.slack_webhook",
            ),
            (
                vec![(
                    "JITGATE_NOTIFY__WEBHOOK_URL",
                    "https://siem.contoso.example/in",
                )],
                "notify.webhook_secret",
            ),
            (
                vec![
                    (
                        "JITGATE_NOTIFY__WEBHOOK_URL",
                        "https://siem.contoso.example/in",
                    ),
                    ("JITGATE_NOTIFY__WEBHOOK_SECRET", "whsec_c2hvcnQ="),
                ],
                "notify.webhook_secret",
            ),
            (
                with(&[("JITGATE_NOTIFY__SMTP__SECURITY", "none")]),
                "notify.smtp.security",
            ),
            (
                with(&[("JITGATE_NOTIFY__SMTP__SECURITY", "ssl")]),
                "notify.smtp.security",
            ),
            (
                with(&[("JITGATE_NOTIFY__SMTP__PORT", "smtp")]),
                "notify.smtp.port",
            ),
            (
                with(&[("JITGATE_NOTIFY__SMTP__USERNAME", "jitgate")]),
                "notify.smtp.password",
            ),
            (
                with(&[("JITGATE_NOTIFY__EMAIL_FROM", "jitgate@contoso.example")]),
                "notify.smtp",
            ),
        ] {
            assert_eq!(key_of(GOOD, &vars), key, "{vars:?}");
        }
        // A webhook URL is a credential: errors never repeat it.
        let e = load(
            GOOD,
            &[(
                "JITGATE_NOTIFY__TEAMS_WEBHOOK",
                "http://prod.example/workflows?sig=abc",
            )],
        )
        .unwrap_err()
        .to_string();
        assert!(!e.contains("sig=abc"), "{e}");

        let s = load(
            GOOD,
            &with(&[
                ("JITGATE_NOTIFY__SMTP__USERNAME", "jitgate"),
                ("JITGATE_NOTIFY__SMTP__PASSWORD", "relay password"),
                (
                    "JITGATE_NOTIFY__WEBHOOK_URL",
                    "https://siem.contoso.example/in?token=1",
                ),
                (
                    "JITGATE_NOTIFY__WEBHOOK_SECRET",
                    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                ),
                (
                    "JITGATE_NOTIFY__TEAMS_WEBHOOK",
                    "https://prod.example/workflows?sig=abc",
                ),
                ("JITGATE_PACKAGE__0__ESCALATE_AFTER", "2h"),
                (
                    "JITGATE_PACKAGE__0__ESCALATE_TO__0",
                    "backup@contoso.example",
                ),
                ("JITGATE_PACKAGE__0__REMIND_BEFORE", "off"),
                ("JITGATE_PACKAGE__0__MAX_EXTENSION", "1h"),
                ("JITGATE_PACKAGE__0__SELF_EXTEND", "true"),
                (
                    "JITGATE_PACKAGE__0__APPROVER_GROUPS__0",
                    "c0a8e2d4-1f3b-4a5c-8d6e-7f9a0b1c2d3e",
                ),
                ("JITGATE_PACKAGE__0__APPROVER_ROLE_APPLIES", "false"),
            ]),
        )
        .unwrap();
        let smtp = s.notify.smtp.as_ref().unwrap();
        assert_eq!(
            (smtp.port, smtp.security),
            (587, super::SmtpSecurity::StartTls)
        );
        assert!(s.notify.webhook.is_some() && s.notify.email());
        assert!(
            !format!("{:?}", s.notify).contains("sig=abc"),
            "webhook URLs stay out of Debug"
        );
        let p = &s.packages[0];
        assert_eq!(p.escalate_after, Some(chrono::Duration::hours(2)));
        assert_eq!(p.escalate_to, ["backup@contoso.example"]);
        assert_eq!(p.remind_before, None);
        assert_eq!(
            p.longest_grant(),
            p.max_duration + chrono::Duration::hours(1)
        );
        assert!(p.self_extend && !p.approver_role_applies);
        assert_eq!(p.approver_groups.len(), 1);
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
        for bad in [
            "access_as_user",
            "api://x/",
            "/access_as_user",
            "api://x/a b",
        ] {
            assert_eq!(
                key_of(GOOD, &[("JITGATE_ENTRA__API_SCOPE", bad)]),
                "entra.api_scope",
                "{bad}"
            );
        }
        assert_eq!(
            key_of(GOOD, &[("JITGATE_ENTRA__CLI_CLIENT_ID", "jitgate-cli")]),
            "entra.cli_client_id"
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
    fn directory_settings_have_defaults_and_are_checked() {
        let s = load(GOOD, &[]).unwrap();
        assert_eq!(s.directory.concurrency, 8);
        assert_eq!(s.directory.write_budget.writes, 3000);
        assert_eq!(s.directory.write_budget.per.as_secs(), 150);
        assert_eq!(s.directory.timeout.as_secs(), 10);
        assert_eq!(s.scheduler.lease.num_seconds(), 15);
        for (var, value, key) in [
            (
                "JITGATE_DIRECTORY__CONCURRENCY",
                "0",
                "directory.concurrency",
            ),
            (
                "JITGATE_DIRECTORY__WRITE_BUDGET",
                "3000",
                "directory.write_budget",
            ),
            (
                "JITGATE_DIRECTORY__WRITE_BUDGET",
                "0/10s",
                "directory.write_budget",
            ),
            (
                "JITGATE_DIRECTORY__WRITE_BUDGET",
                "ten/10s",
                "directory.write_budget",
            ),
            ("JITGATE_DIRECTORY__TIMEOUT", "10m", "directory.timeout"),
            ("JITGATE_SCHEDULER__LEASE", "1s", "scheduler.lease"),
        ] {
            assert_eq!(key_of(GOOD, &[(var, value)]), key, "{var}={value}");
        }
        let s = load(GOOD, &[("JITGATE_DIRECTORY__WRITE_BUDGET", "600/30s")]).unwrap();
        assert_eq!(s.directory.write_budget.writes, 600);
    }

    #[test]
    fn reconciliation_takes_an_interval_or_a_cron_and_a_mode() {
        use crate::config::{Every, ReconcileMode};
        let s = load(GOOD, &[]).unwrap();
        assert!(matches!(s.reconcile.every, Every::Interval(d) if d.num_minutes() == 5));
        assert_eq!(s.reconcile.mode, ReconcileMode::Remove);
        let s = load(
            GOOD,
            &[
                ("JITGATE_RECONCILE__EVERY", "0 */10 * * * *"),
                ("JITGATE_RECONCILE__MODE", "report"),
            ],
        )
        .unwrap();
        assert!(matches!(s.reconcile.every, Every::Cron(_)));
        assert_eq!(
            s.reconcile.every.period(chrono::Utc::now()).num_minutes(),
            10
        );
        assert_eq!(s.reconcile.mode, ReconcileMode::Report);
        for (var, value, key) in [
            ("JITGATE_RECONCILE__EVERY", "often", "reconcile.every"),
            ("JITGATE_RECONCILE__EVERY", "1s", "reconcile.every"),
            ("JITGATE_RECONCILE__MODE", "fix", "reconcile.mode"),
        ] {
            assert_eq!(key_of(GOOD, &[(var, value)]), key, "{var}={value}");
        }
        let standing = GOOD.replace(
            "approvals_required = 1",
            "approvals_required = 1\nstanding_members = [\"0B6A1C2D-3E4F-4A5B-8C6D-7E8F9A0B1C06\", \"x\"]",
        );
        assert_eq!(key_of(&standing, &[]), "package[0].standing_members[1]");
        let ok = standing.replace(", \"x\"", "");
        let s = load(&ok, &[]).unwrap();
        assert!(s.packages[0].is_standing_member("0b6a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c06"));
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        let with = |list: &str| {
            GOOD.replace(
                "[database]",
                &format!("trusted_proxies = {list}\n\n[database]"),
            )
        };
        let s = load(&with(r#"["10.0.0.0/8", "192.0.2.1"]"#), &[]).unwrap();
        assert_eq!(s.server.trusted_proxies.len(), 2);
        assert!(
            s.server.trusted_proxies[1].contains(&"192.0.2.1".parse::<std::net::IpAddr>().unwrap())
        );
        assert_eq!(
            key_of(&with(r#"["10.0.0.0/8", "proxy"]"#), &[]),
            "server.trusted_proxies[1]"
        );
        assert!(load(GOOD, &[]).unwrap().server.trusted_proxies.is_empty());
    }

    #[test]
    fn duplicate_packages_are_refused() {
        let twice = format!("{GOOD}\n{}", &GOOD[GOOD.find("[[package]]").unwrap()..]);
        assert_eq!(key_of(&twice, &[]), "package[1].id");
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
