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
