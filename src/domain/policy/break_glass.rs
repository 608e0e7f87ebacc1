//! Break-glass: a package may let members of `break_glass_groups` take it at once, in an
//! emergency, without anyone's approval, for at most `break_glass_max`, at most
//! `break_glass_per_user` times per person in a rolling window (`"2/30d"`); an approver must
//! review each such grant within `break_glass_review_within`.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use super::{Refusal, Rule};
use crate::domain::durations::{format_duration, parse_duration};

/// A package's break-glass settings (present only where `break_glass = true`).
#[derive(Debug, Clone, PartialEq)]
pub struct BreakGlass {
    /// Object ids (lower case) of the groups whose members (transitively) may use it.
    pub groups: Vec<String>,
    /// The longest such grant.
    pub max: Duration,
    /// An approver must review each use by then.
    pub review_within: Duration,
    /// At most this many uses per person in a rolling window.
    pub per_user: PerUser,
}

/// `break_glass_per_user = "2/30d"`: at most `count` uses per person in any `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PerUser {
    pub count: u32,
    pub window: Duration,
}

impl Default for BreakGlass {
    fn default() -> BreakGlass {
        BreakGlass {
            groups: Vec::new(),
            max: Duration::hours(1),
            review_within: Duration::hours(24),
            per_user: PerUser {
                count: 2,
                window: Duration::days(30),
            },
        }
    }
}

impl PerUser {
    /// `"2/30d"`: a count from 1 to 100, a slash, a window of at least a day.
    pub fn parse(s: &str) -> Result<PerUser, String> {
        let (count, window) = s
            .trim()
            .split_once('/')
            .ok_or_else(|| format!("'{s}' is not a limit like 2/30d"))?;
        let count: u32 = count
            .trim()
            .parse()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| format!("'{s}': the count must be a whole number from 1 to 100"))?;
        let window = parse_duration(window)?;
        if window < Duration::days(1) {
            return Err(format!("'{s}': the window must be at least 1d"));
        }
        Ok(PerUser { count, window })
    }

    /// Whether one more use fits beside the person's earlier `uses` at `now`; the refusal says
    /// how many were used and when the oldest counted one leaves the window.
    pub fn check(&self, uses: &[DateTime<Utc>], now: DateTime<Utc>) -> Result<(), Refusal> {
        let since = now - self.window;
        let mut counted: Vec<DateTime<Utc>> = uses.iter().copied().filter(|u| *u > since).collect();
        counted.sort();
        if (counted.len() as u64) < u64::from(self.count) {
            return Ok(());
        }
        // One more fits once enough of the oldest have left the window.
        let frees = counted[counted.len() - self.count as usize] + self.window;
        Err(Refusal::new(
            Rule::BreakGlassPerUser,
            format!(
                "You have used break-glass {} time{} in the last {}, the most allowed; the next use is possible from {}. Ask for it the usual way: an approver decides.",
                counted.len(),
                if counted.len() == 1 { "" } else { "s" },
                format_duration(self.window),
                frees.format("%Y-%m-%d %H:%M UTC"),
            ),
            json!({
                "uses": counted.len(),
                "limit": self.count,
                "window_minutes": self.window.num_minutes(),
                "next_possible_at": frees,
            }),
        ))
    }

    /// As configuration spells it.
    pub fn describe(&self) -> String {
        format!("{}/{}", self.count, format_duration(self.window))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::now;

    #[test]
    fn per_user_limits_parse_and_refuse_nonsense() {
        assert_eq!(
            PerUser::parse("2/30d").unwrap(),
            PerUser {
                count: 2,
                window: Duration::days(30)
            }
        );
        assert_eq!(PerUser::parse(" 1 / 7d ").unwrap().count, 1);
        for bad in [
            "2",
            "0/30d",
            "101/30d",
            "x/30d",
            "2/1h",
            "2/forever",
            "-1/30d",
        ] {
            assert!(PerUser::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_window_rolls() {
        let limit = PerUser::parse("2/30d").unwrap();
        let t = now();
        assert!(limit.check(&[], t).is_ok());
        assert!(limit.check(&[t - Duration::days(1)], t).is_ok());
        let two = [t - Duration::days(29), t - Duration::days(1)];
        let r = limit.check(&two, t).unwrap_err();
        assert_eq!(r.rule, Rule::BreakGlassPerUser);
        assert_eq!(r.facts["uses"], 2);
        // The oldest leaves the window a day later: one more fits then, not before.
        assert_eq!(
            r.facts["next_possible_at"],
            json!(t + Duration::days(1)),
            "{r:?}"
        );
        assert!(limit.check(&two, t + Duration::hours(23)).is_err());
        assert!(limit.check(&two, t + Duration::days(1)).is_ok());
        // Uses older than the window never count.
        assert!(
            limit
                .check(&[t - Duration::days(31), t - Duration::days(40)], t)
                .is_ok()
        );
    }
}
