//! What the worker hands back for one directory operation: Graph's answer, how long it took,
//! and what reading the membership back showed.

use crate::graph::{DirectoryError, MemberChange};

/// What a worker learned from carrying out one operation.
pub struct Attempt {
    pub result: Result<MemberChange, DirectoryError>,
    /// How long the Graph call took.
    pub graph_ms: u64,
    /// What reading the membership back showed, when the change succeeded and was read back.
    pub read_back: Option<ReadBack>,
}

/// Reading a membership back after changing it (Graph is eventually consistent, so a few reads
/// may be needed before the change shows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadBack {
    /// Whether the last successful read showed the member; `None` when every read failed.
    pub member_seen: Option<bool>,
    /// Reads made.
    pub reads: u32,
    /// The last read's error, if it failed.
    pub error: Option<String>,
}

impl Attempt {
    /// An attempt not read back (the change failed, or the directory cannot read back).
    pub fn unverified(result: Result<MemberChange, DirectoryError>, graph_ms: u64) -> Attempt {
        Attempt {
            result,
            graph_ms,
            read_back: None,
        }
    }
}

impl Attempt {
    /// Whether Graph throttled the call (429): such an attempt never counts toward giving up and
    /// is not an audit event of its own.
    pub(super) fn throttled(&self) -> bool {
        matches!(
            self.result,
            Err(DirectoryError::Throttled { status: 429, .. })
        )
    }

    /// Whether the change may have been made in the directory, whatever the answer said.
    pub(super) fn may_have_taken_effect(&self) -> bool {
        match &self.result {
            Ok(_) => true,
            Err(e) => e.is_retriable(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_429_is_a_throttled_attempt() {
        let attempt = |status| {
            Attempt::unverified(
                Err(DirectoryError::Throttled {
                    status,
                    retry_after: None,
                    message: String::new(),
                }),
                1,
            )
        };
        assert!(attempt(429).throttled());
        assert!(!attempt(503).throttled());
        let timed_out = Attempt::unverified(
            Err(DirectoryError::Transient("no answer within 10s".into())),
            10_000,
        );
        assert!(!timed_out.throttled() && timed_out.may_have_taken_effect());
        let refused = Attempt::unverified(
            Err(DirectoryError::Rejected {
                status: 403,
                code: "Authorization_RequestDenied".into(),
                message: String::new(),
            }),
            1,
        );
        assert!(!refused.may_have_taken_effect());
    }
}
