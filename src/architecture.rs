//! The house rules, checked: which top-level module may import which. Imports run only downwards
//! (web and cli → service → store, graph, domain; auth below web), so the graph has no cycle.

/// Each top-level module of the crate and the modules it may import (`crate::<name>`).
pub const LAYERS: &[(&str, &[&str])] = &[
    ("domain", &[]),
    ("clock", &[]),
    ("telemetry", &[]),
    ("emulator", &[]),
    ("channels", &[]),
    ("contract", &[]),
    ("client", &["contract"]),
    ("config", &["domain"]),
    ("store", &["domain"]),
    ("graph", &["config"]),
    ("error", &["contract", "domain", "store"]),
    ("auth", &["config", "domain", "error"]),
    (
        "service",
        &[
            "auth", "channels", "clock", "config", "contract", "domain", "error", "graph", "store",
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
    ("demo", &["clock", "config", "emulator", "graph", "startup"]),
    (
        "cli",
        &[
            "auth", "client", "clock", "config", "demo", "graph", "service", "startup", "store",
        ],
    ),
];

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::{Path, PathBuf};

    use super::LAYERS;

    fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                sources(&p, out);
            } else if p.extension().is_some_and(|e| e == "rs") {
                out.push(p);
            }
        }
    }

    /// The `crate::<module>` names a piece of Rust source mentions.
    fn imports(text: &str) -> BTreeSet<String> {
        let mut found = BTreeSet::new();
        for (i, _) in text.match_indices("crate::") {
            if text[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
                continue; // `jitgate::crate::`-like or a longer identifier
            }
            let rest = &text[i + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            assert!(
                !rest.starts_with('{'),
                "grouped `use crate::{{…}}` imports hide layers; import each module on its own"
            );
            if !name.is_empty() {
                found.insert(name);
            }
        }
        found
    }

    /// Every module's imports, as found in its files.
    fn graph() -> BTreeMap<String, BTreeSet<String>> {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        sources(&src, &mut files);
        let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for f in files {
            let rel = f.strip_prefix(&src).unwrap();
            let top = rel
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_string_lossy();
            let module = top.trim_end_matches(".rs").to_string();
            if module == "lib" || module == "main" || module == "architecture" {
                continue;
            }
            let text = std::fs::read_to_string(&f).unwrap();
            let deps = g.entry(module.clone()).or_default();
            deps.extend(imports(&text).into_iter().filter(|d| *d != module));
        }
        g
    }

    #[test]
    fn imports_run_only_downwards() {
        let allowed: BTreeMap<&str, &[&str]> = LAYERS.iter().copied().collect();
        let mut wrong = Vec::new();
        for (module, deps) in graph() {
            let Some(ok) = allowed.get(module.as_str()) else {
                wrong.push(format!(
                    "{module} is not placed in the layers (src/architecture.rs)"
                ));
                continue;
            };
            for d in deps {
                if !ok.contains(&d.as_str()) {
                    wrong.push(format!("{module} imports {d}"));
                }
            }
        }
        assert!(wrong.is_empty(), "layering broken:\n{}", wrong.join("\n"));
    }

    #[test]
    fn the_layers_have_no_cycle() {
        // Repeatedly remove modules whose allowed imports are all removed already.
        let mut left: BTreeMap<&str, BTreeSet<&str>> = LAYERS
            .iter()
            .map(|(m, deps)| (*m, deps.iter().copied().collect()))
            .collect();
        while !left.is_empty() {
            let ready: Vec<&str> = left
                .iter()
                .filter(|(_, deps)| deps.iter().all(|d| !left.contains_key(d)))
                .map(|(m, _)| *m)
                .collect();
            assert!(!ready.is_empty(), "cycle among {:?}", left.keys());
            for m in ready {
                left.remove(m);
            }
        }
    }

    #[test]
    fn the_check_sees_imports() {
        let text = "use crate::service::Portal;\nlet x = crate::domain::audit::timestamp(t);\n";
        assert_eq!(
            imports(text),
            ["domain", "service"]
                .iter()
                .map(|s| s.to_string())
                .collect()
        );
        let g = graph();
        assert!(g["web"].contains("service"), "{g:?}");
        assert!(g["service"].contains("store"), "{g:?}");
    }
}
