//! The house rules, checked: which top-level module may import which (imports run only
//! downwards: web and cli → service → store, graph, domain; auth below web), no import circle
//! between the files and sub-folders of any one folder, and no source file over
//! [`MAX_LINES`] lines.

/// Each top-level module of the crate and the modules it may import (`crate::<name>`).
pub const LAYERS: &[(&str, &[&str])] = &[
    ("domain", &[]),
    ("clock", &[]),
    ("telemetry", &[]),
    ("emulator", &[]),
    ("text", &[]),
    ("channels", &["text"]),
    ("contract", &[]),
    ("client", &["contract", "text"]),
    ("config", &["domain"]),
    ("store", &["domain"]),
    ("credential", &["config"]),
    ("graph", &["config", "credential"]),
    ("error", &["contract", "domain", "store"]),
    ("auth", &["config", "credential", "domain", "error"]),
    (
        "service",
        &[
            "auth",
            "channels",
            "clock",
            "config",
            "contract",
            "credential",
            "domain",
            "error",
            "graph",
            "store",
        ],
    ),
    ("jobs", &["error", "graph", "service", "store"]),
    (
        "web",
        &[
            "auth", "config", "contract", "domain", "error", "service", "store",
        ],
    ),
    (
        "startup",
        &[
            "auth", "channels", "clock", "config", "graph", "jobs", "service", "store", "web",
        ],
    ),
    (
        "demo",
        &[
            "clock",
            "config",
            "credential",
            "emulator",
            "graph",
            "startup",
        ],
    ),
    (
        "cli",
        &[
            "auth",
            "client",
            "clock",
            "config",
            "credential",
            "demo",
            "graph",
            "service",
            "startup",
            "store",
        ],
    ),
];

/// The longest a source file may be, counted up to its `#[cfg(test)]` module (the tests beside
/// the code are not counted).
pub const MAX_LINES: usize = 450;

#[cfg(test)]
mod rings;
#[cfg(test)]
mod source;
#[cfg(test)]
mod tests;
