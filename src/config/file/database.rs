//! `[database]` as written: the store's URL.

use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(in crate::config) struct RawDatabase {
    pub(in crate::config) url: String,
}
