//! `[[package.auto_approve]]`: rules that approve a request without a person, tried in order,
//! the first that matches approving. A rule may ask that the requester be in one of its groups
//! (transitively), that the duration be at most so long, that the request come within working
//! hours (`"Mon-Fri 07:00-19:00"` in `[server] time_zone`), and that it carry a ticket. Facts
//! that need the directory or a clock are read elsewhere and handed in.

use chrono::Duration;
use serde_json::{Value, json};

use crate::domain::durations::format_duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoApprove {
    pub name: String,
    /// The requester must be in one of these (lower-case object ids); none: anyone.
    pub groups: Vec<String>,
    pub max_duration: Option<Duration>,
    pub hours: Option<Hours>,
    pub ticket_required: bool,
    /// How many approvals the rule counts as (at least the package's `approvals_required`).
    pub approvals: u32,
}

/// Days of the week and a span of the day, local time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hours {
    /// Monday first.
    days: [bool; 7],
    /// Minutes after midnight: from (inclusive) to (exclusive); `to` may be 24:00.
    from: u32,
    to: u32,
    source: String,
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn day(s: &str) -> Result<usize, String> {
    let s = s.trim().to_ascii_lowercase();
    DAYS.iter()
        .position(|d| s.starts_with(d) && s.len() >= 3)
        .ok_or_else(|| format!("'{s}' is not a day (Mon, Tue, … Sun)"))
}

fn clock(s: &str) -> Result<u32, String> {
    let (h, m) = s
        .trim()
        .split_once(':')
        .ok_or_else(|| format!("'{s}' is not a time like 07:00"))?;
    let (h, m): (u32, u32) = (
        h.parse()
            .map_err(|_| format!("'{s}' is not a time like 07:00"))?,
        m.parse()
            .map_err(|_| format!("'{s}' is not a time like 07:00"))?,
    );
    if m >= 60 || h > 24 || (h == 24 && m > 0) {
        return Err(format!("'{s}' is not a time of day"));
    }
    Ok(h * 60 + m)
}

impl Hours {
    /// `"Mon-Fri 07:00-19:00"`, `"Sat,Sun 10:00-14:00"`, `"Mon-Sun 00:00-24:00"`.
    pub fn parse(s: &str) -> Result<Hours, String> {
        let (days_part, span) = s
            .trim()
            .split_once(' ')
            .ok_or_else(|| format!("'{s}' is not like \"Mon-Fri 07:00-19:00\""))?;
        let mut days = [false; 7];
        for piece in days_part.split(',') {
            match piece.split_once('-') {
                Some((a, b)) => {
                    let (a, b) = (day(a)?, day(b)?);
                    let mut d = a;
                    loop {
                        days[d] = true;
                        if d == b {
                            break;
                        }
                        d = (d + 1) % 7;
                    }
                }
                None => days[day(piece)?] = true,
            }
        }
        let (from, to) = span
            .trim()
            .split_once('-')
            .ok_or_else(|| format!("'{s}' has no time span like 07:00-19:00"))?;
        let (from, to) = (clock(from)?, clock(to)?);
        if from >= to {
            return Err(format!("'{s}': the span must end after it starts"));
        }
        Ok(Hours {
            days,
            from,
            to,
            source: s.trim().to_string(),
        })
    }

    /// Whether local `weekday` (0 = Monday) at `minute` after midnight lies within.
    pub fn contains(&self, weekday: usize, minute: u32) -> bool {
        self.days[weekday % 7] && minute >= self.from && minute < self.to
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }
}

/// What a rule is judged on.
#[derive(Debug, Clone)]
pub struct Facts {
    pub duration: Duration,
    pub has_ticket: bool,
    /// Whether the requester is in one of the rule's groups (true when it names none).
    pub in_groups: bool,
    /// Local weekday (0 = Monday) and minute after midnight, in `[server] time_zone`.
    pub local: (usize, u32),
    pub time_zone: String,
}

