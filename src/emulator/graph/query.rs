//! The query string of a Graph request: parameters by name, the `$top` page size and the answer
//! to a `$skiptoken` that is not (or no longer) one of the emulator's.

use axum::response::Response;

use super::errors::bad_request;
use crate::emulator::wire::GraphCtx;

/// The value of query parameter `name` (names compare case-insensitively, as on Graph).
pub(super) fn qparam<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The page size asked for with `$top` (`None` when not given), or Graph's 400 when it is not a
/// number from 1 to `max`.
pub(super) fn page_size(
    ctx: &GraphCtx,
    top: Option<&str>,
    max: usize,
) -> Result<Option<usize>, Response> {
    let Some(v) = top else {
        return Ok(None);
    };
    match v.parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(Some(n)),
        _ => Err(bad_request(
            ctx,
            "Request_BadRequest",
            &format!("Invalid page size specified: '{v}'. Must be between 1 and {max} inclusive."),
        )),
    }
}

/// Graph's 400 for a `$skiptoken` it cannot read.
pub(super) fn expired_page_token(ctx: &GraphCtx) -> Response {
    bad_request(
        ctx,
        "Request_BadRequest",
        "The specified page token value has expired and can no longer be included in your request.",
    )
}

/// A `$filter` of the two forms setup sends: `prop eq 'value'`, and
/// `prop/any(x:x eq 'value')` for a collection of strings. The property and the value
/// (with `''` unquoted); `None` for anything else.
pub(super) fn eq_filter(filter: &str) -> Option<(String, String)> {
    let f = filter.trim();
    let (prop, rest) = match f.split_once("/any(") {
        Some((prop, rest)) => {
            let rest = rest.strip_suffix(')')?;
            let (var, cond) = rest.split_once(':')?;
            let cond = cond.trim().strip_prefix(var.trim())?;
            (prop.trim(), cond.trim())
        }
        None => {
            let (prop, rest) = f.split_once(' ')?;
            (prop, rest.trim())
        }
    };
    let value = rest.strip_prefix("eq ")?.trim();
    let value = value.strip_prefix('\'')?.strip_suffix('\'')?;
    Some((prop.to_owned(), value.replace("''", "'")))
}

#[cfg(test)]
mod tests {
    use super::eq_filter;

    #[test]
    fn the_filters_setup_sends() {
        assert_eq!(
            eq_filter("identifierUris/any(x:x eq 'api://t/jitgate')"),
            Some(("identifierUris".into(), "api://t/jitgate".into()))
        );
        assert_eq!(
            eq_filter("displayName eq 'O''Brien'"),
            Some(("displayName".into(), "O'Brien".into()))
        );
        assert_eq!(eq_filter("startswith(displayName,'a')"), None);
    }
}
