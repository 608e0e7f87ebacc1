//! `[scheduler]`, `[directory]`, `[reconcile]` and `[sign_ins]` as the background work uses them:
//! how often it runs, how hard it may press on Graph, and what reconciliation does.

use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Clone)]
pub struct SchedulerSettings {
    pub sweep: cron::Schedule,
    /// How long a worker owns a claimed directory operation before another may take it over.
    /// The worker renews it every third of this while a call runs, so a live worker keeps it and
    /// a dead one frees it within this long.
    pub lease: Duration,
    /// Directory additions are given up (and the grant failed) after this many attempts.
    pub max_add_attempts: i64,
}

#[derive(Debug, Clone)]
pub struct DirectorySettings {
    /// Directory operations carried out at once (for different members; one member's stay in order).
    pub concurrency: usize,
    /// Client-side pace of Graph writes, kept under Graph's write limit.
    pub write_budget: WriteBudget,
    /// Every Graph call (connect included) fails after this long.
    pub timeout: std::time::Duration,
}

/// Reading device-code sign-ins from Entra's sign-in log (`AuditLog.Read.All`).
#[derive(Debug, Clone)]
pub struct SignInSettings {
    /// Off: the log is never read (no permission asked for).
    pub read: bool,
    /// How often the log is read.
    pub every: Duration,
    /// How far back each reading goes: the log's delay, plus a margin.
    pub lookback: Duration,
}

#[derive(Debug, Clone)]
pub struct ReconcileSettings {
    pub every: Every,
    pub mode: ReconcileMode,
    /// How often each group is asked what changed since the last look (Graph's delta query),
    /// and members whose membership is uncertain are read back: the fast drift check between
    /// full reconciliations.
    pub delta_every: Duration,
}

/// When a periodic job runs: a fixed interval (`"5m"`) or a cron expression (six fields,
/// seconds first).
#[derive(Debug, Clone)]
pub enum Every {
    Interval(Duration),
    Cron(Box<cron::Schedule>),
}

impl Every {
    /// The next run after one at `last` (or the first, at `now`, when there was none).
    pub fn next_after(&self, last: Option<DateTime<Utc>>, now: DateTime<Utc>) -> DateTime<Utc> {
        match (self, last) {
            (_, None) => now,
            (Every::Interval(d), Some(last)) => last + *d,
            (Every::Cron(c), Some(last)) => {
                c.after(&last).next().unwrap_or(last + Duration::hours(1))
            }
        }
    }

    /// About how long one period is (for the reconciler's turn across replicas).
    pub fn period(&self, now: DateTime<Utc>) -> Duration {
        match self {
            Every::Interval(d) => *d,
            Every::Cron(c) => {
                let mut upcoming = c.after(&now);
                match (upcoming.next(), upcoming.next()) {
                    (Some(a), Some(b)) => b - a,
                    _ => Duration::hours(1),
                }
            }
        }
    }
}

/// What reconciliation does with a member who has no active grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReconcileMode {
    /// Record `drift_detected` and remove the member.
    Remove,
    /// Only record `drift_detected`.
    Report,
}

/// `writes` Graph writes per `per`, as in `"3000/150s"` (Graph's limit per app and tenant).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteBudget {
    pub writes: u32,
    pub per: std::time::Duration,
}

impl std::str::FromStr for WriteBudget {
    type Err = String;

    fn from_str(s: &str) -> Result<WriteBudget, String> {
        let bad = || format!("'{s}' is not a budget like \"3000/150s\" (writes per duration)");
        let (writes, per) = s.split_once('/').ok_or_else(bad)?;
        let writes: u32 = writes.trim().parse().map_err(|_| bad())?;
        let per = crate::domain::package::parse_duration(per.trim()).map_err(|_| bad())?;
        if writes == 0 || per <= Duration::zero() {
            return Err(format!(
                "'{s}' must allow at least one write in a positive time"
            ));
        }
        Ok(WriteBudget {
            writes,
            per: per.to_std().map_err(|_| bad())?,
        })
    }
}
