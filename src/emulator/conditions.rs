//! How the emulated tenant behaves beyond its data, set by tests and benchmarks: latency on every
//! Graph call, the write budget Graph enforces per app and tenant (429 with `Retry-After` once
//! spent), and eventual consistency (a membership change that reads do not show yet).

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

/// The tenant's conditions; see the `Emulator::set_*` methods.
#[derive(Default)]
pub(crate) struct Conditions {
    /// Added to every Graph call before it is answered.
    pub(crate) latency: Duration,
    pub(crate) budget: Option<WriteBucket>,
    /// How long a membership change stays invisible to reads.
    pub(crate) read_lag: Duration,
    /// (group, user) → (what reads showed before the change, when the change becomes visible).
    pub(crate) unseen: HashMap<(String, String), (bool, Instant)>,
    /// Writes answered 429 because the budget was spent.
    pub(crate) throttled_writes: u64,
    /// Writes the budget let through.
    pub(crate) accepted_writes: u64,
    pub(crate) chaos: Option<ChaosState>,
}

/// Random failures of writes, for convergence tests: see [`super::Chaos`].
pub(crate) struct ChaosState {
    pub(crate) chaos: super::Chaos,
    pub(crate) rng: rand::rngs::StdRng,
    /// Consecutive failures per path, so that no write fails more than `max_in_a_row` times.
    pub(crate) in_a_row: HashMap<String, u32>,
    pub(crate) failed: u64,
}

/// What chaos does to one write.
pub(crate) enum Mischief {
    Throttle,
    Unavailable,
    /// Hang this long, then carry the write out.
    Hang(Duration),
}

impl ChaosState {
    pub(crate) fn pick(&mut self, path: &str) -> Option<Mischief> {
        use rand::Rng;
        let row = self.in_a_row.entry(path.to_string()).or_default();
        if *row >= self.chaos.max_in_a_row || !self.rng.gen_bool(self.chaos.rate) {
            *row = 0;
            return None;
        }
        *row += 1;
        self.failed += 1;
        Some(match self.rng.gen_range(0..3) {
            0 => Mischief::Throttle,
            1 => Mischief::Unavailable,
            _ => Mischief::Hang(self.chaos.hang),
        })
    }
}

/// Graph's write limit: a token bucket of `capacity` writes refilled at `rate` per second.
pub(crate) struct WriteBucket {
    capacity: f64,
    rate: f64,
    tokens: f64,
    at: Instant,
}

impl WriteBucket {
    pub(crate) fn new(writes: u32, per: Duration) -> WriteBucket {
        let capacity = f64::from(writes);
        WriteBucket {
            capacity,
            rate: capacity / per.as_secs_f64().max(0.001),
            tokens: capacity,
            at: Instant::now(),
        }
    }

    /// Spends one write, or says how long until one is available.
    pub(crate) fn spend(&mut self) -> Result<(), Duration> {
        let now = Instant::now();
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.capacity);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / self.rate))
        }
    }
}

impl Conditions {
    /// Remembers, when reads lag, what they showed before a change of (group, user).
    pub(crate) fn changed(&mut self, group: &str, user: &str, was_member: bool) {
        if self.read_lag.is_zero() {
            return;
        }
        let key = (group.to_ascii_lowercase(), user.to_ascii_lowercase());
        let visible_at = Instant::now() + self.read_lag;
        // A change on top of an unseen one keeps the oldest visible state.
        let before = self.unseen.get(&key).map_or(was_member, |(b, _)| *b);
        self.unseen.insert(key, (before, visible_at));
    }

    /// Whether reads show `user` in `group`, given whether they are a member now.
    pub(crate) fn seen(&mut self, group: &str, user: &str, member_now: bool) -> bool {
        let key = (group.to_ascii_lowercase(), user.to_ascii_lowercase());
        match self.unseen.get(&key) {
            Some((before, visible_at)) if Instant::now() < *visible_at => *before,
            Some(_) => {
                self.unseen.remove(&key);
                member_now
            }
            None => member_now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_bucket_refills_at_its_rate() {
        let mut b = WriteBucket::new(2, Duration::from_secs(10));
        assert!(b.spend().is_ok() && b.spend().is_ok());
        let wait = b.spend().unwrap_err();
        assert_eq!(wait, Duration::from_secs(5));
        tokio::time::advance(wait).await;
        assert!(b.spend().is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn reads_show_the_old_state_until_the_lag_has_passed() {
        let mut c = Conditions {
            read_lag: Duration::from_secs(2),
            ..Conditions::default()
        };
        c.changed("G", "U", false);
        assert!(!c.seen("g", "u", true));
        tokio::time::advance(Duration::from_secs(2)).await;
        assert!(c.seen("g", "u", true));
    }
}
