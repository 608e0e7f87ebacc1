//! The scheduler: carries out deadlines (later starts, expiries, time-outs) the moment they come,
//! and the access reviews' (campaigns started, reminded and closed; see `Portal::run_reviews`).
//!
//! It sleeps until the earliest deadline in the database (woken early when a new request or
//! grant appears) and also on the configured cron sweep, a safety net for deadlines that other
//! replicas or manual changes created. On start it catches up with everything that came due
//! while nothing was running. What a deadline means is decided by `Portal::run_due`.

use crate::service::Portal;

pub struct Scheduler {
    portal: Portal,
}

const BATCH: i64 = 200;

impl Scheduler {
    pub fn new(portal: Portal) -> Scheduler {
        Scheduler { portal }
    }

    pub async fn run(self) {
        tracing::info!("scheduler started");
        loop {
            let failed = self.catch_up().await.is_err();
            if failed {
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
            let wake_at = self.portal.next_scheduler_wake(self.portal.now()).await;
            tokio::select! {
                _ = self.portal.sleep_until(wake_at) => {}
                _ = self.portal.wake.scheduler.notified() => {}
            }
        }
    }

    /// Runs everything due now. Returns how many deadlines were carried out.
    pub async fn catch_up(&self) -> Result<usize, ()> {
        let p = &self.portal;
        p.heartbeat("scheduler").await;
        let mut done = 0;
        // Access reviews: campaigns started, reminded and closed when due.
        let reviews_failed = match p.run_reviews().await {
            Ok(n) => {
                done += n;
                false
            }
            Err(e) => {
                e.log();
                tracing::error!(error = %e, "access reviews failed");
                true
            }
        };
        loop {
            let due = p
                .due_deadlines(BATCH)
                .await
                .map_err(|e| tracing::error!(error = %e, "listing deadlines failed"))?;
            // All together first; one by one only when that fails (so one bad request cannot
            // hold up the rest).
            let mut progressed = false;
            match p.run_due_together(&due).await {
                Ok(n) => {
                    done += n;
                    progressed = n > 0;
                }
                Err(e) => {
                    tracing::warn!(error = %e, deadlines = due.len(), "deadlines together failed; one by one");
                    for item in &due {
                        match p.run_due(item).await {
                            Ok(true) => {
                                done += 1;
                                progressed = true;
                            }
                            Ok(false) => {}
                            Err(e) => {
                                e.log();
                                tracing::error!(request = %item.request_id, error = %e, "deadline failed");
                            }
                        }
                    }
                }
            }
            if (due.len() as i64) < BATCH || !progressed {
                return if reviews_failed {
                    Err(())
                } else if progressed || due.is_empty() {
                    Ok(done)
                } else {
                    Err(())
                };
            }
        }
    }
}
