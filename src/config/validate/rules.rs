//! A package's rules on where from and how much: `trusted_networks` (networks or addresses,
//! IPv4 and IPv6), `max_active` (at least 1) and `max_hours_per_user` (`"8h/7d"`).

use crate::config::{ConfigError, err};
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
}
