//! One way to start the portal in tests (API, pages, browser, sign-in interoperability): the real
//! server on a loopback port with its database, background jobs and every layer, most often
//! signed in through the built-in Entra emulator.

#![allow(dead_code)]

use std::sync::Arc;

use jitgate::clock::Clock;
use jitgate::config::Settings;
use jitgate::emulator::demo::EXCLUSION_GROUP_ID;
use jitgate::emulator::{Emulator, EmulatorConfig};
use jitgate::graph::{GraphClient, GraphSettings};
use jitgate::service::Portal;
use jitgate::startup::App;
use tokio::net::TcpListener;

/// A fresh loopback port for a portal, and the portal's URL on it.
pub async fn bind() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    (listener, url)
}

/// Starts the portal with `settings` on `listener`, talking to the Graph its settings name.
pub async fn boot(listener: TcpListener, settings: Settings, clock: Arc<dyn Clock>) -> App {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let directory = Arc::new(GraphClient::new(
        GraphSettings::from_settings(&settings),
        reqwest::Client::new(),
    ));
    App::build(settings, listener, clock, directory)
        .await
        .unwrap()
}

/// Lays `over` on `base`: tables merge key by key, anything else replaces.
fn overlay(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => overlay(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

/// The portal signed in through the built-in Entra emulator's demo tenant.
pub struct EmulatedPortal {
    app: Option<App>,
    pub url: String,
    pub emulator: Emulator,
    db_url: String,
    /// The configuration after `[server]`, `[database]` and `[entra]`: `[scheduler]`, `[[package]]`…
    sections: String,
    /// Settings from the environment, as `JITGATE_<SECTION>__<KEY>` (the audit key comes only so).
    env: Vec<(String, String)>,
    demo: bool,
    clock: Arc<dyn Clock>,
}

impl EmulatedPortal {
    /// Starts the emulator and the portal on `db_url`. `sections` are the configuration sections
    /// after `[entra]`; `demo` turns on demo mode (banner, redirect of other host names).
    pub async fn spawn(
        db_url: &str,
        sections: &str,
        clock: Arc<dyn Clock>,
        demo: bool,
    ) -> EmulatedPortal {
        EmulatedPortal::spawn_with_env(db_url, sections, Vec::new(), clock, demo).await
    }

    /// As [`EmulatedPortal::spawn`], with settings from the environment `env` as well.
    pub async fn spawn_with_env(
        db_url: &str,
        sections: &str,
        env: Vec<(String, String)>,
        clock: Arc<dyn Clock>,
        demo: bool,
    ) -> EmulatedPortal {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let (listener, url) = bind().await;
        let mut cfg = EmulatorConfig::demo();
        cfg.redirect_uris = vec![format!("{url}/auth/callback")];
        // A portal with a certificate: the tenant has it uploaded.
        let over: toml::Table = sections.parse().unwrap_or_default();
        if let Some(path) = over
            .get("entra")
            .and_then(|e| e.get("certificate_path"))
            .and_then(|p| p.as_str())
        {
            cfg.certificates = vec![std::fs::read_to_string(path).unwrap()];
        }
        let emulator = Emulator::start(cfg, TcpListener::bind("127.0.0.1:0").await.unwrap())
            .await
            .unwrap();
        let mut p = EmulatedPortal {
            app: None,
            url,
            emulator,
            db_url: db_url.to_string(),
            sections: sections.to_string(),
            env,
            demo,
            clock,
        };
        p.boot(listener).await;
        p
    }

    /// The settings the portal runs with: the emulator's `[server]`, `[database]` and `[entra]`,
    /// with the test's sections laid over them (a `[server]` section there adds its keys).
    pub fn settings(&self) -> Settings {
        let head =
            jitgate::demo::emulator_sections(&self.url, &self.emulator.base_url(), &self.db_url);
        let mut config: toml::Table = head.parse().expect("the emulator's sections");
        let over: toml::Table = self
            .sections
            .parse()
            .unwrap_or_else(|e| panic!("test configuration: {e}"));
        // Another credential than the emulator's secret replaces it.
        if over
            .get("entra")
            .is_some_and(|e| e.get("credential").is_some())
            && let Some(toml::Value::Table(entra)) = config.get_mut("entra")
        {
            entra.remove("client_secret");
        }
        overlay(&mut config, over);
        let mut s = Settings::from_toml(&config.to_string(), self.env.clone())
            .unwrap_or_else(|e| panic!("test configuration: {e}"));
        s.demo = self.demo;
        s
    }

    async fn boot(&mut self, listener: TcpListener) {
        let settings = self.settings();
        self.app = Some(boot(listener, settings, self.clock.clone()).await);
    }

    /// Stops the portal (as a crash would: background work just ends).
    pub async fn stop(&mut self) {
        if let Some(app) = self.app.take() {
            app.stop().await;
        }
    }

    /// Starts a new portal on the same database and emulator, on a new port.
    pub async fn start_again(&mut self) {
        let (listener, url) = bind().await;
        self.url = url;
        self.boot(listener).await;
    }

    /// Starts another replica of the portal on the same database, emulator and clock (for
    /// PostgreSQL: SQLite runs one process per database).
    pub async fn start_replica(&self) -> App {
        let (listener, _) = bind().await;
        boot(listener, self.settings(), self.clock.clone()).await
    }

    pub fn portal(&self) -> &Portal {
        &self.app.as_ref().expect("the portal is running").portal
    }

    /// Whether `user` is in the demo tenant's exclusion group now.
    pub fn is_member(&self, user: &str) -> bool {
        self.emulator
            .members(EXCLUSION_GROUP_ID)
            .iter()
            .any(|m| m == user)
    }
}
