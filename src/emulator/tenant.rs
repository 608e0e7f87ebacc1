//! The running tenant: the [`Emulator`] handle, starting and stopping its server, and what every
//! handler reads of it (base URL, issuer, configuration, the state lock).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use anyhow::Context as _;

use super::config::EmulatorConfig;
use super::directory_roles::RoleHolders;
use super::keys::SigningKey;
use super::state::{State, load_state, save_state};

/// A running emulated tenant. Cheap to clone.
#[derive(Clone)]
pub struct Emulator {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) config: EmulatorConfig,
    pub(crate) base_url: String,
    pub(crate) key: SigningKey,
    pub(crate) foreign_key: OnceLock<SigningKey>,
    state: Mutex<State>,
    server: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Emulator {
    /// Serves the emulated tenant on `listener` (which must be bound to a loopback address).
    /// The signing key (RSA 2048) is generated here.
    pub async fn start(
        config: EmulatorConfig,
        listener: tokio::net::TcpListener,
    ) -> anyhow::Result<Emulator> {
        let addr = listener.local_addr()?;
        anyhow::ensure!(
            addr.ip().is_loopback(),
            "the Entra emulator only listens on loopback addresses, not {addr}"
        );
        let base_url = format!("http://{addr}");
        let members = match &config.state_file {
            Some(path) => load_state(path)?,
            None => BTreeMap::new(),
        };
        let directory_roles = RoleHolders::from_grants(&config.directory_roles, chrono::Utc::now());
        let key = tokio::task::spawn_blocking(SigningKey::generate)
            .await
            .context("generating the emulator signing key")??;
        let inner = Arc::new(Inner {
            config,
            base_url,
            key,
            foreign_key: OnceLock::new(),
            state: Mutex::new(State {
                members,
                directory_roles,
                ..State::default()
            }),
            server: Mutex::new(None),
        });
        let emulator = Emulator { inner };
        let app = super::router(emulator.clone());
        let handle = tokio::spawn(async move {
            let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
            if let Err(err) = axum::serve(listener, app).await {
                tracing::warn!(error = %err, "Entra emulator server stopped");
            }
        });
        *emulator
            .inner
            .server
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(handle);
        tracing::debug!(base_url = %emulator.inner.base_url, tenant = %emulator.inner.config.tenant_id, "Entra emulator started");
        Ok(emulator)
    }

    /// Stops serving (the state stays readable). Used by `jitgate demo` on shutdown.
    pub fn shutdown(&self) {
        if let Some(handle) = self
            .inner
            .server
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            handle.abort();
        }
    }

    /// `http://127.0.0.1:PORT`: both the authority host and the Graph base URL.
    pub fn base_url(&self) -> String {
        self.inner.base_url.clone()
    }

    /// The tenant's issuer, `{base}/{tenant}/v2.0`.
    pub fn issuer(&self) -> String {
        format!(
            "{}/{}/v2.0",
            self.inner.base_url, self.inner.config.tenant_id
        )
    }

    pub fn config(&self) -> &EmulatorConfig {
        &self.inner.config
    }

    // ---- internals shared by the handlers ----

    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn persist(&self, state: &State) {
        if let Some(path) = &self.inner.config.state_file
            && let Err(err) = save_state(path, &state.members)
        {
            tracing::warn!(error = %err, path = %path.display(), "could not save emulator state");
        }
    }
}
