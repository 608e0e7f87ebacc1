//! A package's break-glass keys: `break_glass` (off unless said), `break_glass_groups`
//! (required when on: who may use it, transitively), `break_glass_max` (1h, and never beyond
//! what an approver could grant: within min_duration..max_duration), `break_glass_review_within`
//! (24h, from 1h to 30d) and `break_glass_per_user` (`"2/30d"`). The other keys without
//! `break_glass = true` are refused rather than ignored.

use chrono::Duration;

use super::{duration, each, guid};
use crate::config::file::RawPackage;
use crate::config::{ConfigError, err};
use crate::domain::policy::break_glass::{BreakGlass, PerUser};

pub(super) fn check(
    k: &dyn Fn(&str) -> String,
    p: &RawPackage,
    min: Duration,
    max: Duration,
) -> Result<Option<BreakGlass>, ConfigError> {
    if !p.break_glass {
        let set = [
            ("break_glass_groups", !p.break_glass_groups.is_empty()),
            ("break_glass_max", p.break_glass_max.is_some()),
            (
                "break_glass_review_within",
                p.break_glass_review_within.is_some(),
            ),
            ("break_glass_per_user", p.break_glass_per_user.is_some()),
        ];
        if let Some((key, _)) = set.iter().find(|(_, set)| *set) {
            return Err(err(
                k(key),
                "applies only with break_glass = true: remove it, or turn break-glass on",
            ));
        }
        return Ok(None);
    }
    let mut b = BreakGlass::default();
    if p.break_glass_groups.is_empty() {
        return Err(err(
            k("break_glass_groups"),
            "is required with break_glass = true: the groups whose members may take the package without approval",
        ));
    }
    b.groups = each(&k("break_glass_groups"), &p.break_glass_groups, guid)?;
    match p.break_glass_max.as_deref() {
        Some(v) => {
            let key = k("break_glass_max");
            let d = duration(&key, v)?;
            if d.num_seconds() % 60 != 0 {
                return Err(err(key, format!("'{v}' must be whole minutes")));
            }
            if d < min || d > max {
                return Err(err(
                    key,
                    "must lie between min_duration and max_duration (break-glass never grants more than an approver could)",
                ));
            }
            b.max = d;
        }
        // The default (1h), within what the package allows.
        None => b.max = b.max.clamp(min, max),
    }
    if let Some(v) = p.break_glass_review_within.as_deref() {
        let key = k("break_glass_review_within");
        let d = duration(&key, v)?;
        if d < Duration::hours(1) || d > Duration::days(30) {
            return Err(err(key, "must lie between 1h and 30d"));
        }
        b.review_within = d;
    }
    if let Some(v) = p.break_glass_per_user.as_deref() {
        b.per_user = PerUser::parse(v).map_err(|e| err(k("break_glass_per_user"), e))?;
    }
    Ok(Some(b))
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use crate::config::tests::{GOOD, key_of, load};

    const GROUP: &str = "0b6a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c07";

    fn with(lines: &str) -> String {
        GOOD.replacen("[[package]]\n", &format!("[[package]]\n{lines}\n"), 1)
    }

    #[test]
    fn off_unless_said_and_its_keys_need_it_on() {
        let s = load(GOOD, &[]).unwrap();
        assert_eq!(s.packages[0].break_glass, None);
        assert_eq!(
            key_of(&with("break_glass_max = \"1h\""), &[]),
            "package[0].break_glass_max"
        );
        assert_eq!(
            key_of(&with(&format!("break_glass_groups = [\"{GROUP}\"]")), &[]),
            "package[0].break_glass_groups"
        );
    }

    #[test]
    fn on_it_needs_groups_and_takes_the_defaults() {
        assert_eq!(
            key_of(&with("break_glass = true"), &[]),
            "package[0].break_glass_groups"
        );
        assert_eq!(
            key_of(
                &with("break_glass = true\nbreak_glass_groups = [\"on-call\"]"),
                &[]
            ),
            "package[0].break_glass_groups[0]"
        );
        let s = load(
            &with(&format!(
                "break_glass = true\nbreak_glass_groups = [\"{}\"]",
                GROUP.to_uppercase()
            )),
            &[],
        )
        .unwrap();
        let b = s.packages[0].break_glass.clone().unwrap();
        assert_eq!(b.groups, [GROUP]);
        assert_eq!(b.max, Duration::hours(1));
        assert_eq!(b.review_within, Duration::hours(24));
        assert_eq!(
            (b.per_user.count, b.per_user.window),
            (2, Duration::days(30))
        );
    }

    #[test]
    fn its_limits_are_checked() {
        let on = format!("break_glass = true\nbreak_glass_groups = [\"{GROUP}\"]\n");
        for (line, key) in [
            ("break_glass_max = \"100d\"", "break_glass_max"),
            ("break_glass_max = \"1m\"", "break_glass_max"),
            ("break_glass_max = \"90s\"", "break_glass_max"),
            (
                "break_glass_review_within = \"10m\"",
                "break_glass_review_within",
            ),
            (
                "break_glass_review_within = \"31d\"",
                "break_glass_review_within",
            ),
            (
                "break_glass_review_within = \"soon\"",
                "break_glass_review_within",
            ),
            ("break_glass_per_user = \"0/30d\"", "break_glass_per_user"),
            ("break_glass_per_user = \"2\"", "break_glass_per_user"),
        ] {
            assert_eq!(
                key_of(&with(&format!("{on}{line}")), &[]),
                format!("package[0].{key}"),
                "{line}"
            );
        }
        assert_eq!(
            key_of(&with("break_glass = \"perhaps\""), &[]),
            "package[0].break_glass"
        );
        let s = load(
            &with(&format!(
                "{on}break_glass_max = \"30m\"\nbreak_glass_review_within = \"8h\"\nbreak_glass_per_user = \"1/7d\""
            )),
            &[],
        )
        .unwrap();
        let b = s.packages[0].break_glass.clone().unwrap();
        assert_eq!(b.max, Duration::minutes(30));
        assert_eq!(b.review_within, Duration::hours(8));
        assert_eq!(
            (b.per_user.count, b.per_user.window),
            (1, Duration::days(7))
        );
    }
}
