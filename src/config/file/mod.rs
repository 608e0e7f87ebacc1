//! The configuration file as written: every section and key, with its default. Values that
//! arrive as strings from the environment are accepted where numbers or booleans are expected.
//!
//! This file holds the file as a whole; each section's keys and defaults are in their own file,
//! named as in `validate/`, which checks them:
//!
//! - `server`: `[server]`;
//! - `database`: `[database]`;
//! - `entra`: `[entra]` and `[roles]`;
//! - `jobs`: `[scheduler]`, `[directory]`, `[reconcile]` and `[sign_ins]`;
//! - `audit`: `[audit]`;
//! - `notify`: `[notify]` and `[notify.smtp]`;
//! - `package`: every `[[package]]`;
//! - `lenient`: reading numbers and booleans that arrive as strings (the sections use it).
//!
//! A section whose keys all have defaults states them once, in its `Default`, and takes every
//! key missing from the file from there (`#[serde(default)]` on the section).

mod audit;
mod database;
mod entra;
mod jobs;
mod lenient;
mod notify;
mod package;
mod server;

use serde::Deserialize;

pub(super) use audit::RawAudit;
pub(super) use database::RawDatabase;
pub(super) use entra::{RawEntra, RawRoles};
pub(super) use jobs::{RawDirectory, RawReconcile, RawScheduler, RawSignIns};
pub(super) use notify::{RawNotify, RawSmtp};
pub(super) use package::{RawAutoApprove, RawPackage};
pub(super) use server::RawServer;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSettings {
    pub(super) server: RawServer,
    pub(super) database: RawDatabase,
    pub(super) entra: RawEntra,
    #[serde(default)]
    pub(super) roles: RawRoles,
    #[serde(default)]
    pub(super) scheduler: RawScheduler,
    #[serde(default)]
    pub(super) directory: RawDirectory,
    #[serde(default)]
    pub(super) reconcile: RawReconcile,
    #[serde(default)]
    pub(super) audit: RawAudit,
    #[serde(default)]
    pub(super) notify: RawNotify,
    #[serde(default)]
    pub(super) sign_ins: RawSignIns,
    #[serde(default)]
    pub(super) package: Vec<RawPackage>,
}
