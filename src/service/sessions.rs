//! Browser sessions outlive nothing: a session ends `session_max` after sign-in however active,
//! and `session_idle` after the last activity recorded (on the portal's clock, recorded at least
//! every tenth of `session_idle`); the person's account state and app roles are read again from
//! the directory when the last reading is older than `role_refresh`. The web layer keeps the times in the session and
//! asks here what to do with them.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::Portal;
use crate::auth::Principal;

/// How often a failed directory reading is tried again, and the longest a session goes without
/// its last-seen time written back.
pub const TOUCH_EVERY: Duration = Duration::minutes(1);

/// How often the last-seen time is written back (sliding the inactivity expiry): a session is
/// stored again only when its content changes or this much time has passed, a tenth of
/// `session_idle` (a minute at most), so that idle expiry honours activity to within a tenth of
/// `session_idle`.
pub fn touch_every(session_idle: Duration) -> Duration {
    (session_idle / 10).min(TOUCH_EVERY)
}

/// When a session began, when its roles were last confirmed, when it was last written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionTimes {
    pub signed_in_at: DateTime<Utc>,
    pub checked_at: DateTime<Utc>,
    pub seen_at: DateTime<Utc>,
    /// The last failed reading, so a directory outage costs one reading a minute per person.
    #[serde(default)]
    pub failed_at: Option<DateTime<Utc>>,
}

impl SessionTimes {
    pub fn new(now: DateTime<Utc>) -> SessionTimes {
        SessionTimes {
            signed_in_at: now,
            checked_at: now,
            seen_at: now,
            failed_at: None,
        }
    }
}

/// What becomes of a session on a request.
#[derive(Debug)]
pub enum SessionVerdict {
    /// Still good; `times` changed (and must be stored) when `store` is true, and the principal
    /// when its roles were read again.
    Keep {
        who: Box<Principal>,
        times: SessionTimes,
        store: bool,
    },
    /// Signed out: past its absolute lifetime, or the account is disabled or gone.
    End(&'static str),
}

impl Portal {
    /// Decides a browser session's fate now, reading the directory when the roles are due for a
    /// check. A failed reading keeps the roles for one more interval; after that the person keeps
    /// only what needs no role (their own requests) until a reading succeeds.
    pub async fn check_session(&self, mut who: Principal, times: SessionTimes) -> SessionVerdict {
        let now = self.now();
        let server = &self.settings.server;
        if now - times.signed_in_at >= server.session_max {
            return SessionVerdict::End("the session reached its maximum lifetime");
        }
        if now - times.seen_at >= server.session_idle {
            return SessionVerdict::End("the session was idle for longer than session_idle");
        }
        let mut next = times;
        let retry_due = times.failed_at.is_none_or(|f| now - f >= TOUCH_EVERY);
        if now - times.checked_at >= server.role_refresh && retry_due {
            match self.directory.user_access(&who.user.id).await {
                Ok(Some(access)) if access.enabled => {
                    if access.roles != who.raw_roles {
                        tracing::info!(
                            user = %who.user.id,
                            was = ?who.raw_roles,
                            now = ?access.roles,
                            "app roles changed in the directory; the session follows"
                        );
                    }
                    who.raw_roles = access.roles;
                    next.checked_at = now;
                    next.failed_at = None;
                }
                Ok(Some(_)) => return SessionVerdict::End("the account is disabled"),
                Ok(None) => return SessionVerdict::End("the account no longer exists"),
                Err(e) => {
                    tracing::warn!(user = %who.user.id, error = %e, "could not re-check a signed-in person's roles");
                    next.failed_at = Some(now);
                }
            }
        }
        if now - next.checked_at >= server.role_refresh * 2 {
            who.raw_roles.clear();
        }
        if now - next.seen_at >= touch_every(server.session_idle) {
            next.seen_at = now;
        }
        SessionVerdict::Keep {
            who: Box::new(who),
            store: next != times,
            times: next,
        }
    }
}

/// A person's approver-group memberships as last read from the directory.
#[derive(Debug, Clone)]
pub(crate) struct GroupReading {
    read_at: DateTime<Utc>,
    groups: Vec<String>,
    failed_at: Option<DateTime<Utc>>,
}

impl Portal {
    /// `who` with the packages' approver groups (and access reviewer groups) they are in. Read through Graph
    /// (`checkMemberGroups`, transitive) at most once per `role_refresh` per person, for browser
    /// sessions and bearer tokens alike; when a reading fails the last one stands for one more
    /// interval, and the next try is a minute later. No call at all when no package names
    /// approver groups.
    pub async fn with_groups(&self, mut who: Principal) -> Principal {
        if who.requests_only() {
            return who; // decides nothing, so no approver group matters
        }
        let mut wanted: Vec<String> = self
            .settings
            .packages
            .iter()
            .flat_map(|p| {
                p.approver_groups
                    .iter()
                    .chain(&p.review.reviewers)
                    .map(|g| g.to_ascii_lowercase())
            })
            .collect();
        if wanted.is_empty() {
            return who;
        }
        wanted.sort();
        wanted.dedup();
        let now = self.now();
        let every = self.settings.server.role_refresh;
        let last = self
            .groups
            .lock()
            .expect("group cache poisoned")
            .get(&who.user.id)
            .cloned();
        if let Some(l) = &last {
            let fresh = now - l.read_at < every;
            let resting = l.failed_at.is_some_and(|f| now - f < TOUCH_EVERY);
            if fresh || resting {
                if now - l.read_at < every * 2 {
                    who.groups = l.groups.clone();
                }
                return who;
            }
        }
        let reading = match self
            .directory
            .member_groups_among(&who.user.id, &wanted)
            .await
        {
            Ok(groups) => GroupReading {
                read_at: now,
                groups,
                failed_at: None,
            },
            Err(e) => {
                tracing::warn!(user = %who.user.id, error = %e, "could not read a person's approver groups");
                let mut l = last.unwrap_or(GroupReading {
                    read_at: DateTime::<Utc>::MIN_UTC,
                    groups: Vec::new(),
                    failed_at: None,
                });
                l.failed_at = Some(now);
                l
            }
        };
        if now - reading.read_at < every * 2 {
            who.groups = reading.groups.clone();
        }
        let mut cache = self.groups.lock().expect("group cache poisoned");
        if cache.len() > 50_000 {
            cache.clear();
        }
        cache.insert(who.user.id.clone(), reading);
        who
    }
}
