//! Environment overrides arrive as strings; these accept either form where a section expects a
//! number or a boolean, and name the value they cannot read.

use serde::{Deserialize, Deserializer, de::Error};

#[derive(Deserialize)]
#[serde(untagged)]
enum Either<T> {
    Native(T),
    Text(String),
}

pub(super) fn u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    match Either::<u32>::deserialize(d)? {
        Either::Native(v) => Ok(v),
        Either::Text(s) => s
            .trim()
            .parse()
            .map_err(|_| D::Error::custom(format!("'{s}' is not a whole number"))),
    }
}

pub(super) fn opt_u16<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u16>, D::Error> {
    match Either::<u16>::deserialize(d)? {
        Either::Native(v) => Ok(Some(v)),
        Either::Text(s) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| D::Error::custom(format!("'{s}' is not a port number (1 to 65535)"))),
    }
}

pub(super) fn bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    match Either::<bool>::deserialize(d)? {
        Either::Native(v) => Ok(v),
        Either::Text(s) => match s.trim() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(D::Error::custom(format!("'{s}' is not true or false"))),
        },
    }
}

pub(super) fn opt_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    u32(d).map(Some)
}
