//! Which request an id names, whole or by its first characters, among the requests a command
//! may act on.

use anyhow::bail;

use crate::client::output::short;
use crate::contract::Request;

/// The request id `s` names when it is a whole GUID, not the start of one: in the canonical
/// hyphenated lower-case form, the only one the portal accepts in a path, whatever form was
/// typed (braced, `urn:uuid:`, without hyphens).
pub(super) fn whole_guid(s: &str) -> Option<String> {
    uuid::Uuid::try_parse(s.trim())
        .ok()
        .map(|u| u.hyphenated().to_string())
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

#[cfg(test)]
mod tests {
    use super::whole_guid;

    #[test]
    fn whole_ids_are_sent_in_the_form_the_portal_accepts() {
        let canonical = "0f8fad5b-d9cb-469f-a165-70867728950e";
        for typed in [
            canonical,
            "0F8FAD5B-D9CB-469F-A165-70867728950E",
            "{0f8fad5b-d9cb-469f-a165-70867728950e}",
            "urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e",
            "0f8fad5bd9cb469fa16570867728950e",
            " 0f8fad5b-d9cb-469f-a165-70867728950e ",
        ] {
            assert_eq!(whole_guid(typed).as_deref(), Some(canonical), "{typed}");
        }
        assert_eq!(whole_guid("0f8fad5b"), None);
    }
}
