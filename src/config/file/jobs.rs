//! The background work as written: `[scheduler]`, `[directory]`, `[reconcile]` and
//! `[sign_ins]`, every key with its default.

use serde::Deserialize;

use super::lenient;

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(in crate::config) struct RawScheduler {
    pub(in crate::config) sweep: String,
    pub(in crate::config) lease: String,
    #[serde(deserialize_with = "lenient::u32")]
    pub(in crate::config) max_add_attempts: u32,
}

impl Default for RawScheduler {
    fn default() -> Self {
        RawScheduler {
            sweep: "*/30 * * * * *".into(),
            lease: "15s".into(),
            max_add_attempts: 10,
        }
    }
}

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(in crate::config) struct RawDirectory {
    #[serde(deserialize_with = "lenient::u32")]
    pub(in crate::config) concurrency: u32,
    pub(in crate::config) write_budget: String,
    pub(in crate::config) timeout: String,
}

impl Default for RawDirectory {
    fn default() -> Self {
        RawDirectory {
            concurrency: 8,
            write_budget: "3000/150s".into(),
            timeout: "10s".into(),
        }
    }
}

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(in crate::config) struct RawReconcile {
    pub(in crate::config) every: String,
    pub(in crate::config) mode: String,
    pub(in crate::config) delta_every: String,
}

impl Default for RawReconcile {
    fn default() -> Self {
        RawReconcile {
            every: "5m".into(),
            mode: "remove".into(),
            delta_every: "10s".into(),
        }
    }
}

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(in crate::config) struct RawSignIns {
    #[serde(deserialize_with = "lenient::bool")]
    pub(in crate::config) read: bool,
    pub(in crate::config) every: String,
    pub(in crate::config) lookback: String,
}

impl Default for RawSignIns {
    fn default() -> Self {
        RawSignIns {
            read: true,
            every: "5m".into(),
            lookback: "2h".into(),
        }
    }
}
