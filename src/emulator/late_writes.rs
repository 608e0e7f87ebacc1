//! Membership writes that land after their caller gave up: Graph carries out a request whose
//! caller has left (a timeout, a dropped connection), so a change can appear in the group well
//! after the call that asked for it failed. A test arms a [`LateWrite`]; the matching writes
//! are accepted but not answered (the caller times out), and land later: once the emulator's
//! clock has moved on by the delay asked for, or when the test pulls the trigger
//! ([`Emulator::land_late_writes`]). Each held call is then answered 504, as a gateway would.

use chrono::{DateTime, Utc};
use tokio::sync::oneshot;

use super::state::{State, set_membership};
use super::tenant::Emulator;

/// When a held write lands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Landing {
    /// This long after the call, on the emulator's clock ([`Emulator::advance`] moves it); it
    /// lands at the first Graph request or control call after that moment.
    After(chrono::Duration),
    /// When [`Emulator::land_late_writes`] is called.
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

    fn matches(&self, add: bool, user: &str) -> bool {
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
    group_id: String,
    user_id: String,
    add: bool,
    /// `None`: lands on the trigger.
    due: Option<DateTime<Utc>>,
    answer: Option<oneshot::Sender<()>>,
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
    rules: Vec<LateWrite>,
    held: Vec<HeldWrite>,
    landed: Vec<LandedWrite>,
}

impl Emulator {
    /// Arms `late`: the matching membership writes (`POST …/members/$ref`, `DELETE
    /// …/members/{id}/$ref`, alone or in a `$batch`) are accepted but left unanswered, and land
    /// as `late.landing` says.
    pub fn delay_landing(&self, late: LateWrite) {
        if late.times > 0 {
            self.state().late.rules.push(late);
        }
    }

    /// Lands every held write now (those waiting for the trigger and those whose time has not
    /// come). Returns how many landed.
    pub fn land_late_writes(&self) -> usize {
        let mut st = self.state();
        let all: Vec<HeldWrite> = st.late.held.drain(..).collect();
        let n = all.len();
        for w in all {
            land(self, &mut st, w);
        }
        n
    }

    /// The writes that landed late so far, in order.
    pub fn late_landings(&self) -> Vec<LandedWrite> {
        self.state().late.landed.clone()
    }

    /// Writes held and not landed yet.
    pub fn held_writes(&self) -> usize {
        self.state().late.held.len()
    }

    /// Lands the held writes whose time has come on the emulator's clock.
    pub(crate) fn land_due_writes(&self) {
        let mut st = self.state();
        let now = st.now();
        if !st.late.held.iter().any(|w| w.due.is_some_and(|d| d <= now)) {
            return;
        }
        let (due, keep): (Vec<HeldWrite>, Vec<HeldWrite>) = st
            .late
            .held
            .drain(..)
            .partition(|w| w.due.is_some_and(|d| d <= now));
        st.late.held = keep;
        for w in due {
            land(self, &mut st, w);
        }
    }

    /// Whether an armed rule holds this write; if so it is recorded and the receiver answers
    /// once it has landed.
    pub(crate) fn hold_write(
        &self,
        group_id: &str,
        user_id: &str,
        add: bool,
    ) -> Option<oneshot::Receiver<()>> {
        let mut st = self.state();
        let idx = st.late.rules.iter().position(|r| r.matches(add, user_id))?;
        let rule = &mut st.late.rules[idx];
        rule.times -= 1;
        let landing = rule.landing;
        if rule.times == 0 {
            st.late.rules.remove(idx);
        }
        let due = match landing {
            Landing::After(d) => Some(st.now() + d),
            Landing::OnTrigger => None,
        };
        let (tx, rx) = oneshot::channel();
        st.late.held.push(HeldWrite {
            group_id: group_id.to_ascii_lowercase(),
            user_id: user_id.to_ascii_lowercase(),
            add,
            due,
            answer: Some(tx),
        });
        Some(rx)
    }
}

fn land(emu: &Emulator, st: &mut State, mut w: HeldWrite) {
    let changed = set_membership(st, &w.group_id, &w.user_id, w.add);
    if changed {
        emu.persist(st);
    }
    let at = st.now();
    tracing::debug!(group = %w.group_id, user = %w.user_id, add = w.add, changed, "a held Graph write landed");
    st.late.landed.push(LandedWrite {
        group_id: w.group_id.clone(),
        user_id: w.user_id.clone(),
        add: w.add,
        changed,
        at,
        instant: tokio::time::Instant::now(),
    });
    if let Some(tx) = w.answer.take() {
        let _ = tx.send(());
    }
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
