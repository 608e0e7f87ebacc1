//! The background work: `[scheduler]` (the sweep of due directory operations and its lease),
//! `[directory]` (how many Graph calls at once, the write budget, the timeout), `[reconcile]`
//! (how often drift is looked for, and what is done about it) and `[sign_ins]` (reading the
//! sign-in log).

use std::str::FromStr;

use chrono::Duration;

use super::duration;
use crate::config::file::{RawDirectory, RawReconcile, RawScheduler, RawSignIns};
use crate::config::{
    ConfigError, DirectorySettings, Every, ReconcileMode, ReconcileSettings, SchedulerSettings,
    SignInSettings, err,
};
use crate::domain::package::parse_duration;

pub(super) fn scheduler(raw: &RawScheduler) -> Result<SchedulerSettings, ConfigError> {
    let sweep = cron::Schedule::from_str(&raw.sweep).map_err(|e| {
        err(
            "scheduler.sweep",
            format!("'{}' is not a cron expression with six fields, seconds first, like \"*/30 * * * * *\" ({e})", raw.sweep),
        )
    })?;
    if raw.max_add_attempts == 0 {
        return Err(err("scheduler.max_add_attempts", "must be at least 1"));
    }
    let scheduler = SchedulerSettings {
        sweep,
        lease: duration("scheduler.lease", &raw.lease)?,
        max_add_attempts: raw.max_add_attempts.into(),
    };
    if scheduler.lease < Duration::seconds(3) {
        return Err(err("scheduler.lease", "must be at least 3s"));
    }
    Ok(scheduler)
}

pub(super) fn directory(d: &RawDirectory) -> Result<DirectorySettings, ConfigError> {
    if !(1..=64).contains(&d.concurrency) {
        return Err(err("directory.concurrency", "must be between 1 and 64"));
    }
    let timeout = duration("directory.timeout", &d.timeout)?;
    if timeout < Duration::seconds(1) || timeout > Duration::minutes(5) {
        return Err(err("directory.timeout", "must be between 1s and 5m"));
    }
    Ok(DirectorySettings {
        concurrency: d.concurrency as usize,
        write_budget: d
            .write_budget
            .parse()
            .map_err(|m: String| err("directory.write_budget", m))?,
        timeout: timeout
            .to_std()
            .unwrap_or(std::time::Duration::from_secs(10)),
    })
}

pub(super) fn reconcile(raw: &RawReconcile) -> Result<ReconcileSettings, ConfigError> {
    let every = &raw.every;
    let delta_every = duration("reconcile.delta_every", &raw.delta_every)?;
    if !(Duration::seconds(1)..=Duration::minutes(5)).contains(&delta_every) {
        return Err(err(
            "reconcile.delta_every",
            "must lie between 1s and 5m (a late Graph write is undone within about this long)",
        ));
    }
    Ok(ReconcileSettings {
        delta_every,
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
        mode: match raw.mode.trim() {
            "remove" => ReconcileMode::Remove,
            "report" => ReconcileMode::Report,
            other => {
                return Err(err(
                    "reconcile.mode",
                    format!("'{other}' is not remove or report"),
                ));
            }
        },
    })
}

pub(super) fn sign_ins(raw: &RawSignIns) -> Result<SignInSettings, ConfigError> {
    let sign_ins = SignInSettings {
        read: raw.read,
        every: duration("sign_ins.every", &raw.every)?,
        lookback: duration("sign_ins.lookback", &raw.lookback)?,
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
    Ok(sign_ins)
}

#[cfg(test)]
mod tests {
    use super::super::tests::assert_refused;
    use crate::config::tests::{GOOD, key_of, load};

    #[test]
    fn directory_settings_have_defaults_and_are_checked() {
        let s = load(GOOD, &[]).unwrap();
        assert_eq!(s.directory.concurrency, 8);
        assert_eq!(s.directory.write_budget.writes, 3000);
        assert_eq!(s.directory.write_budget.per.as_secs(), 150);
        assert_eq!(s.directory.timeout.as_secs(), 10);
        assert_eq!(s.scheduler.lease.num_seconds(), 15);
        assert_refused(&[
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
        ]);
        let s = load(GOOD, &[("JITGATE_DIRECTORY__WRITE_BUDGET", "600/30s")]).unwrap();
        assert_eq!(s.directory.write_budget.writes, 600);
    }

    #[test]
    fn reconciliation_takes_an_interval_or_a_cron_and_a_mode() {
        use crate::config::{Every, ReconcileMode};
        let s = load(GOOD, &[]).unwrap();
        assert!(matches!(s.reconcile.every, Every::Interval(d) if d.num_minutes() == 5));
        assert_eq!(s.reconcile.mode, ReconcileMode::Remove);
        assert_eq!(s.reconcile.delta_every, chrono::Duration::seconds(10));
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
        assert_refused(&[
            ("JITGATE_RECONCILE__EVERY", "often", "reconcile.every"),
            ("JITGATE_RECONCILE__EVERY", "1s", "reconcile.every"),
            (
                "JITGATE_RECONCILE__DELTA_EVERY",
                "0s",
                "reconcile.delta_every",
            ),
            (
                "JITGATE_RECONCILE__DELTA_EVERY",
                "10m",
                "reconcile.delta_every",
            ),
            ("JITGATE_RECONCILE__MODE", "fix", "reconcile.mode"),
        ]);
        let standing = GOOD.replace(
            "approvals_required = 1",
            "approvals_required = 1\nstanding_members = [\"0B6A1C2D-3E4F-4A5B-8C6D-7E8F9A0B1C06\", \"x\"]",
        );
        assert_eq!(key_of(&standing, &[]), "package[0].standing_members[1]");
        let ok = standing.replace(", \"x\"", "");
        let s = load(&ok, &[]).unwrap();
        assert!(s.packages[0].is_standing_member("0b6a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c06"));
    }
}
