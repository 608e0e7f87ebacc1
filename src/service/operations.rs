//! Running the portal: heartbeats of the background jobs, readiness, and the admins' overview.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::Portal;
use crate::auth::Principal;
use crate::domain::{AuditEvent, Request, RequestStatus, Role};
use crate::error::AppResult;
use crate::store::{AuditFilter, DirectoryOp, RequestFilter};

/// A job whose heartbeat is older than this is taken as stopped: the portal is not ready.
pub const HEARTBEAT_STALE: Duration = Duration::seconds(120);

/// Whether the portal can do its work: the database answers and the worker and scheduler are alive.
#[derive(Debug, Clone, Serialize)]
pub struct Readiness {
    pub ready: bool,
    pub database: bool,
    pub worker: bool,
    pub scheduler: bool,
}

#[derive(Debug, Clone)]
pub struct Heartbeat {
    pub job: String,
    pub at: DateTime<Utc>,
    pub fresh: bool,
}

/// What admins see on the Operations page.
pub struct Operations {
    /// Active and approved-not-started grants, soonest end first.
    pub grants: Vec<Request>,
    /// Directory operations not carried out yet, newest first.
    pub pending_ops: Vec<DirectoryOp>,
    /// The most recent directory errors, newest first.
    pub directory_errors: Vec<AuditEvent>,
    pub heartbeats: Vec<Heartbeat>,
}

impl Portal {
    /// Records that background job `job` is alive.
    pub async fn heartbeat(&self, job: &str) {
        if let Err(e) = self.store.heartbeat(job, self.now()).await {
            tracing::warn!(job, error = %e, "heartbeat failed");
        }
    }

    async fn heartbeats(&self) -> AppResult<Vec<Heartbeat>> {
        let now = self.now();
        Ok(self
            .store
            .heartbeats()
            .await?
            .into_iter()
            .map(|(job, at)| Heartbeat {
                fresh: now - at <= HEARTBEAT_STALE,
                job,
                at,
            })
            .collect())
    }

    /// Readiness, for load balancers (no sign-in needed: it reveals only these booleans).
    pub async fn readiness(&self) -> Readiness {
        let database = self.store.ping().await.is_ok();
        let beats = self.heartbeats().await.unwrap_or_default();
        let fresh = |job: &str| beats.iter().any(|b| b.job == job && b.fresh);
        let (worker, scheduler) = (fresh("worker"), fresh("scheduler"));
        Readiness {
            ready: database && worker && scheduler,
            database,
            worker,
            scheduler,
        }
    }

    /// The admins' overview: grants, the outbox, recent directory errors, heartbeats.
    pub async fn operations(&self, who: &Principal) -> AppResult<Operations> {
        self.require_any(who, &[Role::Admin], "This page")?;
        let mut grants = self
            .store
            .list_requests(&RequestFilter {
                statuses: vec![RequestStatus::Active, RequestStatus::Approved],
                limit: Some(1000),
                ..Default::default()
            })
            .await?;
        grants.sort_by_key(|r| r.ends_at);
        let pending_ops = self.store.pending_ops(200).await?;
        let directory_errors = self
            .store
            .list_events(&AuditFilter {
                action: Some("directory_error".into()),
                limit: Some(20),
                ..Default::default()
            })
            .await?;
        Ok(Operations {
            grants,
            pending_ops,
            directory_errors,
            heartbeats: self.heartbeats().await?,
        })
    }
}
