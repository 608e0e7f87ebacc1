//! Import circles inside a room: files and sub-folders of one folder that name each other in a
//! ring. A folder's `mod.rs` is the folder itself, not one of its rooms: it may use its children
//! and they may use it.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;

use super::source::{Reference, SourceFile, module_of, references};

/// One import circle between the children of a folder.
#[derive(Debug)]
pub struct Ring {
    /// The folder, e.g. `src/emulator/`.
    pub folder: String,
    /// Its members as the folder shows them (`login.rs`, `pages/`), sorted.
    pub members: Vec<String>,
    /// One loop through them, first member again at the end.
    pub cycle: Vec<String>,
    /// `file -> file: names` for every import between two members.
    pub ties: Vec<String>,
}

impl fmt::Display for Ring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "import circle inside {}: {} ({} rooms: {})",
            self.folder,
            self.cycle.join(" -> "),
            self.members.len(),
            self.members.join(", ")
        )?;
        for tie in &self.ties {
            writeln!(f, "  {tie}")?;
        }
        Ok(())
    }
}

type Module = Vec<String>;

/// Imports between two children of one folder: (from child, to child) → (file, file) → names.
type Edges = BTreeMap<(String, String), BTreeMap<(String, String), BTreeSet<String>>>;

/// Every import circle between the children of any folder (or module) of `files`. A name a
/// module takes in with `use` (a re-export, say) counts as the module it comes from.
pub fn rings(files: &[SourceFile]) -> Vec<Ring> {
    let modules: BTreeMap<Module, &str> = files
        .iter()
        .map(|f| (module_of(&f.path), f.path.as_str()))
        .collect();
    let found: Vec<(&SourceFile, Vec<Reference>)> = files
        .iter()
        .map(|f| (f, references(&module_of(&f.path), &f.text)))
        .collect();
    let aliases: BTreeMap<(Module, String), Vec<String>> = found
        .iter()
        .flat_map(|(_, refs)| refs)
        .filter_map(|r| Some(((r.scope.clone(), r.binds.clone()?), r.path.clone())))
        .collect();
    let mut folders: BTreeMap<Module, Edges> = BTreeMap::new();
    for (file, refs) in &found {
        let from = module_of(&file.path);
        for r in refs {
            let Some((to, name)) = target(&modules, &aliases, &r.path) else {
                continue;
            };
            let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
            if common == from.len() || common == to.len() {
                continue; // a module and its own descendant or ancestor
            }
            folders
                .entry(from[..common].to_vec())
                .or_default()
                .entry((from[common].clone(), to[common].clone()))
                .or_default()
                .entry((file.path.clone(), modules[&to].to_owned()))
                .or_default()
                .insert(name);
        }
    }
    let mut out = Vec::new();
    for (folder, edges) in folders {
        let shown = |child: &str| {
            let mut m = folder.clone();
            m.push(child.to_owned());
            match modules.get(&m) {
                Some(p) if p.ends_with("/mod.rs") => format!("{child}/"),
                _ => format!("{child}.rs"),
            }
        };
        for scc in components(&edges) {
            let cycle = loop_through(&edges, &scc);
            let ties = edges
                .iter()
                .filter(|((a, b), _)| scc.contains(a) && scc.contains(b))
                .flat_map(|(_, files)| files)
                .map(|((a, b), names)| {
                    let names: Vec<&str> = names.iter().map(String::as_str).collect();
                    format!("src/{a} -> src/{b}: {}", names.join(", "))
                })
                .collect();
            let prefix: String = folder.iter().map(|m| format!("{m}/")).collect();
            out.push(Ring {
                folder: format!("src/{prefix}"),
                members: scc.iter().map(|c| shown(c)).collect(),
                cycle: cycle.iter().map(|c| shown(c)).collect(),
                ties,
            });
        }
    }
    out
}

/// The module a path leads to, following `use` declarations (at most 16 of them), and the
/// name it takes from it (the module's own name when it takes the module).
fn target(
    modules: &BTreeMap<Module, &str>,
    aliases: &BTreeMap<(Module, String), Vec<String>>,
    path: &[String],
) -> Option<(Module, String)> {
    let mut path = path.to_vec();
    for _ in 0..16 {
        let module = (1..=path.len())
            .rev()
            .map(|n| path[..n].to_vec())
            .find(|m| modules.contains_key(m))?;
        let Some(name) = path.get(module.len()).cloned() else {
            let own = module[module.len() - 1].clone();
            return Some((module, own));
        };
        match aliases.get(&(module.clone(), name.clone())) {
            Some(to) if *to != path[..=module.len()] => {
                let mut next = to.clone();
                next.extend_from_slice(&path[module.len() + 1..]);
                path = next;
            }
            _ => return Some((module, name)),
        }
    }
    None
}

/// The strongly connected components of more than one child.
fn components(edges: &Edges) -> Vec<BTreeSet<String>> {
    let nodes: BTreeSet<&String> = edges.keys().flat_map(|(a, b)| [a, b]).collect();
    let reach = |from: &String| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.clone()];
        while let Some(n) = todo.pop() {
            for (a, b) in edges.keys() {
                if *a == n && seen.insert(b.clone()) {
                    todo.push(b.clone());
                }
            }
        }
        seen
    };
    let reached: BTreeMap<&String, BTreeSet<String>> =
        nodes.iter().map(|n| (*n, reach(n))).collect();
    let mut out: Vec<BTreeSet<String>> = Vec::new();
    for n in &nodes {
        if out.iter().any(|c| c.contains(*n)) {
            continue;
        }
        let scc: BTreeSet<String> = nodes
            .iter()
            .filter(|m| reached[*n].contains(**m) && reached[**m].contains(*n))
            .map(|m| (*m).clone())
            .collect();
        if scc.len() > 1 {
            out.push(scc);
        }
    }
    out
}

/// A shortest loop from the first member of `scc` back to it, inside `scc`.
fn loop_through(edges: &Edges, scc: &BTreeSet<String>) -> Vec<String> {
    let start = scc.iter().next().expect("a component has members").clone();
    let mut came_from: BTreeMap<String, String> = BTreeMap::new();
    let mut todo = VecDeque::from([start.clone()]);
    while let Some(n) = todo.pop_front() {
        for (a, b) in edges.keys() {
            if *a != n || !scc.contains(b) {
                continue;
            }
            if *b == start {
                // Walk back from the last hop to the start, then turn it round.
                let mut path = vec![n.clone()];
                while path[path.len() - 1] != start {
                    path.push(came_from[&path[path.len() - 1]].clone());
                }
                path.reverse();
                path.push(start);
                return path;
            }
            if !came_from.contains_key(b) {
                came_from.insert(b.clone(), n.clone());
                todo.push_back(b.clone());
            }
        }
    }
    vec![start]
}
