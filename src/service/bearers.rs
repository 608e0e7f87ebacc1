//! Bearer tokens outlive no change in the directory: a token keeps the app roles it was issued
//! with for up to an hour, so the person's account state and app roles are read again from the
//! directory every `role_refresh`, as for browser sessions, and the reading (not the token)
//! decides. Cached per person, for every token and client alike.

use chrono::{DateTime, Utc};

use super::Portal;
use super::sessions::TOUCH_EVERY;
use crate::auth::Principal;
use crate::error::{AppError, AppResult};

/// A person's account state and app roles as last read from the directory.
#[derive(Debug, Clone)]
pub(crate) struct AccessReading {
    /// The last successful reading (or the first failed one, before any success).
    read_at: DateTime<Utc>,
    /// `None`: the account no longer exists; else whether it is enabled, and its app roles.
    account: Option<(bool, Vec<String>)>,
    /// No reading succeeded yet: the token's own roles stand in for one interval.
    unread: bool,
    /// The last failed reading, so a directory outage costs one reading a minute per person.
    failed_at: Option<DateTime<Utc>>,
}

impl Portal {
    /// `who`, named by a bearer token, as the directory says they are now: refused (401) when
    /// the account is disabled or gone; with the app roles it holds now instead of those the
    /// token was issued with. Read at most once per `role_refresh` per person; when a reading
    /// fails, the last one stands for one more interval, then the person keeps only what needs
    /// no role until a reading succeeds.
    pub async fn check_bearer(&self, mut who: Principal) -> AppResult<Principal> {
        let now = self.now();
        let every = self.settings.server.role_refresh;
        let last = self
            .bearers
            .lock()
            .expect("bearer cache poisoned")
            .get(&who.user.id)
            .cloned();
        let reading = match last {
            Some(l)
                if now - l.read_at < every
                    || l.failed_at.is_some_and(|f| now - f < TOUCH_EVERY) =>
            {
                l
            }
            last => {
                let reading = match self.directory.user_access(&who.user.id).await {
                    Ok(access) => AccessReading {
                        read_at: now,
                        account: access.map(|a| (a.enabled, a.roles)),
                        unread: false,
                        failed_at: None,
                    },
                    Err(e) => {
                        tracing::warn!(user = %who.user.id, error = %e, "could not re-check a bearer token's account and roles");
                        let mut l = last.unwrap_or(AccessReading {
                            read_at: now,
                            account: None,
                            unread: true,
                            failed_at: None,
                        });
                        l.failed_at = Some(now);
                        l
                    }
                };
                let mut cache = self.bearers.lock().expect("bearer cache poisoned");
                if cache.len() > 50_000 {
                    cache.clear();
                }
                cache.insert(who.user.id.clone(), reading.clone());
                reading
            }
        };
        if now - reading.read_at >= every * 2 {
            who.raw_roles.clear();
            return Ok(who);
        }
        if reading.unread {
            return Ok(who);
        }
        match reading.account {
            None => Err(AppError::Unauthorized(
                "The account the access token names no longer exists.".into(),
            )),
            Some((false, _)) => Err(AppError::Unauthorized(
                "The account the access token names is disabled.".into(),
            )),
            Some((true, roles)) => {
                if roles != who.raw_roles {
                    tracing::debug!(user = %who.user.id, token = ?who.raw_roles, now = ?roles, "a bearer token's app roles differ from the directory's; the directory's hold");
                }
                who.raw_roles = roles;
                Ok(who)
            }
        }
    }
}
