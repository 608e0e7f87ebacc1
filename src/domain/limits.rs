//! How often one person may ask: per package, at most so many requests and so many extensions
//! in any hour. What was asked in the last hour is counted in the transaction that would add
//! one more; this file decides, from those times, whether one more fits and, when it does not,
//! how long until it does.

use chrono::{DateTime, Duration, Utc};

/// The window the limits count in.
pub fn window() -> Duration {
    Duration::hours(1)
}

/// What is being asked for, as the limits count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AskKind {
    Request,
    Extension,
}

impl AskKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AskKind::Request => "request",
            AskKind::Extension => "extension",
        }
    }
}

/// One more ask does not fit: how many were counted and when the next one will.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverLimit {
    pub kind: AskKind,
    pub limit: u32,
    /// Asks counted in the window (at least `limit`).
    pub counted: usize,
    /// When enough counted asks have left the window for one more to fit.
    pub until: DateTime<Utc>,
    /// Whole seconds from now to `until` (at least 1): the `Retry-After`.
    pub retry_after_secs: i64,
}

/// Whether one more ask fits, given the times of the asks made in the window before `now`
/// (any order) and at most `limit` of them per window.
pub fn check(
    kind: AskKind,
    asked: &[DateTime<Utc>],
    limit: u32,
    now: DateTime<Utc>,
) -> Result<(), OverLimit> {
    let since = now - window();
    let mut inside: Vec<DateTime<Utc>> = asked.iter().copied().filter(|t| *t > since).collect();
    let limit_n = limit as usize;
    if inside.len() < limit_n {
        return Ok(());
    }
    inside.sort();
    // With `limit` or more counted, one more fits once all but `limit - 1` of them have left:
    // the oldest counted ask when exactly `limit` are (a lowered limit may have let more in).
    let leaving = inside[inside.len() - limit_n];
    let until = leaving + window();
    let ms = (until - now).num_milliseconds().max(1);
    Err(OverLimit {
        kind,
        limit,
        counted: inside.len(),
        until,
        retry_after_secs: (ms + 999) / 1000,
    })
}

impl OverLimit {
    /// The sentence a person is shown (the API's message, the form's, the command line's).
    pub fn sentence(&self, package_name: &str) -> String {
        let what = match self.kind {
            AskKind::Request => format!("asked for {package_name}"),
            AskKind::Extension => format!("asked to extend {package_name}"),
        };
        let wait = wait_text(self.retry_after_secs);
        format!(
            "You have {what} {} times in the last hour, the most allowed ({} an hour). You can ask again in {wait} (at {}).",
            self.counted,
            self.limit,
            self.until.format("%H:%M UTC"),
        )
    }
}

impl OverLimit {
    /// The sentence for someone asking on `name`'s behalf: the asks counted are `name`'s.
    pub fn sentence_about(&self, package_name: &str, name: &str) -> String {
        format!(
            "{name} has been asked for {package_name} {} times in the last hour, the most allowed ({} an hour). {name} can be asked for again in {} (at {}).",
            self.counted,
            self.limit,
            wait_text(self.retry_after_secs),
            self.until.format("%H:%M UTC"),
        )
    }
}

/// "1 minute", "12 minutes", "30 seconds".
fn wait_text(secs: i64) -> String {
    if secs < 60 {
        return format!("{secs} second{}", if secs == 1 { "" } else { "s" });
    }
    let m = (secs + 59) / 60;
    format!("{m} minute{}", if m == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::now;

    fn ago(mins: i64) -> DateTime<Utc> {
        now() - Duration::minutes(mins)
    }

    #[test]
    fn asks_under_the_limit_fit() {
        let asked: Vec<_> = (1..10).map(ago).collect();
        assert_eq!(check(AskKind::Request, &asked, 10, now()), Ok(()));
        // Older than the hour: not counted.
        let old: Vec<_> = (60..80).map(ago).collect();
        assert_eq!(check(AskKind::Request, &old, 10, now()), Ok(()));
    }

    #[test]
    fn the_next_ask_fits_when_the_oldest_counted_leaves_the_hour() {
        let asked: Vec<_> = [50, 5, 4, 3, 2, 1, 1, 1, 1, 1].map(ago).to_vec();
        let over = check(AskKind::Extension, &asked, 10, now()).unwrap_err();
        assert_eq!(over.counted, 10);
        assert_eq!(over.until, ago(50) + window());
        assert_eq!(over.retry_after_secs, 600);
        let s = over.sentence("Device code flow exemption");
        assert!(
            s.contains("asked to extend Device code flow exemption 10 times"),
            "{s}"
        );
        assert!(s.contains("in 10 minutes (at 09:10 UTC)"), "{s}");
        // A lowered limit: enough must leave for one more to fit.
        let over = check(AskKind::Request, &asked, 3, now()).unwrap_err();
        assert_eq!(over.until, ago(1) + window());
    }

    #[test]
    fn waits_are_whole_seconds_rounded_up() {
        let asked = vec![now() - window() + Duration::milliseconds(1500)];
        let over = check(AskKind::Request, &asked, 1, now()).unwrap_err();
        assert_eq!(over.retry_after_secs, 2);
        assert!(over.sentence("P").contains("in 2 seconds"));
    }
}
