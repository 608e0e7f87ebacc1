//! Reading the crate's own source for the house rules: which module each file is, and which
//! modules its code names through `crate::`, `super::` and `self::` paths (`use` trees
//! included), with comments, strings and character literals left out.

use std::path::{Path, PathBuf};

/// A source file of the crate: its path under `src/` and its text.
pub struct SourceFile {
    /// Relative to `src/`, with `/` separators, e.g. `emulator/login.rs`.
    pub path: String,
    pub text: String,
}

/// Every `.rs` file under `src/`, sorted by path.
pub fn crate_sources() -> Vec<SourceFile> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    let mut out: Vec<SourceFile> = files
        .into_iter()
        .map(|f| SourceFile {
            path: f
                .strip_prefix(&src)
                .unwrap()
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/"),
            text: std::fs::read_to_string(&f).unwrap(),
        })
        .collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The module a file under `src/` is: `emulator/login.rs` → `[emulator, login]`,
/// `emulator/mod.rs` → `[emulator]`, `lib.rs` and `main.rs` → `[]`.
pub fn module_of(path: &str) -> Vec<String> {
    let mut parts: Vec<String> = path.split('/').map(str::to_owned).collect();
    let file = parts.pop().unwrap_or_default();
    let stem = file.trim_end_matches(".rs");
    if !matches!(stem, "mod" | "lib" | "main") {
        parts.push(stem.to_owned());
    }
    parts
}

/// The lines of a file that count towards its length: those before its first top-level
/// `#[cfg(test)]` (the tests beside the code are not counted).
pub fn counted_lines(text: &str) -> usize {
    text.lines()
        .take_while(|l| !l.starts_with("#[cfg(test)]"))
        .count()
}

/// A path the code names, resolved to the crate's module tree (`[emulator, login, TokenError]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    pub path: Vec<String>,
    /// The module (inline modules included) whose code names it.
    pub scope: Vec<String>,
    /// For a `use` declaration, the name it binds in `scope` (`use a::B as C` binds `C`).
    pub binds: Option<String>,
}

