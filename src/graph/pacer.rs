//! The client-side pacer of Graph writes: a token bucket holding the configured write budget,
//! so that a burst of operations stays under Graph's limit (throttling is rare, not routine),
//! and that stops every write for as long as a 429's `Retry-After` asks.
//!
//! Each write reserves the next slot (the bucket may go negative: the reservation is a place in
//! the queue), so waiting writers go in order without polling. It runs on tokio's clock, so
//! tests can pause time. Written here rather than taken from a rate-limiting crate because it
//! must also be slowed by Graph's own answers.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::config::WriteBudget;

pub struct Pacer {
    capacity: f64,
    /// Writes per second.
    rate: f64,
    state: Mutex<State>,
}

struct State {
    tokens: f64,
    at: Instant,
    paused_until: Option<Instant>,
}

impl Pacer {
    /// A full bucket of `budget.writes`, refilled at `budget.writes / budget.per`.
    pub fn new(budget: WriteBudget) -> Pacer {
        let capacity = f64::from(budget.writes);
        Pacer {
            capacity,
            rate: capacity / budget.per.as_secs_f64().max(0.001),
            state: Mutex::new(State {
                tokens: capacity,
                at: Instant::now(),
                paused_until: None,
            }),
        }
    }

    /// Waits for the right to make `writes` writes.
    pub async fn acquire(&self, writes: u32) {
        let go_at = {
            let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            self.refill(&mut s, now);
            s.tokens -= f64::from(writes);
            let mut go_at = now;
            if s.tokens < 0.0 {
                go_at += Duration::from_secs_f64(-s.tokens / self.rate);
            }
            if let Some(p) = s.paused_until {
                go_at = go_at.max(p);
            }
            go_at
        };
        tokio::time::sleep_until(go_at).await;
        // A 429 that came in while we waited stops us too.
        loop {
            let paused = self
                .state
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .paused_until;
            match paused {
                Some(p) if p > Instant::now() => tokio::time::sleep_until(p).await,
                _ => return,
            }
        }
    }

    /// Graph answered 429: no write goes out for `retry_after`, and the bucket is emptied so
    /// that writes resume at the steady rate rather than in a burst.
    pub fn throttled(&self, retry_after: Option<Duration>) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        self.refill(&mut s, now);
        s.tokens = s.tokens.min(0.0);
        let until = now + retry_after.unwrap_or(Duration::from_secs(1));
        s.paused_until = Some(s.paused_until.map_or(until, |p| p.max(until)));
    }

    fn refill(&self, s: &mut State, now: Instant) {
        let elapsed = now.saturating_duration_since(s.at).as_secs_f64();
        s.tokens = (s.tokens + elapsed * self.rate).min(self.capacity);
        s.at = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(writes: u32, secs: u64) -> WriteBudget {
        WriteBudget {
            writes,
            per: Duration::from_secs(secs),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_bucket_goes_at_once_then_the_steady_rate() {
        let pacer = Pacer::new(budget(10, 10));
        let start = Instant::now();
        for _ in 0..10 {
            pacer.acquire(1).await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
        for _ in 0..5 {
            pacer.acquire(1).await;
        }
        // One write per second once the bucket is empty.
        let took = start.elapsed().as_secs_f64();
        assert!((4.99..5.01).contains(&took), "{took}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_pauses_every_write_and_empties_the_bucket() {
        let pacer = Pacer::new(budget(100, 10));
        let start = Instant::now();
        pacer.throttled(Some(Duration::from_secs(3)));
        pacer.acquire(1).await;
        let took = start.elapsed().as_secs_f64();
        // Three seconds of pause; the empty bucket then costs another 0.1 s for the write.
        assert!((3.0..3.11).contains(&took), "{took}");
        pacer.acquire(20).await;
        let took = start.elapsed().as_secs_f64();
        assert!((3.0..3.31).contains(&took), "{took}");
    }

    #[tokio::test(start_paused = true)]
    async fn writers_waiting_together_keep_the_pace() {
        let pacer = std::sync::Arc::new(Pacer::new(budget(2, 1)));
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..10 {
            let p = pacer.clone();
            tasks.push(tokio::spawn(async move { p.acquire(1).await }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        // 2 at once, the other 8 at 2 per second.
        let took = start.elapsed().as_secs_f64();
        assert!((3.99..4.01).contains(&took), "{took}");
    }
}
