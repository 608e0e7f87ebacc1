//! Durations as configuration spells them (`90m`, `1h 30m`, `2h`, `7d`): read and written.

use chrono::Duration;

/// Formats a duration the way configuration spells it: `90m` → "1h 30m".
pub fn format_duration(d: Duration) -> String {
    let total = d.num_minutes();
    let (days, hours, minutes) = (total / 1440, (total % 1440) / 60, total % 60);
    let mut parts = Vec::new();
    if days > 0 {
        parts.push(format!("{days}d"));
    }
    if hours > 0 {
        parts.push(format!("{hours}h"));
    }
    if minutes > 0 || parts.is_empty() {
        parts.push(format!("{minutes}m"));
    }
    parts.join(" ")
}

/// The longest duration taken (100 years): any deadline computed from one stays a date.
const LONGEST_DAYS: i64 = 36_525;

/// Parses `15m`, `2h`, `1h 30m`, `90s`, `1d`; whole seconds, positive, at most 100 years.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let std = humantime::parse_duration(s.trim())
        .map_err(|e| format!("'{s}' is not a duration like 90m or 2h ({e})"))?;
    if std.is_zero() {
        return Err(format!("'{s}' must be longer than zero"));
    }
    if std.subsec_nanos() != 0 {
        return Err(format!("'{s}' must be whole seconds"));
    }
    Duration::from_std(std)
        .ok()
        .filter(|d| *d <= Duration::days(LONGEST_DAYS))
        .ok_or_else(|| format!("'{s}' is too long (at most 100 years)"))
}