/// Every path in `text`, a file of module `module`, that starts with `crate::`, `super::` or
/// `self::`, and every path a `use` declaration names (relative ones read from the module
/// itself, as the 2018 edition does), resolved to an absolute path. `use` trees are expanded
/// (`use super::{a::X, b}` names `a::X` and `b`), `super` inside an inline `mod name { … }` is
/// the file's own module, and nothing inside comments, strings or character literals counts.
pub fn references(module: &[String], text: &str) -> Vec<Reference> {
    let tokens = tokens(text);
    let mut out = Vec::new();
    // The module scope at each brace depth: inline `mod x {` blocks push a name.
    let mut braces: Vec<Option<String>> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let t = tokens[i].as_str();
        let path_start = matches!(t, "crate" | "super" | "self")
            && tokens.get(i + 1).is_some_and(|n| n == "::")
            && (i == 0 || tokens[i - 1] != "::");
        let use_start = i > 0 && tokens[i - 1] == "use" && (is_ident(t) || t == "{");
        match t {
            _ if path_start || use_start => {
                let mut scope = module.to_vec();
                scope.extend(braces.iter().flatten().cloned());
                // `use a::b` reads `a` from this module unless it says where to start.
                let prefix = if matches!(t, "crate" | "super" | "self") {
                    Vec::new()
                } else {
                    vec!["self".to_owned()]
                };
                let mut leaves = Vec::new();
                i = tree(&tokens, i, prefix, &mut leaves);
                for (leaf, alias) in leaves {
                    if let Some(path) = resolve(&scope, &leaf) {
                        out.push(Reference {
                            path,
                            scope: scope.clone(),
                            binds: if use_start { alias } else { None },
                        });
                    }
                }
                continue;
            }
            "{" => {
                let inline = (i >= 2 && tokens[i - 2] == "mod" && is_ident(&tokens[i - 1]))
                    .then(|| tokens[i - 1].clone());
                braces.push(inline);
            }
            "}" => {
                braces.pop();
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// Resolves `crate::…`, `self::…` and `super::…` (repeated) against `scope`.
fn resolve(scope: &[String], path: &[String]) -> Option<Vec<String>> {
    let mut base = scope.to_vec();
    let mut rest = path;
    match rest.first().map(String::as_str) {
        Some("crate") => {
            base.clear();
            rest = &rest[1..];
        }
        Some("self") => rest = &rest[1..],
        _ => {}
    }
    while rest.first().is_some_and(|s| s == "super") {
        base.pop()?;
        rest = &rest[1..];
    }
    base.extend(rest.iter().filter(|s| *s != "self").cloned());
    Some(base)
}

/// A path and the name a `use` of it binds (`None` for a glob).
type Leaf = (Vec<String>, Option<String>);

/// Parses a path or `use` tree starting at token `i` with `prefix` already read; pushes each
/// leaf path to `leaves` and returns the index after the tree.
fn tree(tokens: &[String], mut i: usize, mut prefix: Vec<String>, leaves: &mut Vec<Leaf>) -> usize {
    loop {
        match tokens.get(i).map(String::as_str) {
            Some("{") => {
                i += 1;
                while i < tokens.len() && tokens[i] != "}" {
                    if tokens[i] == "," {
                        i += 1;
                        continue;
                    }
                    let before = i;
                    i = tree(tokens, i, prefix.clone(), leaves);
                    if i == before {
                        i += 1; // something a path cannot hold: pass over it
                    }
                }
                return i + 1;
            }
            Some(t) if is_ident(t) => {
                prefix.push(t.to_owned());
                i += 1;
                if tokens.get(i).is_some_and(|n| n == "::") {
                    i += 1;
                    continue;
                }
                // `self` in a group binds the module named before it.
                let mut bound = prefix.iter().rev().find(|s| *s != "self").cloned();
                if tokens.get(i).is_some_and(|n| n == "as") {
                    bound = tokens.get(i + 1).cloned();
                    i += 2;
                }
                leaves.push((prefix, bound));
                return i;
            }
            Some("*") => {
                leaves.push((prefix, None));
                return i + 1;
            }
            _ => {
                if !prefix.is_empty() {
                    leaves.push((prefix, None)); // `crate::x::<T>` and the like
                }
                return i;
            }
        }
    }
}

fn is_ident(t: &str) -> bool {
    t.starts_with(|c: char| c.is_alphabetic() || c == '_')
}

/// The code's tokens: identifiers (keywords included), `::`, and single punctuation
/// characters; comments, string and character literals, numbers and white space are dropped.
fn tokens(text: &str) -> Vec<String> {
    let s: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        let next = s.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < s.len() && s[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i = block_comment_end(&s, i);
        } else if c == '"' {
            i = string_end(&s, i + 1);
        } else if c == '\'' {
            i = quote_end(&s, i);
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < s.len() && (s[i].is_alphanumeric() || s[i] == '_') {
                i += 1;
            }
            let word: String = s[start..i].iter().collect();
            // Raw strings (r"…", r#"…"#, br"…") and byte strings.
            if matches!(word.as_str(), "r" | "br") && matches!(s.get(i), Some('"' | '#')) {
                i = raw_string_end(&s, i);
            } else if word == "b" && s.get(i) == Some(&'"') {
                i = string_end(&s, i + 1);
            } else if word == "b" && s.get(i) == Some(&'\'') {
                i = quote_end(&s, i);
            } else {
                out.push(word);
            }
        } else if c.is_ascii_digit() {
            while i < s.len() && (s[i].is_alphanumeric() || s[i] == '_') {
                i += 1;
            }
        } else if c == ':' && next == Some(':') {
            out.push("::".to_owned());
            i += 2;
        } else {
            if !c.is_whitespace() {
                out.push(c.to_string());
            }
            i += 1;
        }
    }
    out
}

fn block_comment_end(s: &[char], mut i: usize) -> usize {
    let mut depth = 0;
    while i < s.len() {
        if s[i] == '/' && s.get(i + 1) == Some(&'*') {
            depth += 1;
            i += 2;
        } else if s[i] == '*' && s.get(i + 1) == Some(&'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    i
}

/// After the opening `"` at `i - 1`: the index after the closing one.
fn string_end(s: &[char], mut i: usize) -> usize {
    while i < s.len() {
        match s[i] {
            '\\' => i += 2,
            '"' => return i + 1,
            _ => i += 1,
        }
    }
    i
}

/// `i` at the `#`s or `"` after `r`: the index after the raw string's end.
fn raw_string_end(s: &[char], mut i: usize) -> usize {
    let mut hashes = 0;
    while s.get(i) == Some(&'#') {
        hashes += 1;
        i += 1;
    }
    if s.get(i) != Some(&'"') {
        return i; // `r#ident`, a raw identifier
    }
    i += 1;
    while i < s.len() {
        if s[i] == '"' && (1..=hashes).all(|k| s.get(i + k) == Some(&'#')) {
            return i + 1 + hashes;
        }
        i += 1;
    }
    i
}

/// `i` at a `'`: past a character literal, or past the quote of a lifetime or label.
fn quote_end(s: &[char], i: usize) -> usize {
    if s.get(i + 1) == Some(&'\\') {
        let mut j = i + 3;
        while j < s.len() && s[j] != '\'' {
            j += 1;
        }
        return j + 1;
    }
    if s.get(i + 2) == Some(&'\'') {
        return i + 3;
    }
    i + 1
}
