//! When a package's campaigns start, what period each covers, when it is due and when its
//! reviewers are reminded.
//!
//! The rule: a package's first campaign starts at the first midnight (00:00 UTC) after jitgate
//! first ran with the package's reviews configured (its `first_seen`); each next one starts
//! `review_every` after the previous one started. A campaign covers the period from the
//! previous campaign's start (for the first: `review_every` before its own start) up to its own
//! start, and is due `review_within` after it starts.

use chrono::{DateTime, Duration, NaiveTime, Utc};

/// The first midnight (00:00 UTC) strictly after `first_seen`.
pub fn first_start(first_seen: DateTime<Utc>) -> DateTime<Utc> {
    let next_day = first_seen.date_naive() + chrono::Days::new(1);
    next_day.and_time(NaiveTime::MIN).and_utc()
}

/// When the next campaign starts: `every` after the last one started, or the first start.
pub fn next_start(
    first_seen: DateTime<Utc>,
    last_start: Option<DateTime<Utc>>,
    every: Duration,
) -> DateTime<Utc> {
    match last_start {
        Some(last) => last + every,
        None => first_start(first_seen),
    }
}

/// The reminders of a campaign, after the message at its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reminder {
    /// Halfway between the start and the due date.
    Halfway,
    /// Two days before the due date.
    TwoDaysBefore,
}

impl Reminder {
    pub fn as_str(self) -> &'static str {
        match self {
            Reminder::Halfway => "halfway",
            Reminder::TwoDaysBefore => "two_days_before",
        }
    }
}

/// The reminders of a campaign from `start` to `due`, in order, each once: halfway, and two days
/// before the due date when that lies after halfway (a shorter campaign has only the halfway one;
/// one of at most two days, none beside the start).
pub fn reminders(start: DateTime<Utc>, due: DateTime<Utc>) -> Vec<(Reminder, DateTime<Utc>)> {
    let mut out = Vec::new();
    let halfway = start + (due - start) / 2;
    if halfway > start && halfway < due {
        out.push((Reminder::Halfway, halfway));
    }
    let before = due - Duration::days(2);
    if before > halfway && before > start {
        out.push((Reminder::TwoDaysBefore, before));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, d, h, 0, 0).unwrap()
    }

    #[test]
    fn the_first_campaign_starts_at_the_next_midnight() {
        assert_eq!(first_start(t(3, 14)), t(4, 0));
        // Configured exactly at midnight: the next one, never the instant itself.
        assert_eq!(first_start(t(3, 0)), t(4, 0));
        let end_of_year = Utc.with_ymd_and_hms(2026, 12, 31, 23, 59, 59).unwrap();
        assert_eq!(
            first_start(end_of_year),
            Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap()
        );
    }

    #[test]
    fn later_campaigns_follow_the_last_start() {
        let every = Duration::days(90);
        assert_eq!(next_start(t(3, 14), None, every), t(4, 0));
        assert_eq!(next_start(t(3, 14), Some(t(4, 0)), every), t(4, 0) + every);
    }

    #[test]
    fn reminders_fall_halfway_and_two_days_before_the_due_date() {
        let r = reminders(t(1, 0), t(15, 0));
        assert_eq!(
            r,
            vec![
                (Reminder::Halfway, t(8, 0)),
                (Reminder::TwoDaysBefore, t(13, 0))
            ]
        );
        // Four days: two days before is halfway, told once.
        assert_eq!(
            reminders(t(1, 0), t(5, 0)),
            vec![(Reminder::Halfway, t(3, 0))]
        );
        // A day: only halfway.
        assert_eq!(
            reminders(t(1, 0), t(2, 0)),
            vec![(Reminder::Halfway, t(1, 12))]
        );
    }
}
