//! The request lifecycle as a pure state machine.
//!
//! ```text
//! pending ──approve (enough approvals)──▶ approved ──start time reached──▶ active ──end time──▶ expired
//!    ├─deny──▶ denied                       └─cancel─▶ cancelled              ├─requester ends─▶ ended
//!    ├─requester cancels──▶ cancelled                                         └─admin revokes──▶ revoked
//!    └─no decision in time──▶ timed_out            any directory failure that will not heal ──▶ failed
//! ```

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    Pending,
    Approved,
    Active,
    Denied,
    Cancelled,
    Expired,
    Ended,
    Revoked,
    TimedOut,
    Failed,
}

impl RequestStatus {
    pub const ALL: [RequestStatus; 10] = [
        RequestStatus::Pending,
        RequestStatus::Approved,
        RequestStatus::Active,
        RequestStatus::Denied,
        RequestStatus::Cancelled,
        RequestStatus::Expired,
        RequestStatus::Ended,
        RequestStatus::Revoked,
        RequestStatus::TimedOut,
        RequestStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Pending => "pending",
            RequestStatus::Approved => "approved",
            RequestStatus::Active => "active",
            RequestStatus::Denied => "denied",
            RequestStatus::Cancelled => "cancelled",
            RequestStatus::Expired => "expired",
            RequestStatus::Ended => "ended",
            RequestStatus::Revoked => "revoked",
            RequestStatus::TimedOut => "timed_out",
            RequestStatus::Failed => "failed",
        }
    }

    /// Open requests block a second request for the same package.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            RequestStatus::Pending | RequestStatus::Approved | RequestStatus::Active
        )
    }

    pub fn is_terminal(self) -> bool {
        !self.is_open()
    }
}

impl fmt::Display for RequestStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown request status '{0}'")]
pub struct UnknownStatus(pub String);

impl FromStr for RequestStatus {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RequestStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_string()))
    }
}

/// Something that happens to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// An approval that completes the required number; `starts_now` when the access window opens at once.
    Approve {
        starts_now: bool,
    },
    Deny,
    Cancel,
    TimeOut,
    /// The requested later start time was reached.
    Start,
    Expire,
    /// The requester ends their own grant early.
    End,
    /// An admin ends a grant (or an approved grant that has not started yet).
    Revoke,
    /// A directory failure that will not heal.
    Fail,
}

impl Transition {
    pub fn name(self) -> &'static str {
        match self {
            Transition::Approve { .. } => "approve",
            Transition::Deny => "deny",
            Transition::Cancel => "cancel",
            Transition::TimeOut => "time out",
            Transition::Start => "start",
            Transition::Expire => "expire",
            Transition::End => "end",
            Transition::Revoke => "revoke",
            Transition::Fail => "fail",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {} a request that is {from}", transition.name())]
pub struct TransitionError {
    pub from: RequestStatus,
    pub transition: Transition,
}

impl RequestStatus {
    /// The state after `transition`, or an error when the current state does not allow it.
    pub fn apply(self, transition: Transition) -> Result<RequestStatus, TransitionError> {
        use RequestStatus as S;
        use Transition as T;
        let next = match (self, transition) {
            (S::Pending, T::Approve { starts_now: true }) => S::Active,
            (S::Pending, T::Approve { starts_now: false }) => S::Approved,
            (S::Pending, T::Deny) => S::Denied,
            (S::Pending, T::Cancel) => S::Cancelled,
            (S::Pending, T::TimeOut) => S::TimedOut,
            (S::Approved, T::Start) => S::Active,
            (S::Approved, T::Cancel) => S::Cancelled,
            (S::Approved, T::Revoke) => S::Revoked,
            (S::Approved, T::Fail) => S::Failed,
            (S::Active, T::Expire) => S::Expired,
            (S::Active, T::End) => S::Ended,
            (S::Active, T::Revoke) => S::Revoked,
            (S::Active, T::Fail) => S::Failed,
            (from, transition) => return Err(TransitionError { from, transition }),
        };
        Ok(next)
    }

    /// Whether the user should be a member of the group while the request is in this state.
    pub fn grants_membership(self) -> bool {
        self == RequestStatus::Active
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RequestStatus as S;
    use Transition as T;

    const ALL_TRANSITIONS: [Transition; 10] = [
        T::Approve { starts_now: true },
        T::Approve { starts_now: false },
        T::Deny,
        T::Cancel,
        T::TimeOut,
        T::Start,
        T::Expire,
        T::End,
        T::Revoke,
        T::Fail,
    ];

    /// The whole table: every (state, transition) pair, legal ones with their target.
    fn expected(from: S, t: T) -> Option<S> {
        match (from, t) {
            (S::Pending, T::Approve { starts_now: true }) => Some(S::Active),
            (S::Pending, T::Approve { starts_now: false }) => Some(S::Approved),
            (S::Pending, T::Deny) => Some(S::Denied),
            (S::Pending, T::Cancel) => Some(S::Cancelled),
            (S::Pending, T::TimeOut) => Some(S::TimedOut),
            (S::Approved, T::Start) => Some(S::Active),
            (S::Approved, T::Cancel) => Some(S::Cancelled),
            (S::Approved, T::Revoke) => Some(S::Revoked),
            (S::Approved, T::Fail) => Some(S::Failed),
            (S::Active, T::Expire) => Some(S::Expired),
            (S::Active, T::End) => Some(S::Ended),
            (S::Active, T::Revoke) => Some(S::Revoked),
            (S::Active, T::Fail) => Some(S::Failed),
            _ => None,
        }
    }

    #[test]
    fn every_pair_of_state_and_transition() {
        let mut legal = 0;
        for from in S::ALL {
            for t in ALL_TRANSITIONS {
                match (from.apply(t), expected(from, t)) {
                    (Ok(got), Some(want)) => {
                        assert_eq!(got, want, "{from} --{}-->", t.name());
                        legal += 1;
                    }
                    (Err(e), None) => {
                        assert_eq!(e.from, from);
                        assert_eq!(e.transition, t);
                    }
                    (got, want) => panic!("{from} --{}--> gave {got:?}, wanted {want:?}", t.name()),
                }
            }
        }
        assert_eq!(legal, 13);
    }

    #[test]
    fn terminal_states_allow_nothing() {
        for from in S::ALL.into_iter().filter(|s| s.is_terminal()) {
            for t in ALL_TRANSITIONS {
                assert!(from.apply(t).is_err(), "{from} must not {}", t.name());
            }
        }
    }

    #[test]
    fn open_states_are_exactly_pending_approved_active() {
        let open: Vec<_> = S::ALL.into_iter().filter(|s| s.is_open()).collect();
        assert_eq!(open, vec![S::Pending, S::Approved, S::Active]);
        assert!(S::Active.grants_membership());
        assert!(!S::Approved.grants_membership());
    }

    #[test]
    fn status_strings_round_trip() {
        for s in S::ALL {
            assert_eq!(s.as_str().parse::<S>().unwrap(), s);
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert!("Active".parse::<S>().is_err());
        assert!("".parse::<S>().is_err());
    }

    #[test]
    fn error_message_is_readable() {
        let e = S::Expired.apply(T::Cancel).unwrap_err();
        assert_eq!(e.to_string(), "cannot cancel a request that is expired");
        let e = S::Denied.apply(T::TimeOut).unwrap_err();
        assert_eq!(e.to_string(), "cannot time out a request that is denied");
    }
}
