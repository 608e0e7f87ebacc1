//! `[[package]]`: each access package, its group, durations, approvals, reminders, escalation,
//! extensions, how often one person may ask, whether holders of directory roles may, and its own
//! chat webhooks. Ids are unique and hold only `a-z`, `0-9` and `-`.

use std::collections::{HashMap, HashSet};

use chrono::Duration;

use super::{break_glass, duration, each, guid, mailbox, non_empty, review, rules, secret_url};
use crate::config::file::RawPackage;
use crate::config::{ConfigError, NotifySettings, err};
use crate::domain::Package;
use crate::domain::package::TicketValidator;
use crate::domain::step_up::parse_auth_context;
use crate::domain::ticket::TicketRule;

/// The most asks per person and hour a package may allow.
const MAX_PER_HOUR: u32 = 1000;

fn minutes(key: &str, v: &str) -> Result<Duration, ConfigError> {
    let d = duration(key, v)?;
    if d.num_seconds() % 60 != 0 {
        return Err(err(key, format!("'{v}' must be whole minutes")));
    }
    Ok(d)
}

/// `ticket_pattern` (a regular expression the whole ticket must match) and `ticket_hint` (what
/// a ticket looks like, in words: one line, at most 200 characters).
fn ticket_rule(
    k: &dyn Fn(&str) -> String,
    p: &RawPackage,
) -> Result<(Option<TicketRule>, Option<String>), ConfigError> {
    let pattern = match p.ticket_pattern.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(v) => Some(TicketRule::new(v).map_err(|e| {
            err(
                k("ticket_pattern"),
                format!(
                    "is not a regular expression: {}",
                    e.lines().last().unwrap_or(&e)
                ),
            )
        })?),
    };
    let hint = match p.ticket_hint.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(h) if h.chars().count() > 200 || h.chars().any(char::is_control) => {
            return Err(err(
                k("ticket_hint"),
                "must be one line of at most 200 characters",
            ));
        }
        Some(h) => Some(h.to_string()),
    };
    Ok((pattern, hint))
}

/// `ticket_validator` (https, or http on loopback; it may carry a credential, so errors never
/// repeat it) and `ticket_validator_fail_open`. Its calls are signed with `[notify]
/// webhook_secret`, which must therefore be set.
fn ticket_validator(
    k: &dyn Fn(&str) -> String,
    p: &RawPackage,
    notify: &NotifySettings,
) -> Result<Option<TicketValidator>, ConfigError> {
    let Some(v) = p.ticket_validator.as_deref() else {
        if p.ticket_validator_fail_open {
            return Err(err(
                k("ticket_validator_fail_open"),
                "applies only with ticket_validator: remove it",
            ));
        }
        return Ok(None);
    };
    let url = secret_url(&k("ticket_validator"), v)?.0;
    if notify.webhook.is_none() {
        return Err(err(
            k("ticket_validator"),
            "its calls are signed with [notify] webhook_secret (and webhook_url), which is not set",
        ));
    }
    Ok(Some(TicketValidator {
        url,
        fail_open: p.ticket_validator_fail_open,
    }))
}

