//! jitgate: just-in-time, time-boxed membership of Microsoft Entra ID groups.
pub mod emulator;
pub mod graph;
