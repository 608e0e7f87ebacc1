//! `max_hours_per_user = "8h/7d"`: the time one person may be granted a package in any rolling
//! window. What counts is the time actually granted: a grant ended early counts until it ended,
//! extensions count, and a running or scheduled grant counts to its planned end.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use super::{Refusal, Rule};
use crate::domain::package::{format_duration, parse_duration};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HoursQuota {
    pub limit: Duration,
    pub window: Duration,
}

/// A span of granted time: from its start to its end (or planned end).
pub type Span = (DateTime<Utc>, DateTime<Utc>);

impl HoursQuota {
    /// `"8h/7d"`: a limit, a slash, a window at least as long as the limit.
    pub fn parse(s: &str) -> Result<HoursQuota, String> {
        let (limit, window) = s
            .split_once('/')
            .ok_or_else(|| format!("'{s}' is not a quota like 8h/7d"))?;
        let limit = parse_duration(limit)?;
        let window = parse_duration(window)?;
        if window < limit {
            return Err(format!(
                "'{s}': the window ({}) is shorter than the time allowed in it ({})",
                format_duration(window),
                format_duration(limit)
            ));
        }
        Ok(HoursQuota { limit, window })
    }

    /// The granted time that counts at `now`: each span's part from `now - window` on.
    pub fn used(&self, spans: &[Span], now: DateTime<Utc>) -> Duration {
        let since = now - self.window;
        spans
            .iter()
            .map(|(start, end)| {
                let from = (*start).max(since);
                if *end > from {
                    *end - from
                } else {
                    Duration::zero()
                }
            })
            .sum()
    }

    /// Whether `more` granted time fits beside `spans` at `now`; the refusal says how much was
    /// used and how much is left.
    pub fn check(&self, spans: &[Span], more: Duration, now: DateTime<Utc>) -> Result<(), Refusal> {
        let used = self.used(spans, now);
        if used + more <= self.limit {
            return Ok(());
        }
        let left = (self.limit - used).max(Duration::zero());
        let left_words = if left > Duration::zero() {
            format!("{} {} left", format_duration(left), if left == Duration::minutes(1) { "is" } else { "are" })
        } else {
            "nothing is left".to_string()
        };
        Err(Refusal::new(
            Rule::MaxHoursPerUser,
            format!(
                "You have used {} of {} in the last {}; {left_words}, and this asks for {}.",
                format_duration(round_up(used)),
                format_duration(self.limit),
                format_duration(self.window),
                format_duration(more),
            ),
            json!({
                "used_minutes": round_up(used).num_minutes(),
                "limit_minutes": self.limit.num_minutes(),
                "window_minutes": self.window.num_minutes(),
                "asked_minutes": more.num_minutes(),
            }),
        ))
    }
}

/// Whole minutes, rounded up, so that "used" never reads less than was granted.
fn round_up(d: Duration) -> Duration {
    Duration::minutes((d.num_seconds() + 59).div_euclid(60))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::now;

    fn q() -> HoursQuota {
        HoursQuota::parse("8h/7d").unwrap()
    }

    fn span(from_hours_ago: i64, hours: i64) -> Span {
        let start = now() - Duration::hours(from_hours_ago);
        (start, start + Duration::hours(hours))
    }

    #[test]
    fn parses_and_refuses_bad_quotas() {
        assert_eq!(
            q(),
            HoursQuota {
                limit: Duration::hours(8),
                window: Duration::days(7)
            }
        );
        assert!(HoursQuota::parse("8h").is_err());
        assert!(HoursQuota::parse("8h/1h").unwrap_err().contains("shorter"));
        assert!(HoursQuota::parse("lots/7d").is_err());
    }

    #[test]
    fn counts_only_the_part_inside_the_window_and_planned_time() {
        let q = q();
        // 2h eight days ago: outside. 3h straddling the window's start: 1h inside.
        // A running grant of 2h that started an hour ago: 2h.
        let spans = [span(8 * 24, 2), span(7 * 24 + 2, 3), span(1, 2)];
        assert_eq!(q.used(&spans, now()), Duration::hours(3));
        assert!(q.check(&spans, Duration::hours(5), now()).is_ok());
        let e = q.check(&spans, Duration::minutes(301), now()).unwrap_err();
        assert_eq!(e.rule, Rule::MaxHoursPerUser);
        assert_eq!(
            e.message,
            "You have used 3h of 8h in the last 7d; 5h are left, and this asks for 5h 1m."
        );
    }

    #[test]
    fn the_issue_sentence() {
        let spans = [span(48, 7), (now() - Duration::hours(3), now() - Duration::minutes(150))];
        let e = q().check(&spans, Duration::hours(1), now()).unwrap_err();
        assert_eq!(
            e.message,
            "You have used 7h 30m of 8h in the last 7d; 30m are left, and this asks for 1h."
        );
        let full = [span(10, 8)];
        let e = q().check(&full, Duration::minutes(15), now()).unwrap_err();
        assert!(e.message.contains("nothing is left"), "{}", e.message);
    }
}