/// Every package, in order; their own Teams and Slack webhooks go into `notify`.
pub(super) fn check(
    raw: Vec<RawPackage>,
    notify: &mut NotifySettings,
) -> Result<Vec<Package>, ConfigError> {
    if raw.is_empty() {
        return Err(err("package", "at least one [[package]] is needed"));
    }
    let mut seen = HashSet::new();
    let mut packages = Vec::new();
    let (mut package_teams, mut package_slack) = (HashMap::new(), HashMap::new());
    for (i, p) in raw.into_iter().enumerate() {
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
        let mut presets = each(&k("duration_presets"), &p.duration_presets, |key, s| {
            let d = minutes(key, s)?;
            if d < min || d > max {
                return Err(err(key, "lies outside min_duration..max_duration"));
            }
            Ok(d)
        })?;
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
        let per_hour = |key: &str, n: u32| {
            if (1..=MAX_PER_HOUR).contains(&n) {
                Ok(n)
            } else {
                Err(err(
                    k(key),
                    format!("must lie between 1 and {MAX_PER_HOUR} (asks per person an hour)"),
                ))
            }
        };
        let (ticket_pattern, ticket_hint) = ticket_rule(&k, &p)?;
        let ticket_validator = ticket_validator(&k, &p, notify)?;
        let break_glass = break_glass::check(&k, &p, min, max)?;
        let max_requests_per_hour = per_hour("max_requests_per_hour", p.max_requests_per_hour)?;
        let max_extensions_per_hour =
            per_hour("max_extensions_per_hour", p.max_extensions_per_hour)?;
        if let Some(u) = &p.teams_webhook {
            package_teams.insert(id.clone(), secret_url(&k("teams_webhook"), u)?);
        }
        if let Some(u) = &p.slack_webhook {
            package_slack.insert(id.clone(), secret_url(&k("slack_webhook"), u)?);
        }
        let review = review::review(&k, &p)?;
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
            ticket_required: p.ticket_required
                || ticket_pattern.is_some()
                || ticket_validator.is_some(),
            ticket_pattern,
            ticket_hint,
            ticket_validator,
            auth_context: p
                .auth_context
                .as_deref()
                .map(|v| parse_auth_context(v).map_err(|e| err(k("auth_context"), e)))
                .transpose()?,
            requester_role: p
                .requester_role
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty()),
            manager_may_approve: p.manager_may_approve,
            approval_timeout: duration(&k("approval_timeout"), &p.approval_timeout)?,
            max_start_delay: duration(&k("max_start_delay"), &p.max_start_delay)?,
            standing_members: each(&k("standing_members"), &p.standing_members, guid)?,
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
            escalate_to: each(&k("escalate_to"), &p.escalate_to, mailbox)?,
            approver_groups: each(&k("approver_groups"), &p.approver_groups, guid)?,
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
            max_requests_per_hour,
            max_extensions_per_hour,
            deny_privileged: p.deny_privileged,
            eligible_groups: each(&k("eligible_groups"), &p.eligible_groups, guid)?,
            trusted_networks: rules::networks(&k("trusted_networks"), &p.trusted_networks)?,
            max_active: rules::max_active(&k("max_active"), p.max_active)?,
            max_hours_per_user: rules::quota(
                &k("max_hours_per_user"),
                p.max_hours_per_user.as_deref(),
            )?,
            auto_approve: rules::auto_approve(
                &k("auto_approve"),
                &p.auto_approve,
                p.approvals_required,
            )?,
            privileged_allow: each(&k("privileged_allow"), &p.privileged_allow, guid)?,
            review,
            break_glass,
        });
    }
    notify.package_teams = package_teams;
    notify.package_slack = package_slack;
    Ok(packages)
}

#[cfg(test)]
mod tests {
    use crate::config::tests::{GOOD, key_of};

    #[test]
    fn duplicate_packages_are_refused() {
        let twice = format!("{GOOD}\n{}", &GOOD[GOOD.find("[[package]]").unwrap()..]);
        assert_eq!(key_of(&twice, &[]), "package[1].id");
    }

