//! The directory-operation outbox's rows: what a grant asks of the directory (add, remove, revoke
//! sessions), queued in the transaction of the change and carried out by the worker.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::Request;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    Add,
    Remove,
    /// Revoke the user's sign-in sessions (after a removal, when the package asks for it).
    RevokeSessions,
}

impl OpKind {
    const ALL: [OpKind; 3] = [OpKind::Add, OpKind::Remove, OpKind::RevokeSessions];

    /// The kind [`OpKind::as_str`] names.
    pub(crate) fn parse(s: &str) -> Option<OpKind> {
        OpKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            OpKind::Add => "add",
            OpKind::Remove => "remove",
            OpKind::RevokeSessions => "revoke_sessions",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OpOutcome {
    /// Carried out (or found already in effect).
    Done,
    /// No longer needed when its turn came.
    Skipped,
    /// Gave up: the directory refused it for good.
    Failed,
}

impl OpOutcome {
    const ALL: [OpOutcome; 3] = [OpOutcome::Done, OpOutcome::Skipped, OpOutcome::Failed];

    /// The outcome [`OpOutcome::as_str`] names.
    pub(crate) fn parse(s: &str) -> Option<OpOutcome> {
        OpOutcome::ALL.into_iter().find(|o| o.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            OpOutcome::Done => "done",
            OpOutcome::Skipped => "skipped",
            OpOutcome::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewDirectoryOp {
    pub request_id: String,
    pub kind: OpKind,
    pub group_id: String,
    pub user_id: String,
    pub not_before: DateTime<Utc>,
}

impl NewDirectoryOp {
    /// An operation of `kind` on grant `r`'s membership (its requester in its group), due `now`.
    pub fn for_grant(r: &Request, kind: OpKind, now: DateTime<Utc>) -> NewDirectoryOp {
        NewDirectoryOp {
            request_id: r.id.clone(),
            kind,
            group_id: r.group_id.clone(),
            user_id: r.requester.id.clone(),
            not_before: now,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DirectoryOp {
    pub id: i64,
    pub request_id: String,
    pub kind: OpKind,
    pub group_id: String,
    pub user_id: String,
    pub created_at: DateTime<Utc>,
    pub not_before: DateTime<Utc>,
    /// Attempts started so far, counting the one under way.
    pub attempts: i64,
    pub last_error: Option<String>,
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
    pub done_at: Option<DateTime<Utc>>,
    pub outcome: Option<OpOutcome>,
    /// Of the attempts, how many Graph throttled (429); they never count toward giving up.
    pub throttled: i64,
}

impl DirectoryOp {
    /// Attempts that failed or may fail for a reason other than throttling.
    pub fn counted_attempts(&self) -> i64 {
        self.attempts - self.throttled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_outcomes_read_back_as_written() {
        for k in OpKind::ALL {
            assert_eq!(OpKind::parse(k.as_str()), Some(k));
        }
        for o in OpOutcome::ALL {
            assert_eq!(OpOutcome::parse(o.as_str()), Some(o));
        }
        assert_eq!(OpKind::parse("rename"), None);
        assert_eq!(OpOutcome::parse("pending"), None);
    }
}
