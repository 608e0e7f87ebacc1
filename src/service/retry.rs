//! When a failed directory operation is tried again: Graph's `Retry-After` when it sent one,
//! else exponential backoff with jitter (removals sooner than additions).

use chrono::Duration;
use rand::Rng;

use crate::graph::DirectoryError;

/// The longest wait between attempts when Graph gives no Retry-After.
pub const MAX_BACKOFF: Duration = Duration::minutes(15);

/// Graph's Retry-After when it gave one, else exponential backoff with jitter.
pub fn retry_delay(e: &DirectoryError, attempts: i64) -> Duration {
    if let Some(after) = e.retry_after() {
        return Duration::from_std(after)
            .unwrap_or(MAX_BACKOFF)
            .min(Duration::hours(1));
    }
    backoff(attempts)
}

/// Removals are retried sooner (from 100 ms, doubling, at most 30 s apart): access must end
/// within seconds, and the pacer keeps the retries within Graph's budget.
pub fn removal_retry_delay(e: &DirectoryError, attempts: i64) -> Duration {
    if e.retry_after().is_some() {
        return retry_delay(e, attempts);
    }
    let exp = attempts.clamp(1, 20) - 1;
    let ms = 100i64.saturating_mul(1 << exp).min(30_000);
    let jitter = rand::thread_rng().gen_range(0.8..1.2);
    Duration::milliseconds((ms as f64 * jitter) as i64)
}

pub fn backoff(attempts: i64) -> Duration {
    let exp = attempts.clamp(1, 20) - 1;
    let base = Duration::seconds(2)
        .num_milliseconds()
        .saturating_mul(1 << exp);
    let capped = base.min(MAX_BACKOFF.num_milliseconds());
    let jitter = rand::thread_rng().gen_range(0.8..1.2);
    Duration::milliseconds((capped as f64 * jitter) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_wins_and_fractions_count() {
        let e = DirectoryError::Throttled {
            status: 429,
            retry_after: Some(std::time::Duration::from_millis(2128)),
            message: "Please retry again later.".into(),
        };
        assert_eq!(retry_delay(&e, 1), Duration::milliseconds(2128));
    }

    #[test]
    fn removals_are_retried_within_seconds() {
        let e = DirectoryError::Transient("503".into());
        let first = removal_retry_delay(&e, 1).num_milliseconds();
        assert!((80..=120).contains(&first), "{first}");
        let fourth = removal_retry_delay(&e, 4).num_milliseconds();
        assert!((640..=960).contains(&fourth), "{fourth}");
        assert!(removal_retry_delay(&e, 30) <= Duration::seconds(36));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let b1 = backoff(1).num_milliseconds();
        assert!((1600..=2400).contains(&b1), "{b1}");
        let b4 = backoff(4).num_milliseconds();
        assert!((12_800..=19_200).contains(&b4), "{b4}");
        let far = backoff(30).num_milliseconds();
        assert!(
            far <= (MAX_BACKOFF.num_milliseconds() as f64 * 1.2) as i64
                && far >= (MAX_BACKOFF.num_milliseconds() as f64 * 0.8) as i64
        );
        let e = DirectoryError::Transient("connection reset".into());
        assert!(retry_delay(&e, 2) > Duration::seconds(3));
    }
}
