//! Boots the portal: database, background jobs, HTTP server. Tests use it with port 0.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::auth::Oidc;
use crate::clock::Clock;
use crate::config::Settings;
use crate::graph::Directory;
use crate::jobs::Jobs;
use crate::service::Portal;
use crate::store;
use crate::web::{self, AppState};

pub struct App {
    pub addr: SocketAddr,
    pub portal: Portal,
    shutdown: Option<oneshot::Sender<()>>,
    server: JoinHandle<std::io::Result<()>>,
    jobs: Jobs,
    _jobs_lock: store::JobsLock,
    metrics: Option<JoinHandle<()>>,
}

impl App {
    /// Connects and migrates the database, starts the worker and the scheduler, and serves on `listener`.
    pub async fn build(
        settings: Settings,
        listener: TcpListener,
        clock: Arc<dyn Clock>,
        directory: Arc<dyn Directory>,
    ) -> anyhow::Result<App> {
        for w in settings.warnings() {
            tracing::warn!("{w}");
        }
        let store =
            store::connect_keyed(&settings.database_url, settings.audit.key.clone()).await?;
        store.migrate().await?;
        let jobs_lock = store.lock_jobs()?;
        let sessions = store.session_store();
        sessions.migrate().await?;
        let settings = Arc::new(settings);
        let mut oidc = Oidc::new(settings.clone())?;
        if oidc.credential().secret().is_none() {
            // Without a client secret, the login cookies' key is one the replicas share.
            use base64::Engine;
            let mut fresh = [0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut fresh);
            let fresh = base64::engine::general_purpose::STANDARD.encode(fresh);
            let key = store.portal_key("login-state", &fresh).await?;
            oidc = oidc.with_login_key(key.as_bytes());
        }
        let oidc = Arc::new(oidc);
        let portal = Portal::new(settings.clone(), store, directory.clone(), clock);
        let state = AppState {
            portal: portal.clone(),
            oidc,
        };
        let metrics = match settings.server.metrics_listen {
            Some(at) => {
                let listener = TcpListener::bind(at).await.map_err(|e| {
                    anyhow::anyhow!("cannot listen on {at} (server.metrics_listen): {e}")
                })?;
                tracing::info!(%at, "metrics are served on their own listener");
                let router = web::metrics::listener_router(state.clone());
                Some(tokio::spawn(async move {
                    let _ = axum::serve(listener, router).await;
                }))
            }
            None => None,
        };
        let router = web::router(state, &settings, sessions.clone());

        let addr = listener.local_addr()?;
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await
        });
        if portal.backend() == "sqlite" {
            // The one process on this file: whatever leases remain were held by a predecessor
            // that died, so its work is taken up at once rather than after the leases run out.
            let freed = portal.release_all_leases().await?;
            if freed > 0 {
                tracing::info!(
                    freed,
                    "took over directory operations and notifications a stopped process had claimed"
                );
            }
        }
        let jobs = Jobs::start(&portal, directory, sessions);
        tracing::info!(%addr, backend = portal.backend(), "jitgate is serving");
        Ok(App {
            addr,
            portal,
            shutdown: Some(tx),
            server,
            jobs,
            _jobs_lock: jobs_lock,
            metrics,
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the background loops and the server. Work in flight is safe: it resumes on the next start.
    pub async fn stop(mut self) {
        self.jobs.stop().await;
        if let Some(m) = self.metrics.take() {
            m.abort();
        }
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = tokio::time::timeout(std::time::Duration::from_secs(10), &mut self.server).await;
        self.server.abort();
        // The jobs were cancelled mid-flight: a connection one left inside a transaction must
        // not keep the database locked for whoever opens it next.
        self.portal.close().await;
    }

    /// Serves until Ctrl-C or SIGTERM.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        shutdown_signal().await;
        tracing::info!("shutting down");
        self.stop().await;
        Ok(())
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
