//! jitgate: just-in-time, time-boxed membership of Microsoft Entra ID groups.

pub mod auth;
pub mod domain;
pub mod store;
pub mod clock;
pub mod config;
pub mod error;
pub mod graph;
pub mod service;
pub mod scheduler;
pub mod worker;
pub mod web;
pub mod startup;
pub mod telemetry;
