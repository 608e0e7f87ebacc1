//! Holding membership writes and landing them late (see `late_writes.rs` for the rules): the
//! controls tests use, and what the Graph endpoints and the clock call.

use tokio::sync::oneshot;

use super::late_writes::{HeldWrite, LandedWrite, Landing, LateWrite};
use super::state::{State, set_membership};
use super::tenant::Emulator;

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