impl AutoApprove {
    /// The facts the rule matched on (for the audit trail), or why it does not match.
    pub fn judge(&self, f: &Facts) -> Result<Value, String> {
        if !f.in_groups {
            return Err("the requester is in none of its groups".into());
        }
        if let Some(max) = self.max_duration
            && f.duration > max
        {
            return Err(format!(
                "{} asked, at most {}",
                format_duration(f.duration),
                format_duration(max)
            ));
        }
        if self.ticket_required && !f.has_ticket {
            return Err("no ticket".into());
        }
        if let Some(h) = &self.hours
            && !h.contains(f.local.0, f.local.1)
        {
            return Err(format!("outside {} ({})", h.as_str(), f.time_zone));
        }
        Ok(json!({
            "rule": self.name,
            "groups": self.groups,
            "max_duration": self.max_duration.map(format_duration),
            "hours": self.hours.as_ref().map(|h| h.as_str().to_string()),
            "time_zone": f.time_zone,
            "local_time": format!("{} {:02}:{:02}", DAYS[f.local.0 % 7], f.local.1 / 60, f.local.1 % 60),
            "ticket_required": self.ticket_required,
            "duration": format_duration(f.duration),
            "counts_as_approvals": self.approvals,
        }))
    }

    /// The rule in words, for the form, the API and the command line.
    pub fn describe(&self) -> String {
        let mut when = Vec::new();
        if !self.groups.is_empty() {
            when.push("for members of its groups".to_string());
        }
        if let Some(max) = self.max_duration {
            when.push(format!("for up to {}", format_duration(max)));
        }
        if let Some(h) = &self.hours {
            when.push(h.as_str().to_string());
        }
        if self.ticket_required {
            when.push("with a ticket".to_string());
        }
        if when.is_empty() {
            format!("Approved at once by rule {}.", self.name)
        } else {
            format!(
                "Approved at once by rule {} {}.",
                self.name,
                when.join(", ")
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> AutoApprove {
        AutoApprove {
            name: "on-call".into(),
            groups: vec!["g".into()],
            max_duration: Some(Duration::hours(1)),
            hours: Some(Hours::parse("Mon-Fri 07:00-19:00").unwrap()),
            ticket_required: true,
            approvals: 1,
        }
    }

    fn facts() -> Facts {
        Facts {
            duration: Duration::minutes(30),
            has_ticket: true,
            in_groups: true,
            local: (0, 9 * 60),
            time_zone: "Europe/Amsterdam".into(),
        }
    }

    #[test]
    fn hours_parse_and_contain() {
        let h = Hours::parse("Mon-Fri 07:00-19:00").unwrap();
        assert!(h.contains(0, 7 * 60) && h.contains(4, 19 * 60 - 1));
        assert!(!h.contains(4, 19 * 60) && !h.contains(5, 9 * 60) && !h.contains(2, 6 * 60 + 59));
        let wrap = Hours::parse("Fri-Mon 00:00-24:00").unwrap();
        assert!(wrap.contains(6, 0) && wrap.contains(0, 23 * 60) && !wrap.contains(2, 600));
        let some = Hours::parse("Sat,Sun 10:00-14:00").unwrap();
        assert!(some.contains(5, 600) && !some.contains(4, 600));
        for bad in [
            "Mon-Fri",
            "Monday 07:00",
            "Mon-Fri 19:00-07:00",
            "Mon-Fri 07:00-25:00",
            "Xyz 07:00-08:00",
            "Mon-Fri 7-19",
        ] {
            assert!(Hours::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_rule_matches_only_when_every_condition_holds() {
        let r = rule();
        assert_eq!(r.judge(&facts()).unwrap()["local_time"], "mon 09:00");
        let mut f = facts();
        f.in_groups = false;
        assert!(r.judge(&f).is_err());
        let mut f = facts();
        f.duration = Duration::minutes(61);
        assert_eq!(r.judge(&f).unwrap_err(), "1h 1m asked, at most 1h");
        let mut f = facts();
        f.has_ticket = false;
        assert!(r.judge(&f).is_err());
        let mut f = facts();
        f.local = (5, 600);
        assert!(
            r.judge(&f)
                .unwrap_err()
                .contains("outside Mon-Fri 07:00-19:00")
        );
        assert_eq!(
            r.describe(),
            "Approved at once by rule on-call for members of its groups, for up to 1h, Mon-Fri 07:00-19:00, with a ticket."
        );
    }
}
