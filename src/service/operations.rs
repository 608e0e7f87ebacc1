//! Running the portal: heartbeats of the background jobs, readiness, and the admins' overview.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::Portal;
use crate::auth::Principal;
use crate::config::{Every, ReconcileMode};
use crate::domain::package::format_duration;
use crate::domain::{AuditEvent, Request, RequestStatus, Role};
use crate::error::AppResult;
use crate::store::{AuditFilter, DirectoryOp, RequestFilter, Work};

/// A job whose heartbeat is older than this is taken as stopped: the portal is not ready.
pub const HEARTBEAT_STALE: Duration = Duration::seconds(120);
/// The longest `/readyz` waits for the database.
pub const READY_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

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
    pub reconciliation: Reconciliation,
    /// How the portal signs in to Entra, and when its certificate ends.
    pub credential: CredentialState,
}

/// The portal's Entra credential at a glance.
pub struct CredentialState {
    /// `secret`, `certificate`, `workload_identity` or `managed_identity`.
    pub kind: &'static str,
    /// The certificate's SHA-256 thumbprint, subject and end.
    pub certificate: Option<(String, String, DateTime<Utc>)>,
    /// Why the certificate cannot be read (no secret in it).
    pub problem: Option<String>,
    /// For a client secret: the app registration's secret ending first (its hint and key id)
    /// and its end, read through Graph; None when unknown (not readable, or no end listed).
    pub secret: Option<(String, DateTime<Utc>)>,
}

/// Drift reconciliation at a glance.
pub struct Reconciliation {
    pub every: String,
    /// `remove` or `report`.
    pub mode: &'static str,
    /// When the last round ended, on any replica.
    pub last_at: Option<DateTime<Utc>>,
    /// Per package with standing members: its name, group and the members left alone (the
    /// file's, less those an access review removed).
    pub standing: Vec<(String, String, Vec<String>)>,
    /// Standing members access reviews removed, while the file's list stays as it was.
    pub standing_removed: Vec<crate::store::StandingOverride>,
    /// The most recent drift found, newest first.
    pub drift: Vec<AuditEvent>,
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
                fresh: now - at <= self.stale_after(&job, now),
                job,
                at,
            })
            .collect())
    }

    /// Wakes this process's worker and scheduler whenever another replica commits work
    /// (PostgreSQL `LISTEN/NOTIFY`), reconnecting when the connection drops. Runs for ever.
    pub async fn listen_for_work(&self) {
        let wake = |w: Work| match w {
            Work::Directory => self.wake.worker.notify_one(),
            Work::Deadline => self.wake.scheduler.notify_one(),
        };
        loop {
            if let Err(e) = self.store.listen(&wake).await {
                tracing::warn!(error = %e, "listening for other replicas' work failed; reconnecting");
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            // Notifications may have been lost meanwhile: look now.
            self.wake.worker.notify_one();
            self.wake.scheduler.notify_one();
        }
    }

    /// How old a job's heartbeat may be while it is alive: the reconciler beats once a round.
    fn stale_after(&self, job: &str, now: DateTime<Utc>) -> Duration {
        if job == "reconciler" {
            self.settings.reconcile.every.period(now) * 2 + Duration::minutes(1)
        } else {
            HEARTBEAT_STALE
        }
    }

    /// Readiness, for load balancers (no sign-in needed: it reveals only these booleans).
    /// Answers within [`READY_WAIT`] whatever the database does: one that does not answer by then
    /// counts as down (a load balancer must not wait out a pool timeout).
    pub async fn readiness(&self) -> Readiness {
        let answer = tokio::time::timeout(READY_WAIT, async {
            self.store.ping().await?;
            self.heartbeats().await
        })
        .await;
        let (database, beats) = match answer {
            Ok(Ok(beats)) => (true, beats),
            _ => (false, Vec::new()),
        };
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
        let heartbeats = self.heartbeats().await?;
        let drift = self
            .store
            .list_events(&AuditFilter {
                action: Some("drift_detected".into()),
                limit: Some(20),
                ..Default::default()
            })
            .await?;
        let (mut standing, mut standing_removed) = (Vec::new(), Vec::new());
        for p in self
            .settings
            .packages
            .iter()
            .filter(|p| !p.standing_members.is_empty())
        {
            standing.push((
                p.name.clone(),
                p.group_id.clone(),
                self.standing_in_force(p).await?,
            ));
            standing_removed.extend(self.overrides_in_force(p).await?);
        }
        let r = &self.settings.reconcile;
        let reconciliation = Reconciliation {
            every: match &r.every {
                Every::Interval(d) => format!("every {}", format_duration(*d)),
                Every::Cron(c) => format!("on the schedule {c}"),
            },
            mode: match r.mode {
                ReconcileMode::Remove => "remove",
                ReconcileMode::Report => "report",
            },
            last_at: heartbeats
                .iter()
                .find(|b| b.job == "reconciler")
                .map(|b| b.at),
            standing,
            standing_removed,
            drift,
        };
        let kind = &self.settings.entra.credential;
        let (certificate, problem) = match crate::credential::configured_certificate(kind) {
            None => (None, None),
            Some(Ok(c)) => (Some((c.thumbprint_hex, c.subject, c.not_after)), None),
            Some(Err(e)) => (None, Some(e.message)),
        };
        let secret = match self.secret_in_use().await {
            Some(c) => c.end.map(|end| (c.label(), end)),
            None => None,
        };
        Ok(Operations {
            grants,
            pending_ops,
            directory_errors,
            heartbeats,
            reconciliation,
            credential: CredentialState {
                kind: kind.kind(),
                certificate,
                problem,
                secret,
            },
        })
    }
}
