//! `GET /groups/delta`: Graph's change tracking of groups and their members (wire doc §4.4).
//! The first call (optionally `$filter=id eq '…'`, up to 50 ids joined with `or`, and
//! `$select=members`) answers each group with every member in `members@delta`; later calls with
//! the `@odata.deltaLink` answer only what changed since: members added, and members gone with
//! `"@removed": {"reason": "deleted"}`; nothing changed is `"value": []`. Long answers come in
//! pages (`@odata.nextLink` with a `$skiptoken`, the same group again with more members), the
//! last carrying the delta link. A delta token the tenant no longer knows is answered 400
//! `syncStateNotFound`: the caller starts over.

use std::collections::{BTreeSet, VecDeque};

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::caller::{Caller, READ_MEMBERS};
use super::errors::{bad_request, forbidden};
use super::query::{expired_page_token, qparam};
use crate::emulator::Emulator;
use crate::emulator::change_tracking::{PendingPages, SyncState, new_token};
use crate::emulator::wire::{GraphCtx, graph_error, is_guid, odata_json};

/// Member entries per page.
pub(crate) const DELTA_PAGE: usize = 100;
/// Ids a `$filter` may name.
const MAX_FILTER_IDS: usize = 50;

/// `GET /groups/delta`
pub(super) fn delta(
    emu: &Emulator,
    ctx: &GraphCtx,
    caller: &Caller,
    query: &[(String, String)],
) -> Response {
    if !caller.has_any(READ_MEMBERS) {
        return forbidden(ctx);
    }
    if let Some(skip) = qparam(query, "$skiptoken") {
        return next_page(emu, ctx, skip);
    }
    let state = match qparam(query, "$deltatoken") {
        Some(token) => match emu.state().delta.state(token) {
            Some(s) => s,
            None => {
                return graph_error(
                    ctx,
                    StatusCode::BAD_REQUEST,
                    "syncStateNotFound",
                    "The sync state generation is not found. The delta token is expired and data must be synchronized again.",
                );
            }
        },
        None => match first_call(emu, ctx, query) {
            Ok(s) => s,
            Err(resp) => return resp,
        },
    };
    answer(emu, state)
}

/// The groups and members a first call follows.
fn first_call(
    emu: &Emulator,
    ctx: &GraphCtx,
    query: &[(String, String)],
) -> Result<SyncState, Response> {
    let groups = match qparam(query, "$filter") {
        None => emu
            .config()
            .groups
            .iter()
            .map(|g| g.id.to_ascii_lowercase())
            .collect(),
        Some(f) => parse_id_filter(f).ok_or_else(|| {
            bad_request(
                ctx,
                "Request_UnsupportedQuery",
                "Unsupported query: only filters of the form id eq '{id}' (joined with or) are supported on delta.",
            )
        })?,
    };
    if groups.len() > MAX_FILTER_IDS {
        return Err(bad_request(
            ctx,
            "Request_UnsupportedQuery",
            "Too many ids in the filter: at most 50 may be tracked.",
        ));
    }
    let members = qparam(query, "$select").is_none_or(|s| {
        s.split(',')
            .any(|p| p.trim().eq_ignore_ascii_case("members"))
    });
    Ok(SyncState {
        groups,
        members,
        seen: Default::default(),
    })
}

/// `id eq 'a' or id eq 'b'` → the ids, lower case.
fn parse_id_filter(filter: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for part in filter.split(" or ") {
        let mut words = part.split_whitespace();
        let (field, op, value) = (words.next()?, words.next()?, words.next()?);
        if words.next().is_some()
            || !field.eq_ignore_ascii_case("id")
            || !op.eq_ignore_ascii_case("eq")
        {
            return None;
        }
        let id = value.strip_prefix('\'')?.strip_suffix('\'')?;
        if !is_guid(id) {
            return None;
        }
        out.push(id.to_ascii_lowercase());
    }
    Some(out)
}

