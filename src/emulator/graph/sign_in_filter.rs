//! The `$filter` of the sign-in log: the clauses jitgate needs (`userId eq`, `appId eq`,
//! `createdDateTime` ranges, `status/errorCode eq|ne`, beta's `authenticationProtocol eq`) joined
//! by `and`, and Graph's 400 for anything else.

use chrono::{DateTime, Utc};

use crate::emulator::SignIn;

/// `authenticationProtocol` values of the beta `protocolType` enumeration.
const PROTOCOLS: &[&str] = &[
    "none",
    "oAuth2",
    "ropc",
    "wsFederation",
    "saml20",
    "deviceCode",
    "unknownFutureValue",
    "authenticationTransfer",
    "nativeAuth",
    "implicitAccessTokenAndGetResponseMode",
];

/// A comparison operator of a clause.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Cmp {
    Eq,
    Ne,
    Ge,
    Le,
    Gt,
    Lt,
}

/// One `$filter` clause the log understands.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Clause {
    UserId(String),
    AppId(String),
    Created(Cmp, DateTime<Utc>),
    Protocol(String),
    ErrorCode(Cmp, i64),
}

impl Clause {
    /// Whether sign-in `s` passes this clause.
    pub(super) fn matches(&self, s: &SignIn) -> bool {
        match self {
            Clause::UserId(id) => s.user_id.eq_ignore_ascii_case(id),
            Clause::AppId(id) => s.app_id.eq_ignore_ascii_case(id),
            Clause::Protocol(p) => s.authentication_protocol.eq_ignore_ascii_case(p),
            Clause::Created(cmp, at) => compare(*cmp, &s.created, at),
            Clause::ErrorCode(cmp, code) => compare(*cmp, &s.error_code, code),
        }
    }
}

fn compare<T: PartialOrd>(cmp: Cmp, a: &T, b: &T) -> bool {
    match cmp {
        Cmp::Eq => a == b,
        Cmp::Ne => a != b,
        Cmp::Ge => a >= b,
        Cmp::Le => a <= b,
        Cmp::Gt => a > b,
        Cmp::Lt => a < b,
    }
}

