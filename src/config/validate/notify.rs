//! `[notify]`: who is told what happened, and how: e-mail through Graph (`email_from`) or an
//! SMTP server (`[notify.smtp]`), never both; Teams and Slack webhooks; the generic webhook every
//! audit event goes to, with its Standard Webhooks secret; and how long one delivery may take.

use chrono::Duration;
use secrecy::{ExposeSecret, SecretString};

use super::{duration, mailbox, non_empty, secret_url};
use crate::config::file::{RawNotify, RawSmtp};
use crate::config::{
    ConfigError, NotifySettings, SmtpSecurity, SmtpSettings, WebhookSettings, err,
};

/// Everything but the packages' own webhooks, which `[[package]]` adds.
pub(super) fn check(raw_notify: RawNotify) -> Result<NotifySettings, ConfigError> {
    let notify = NotifySettings {
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
    Ok(notify)
}

fn smtp(raw: RawSmtp) -> Result<SmtpSettings, ConfigError> {
    let host = non_empty("notify.smtp.host", &raw.host)?;
    let local = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|a| a.is_loopback());
    let security = match raw.security.as_deref().map(str::trim) {
        None | Some("starttls") => SmtpSecurity::StartTls,
        Some("tls") => SmtpSecurity::Tls,
        Some("none") => {
            if !local && !raw.allow_plaintext {
                return Err(err(
                    "notify.smtp.security",
                    "none (no encryption) is allowed for a server on loopback, or off it (an internal relay) only with allow_plaintext = true",
                ));
            }
            if !local && raw.password.is_some() {
                return Err(err(
                    "notify.smtp.password",
                    "would cross the network unencrypted with security = \"none\": use starttls or tls to sign in to the relay, or a relay that takes mail without signing in",
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
    if raw.allow_plaintext && security != SmtpSecurity::None {
        return Err(err(
            "notify.smtp.allow_plaintext",
            "applies only to security = \"none\": remove it",
        ));
    }
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
        allow_plaintext: raw.allow_plaintext && !local,
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
    // With or without its `=` padding, as the sender (channels::webhook) and the
    // specification's libraries take it.
    let lenient = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    match lenient.decode(b64) {
        Ok(bytes) if (24..=64).contains(&bytes.len()) => Ok(SecretString::from(v.to_string())),
        _ => Err(err(
            "notify.webhook_secret",
            "must be whsec_ followed by base64 of 24 to 64 random bytes (for example: echo whsec_$(openssl rand -base64 32))",
        )),
    }
}

#[cfg(test)]
mod tests {
    use crate::config::tests::{GOOD, key_of, load};

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
                with(&[
                    ("JITGATE_NOTIFY__SMTP__SECURITY", "none"),
                    ("JITGATE_NOTIFY__SMTP__ALLOW_PLAINTEXT", "true"),
                    ("JITGATE_NOTIFY__SMTP__USERNAME", "jitgate"),
                    ("JITGATE_NOTIFY__SMTP__PASSWORD", "relay password"),
                ]),
                "notify.smtp.password",
            ),
            (
                with(&[("JITGATE_NOTIFY__SMTP__ALLOW_PLAINTEXT", "true")]),
                "notify.smtp.allow_plaintext",
            ),
            (
                with(&[("JITGATE_NOTIFY__SMTP__ALLOW_PLAINTEXT", "yes")]),
                "notify.smtp.allow_plaintext",
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
        // An internal relay without encryption, said to be meant: allowed, and warned of. On
        // loopback nothing crosses the network: no warning.
        let s = load(
            GOOD,
            &with(&[
                ("JITGATE_NOTIFY__SMTP__SECURITY", "none"),
                ("JITGATE_NOTIFY__SMTP__ALLOW_PLAINTEXT", "true"),
            ]),
        )
        .unwrap();
        let smtp = s.notify.smtp.as_ref().unwrap();
        assert_eq!(
            (smtp.port, smtp.security, smtp.allow_plaintext),
            (25, super::SmtpSecurity::None, true)
        );
        let warnings = s.warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("smtp.contoso.example:25") && warnings[0].contains("unencrypted"),
            "{warnings:?}"
        );
        let s = load(
            GOOD,
            &[
                ("JITGATE_NOTIFY__SMTP__HOST", "127.0.0.1"),
                ("JITGATE_NOTIFY__SMTP__FROM", "jitgate@contoso.example"),
                ("JITGATE_NOTIFY__SMTP__SECURITY", "none"),
            ],
        )
        .unwrap();
        assert!(s.warnings().is_empty());
        assert!(load(GOOD, &[]).unwrap().warnings().is_empty());

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

    /// Found writing the `webhook` fuzz target (seed: fuzz/seeds/webhook/found-unpadded-secret): the configuration refused a
    /// secret without its `=` padding that the sender (and the specification's libraries)
    /// take, so the two disagreed on which secrets are valid.
    #[test]
    fn the_configuration_takes_the_secrets_the_sender_takes() {
        let with_url =
            format!("{GOOD}\n[notify]\nwebhook_url = \"https://siem.contoso.example/jitgate\"\n");
        // 25 bytes: base64 with `==` of padding, written without it.
        let unpadded = "whsec_MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNA";
        load(&with_url, &[("JITGATE_NOTIFY__WEBHOOK_SECRET", unpadded)]).unwrap();
        load(
            &with_url,
            &[("JITGATE_NOTIFY__WEBHOOK_SECRET", &format!("{unpadded}=="))],
        )
        .unwrap();
    }
}
