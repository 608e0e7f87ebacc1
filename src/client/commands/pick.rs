//! Which request an id names, whole or by its first characters, among the requests a command
//! may act on.

use anyhow::bail;

use crate::client::output::short;
use crate::contract::Request;

/// Whether `s` is a whole request id (a GUID), not the start of one.
pub(super) fn is_guid(s: &str) -> bool {
    uuid::Uuid::try_parse(s.trim()).is_ok()
}

/// The one request among `candidates` whose id is or starts with `given`.
pub(super) fn pick<'a>(
    candidates: &'a [Request],
    given: &str,
    what: &str,
) -> anyhow::Result<&'a Request> {
    let needle = given.trim().to_ascii_lowercase();
    if needle.len() < 4 {
        bail!("'{given}' is too short to name a request: give at least its first 4 characters");
    }
    let found: Vec<&Request> = candidates
        .iter()
        .filter(|r| r.id.starts_with(&needle))
        .collect();
    match found.as_slice() {
        [one] => Ok(one),
        [] => bail!("none of {what} has an id starting with '{given}'"),
        many => bail!(
            "'{given}' names {} of {what}; give more of the id: {}",
            many.len(),
            many.iter()
                .map(|r| short(&r.id))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
