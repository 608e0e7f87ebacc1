use std::collections::{BTreeMap, BTreeSet};

use super::rings::rings;
use super::source::{SourceFile, counted_lines, crate_sources, module_of, references};
use super::{LAYERS, MAX_LINES};

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
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in crate_sources() {
        let top = f.path.split('/').next().unwrap_or_default();
        let module = top.trim_end_matches(".rs").to_string();
        if module == "lib" || module == "main" || module == "architecture" {
            continue;
        }
        let deps = g.entry(module.clone()).or_default();
        deps.extend(imports(&f.text).into_iter().filter(|d| *d != module));
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

#[test]
fn no_import_circle_inside_any_folder() {
    let found = rings(&crate_sources());
    let text: Vec<String> = found.iter().map(ToString::to_string).collect();
    assert!(
        found.is_empty(),
        "imports inside a folder must run one way; move what both sides share into a module \
         both depend on:\n{}",
        text.join("")
    );
}

#[test]
fn no_source_file_is_over_the_limit() {
    let long: Vec<String> = crate_sources()
        .iter()
        .map(|f| (counted_lines(&f.text), &f.path))
        .filter(|(n, _)| *n > MAX_LINES)
        .map(|(n, p)| format!("src/{p}: {n} lines"))
        .collect();
    assert!(
        long.is_empty(),
        "source files over {MAX_LINES} lines (before their #[cfg(test)] module); split each by \
         what it does:\n{}",
        long.join("\n")
    );
}

fn file(path: &str, text: &str) -> SourceFile {
    SourceFile {
        path: path.to_owned(),
        text: text.to_owned(),
    }
}

#[test]
fn a_ring_between_files_of_one_folder_is_found_and_named() {
    // Today's emulator before its split: the token endpoint and the device code flow take
    // names from each other.
    let files = [
        file(
            "emulator/mod.rs",
            "mod device;\nmod login;\npub struct Emulator;\n",
        ),
        file(
            "emulator/login.rs",
            "use super::Emulator;\nuse super::device::{DEVICE_CODE_GRANT, redeem};\n",
        ),
        file(
            "emulator/device.rs",
            "use super::{Emulator, login::{TokenError, client_auth}};\n",
        ),
    ];
    let found = rings(&files);
    assert_eq!(found.len(), 1, "{found:?}");
    let text = found[0].to_string();
    assert!(
        text.starts_with("import circle inside src/emulator/: device.rs -> login.rs -> device.rs"),
        "{text}"
    );
    assert!(
        text.contains("src/emulator/device.rs -> src/emulator/login.rs: TokenError, client_auth"),
        "{text}"
    );
    assert!(
        text.contains("src/emulator/login.rs -> src/emulator/device.rs: DEVICE_CODE_GRANT, redeem"),
        "{text}"
    );
}

#[test]
fn a_ring_through_a_sub_folder_is_found() {
    // Today's web before the split: the pages' error type and flash, the sign-in's safe return
    // path.
    let files = [
        file("web/mod.rs", "mod pages;\nmod sign_in;\n"),
        file(
            "web/pages/mod.rs",
            "mod request;\nuse crate::web::sign_in::safe_return_path;\n",
        ),
        file("web/pages/request.rs", "use super::PageError;\n"),
        file(
            "web/sign_in.rs",
            "use super::pages::{PageError, set_flash};\n",
        ),
    ];
    let found = rings(&files);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].folder, "src/web/");
    assert_eq!(found[0].cycle, ["pages/", "sign_in.rs", "pages/"]);
}

#[test]
fn a_ring_behind_a_re_export_is_found() {
    // `super::Emulator` is the folder's name for what tenant.rs defines: taking it from mod.rs
    // is taking it from tenant.rs.
    let files = [
        file(
            "emulator/mod.rs",
            "mod identity;\nmod tenant;\npub use tenant::Emulator;\n",
        ),
        file(
            "emulator/tenant.rs",
            "pub struct Emulator;\nuse super::identity;\n",
        ),
        file(
            "emulator/identity.rs",
            "use super::Emulator as Tenant;\nfn f(t: &Tenant) {}\n",
        ),
    ];
    let found = rings(&files);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].cycle, ["identity.rs", "tenant.rs", "identity.rs"]);
    assert!(
        found[0]
            .ties
            .contains(&"src/emulator/identity.rs -> src/emulator/tenant.rs: Emulator".to_owned()),
        "{:?}",
        found[0].ties
    );
}

#[test]
fn a_folder_and_its_own_files_are_no_ring() {
    // mod.rs routes to its children and they use its types; a test module's `super` is its
    // own file; one-way imports between siblings are fine; comments and strings do not count.
    let files = [
        file(
            "emulator/mod.rs",
            "mod login;\nmod wire;\npub struct Emulator;\nfn r() { login::token(); }\n",
        ),
        file(
            "emulator/login.rs",
            "use super::Emulator;\nuse super::wire::random;\npub fn token() {}\n",
        ),
        file(
            "emulator/wire.rs",
            "// see super::login::token\nconst S: &str = \"super::login::token\";\n\
             const C: char = '\"';\nfn f<'a>(x: &'a str) {}\n\
             #[cfg(test)]\nmod tests {\n    use super::*;\n    use crate::emulator::Emulator;\n}\n",
        ),
    ];
    assert!(rings(&files).is_empty(), "{:?}", rings(&files));
}

#[test]
fn paths_resolve_against_the_file_and_its_inline_modules() {
    let login = module_of("emulator/login.rs");
    assert_eq!(login, ["emulator", "login"]);
    assert_eq!(module_of("emulator/mod.rs"), ["emulator"]);
    let found: Vec<Vec<String>> = references(
        &login,
        "use super::{device::{self, redeem as r}, wire::*};\nuse chrono::Utc;\n\
         fn f() { crate::domain::audit::timestamp(); self::g(); }\n\
         mod inner { use super::h; }\n",
    )
    .into_iter()
    .map(|r| r.path)
    .collect();
    let want: Vec<Vec<String>> = [
        "emulator::device",
        "emulator::device::redeem",
        "emulator::wire",
        "emulator::login::chrono::Utc",
        "domain::audit::timestamp",
        "emulator::login::g",
        "emulator::login::h",
    ]
    .iter()
    .map(|p| p.split("::").map(str::to_owned).collect())
    .collect();
    assert_eq!(found, want);
}

#[test]
fn lines_are_counted_up_to_the_tests() {
    assert_eq!(counted_lines("a\nb\n#[cfg(test)]\nmod tests {}\n"), 2);
    assert_eq!(counted_lines("a\n    #[cfg(test)]\nb\n"), 3);
}
