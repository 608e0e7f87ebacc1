//! The background jobs. Each only finds work and hands it to the service:
//! - `worker`: carries out queued directory operations against Microsoft Graph;
//! - `scheduler`: carries out deadlines (later starts, expiries, time-outs);
//! - `reconciler`: compares each group with the active grants and puts drift right;
//! - `drift_watch`: asks Graph what changed in each group every few seconds (delta query) and
//!   reads back members whose membership is uncertain, between reconciliations;
//! - `audit_walk`: re-verifies the whole audit chain periodically;
//! - `listener`: wakes the worker and the scheduler when another replica commits work;
//! - `session_cleanup`: deletes expired browser sessions;
//! - `sender`: delivers queued notifications;
//! - `sign_in_reader`: reads device-code sign-ins from Entra's sign-in log.

pub mod audit_walk;
pub mod drift_watch;
pub mod reconciler;
pub mod scheduler;
pub mod sender;
pub mod sign_in_reader;
pub mod worker;

use std::sync::Arc;

use tokio::task::JoinHandle;
use tower_sessions::session_store::ExpiredDeletion;

use crate::graph::Directory;
use crate::service::Portal;
use crate::store::AnySessionStore;

pub use audit_walk::AuditWalk;
pub use drift_watch::DriftWatch;
pub use reconciler::Reconciler;
pub use scheduler::Scheduler;
pub use sender::Sender;
pub use sign_in_reader::SignInReader;
pub use worker::Worker;

/// How often expired browser sessions are deleted.
const SESSION_CLEANUP_EVERY: std::time::Duration = std::time::Duration::from_secs(300);

/// The running jobs, by name.
pub struct Jobs {
    running: Vec<(&'static str, JoinHandle<()>)>,
}

impl Jobs {
    /// Starts every background job.
    pub fn start(
        portal: &Portal,
        directory: Arc<dyn Directory>,
        sessions: AnySessionStore,
    ) -> Jobs {
        let running = vec![
            (
                "worker",
                tokio::spawn(Worker::new(portal.clone(), directory.clone()).run()),
            ),
            (
                "reconciler",
                tokio::spawn(Reconciler::new(portal.clone(), directory.clone()).run()),
            ),
            (
                "drift_watch",
                tokio::spawn(DriftWatch::new(portal.clone(), directory.clone()).run()),
            ),
            (
                "sign_in_reader",
                tokio::spawn(SignInReader::new(portal.clone(), directory).run()),
            ),
            (
                "scheduler",
                tokio::spawn(Scheduler::new(portal.clone()).run()),
            ),
            (
                "listener",
                tokio::spawn({
                    let portal = portal.clone();
                    async move { portal.listen_for_work().await }
                }),
            ),
            ("sender", tokio::spawn(Sender::new(portal.clone()).run())),
            (
                "audit_walk",
                tokio::spawn(AuditWalk::new(portal.clone()).run()),
            ),
            (
                "session_cleanup",
                tokio::spawn(async move {
                    if let Err(e) = sessions
                        .continuously_delete_expired(SESSION_CLEANUP_EVERY)
                        .await
                    {
                        tracing::warn!(error = %e, "expired-session cleanup stopped");
                    }
                }),
            ),
        ];
        for (name, _) in &running {
            tracing::debug!(job = name, "background job started");
        }
        Jobs { running }
    }

    /// Ends every job at once (as a crash would: work in flight resumes on the next start), and
    /// returns once each has stopped, so nothing of theirs touches the database afterwards.
    pub async fn stop(&mut self) {
        for (_, job) in &self.running {
            job.abort();
        }
        for (_, job) in self.running.drain(..) {
            let _ = job.await;
        }
    }
}
