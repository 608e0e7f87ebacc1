//! What Graph's change tracking (`GET /groups/delta`) remembers between calls: behind each delta
//! token, the groups it follows and their members as reads saw them when it was handed out;
//! behind each page token, the pages of an answer not fetched yet. Tokens of an earlier run of
//! the tenant, or dropped by `Emulator::expire_delta_tokens`, are unknown: the caller is told
//! to synchronise again (`syncStateNotFound`).

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

/// Delta tokens kept; older ones are forgotten (as Graph forgets old sync states).
const KEPT_TOKENS: usize = 10_000;

/// What a delta token stands for.
#[derive(Clone, Debug, Default)]
pub(crate) struct SyncState {
    /// The groups followed (lower-case ids), in the order asked for.
    pub(crate) groups: Vec<String>,
    /// Whether members are tracked (`$select` named `members`, or no `$select`).
    pub(crate) members: bool,
    /// Each group's members as reads saw them (empty before the first call).
    pub(crate) seen: BTreeMap<String, BTreeSet<String>>,
}

/// The pages of one answer still to be fetched, and the delta link its last page carries.
pub(crate) struct PendingPages {
    pub(crate) pages: VecDeque<serde_json::Value>,
    pub(crate) delta_link: String,
}

#[derive(Default)]
pub(crate) struct ChangeTracking {
    tokens: HashMap<String, SyncState>,
    order: VecDeque<String>,
    pub(crate) pages: HashMap<String, PendingPages>,
}

impl ChangeTracking {
    /// Remembers `state` under a new token, which it returns.
    pub(crate) fn remember(&mut self, state: SyncState) -> String {
        let token = new_token();
        self.tokens.insert(token.clone(), state);
        self.order.push_back(token.clone());
        while self.order.len() > KEPT_TOKENS {
            if let Some(old) = self.order.pop_front() {
                self.tokens.remove(&old);
            }
        }
        token
    }

    pub(crate) fn state(&self, token: &str) -> Option<SyncState> {
        self.tokens.get(token).cloned()
    }

    pub(crate) fn forget(&mut self) {
        self.tokens.clear();
        self.order.clear();
        self.pages.clear();
    }
}

/// An opaque token, URL-safe as Graph's are.
pub(crate) fn new_token() -> String {
    use base64::Engine;
    let raw = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}