/// A rejected `$filter`: (code, message) of the 400.
pub(super) type FilterError = (&'static str, String);

fn unsupported(property: &str) -> FilterError {
    (
        "Request_UnsupportedQuery",
        format!(
            "Unsupported or invalid query filter clause specified for property '{property}' of resource 'SignIn'."
        ),
    )
}

/// Splits `a and b and c` into its clauses (case-insensitive `and`, not inside quotes).
fn split_and(filter: &str) -> Vec<&str> {
    let bytes = filter.as_bytes();
    let mut out = Vec::new();
    let (mut start, mut i, mut quoted) = (0, 0, false);
    while i < bytes.len() {
        if bytes[i] == b'\'' {
            quoted = !quoted;
        } else if !quoted
            && bytes[i].is_ascii_whitespace()
            && i + 5 <= bytes.len()
            && bytes[i + 1..i + 4].eq_ignore_ascii_case(b"and")
            && bytes[i + 4].is_ascii_whitespace()
        {
            out.push(&filter[start..i]);
            i += 5;
            start = i;
            continue;
        }
        i += 1;
    }
    out.push(&filter[start..]);
    out
}

/// A quoted OData string literal (`''` is a quote), or `None` when `v` is not one.
fn string_literal(v: &str) -> Option<String> {
    let inner = v.strip_prefix('\'')?.strip_suffix('\'')?;
    if inner.replace("''", "").contains('\'') {
        return None;
    }
    Some(inner.replace("''", "'"))
}

fn parse_clause(clause: &str, beta: bool) -> Result<Clause, FilterError> {
    let mut parts = clause.trim().splitn(3, char::is_whitespace);
    let property = parts.next().unwrap_or("");
    let op = parts.next().unwrap_or("").to_ascii_lowercase();
    let value = parts.next().unwrap_or("").trim();
    if let Some((_, inner)) = property.split_once('(') {
        // A function such as startsWith(userPrincipalName, 'x'): name its property.
        return Err(unsupported(inner.trim_end_matches(',')));
    }
    if op.is_empty() || value.is_empty() {
        return Err(unsupported(property));
    }
    let cmp = match op.as_str() {
        "eq" => Cmp::Eq,
        "ne" => Cmp::Ne,
        "ge" => Cmp::Ge,
        "le" => Cmp::Le,
        "gt" => Cmp::Gt,
        "lt" => Cmp::Lt,
        _ => return Err(unsupported(property)),
    };
    let string = || string_literal(value).ok_or_else(|| unsupported(property));
    match property.to_ascii_lowercase().as_str() {
        "userid" if cmp == Cmp::Eq => Ok(Clause::UserId(string()?)),
        "appid" if cmp == Cmp::Eq => Ok(Clause::AppId(string()?)),
        "authenticationprotocol" if !beta => Err((
            "BadRequest",
            "Could not find a property named 'authenticationProtocol' on type 'microsoft.graph.signIn'."
                .to_owned(),
        )),
        "authenticationprotocol" if cmp == Cmp::Eq => {
            let p = string()?;
            match PROTOCOLS.iter().find(|k| k.eq_ignore_ascii_case(&p)) {
                Some(k) => Ok(Clause::Protocol((*k).to_owned())),
                None => Err((
                    "BadRequest",
                    format!("The string '{p}' is not a valid enumeration type constant."),
                )),
            }
        }
        "createddatetime" if matches!(cmp, Cmp::Ge | Cmp::Le | Cmp::Gt | Cmp::Lt) => {
            if value.starts_with('\'') {
                let kind = match cmp {
                    Cmp::Ge => "GreaterThanOrEqual",
                    Cmp::Le => "LessThanOrEqual",
                    Cmp::Gt => "GreaterThan",
                    _ => "LessThan",
                };
                return Err((
                    "BadRequest",
                    format!(
                        "A binary operator with incompatible types was detected. Found operand types 'Edm.DateTimeOffset' and 'Edm.String' for operator kind '{kind}'."
                    ),
                ));
            }
            DateTime::parse_from_rfc3339(value)
                .map(|at| Clause::Created(cmp, at.with_timezone(&Utc)))
                .map_err(|_| {
                    (
                        "BadRequest",
                        format!(
                            "The DateTimeOffset text '{value}' should be in format 'yyyy-mm-ddThh:mm:ss('.'s+)?(zzzzzz)?' and each field value is within valid range."
                        ),
                    )
                })
        }
        "status/errorcode" if matches!(cmp, Cmp::Eq | Cmp::Ne) => value
            .parse::<i64>()
            .map(|n| Clause::ErrorCode(cmp, n))
            .map_err(|_| unsupported(property)),
        _ => Err(unsupported(property)),
    }
}

/// The clauses of `filter` (all must hold), or the 400 to answer; `beta` allows
/// `authenticationProtocol`.
pub(super) fn parse_filter(filter: &str, beta: bool) -> Result<Vec<Clause>, FilterError> {
    if filter.trim().is_empty() {
        return Ok(Vec::new());
    }
    split_and(filter)
        .into_iter()
        .map(|c| parse_clause(c, beta))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_split_on_and_outside_quotes() {
        assert_eq!(
            split_and("userId eq 'a and b' AND appId eq 'x'"),
            ["userId eq 'a and b'", "appId eq 'x'"]
        );
    }

    #[test]
    fn clauses_parse() {
        let at = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            parse_filter(
                "userId eq 'u' and createdDateTime ge 2026-01-01T00:00:00Z and status/errorCode eq 53003",
                false
            )
            .unwrap(),
            [
                Clause::UserId("u".into()),
                Clause::Created(Cmp::Ge, at),
                Clause::ErrorCode(Cmp::Eq, 53003)
            ]
        );
        assert_eq!(
            parse_filter("authenticationProtocol eq 'devicecode'", true).unwrap(),
            [Clause::Protocol("deviceCode".into())]
        );
        assert_eq!(
            parse_filter("authenticationProtocol eq 'deviceCode'", false)
                .unwrap_err()
                .0,
            "BadRequest"
        );
        for bad in [
            "userPrincipalName eq 'x'",
            "userId ne 'x'",
            "startsWith(userPrincipalName, 'a')",
            "userId eq 'a' or userId eq 'b'",
            "createdDateTime eq 2026-01-01T00:00:00Z",
        ] {
            assert_eq!(
                parse_filter(bad, true).unwrap_err().0,
                "Request_UnsupportedQuery",
                "{bad}"
            );
        }
        assert_eq!(
            parse_filter("createdDateTime ge '2026-01-01T00:00:00Z'", true)
                .unwrap_err()
                .0,
            "BadRequest"
        );
    }
}
