//! A package's rules on where from and how much: `trusted_networks` (networks or addresses,
//! IPv4 and IPv6), `max_active` (at least 1) and `max_hours_per_user` (`"8h/7d"`).

use std::collections::HashSet;

use super::{duration, each, guid};
use crate::config::file::RawAutoApprove;
use crate::config::{ConfigError, err};
use crate::domain::policy::auto_approve::{AutoApprove, Hours};
use crate::domain::policy::networks::Networks;
use crate::domain::policy::quota::HoursQuota;

pub(super) fn networks(key: &str, items: &[String]) -> Result<Networks, ConfigError> {
    if let Some(i) = items.iter().position(|s| Networks::parse(&[s]).is_err()) {
        let e = Networks::parse(&[&items[i]]).unwrap_err();
        return Err(err(format!("{key}[{i}]"), e));
    }
    Networks::parse(items).map_err(|e| err(key, e))
}

pub(super) fn max_active(key: &str, v: Option<u32>) -> Result<Option<u32>, ConfigError> {
    match v {
        Some(0) => Err(err(key, "must be at least 1 (leave it out for no limit)")),
        other => Ok(other),
    }
}

pub(super) fn quota(key: &str, v: Option<&str>) -> Result<Option<HoursQuota>, ConfigError> {
    match v.map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => HoursQuota::parse(s).map(Some).map_err(|e| err(key, e)),
    }
}

/// `[[package.auto_approve]]`: names unique in the package, groups object ids, durations and
/// hours that parse, and each counting as every approval the package needs.
pub(super) fn auto_approve(
    key: &str,
    raw: &[RawAutoApprove],
    approvals_required: u32,
) -> Result<Vec<AutoApprove>, ConfigError> {
    let mut names = HashSet::new();
    let mut out = Vec::new();
    for (i, r) in raw.iter().enumerate() {
        let k = |f: &str| format!("{key}[{i}].{f}");
        let name = r.name.trim().to_string();
        if name.is_empty() || name.len() > 64 || name.chars().any(|c| c.is_control()) {
            return Err(err(k("name"), "must be a short name like on-call"));
        }
        if !names.insert(name.to_ascii_lowercase()) {
            return Err(err(
                k("name"),
                format!("'{name}' is the name of an earlier rule"),
            ));
        }
        if r.approvals < approvals_required.max(1) {
            return Err(err(
                k("approvals"),
                format!(
                    "the package needs {approvals_required} approvals: a rule approves a request whole, so set approvals = {approvals_required} to let it"
                ),
            ));
        }
        out.push(AutoApprove {
            name,
            groups: each(&k("groups"), &r.groups, guid)?,
            max_duration: r
                .max_duration
                .as_deref()
                .map(|d| duration(&k("max_duration"), d))
                .transpose()?,
            hours: r
                .hours
                .as_deref()
                .map(|h| Hours::parse(h).map_err(|e| err(k("hours"), e)))
                .transpose()?,
            ticket_required: r.ticket_required,
            approvals: r.approvals,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use crate::config::tests::{GOOD, key_of, load};

    fn with(extra: &str) -> String {
        GOOD.replacen("[[package]]\n", &format!("[[package]]\n{extra}\n"), 1)
    }

    #[test]
    fn rules_are_read() {
        let s = load(
            &with("trusted_networks = [\"203.0.113.0/24\", \"2001:db8::/32\"]\nmax_active = 3\nmax_hours_per_user = \"8h/7d\"\neligible_groups = [\"5A1F3F3E-6A4B-4D5E-9A8B-1C2D3E4F5A6C\"]"),
            &[],
        )
        .unwrap();
        let p = &s.packages[0];
        assert_eq!(
            p.trusted_networks.describe(),
            "203.0.113.0/24, 2001:db8::/32"
        );
        assert_eq!(p.max_active, Some(3));
        assert_eq!(
            p.max_hours_per_user.unwrap().limit,
            chrono::Duration::hours(8)
        );
        assert_eq!(p.eligible_groups, ["5a1f3f3e-6a4b-4d5e-9a8b-1c2d3e4f5a6c"]);
    }

    #[test]
    fn bad_rules_are_named() {
        for (extra, key) in [
            (
                "trusted_networks = [\"10.0.0.0/8\", \"10.0.0.0/33\"]",
                "package[0].trusted_networks[1]",
            ),
            (
                "trusted_networks = [\"office\"]",
                "package[0].trusted_networks[0]",
            ),
            ("max_active = 0", "package[0].max_active"),
            ("max_active = -1", "package[0].max_active"),
            (
                "max_hours_per_user = \"8h\"",
                "package[0].max_hours_per_user",
            ),
            (
                "max_hours_per_user = \"8h/1h\"",
                "package[0].max_hours_per_user",
            ),
            (
                "eligible_groups = [\"devs\"]",
                "package[0].eligible_groups[0]",
            ),
        ] {
            assert_eq!(key_of(&with(extra), &[]), key, "{extra}");
        }
    }

    #[test]
    fn auto_approval_rules_are_read_and_bad_ones_named() {
        let rule = |body: &str| format!("{}\n[[package.auto_approve]]\n{body}\n", with(""));
        let s = load(
            &rule("name = \"on-call\"\nmax_duration = \"1h\"\nhours = \"Mon-Fri 07:00-19:00\"\nticket_required = true")
                .replacen("[server]\n", "[server]\ntime_zone = \"Europe/Amsterdam\"\n", 1),
            &[],
        )
        .unwrap();
        assert_eq!(s.server.time_zone.name, "Europe/Amsterdam");
        let r = &s.packages[0].auto_approve[0];
        assert_eq!((r.name.as_str(), r.ticket_required), ("on-call", true));
        assert_eq!(r.hours.as_ref().unwrap().as_str(), "Mon-Fri 07:00-19:00");
        for (body, key) in [
            (
                "name = \"x\"\nhours = \"weekdays\"",
                "package[0].auto_approve[0].hours",
            ),
            (
                "name = \"x\"\nmax_duration = \"soon\"",
                "package[0].auto_approve[0].max_duration",
            ),
            (
                "name = \"x\"\ngroups = [\"on-call\"]",
                "package[0].auto_approve[0].groups[0]",
            ),
            ("name = \"\"", "package[0].auto_approve[0].name"),
            (
                "name = \"x\"\nwhen = \"always\"",
                "package[0].auto_approve[0]",
            ),
        ] {
            assert!(
                key_of(&rule(body), &[]).starts_with(key),
                "{body}: {}",
                key_of(&rule(body), &[])
            );
        }
        let twice = format!(
            "{}\n[[package.auto_approve]]\nname = \"On-Call\"\n",
            rule("name = \"on-call\"")
        );
        assert_eq!(key_of(&twice, &[]), "package[0].auto_approve[1].name");
        let two_needed =
            rule("name = \"x\"").replacen("approvals_required = 1", "approvals_required = 2", 1);
        assert_eq!(
            key_of(&two_needed, &[]),
            "package[0].auto_approve[0].approvals"
        );
        let zone = with("").replacen("[server]\n", "[server]\ntime_zone = \"Mars/Olympus\"\n", 1);
        assert_eq!(key_of(&zone, &[]), "server.time_zone");
    }
}
