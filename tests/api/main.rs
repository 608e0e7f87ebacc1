//! End-to-end: the real server on a random port, the built-in Entra emulator, both databases.

#[path = "../common/mod.rs"]
mod common;
mod helpers;

mod approvers;
mod audit;
mod auth;
mod authz;
mod auto_approve;
mod break_glass;
mod chat;
mod directory;
mod drift;
mod extend;
mod floods;
mod late_writes;
mod lifecycle;
mod metrics;
mod notify;
mod on_behalf;
mod openapi;
mod pages;
mod policies;
mod privileged;
mod reach;
mod reads;
mod reviews;
mod schema_run;
mod service;
mod sessions;
mod sign_ins;
mod step_up;
mod terminal;
mod terminal_step_up;
mod terminal_trust;
mod ticket_validator;
mod tickets;
mod validation;
