//! Identifiers that must be GUIDs, parsed once at the edge ("parse, don't validate").

use std::fmt;

/// A request's id: a GUID, held in its canonical lower-case hyphenated form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct RequestId(String);

impl RequestId {
    /// A new random id.
    pub fn new() -> RequestId {
        RequestId(uuid::Uuid::new_v4().hyphenated().to_string())
    }

    /// The id in `s`, if `s` is a GUID in its canonical 36-character hyphenated form (either
    /// case). Braced (`{…}`), URN (`urn:uuid:…`) and hyphen-less forms name no request: one
    /// request has one address.
    pub fn parse(s: &str) -> Option<RequestId> {
        if s.len() != 36 {
            return None;
        }
        uuid::Uuid::try_parse(s)
            .ok()
            .map(|u| RequestId(u.hyphenated().to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for RequestId {
    fn default() -> Self {
        RequestId::new()
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for RequestId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_guids_are_request_ids() {
        let id = RequestId::parse("0F8FAD5B-D9CB-469F-A165-70867728950E").unwrap();
        assert_eq!(id.as_str(), "0f8fad5b-d9cb-469f-a165-70867728950e");
        assert_eq!(
            RequestId::parse("0f8fad5b-d9cb-469f-a165-70867728950e"),
            Some(id.clone())
        );
        for bad in [
            "",
            "nope",
            "does-not-exist",
            "0f8fad5b-d9cb-469f-a165",
            "../etc",
            "0f8fad5bd9cb469fa16570867728950e",
            "0F8FAD5BD9CB469FA16570867728950E",
            "{0f8fad5b-d9cb-469f-a165-70867728950e}",
            "urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e",
            " 0f8fad5b-d9cb-469f-a165-70867728950e",
            "0f8fad5b-d9cb-469f-a165-70867728950e ",
            "0f8fad5bd-9cb-469f-a165-70867728950e",
        ] {
            assert_eq!(RequestId::parse(bad), None, "{bad}");
        }
        assert_ne!(RequestId::new(), RequestId::new());
        assert!(RequestId::parse(RequestId::new().as_str()).is_some());
    }
}
