//! Times on the wire: RFC 3339 in UTC with milliseconds (`2026-12-01T09:30:00.000Z`), as the
//! audit trail writes them. Read back from any RFC 3339 offset.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serializer};

pub fn format(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format(t))
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    let text = String::deserialize(d)?;
    DateTime::parse_from_rfc3339(&text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| serde::de::Error::custom(format!("'{text}' is not an RFC 3339 time: {e}")))
}

/// The same for an optional time (`null` when absent).
pub mod option {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => super::serialize(t, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        #[derive(Deserialize)]
        struct Wrapped(#[serde(with = "super")] DateTime<Utc>);
        Ok(Option::<Wrapped>::deserialize(d)?.map(|Wrapped(t)| t))
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct T {
        #[serde(with = "super")]
        at: DateTime<Utc>,
        #[serde(with = "super::option", default)]
        maybe: Option<DateTime<Utc>>,
    }

    #[test]
    fn millis_in_utc_and_any_offset_back() {
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 9, 30, 0).unwrap();
        let json = serde_json::to_string(&T { at, maybe: None }).unwrap();
        assert_eq!(json, r#"{"at":"2026-12-01T09:30:00.000Z","maybe":null}"#);
        let back: T = serde_json::from_str(
            r#"{"at":"2026-12-01T10:30:00+01:00","maybe":"2026-12-01T09:30:00Z"}"#,
        )
        .unwrap();
        assert_eq!(
            back,
            T {
                at,
                maybe: Some(at)
            }
        );
        let missing: T = serde_json::from_str(r#"{"at":"2026-12-01T09:30:00Z"}"#).unwrap();
        assert_eq!(missing.maybe, None);
        let err = serde_json::from_str::<T>(r#"{"at":"yesterday"}"#).unwrap_err();
        assert!(
            err.to_string()
                .contains("'yesterday' is not an RFC 3339 time"),
            "{err}"
        );
    }
}
