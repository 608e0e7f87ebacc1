//! Where the command-line client keeps its state: `cli.toml` (the default portal, and per
//! portal the sign-in accepted for it) and `tokens.json` (the token cache), in `$JITGATE_CLI_HOME`, or the platform's configuration
//! folder (`~/.config/jitgate` on Linux). The folder is made readable by its owner only, the
//! cache is written whole to a temporary file (mode 0600) and renamed over the old one, so it
//! is never half-written and never readable by anyone else.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The client's folder.
pub struct Home {
    dir: PathBuf,
}

/// `cli.toml`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    /// The portal commands talk to when no `--portal` is given.
    pub portal: Option<String>,
    /// Per portal, the sign-in shown and accepted at `jitgate login`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub portals: BTreeMap<String, Accepted>,
}

/// Where, in which tenant and as which app a portal's sign-in goes, as shown and accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Accepted {
    pub authority_host: String,
    pub tenant_id: String,
    pub client_id: String,
    pub accepted_at: DateTime<Utc>,
}

/// `tokens.json`: one signed-in account per portal.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct TokenCache {
    #[serde(default)]
    pub portals: BTreeMap<String, CachedAccount>,
}

/// What a sign-in left behind for one portal. Its `Debug` leaves the tokens out.
#[derive(Clone, Serialize, Deserialize)]
pub struct CachedAccount {
    /// Where the tokens came from (what `GET /api/v1/cli` said, or the overrides).
    pub authority_host: String,
    pub tenant_id: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    /// Who signed in, as the portal named them.
    pub name: String,
    pub username: String,
    pub access_token: String,
    pub expires_at: DateTime<Utc>,
    pub refresh_token: Option<String>,
    /// Signed in with the device code flow.
    pub device_code: bool,
    /// Signed in in the browser without opening one (`--no-browser`): a step-up does the same.
    #[serde(default)]
    pub no_browser: bool,
}

impl std::fmt::Debug for CachedAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedAccount")
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field("username", &self.username)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl Home {
    /// `$JITGATE_CLI_HOME`, else `<config dir>/jitgate`.
    pub fn locate() -> anyhow::Result<Home> {
        let dir = match std::env::var_os("JITGATE_CLI_HOME").filter(|v| !v.is_empty()) {
            Some(d) => PathBuf::from(d),
            None => dirs::config_dir()
                .context(
                    "cannot tell where to keep the sign-in (no home folder); set JITGATE_CLI_HOME",
                )?
                .join("jitgate"),
        };
        Ok(Home { dir })
    }

    #[cfg(test)]
    fn at(dir: &Path) -> Home {
        Home {
            dir: dir.to_path_buf(),
        }
    }

    #[cfg(test)]
    fn dir(&self) -> &Path {
        &self.dir
    }

    fn config_path(&self) -> PathBuf {
        self.dir.join("cli.toml")
    }

    pub fn tokens_path(&self) -> PathBuf {
        self.dir.join("tokens.json")
    }

    pub fn config(&self) -> anyhow::Result<ClientConfig> {
        let path = self.config_path();
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text)
                .with_context(|| format!("{} is not a valid client configuration", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ClientConfig::default()),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    pub fn save_config(&self, config: &ClientConfig) -> anyhow::Result<()> {
        let text = toml::to_string(config)?;
        self.write_private(&self.config_path(), text.as_bytes())
    }

    pub fn tokens(&self) -> anyhow::Result<TokenCache> {
        let path = self.tokens_path();
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).with_context(|| {
                format!("{} is damaged; delete it and sign in again", path.display())
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(TokenCache::default()),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    pub fn save_tokens(&self, cache: &TokenCache) -> anyhow::Result<()> {
        let bytes = serde_json::to_vec_pretty(cache)?;
        self.write_private(&self.tokens_path(), &bytes)
    }

    /// Writes `bytes` to `path` through a temporary file only the owner can read, renamed
    /// into place.
    fn write_private(&self, path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
        create_private_dir(&self.dir)?;
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let result = (|| {
            let mut f = options.open(&tmp)?;
            restrict(&tmp, 0o600)?;
            f.write_all(bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result.with_context(|| format!("cannot write {}", path.display()))
    }
}

fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    restrict(dir, 0o700).with_context(|| format!("cannot restrict {}", dir.display()))
}

/// Owner-only permissions (a no-op where the platform has no Unix modes).
fn restrict(path: &Path, mode: u32) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = (path, mode);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_is_owner_only_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::at(&dir.path().join("jitgate"));
        assert!(home.tokens().unwrap().portals.is_empty());
        let mut cache = TokenCache::default();
        cache.portals.insert(
            "https://jit.contoso.example".into(),
            CachedAccount {
                authority_host: "https://login.microsoftonline.com".into(),
                tenant_id: "72f988bf-86f1-41af-91ab-2d7cd011db47".into(),
                client_id: "9c1d4e7b-2a5f-4b8c-a3d6-5e0f1b2c7d84".into(),
                scopes: vec!["api://x/access_as_user".into()],
                name: "Dana".into(),
                username: "dana@contoso.example".into(),
                access_token: "at-secret-1".into(),
                expires_at: Utc::now(),
                refresh_token: Some("rt-secret-2".into()),
                device_code: false,
                no_browser: false,
            },
        );
        home.save_tokens(&cache).unwrap();
        let back = home.tokens().unwrap();
        assert_eq!(
            back.portals["https://jit.contoso.example"].access_token,
            "at-secret-1"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&home.tokens_path()), 0o600);
            assert_eq!(mode(home.dir()), 0o700);
        }
        // Tokens never show in debug output.
        let shown = format!("{:?}", back.portals["https://jit.contoso.example"]);
        assert!(!shown.contains("secret"), "{shown}");
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(home.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, ["tokens.json"]);

        home.save_config(&ClientConfig {
            portal: Some("https://jit.contoso.example".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(
            home.config().unwrap().portal.as_deref(),
            Some("https://jit.contoso.example")
        );
        // What was accepted for a portal is kept under its address.
        let mut config = home.config().unwrap();
        let accepted = Accepted {
            authority_host: "https://login.microsoftonline.com".into(),
            tenant_id: "72f988bf-86f1-41af-91ab-2d7cd011db47".into(),
            client_id: "9c1d4e7b-2a5f-4b8c-a3d6-5e0f1b2c7d84".into(),
            accepted_at: Utc::now(),
        };
        config
            .portals
            .insert("https://jit.contoso.example".into(), accepted.clone());
        home.save_config(&config).unwrap();
        assert_eq!(
            home.config().unwrap().portals["https://jit.contoso.example"],
            accepted
        );
        std::fs::write(home.tokens_path(), b"{not json").unwrap();
        let e = home.tokens().unwrap_err();
        assert!(format!("{e:#}").contains("damaged"), "{e:#}");
    }
}
