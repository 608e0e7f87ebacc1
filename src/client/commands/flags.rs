//! The command line's values as the API takes them: durations (`--for`), start times
//! (`--start`), and which flag a field of the API's error body stands for.

use anyhow::{anyhow, bail};
use chrono::{DateTime, Utc};

/// Which flag a field of the API's error body stands for.
pub(super) fn flag_of(field: &str) -> &str {
    match field {
        "duration_minutes" | "minutes" => "--for",
        "justification" => "--reason",
        "ticket" => "--ticket",
        "starts_at" => "--start",
        "package" => "--package",
        "comment" => "--comment",
        "reason" => "--reason",
        other => other,
    }
}

/// `30m`, `2h`, `1h 30m` in whole minutes.
pub(super) fn parse_minutes(flag: &str, text: &str) -> anyhow::Result<i64> {
    let d = humantime::parse_duration(text.trim())
        .map_err(|e| anyhow!("{flag} '{text}' is not a duration like 30m, 2h or 1h 30m ({e})"))?;
    let m = i64::try_from(d.as_secs() / 60).unwrap_or(i64::MAX);
    if m < 1 || d.as_secs() % 60 != 0 {
        bail!("{flag} '{text}' must be a whole number of minutes, at least 1m");
    }
    Ok(m)
}

/// An RFC 3339 time, or a duration from now.
pub(super) fn parse_start(text: &str, now: DateTime<Utc>) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text.trim()) {
        return Ok(t.with_timezone(&Utc));
    }
    let m = parse_minutes("--start", text).map_err(|_| {
        anyhow!("--start '{text}' is neither an RFC 3339 time (2026-12-01T09:30:00Z) nor a duration from now (30m)")
    })?;
    Ok(now + chrono::Duration::minutes(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_starts() {
        assert_eq!(parse_minutes("--for", "2h").unwrap(), 120);
        assert_eq!(parse_minutes("--for", "1h 30m").unwrap(), 90);
        assert_eq!(parse_minutes("--for", "90m").unwrap(), 90);
        assert!(parse_minutes("--for", "30s").is_err());
        assert!(
            parse_minutes("--for", "two hours")
                .unwrap_err()
                .to_string()
                .contains("--for")
        );
        let now = Utc::now();
        assert_eq!(
            parse_start("30m", now).unwrap(),
            now + chrono::Duration::minutes(30)
        );
        assert_eq!(
            parse_start("2026-12-01T09:30:00Z", now)
                .unwrap()
                .to_rfc3339(),
            "2026-12-01T09:30:00+00:00"
        );
        assert!(parse_start("tomorrow", now).is_err());
        assert_eq!(flag_of("duration_minutes"), "--for");
        assert_eq!(flag_of("justification"), "--reason");
    }
}
