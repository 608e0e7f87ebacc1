//! The anchors read back from outside the database for verification: every anchor in
//! `[audit] anchor_file` (and in a file given on the command line), and the last anchor this
//! portal sent itself, each named by where it was read. The copies POSTed to
//! `[audit] anchor_webhook` are not read back: a receiver offers no standard way to hand them
//! back (save the receiver's copy to a file and pass it to `jitgate audit verify --anchor`).

use std::path::Path;

use crate::config::AuditSettings;
use crate::domain::audit::{Anchor, SourcedAnchor};
use crate::error::{AppError, AppResult};

/// Where the last anchor this portal sent is said to come from.
pub const SENT: &str = "the last anchor this portal sent";

/// The anchors to check the trail against: every anchor in `[audit] anchor_file` (a file not
/// written yet holds none), the last one this portal sent itself (`sent`, unless the file holds
/// it already), and every anchor in `extra` (which must exist).
pub fn anchors_to_check(
    settings: &AuditSettings,
    sent: Option<&Anchor>,
    extra: Option<&Path>,
) -> AppResult<Vec<SourcedAnchor>> {
    let mut out = Vec::new();
    if let Some(path) = &settings.anchor_file {
        out.extend(read_anchor_file(path, "[audit] anchor_file", true)?);
    }
    if let Some(a) = sent
        && !out.iter().any(|s| &s.anchor == a)
    {
        out.push(SourcedAnchor::new(a.clone(), SENT));
    }
    if let Some(path) = extra {
        out.extend(read_anchor_file(path, "--anchor", false)?);
    }
    Ok(out)
}

/// Every anchor in the file at `path` (one JSON object a line, as anchors are appended), each
/// named "`label` FILE, line N". A file that does not exist holds none when `missing_ok`; a
/// line that is not an anchor is an error (verification cannot be trusted past it).
pub fn read_anchor_file(
    path: &Path,
    label: &str,
    missing_ok: bool,
) -> AppResult<Vec<SourcedAnchor>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if missing_ok && e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(AppError::Unavailable(format!(
                "The anchor file {} cannot be read: {e}",
                path.display()
            )));
        }
    };
    read_anchor_lines(&text, &format!("{label} {}", path.display()))
}

/// Every anchor in `text` (one JSON object a line; blank lines skipped), each named
/// "`source`, line N"; a line that is not an anchor is an error naming it.
pub fn read_anchor_lines(text: &str, source: &str) -> AppResult<Vec<SourcedAnchor>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let from = format!("{source}, line {}", i + 1);
        let anchor: Anchor = serde_json::from_str(line).map_err(|e| {
            AppError::Unavailable(format!("{from} is not an anchor ({e}); fix or remove it."))
        })?;
        out.push(SourcedAnchor::new(anchor, from));
    }
    Ok(out)
}