/// The changes since `state`, paged, and the new delta link.
fn answer(emu: &Emulator, state: SyncState) -> Response {
    let first = state.seen.is_empty();
    let mut now = state.clone();
    let mut objects: Vec<(Value, Vec<Value>)> = Vec::new();
    for g in &state.groups {
        let Some(group) = emu.group(g) else { continue };
        let current: BTreeSet<String> = emu
            .visible_members(g)
            .into_iter()
            .map(|u| u.to_ascii_lowercase())
            .collect();
        let before = state.seen.get(g).cloned().unwrap_or_default();
        let mut entries: Vec<Value> = Vec::new();
        if state.members {
            entries.extend(
                current
                    .difference(&before)
                    .map(|u| json!({ "@odata.type": "#microsoft.graph.user", "id": u })),
            );
            entries.extend(before.difference(&current).map(|u| {
                json!({ "@odata.type": "#microsoft.graph.user", "id": u, "@removed": { "reason": "deleted" } })
            }));
        }
        if first || !entries.is_empty() {
            let object =
                json!({ "id": group.id.to_ascii_lowercase(), "displayName": group.display_name });
            objects.push((object, entries));
        }
        now.seen.insert(g.clone(), current);
    }
    let base = emu.base_url();
    let mut st = emu.state();
    let token = st.delta.remember(now);
    let delta_link = format!("{base}/v1.0/groups/delta?$deltatoken={token}");
    let mut pages: VecDeque<Value> = paginate(objects).into();
    let first_page = pages.pop_front().unwrap_or_else(|| json!([]));
    if pages.is_empty() {
        drop(st);
        return page(&base, first_page, None, &delta_link);
    }
    let skip = new_token();
    st.delta.pages.insert(
        skip.clone(),
        PendingPages {
            pages,
            delta_link: delta_link.clone(),
        },
    );
    drop(st);
    page(&base, first_page, Some(&skip), &delta_link)
}

/// Splits group objects into pages of at most [`DELTA_PAGE`] member entries; a group whose
/// members do not fit appears again on the next page with the rest.
fn paginate(objects: Vec<(Value, Vec<Value>)>) -> Vec<Value> {
    let mut pages: Vec<Vec<Value>> = vec![Vec::new()];
    let mut room = DELTA_PAGE;
    for (object, entries) in objects {
        let mut rest = entries.as_slice();
        loop {
            if room == 0 {
                pages.push(Vec::new());
                room = DELTA_PAGE;
            }
            let take = rest.len().min(room);
            let mut o = object.clone();
            o["members@delta"] = Value::Array(rest[..take].to_vec());
            if let Some(p) = pages.last_mut() {
                p.push(o);
            }
            room -= take;
            rest = &rest[take..];
            if rest.is_empty() {
                break;
            }
        }
    }
    pages.into_iter().map(Value::Array).collect()
}

/// The next page of an answer.
fn next_page(emu: &Emulator, ctx: &GraphCtx, skip: &str) -> Response {
    let base = emu.base_url();
    let mut st = emu.state();
    let Some(mut pending) = st.delta.pages.remove(skip) else {
        return expired_page_token(ctx);
    };
    let value = pending.pages.pop_front().unwrap_or_else(|| json!([]));
    let delta_link = pending.delta_link.clone();
    if pending.pages.is_empty() {
        return page(&base, value, None, &delta_link);
    }
    let next = new_token();
    st.delta.pages.insert(next.clone(), pending);
    page(&base, value, Some(&next), &delta_link)
}

fn page(base: &str, value: Value, next: Option<&str>, delta_link: &str) -> Response {
    let mut body = json!({
        "@odata.context": format!("{base}/v1.0/$metadata#groups"),
        "value": value,
    });
    match next {
        Some(skip) => {
            body["@odata.nextLink"] = json!(format!("{base}/v1.0/groups/delta?$skiptoken={skip}"))
        }
        None => body["@odata.deltaLink"] = json!(delta_link),
    }
    odata_json(StatusCode::OK, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_filters() {
        let a = "5a1f3f3e-6a4b-4d5e-9a8b-1c2d3e4f5a6b";
        let b = "87D349ED-44D7-43E1-9A83-5F2406DEE5BD";
        assert_eq!(
            parse_id_filter(&format!("id eq '{a}' or id eq '{b}'")),
            Some(vec![a.to_owned(), b.to_ascii_lowercase()])
        );
        assert_eq!(parse_id_filter("displayName eq 'x'"), None);
        assert_eq!(parse_id_filter(&format!("id eq {a}")), None);
        assert_eq!(parse_id_filter("id eq 'nope'"), None);
    }

    #[test]
    fn a_large_group_comes_in_pages_and_appears_again() {
        let entries: Vec<Value> = (0..DELTA_PAGE + 5).map(|i| json!({ "id": i })).collect();
        let pages = paginate(vec![
            (json!({ "id": "g" }), entries),
            (json!({ "id": "h" }), vec![json!({ "id": "x" })]),
        ]);
        assert_eq!(pages.len(), 2);
        assert_eq!(
            pages[0][0]["members@delta"].as_array().unwrap().len(),
            DELTA_PAGE
        );
        assert_eq!(pages[1][0]["id"], "g");
        assert_eq!(pages[1][0]["members@delta"].as_array().unwrap().len(), 5);
        assert_eq!(pages[1][1]["id"], "h");
        assert_eq!(paginate(Vec::new()), vec![json!([])]);
    }
}
