//! The configuration file and its durations: `Settings::from_toml` with environment overrides,
//! and `parse_duration` on its own.
//!
//! Input: the TOML text; after a NUL byte, environment overrides, one `NAME=value` a line.
//! Checked: nothing panics; an accepted duration is whole seconds, positive, and can be added
//! to any instant the portal meets; every duration of an accepted configuration is too; a
//! secret from the environment never shows in an error.

#![no_main]

use chrono::{DateTime, Duration, TimeZone, Utc};
use jitgate::config::Settings;
use jitgate::domain::package::parse_duration;
use libfuzzer_sys::fuzz_target;

/// A late instant the portal may meet: every accepted duration must fit after it.
fn late() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2200, 1, 1, 0, 0, 0).unwrap()
}

fn check_duration(what: &str, d: Duration) {
    assert!(d > Duration::zero(), "{what}: {d:?} is not positive");
    assert_eq!(d.subsec_nanos(), 0, "{what}: {d:?} is not whole seconds");
    assert!(
        late().checked_add_signed(d).is_some(),
        "{what}: {d:?} overflows a date"
    );
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (toml, env) = text.split_once('\0').unwrap_or((text, ""));
    if let Ok(d) = parse_duration(toml) {
        check_duration("parse_duration", d);
    }
    let env: Vec<(String, String)> = env
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let s = match Settings::from_toml(toml, env.clone()) {
        Ok(s) => s,
        Err(e) => {
            // Secrets from the environment never reach error texts.
            let text = e.to_string();
            for (k, v) in &env {
                let secret = ["KEY", "SECRET", "PASSWORD"].iter().any(|s| k.ends_with(s));
                let alone = env.iter().filter(|(_, w)| w.contains(v.trim())).count() == 1;
                if secret && alone && v.trim().len() >= 8 && !toml.contains(v.trim()) {
                    assert!(!text.contains(v.trim()), "{text} shows {k}");
                }
            }
            return;
        }
    };
    for p in &s.packages {
        for (what, d) in [
            ("min_duration", Some(p.min_duration)),
            ("default_duration", Some(p.default_duration)),
            ("max_duration", Some(p.max_duration)),
            ("approval_timeout", Some(p.approval_timeout)),
            ("max_start_delay", Some(p.max_start_delay)),
            ("remind_before", p.remind_before),
            ("escalate_after", p.escalate_after),
            ("max_extension", p.max_extension),
            ("end_after_first_sign_in", p.end_after_first_sign_in),
        ] {
            if let Some(d) = d {
                check_duration(what, d);
            }
        }
        assert!(p.min_duration <= p.default_duration && p.default_duration <= p.max_duration);
    }
    check_duration("sign_ins.every", s.sign_ins.every);
    check_duration("sign_ins.lookback", s.sign_ins.lookback);
    check_duration("scheduler.lease", s.scheduler.lease);
    let _ = s.reconcile.every.period(late());
    let _ = s.reconcile.every.next_after(Some(late()), late());
    let _ = s.warnings();
});