    #[test]
    fn ticket_patterns_must_be_regular_expressions_and_imply_a_ticket() {
        let with =
            |line: &str| GOOD.replacen("[[package]]\n", &format!("[[package]]\n{line}\n"), 1);
        assert_eq!(
            key_of(&with(r#"ticket_pattern = "(CHG""#), &[]),
            "package[0].ticket_pattern"
        );
        assert_eq!(
            key_of(&with("ticket_hint = \"two\\nlines\""), &[]),
            "package[0].ticket_hint"
        );
        let s = crate::config::tests::load(
            &with("ticket_pattern = \"(CHG|INC)[0-9]{7}\"\nticket_hint = \"e.g. CHG0012345\""),
            &[],
        )
        .unwrap();
        let p = &s.packages[0];
        assert!(p.ticket_required, "a pattern implies a ticket");
        assert!(p.ticket_pattern.as_ref().unwrap().accepts("INC0000001"));
        assert_eq!(p.ticket_hint.as_deref(), Some("e.g. CHG0012345"));
    }

    #[test]
    fn ticket_validators_need_a_good_url_and_the_webhook_secret() {
        let with =
            |line: &str| GOOD.replacen("[[package]]\n", &format!("[[package]]\n{line}\n"), 1);
        let secret = [
            (
                "JITGATE_NOTIFY__WEBHOOK_URL",
                "https://siem.contoso.example/jitgate",
            ),
            (
                "JITGATE_NOTIFY__WEBHOOK_SECRET",
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            ),
        ];
        let line = "ticket_validator = \"https://itsm.contoso.example/validate?code=s3cret\"";
        assert_eq!(key_of(&with(line), &[]), "package[0].ticket_validator");
        for bad in [
            "ticket_validator = \"http://itsm.contoso.example/validate\"",
            "ticket_validator = \"ftp://itsm.contoso.example/\"",
            "ticket_validator = \"not a url\"",
        ] {
            assert_eq!(
                key_of(&with(bad), &secret),
                "package[0].ticket_validator",
                "{bad}"
            );
        }
        assert_eq!(
            key_of(&with("ticket_validator_fail_open = true"), &secret),
            "package[0].ticket_validator_fail_open"
        );
        let e = crate::config::tests::load(
            &with("ticket_validator = \"http://itsm.contoso.example/v?code=s3cret\""),
            &secret,
        )
        .unwrap_err()
        .to_string();
        assert!(!e.contains("s3cret"), "{e}");
        let s = crate::config::tests::load(&with(line), &secret).unwrap();
        let p = &s.packages[0];
        assert!(p.ticket_required, "a validator implies a ticket");
        let v = p.ticket_validator.as_ref().unwrap();
        assert!(!v.fail_open, "closed unless said");
        let s = crate::config::tests::load(
            &with("ticket_validator = \"http://127.0.0.1:9/v\"\nticket_validator_fail_open = true"),
            &secret,
        )
        .unwrap();
        assert!(s.packages[0].ticket_validator.as_ref().unwrap().fail_open);
    }

    #[test]
    fn auth_contexts_are_entra_ids_c1_to_c99() {
        let with =
            |line: &str| GOOD.replacen("[[package]]\n", &format!("[[package]]\n{line}\n"), 1);
        for bad in ["mfa", "c0", "c100", "", "c1,c2"] {
            let line = format!("auth_context = \"{bad}\"");
            assert_eq!(
                key_of(&with(&line), &[]),
                "package[0].auth_context",
                "{bad}"
            );
        }
        let s = crate::config::tests::load(&with("auth_context = \"C7\""), &[]).unwrap();
        assert_eq!(s.packages[0].auth_context.as_deref(), Some("c7"));
        let s = crate::config::tests::load(GOOD, &[]).unwrap();
        assert_eq!(s.packages[0].auth_context, None, "none unless set");
    }

    #[test]
    fn privileged_accounts_are_denied_by_default_and_exceptions_are_object_ids() {
        let with =
            |line: &str| GOOD.replacen("[[package]]\n", &format!("[[package]]\n{line}\n"), 1);
        let s = crate::config::tests::load(GOOD, &[]).unwrap();
        assert!(s.packages[0].deny_privileged, "on unless turned off");
        assert!(s.packages[0].privileged_allow.is_empty());
        let s = crate::config::tests::load(
            &with("deny_privileged = false\nprivileged_allow = [\"0B6A1C2D-3E4F-4A5B-8C6D-7E8F9A0B1C06\"]"),
            &[],
        )
        .unwrap();
        let p = &s.packages[0];
        assert!(!p.deny_privileged);
        assert_eq!(p.privileged_allow, ["0b6a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c06"]);
        assert!(p.is_privileged_exception("0B6A1C2D-3E4F-4A5B-8C6D-7E8F9A0B1C06"));
        assert_eq!(
            key_of(
                &with("privileged_allow = [\"0b6a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c06\", \"alex\"]"),
                &[]
            ),
            "package[0].privileged_allow[1]"
        );
        assert_eq!(
            key_of(&with("deny_privileged = \"maybe\""), &[]),
            "package[0].deny_privileged"
        );
    }

    #[test]
    fn ask_limits_lie_between_one_and_a_thousand() {
        let with =
            |line: &str| GOOD.replacen("[[package]]\n", &format!("[[package]]\n{line}\n"), 1);
        for bad in ["max_requests_per_hour = 0", "max_requests_per_hour = 1001"] {
            assert_eq!(
                key_of(&with(bad), &[]),
                "package[0].max_requests_per_hour",
                "{bad}"
            );
        }
        assert_eq!(
            key_of(&with("max_extensions_per_hour = 0"), &[]),
            "package[0].max_extensions_per_hour"
        );
    }
}
