//! Membership writes that land after their caller gave up: Graph carries out a request whose
//! caller has left (a timeout, a dropped connection), so a change can appear in the group well
//! after the call that asked for it failed. A test arms a [`LateWrite`]; the matching writes
//! are accepted but not answered (the caller times out), and land later: once the emulator's
//! clock has moved on by the delay asked for, or when the test pulls the trigger
//! (`Emulator::land_late_writes`, in `landings.rs`). Each held call is then answered 504, as a
//! gateway would. This file holds what is kept; `landings.rs` what tests do with it.

use chrono::{DateTime, Utc};
use tokio::sync::oneshot;

/// When a held write lands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Landing {
    /// This long after the call, on the emulator's clock (`Emulator::advance` moves it); it
    /// lands at the first Graph request or control call after that moment.
    After(chrono::Duration),
    /// When `Emulator::land_late_writes` is called.
    OnTrigger,
}

/// Membership writes that time out for the caller and land later.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LateWrite {
    /// `Some(true)`: additions only; `Some(false)`: removals only; `None`: both.
    pub add: Option<bool>,
    /// Only writes about this member (object id, any case); `None`: any member.
    pub user: Option<String>,
    /// How many matching writes are held.
    pub times: u32,
    pub landing: Landing,
}

impl LateWrite {
    /// The next `times` additions are held and land on `landing`.
    pub fn additions(times: u32, landing: Landing) -> LateWrite {
        LateWrite {
            add: Some(true),
            user: None,
            times,
            landing,
        }
    }

    /// The next `times` removals are held and land on `landing`.
    pub fn removals(times: u32, landing: Landing) -> LateWrite {
        LateWrite {
            add: Some(false),
            ..LateWrite::additions(times, landing)
        }
    }

    /// Only writes about `user`.
    pub fn of(mut self, user: &str) -> LateWrite {
        self.user = Some(user.to_ascii_lowercase());
        self
    }

    pub(crate) fn matches(&self, add: bool, user: &str) -> bool {
        self.times > 0
            && self.add.is_none_or(|a| a == add)
            && self
                .user
                .as_deref()
                .is_none_or(|u| u.eq_ignore_ascii_case(user))
    }
}

/// A write that landed late: what it changed, and when (emulator's clock).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LandedWrite {
    pub group_id: String,
    pub user_id: String,
    pub add: bool,
    /// Whether it changed the membership (an addition of a member already there changes nothing).
    pub changed: bool,
    pub at: DateTime<Utc>,
    /// When it landed, on the tokio clock (for measuring what follows on the real clock).
    pub instant: tokio::time::Instant,
}

/// A write accepted but not yet carried out.
pub(crate) struct HeldWrite {
    pub(crate) group_id: String,
    pub(crate) user_id: String,
    pub(crate) add: bool,
    /// `None`: lands on the trigger.
    pub(crate) due: Option<DateTime<Utc>>,
    pub(crate) answer: Option<oneshot::Sender<()>>,
}

/// A held write's answer, carried from the endpoint to the entry on the response (see
/// `graph::entry`): the entry waits for the landing, then answers 504.
#[derive(Clone)]
pub(crate) struct HeldAnswer(
    pub(crate) std::sync::Arc<std::sync::Mutex<Option<oneshot::Receiver<()>>>>,
);

impl HeldAnswer {
    pub(crate) fn new(rx: oneshot::Receiver<()>) -> HeldAnswer {
        HeldAnswer(std::sync::Arc::new(std::sync::Mutex::new(Some(rx))))
    }

    /// Waits until the write has landed (or the tenant is gone).
    pub(crate) async fn landed(self) {
        let rx = self.0.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(rx) = rx {
            let _ = rx.await;
        }
    }
}

/// The armed rules, the writes held and those landed.
#[derive(Default)]
pub(crate) struct LateWrites {
    pub(crate) rules: Vec<LateWrite>,
    pub(crate) held: Vec<HeldWrite>,
    pub(crate) landed: Vec<LandedWrite>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_match_by_kind_and_member() {
        let r = LateWrite::additions(1, Landing::OnTrigger).of("ABC");
        assert!(r.matches(true, "abc"));
        assert!(!r.matches(false, "abc"));
        assert!(!r.matches(true, "other"));
        let any = LateWrite {
            add: None,
            ..LateWrite::removals(1, Landing::OnTrigger)
        };
        assert!(any.matches(true, "x") && any.matches(false, "y"));
        assert!(!LateWrite::removals(0, Landing::OnTrigger).matches(false, "x"));
    }
}
