//! jitgate: just-in-time, time-boxed membership of Microsoft Entra ID groups.

pub mod architecture;
pub mod auth;
pub mod channels;
pub mod cli;
pub mod client;
pub mod clock;
pub mod config;
pub mod contract;
pub mod credential;
pub mod demo;
pub mod domain;
pub mod emulator;
pub mod error;
pub mod graph;
pub mod jobs;
pub mod service;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod text;
pub mod web;
