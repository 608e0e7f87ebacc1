//! `[database]`: the store's URL, SQLite or PostgreSQL.

use crate::config::file::RawDatabase;
use crate::config::{ConfigError, err};

/// The database URL, trimmed.
pub(super) fn check(raw: &RawDatabase) -> Result<String, ConfigError> {
    let url = raw.url.trim().to_string();
    if !(url.starts_with("sqlite:")
        || url.starts_with("postgres:")
        || url.starts_with("postgresql:"))
    {
        return Err(err("database.url", "must start with sqlite: or postgres:"));
    }
    Ok(url)
}
