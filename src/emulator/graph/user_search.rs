//! `GET /users`: the tenant's users, or with `$search` those matching it, as Graph serves an
//! advanced query on directory objects: `$search="displayName:dan" OR "userPrincipalName:dan"`,
//! each clause `"property:value"` in double quotes, joined by `AND` or `OR` (upper case, `AND`
//! binding first). `displayName` is split into words (at spaces, symbols and lower-to-upper
//! case changes) and each word of the value must begin one of them; other properties
//! (`userPrincipalName`, `mail`, `givenName`, `surname`) must begin with the value. Case never
//! matters. Without `ConsistencyLevel: eventual`, `$search` is refused (400), as on Graph.

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::caller::{Caller, READ_USERS};
use super::errors::{bad_request, forbidden};
use super::query::{page_size, qparam};
use super::users::{metadata_context, parse_select, user_object};
use crate::emulator::wire::{GraphCtx, odata_json};
use crate::emulator::{DemoUser, Emulator};

/// What Graph answers a `$search` without the advanced-query header.
const NEEDS_EVENTUAL: &str = "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'";

/// One `"property:value"` clause.
struct Clause {
    property: &'static str,
    value: String,
}

/// `GET /users[?$search=...&$select=...&$top=...&$count=true]`
pub(super) fn list(
    emu: &Emulator,
    ctx: &GraphCtx,
    caller: &Caller,
    headers: &HeaderMap,
    query: &[(String, String)],
) -> Response {
    if !caller.has_any(READ_USERS) {
        return forbidden(ctx);
    }
    let select = match parse_select(ctx, qparam(query, "$select"), "microsoft.graph.user") {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let top = match page_size(ctx, qparam(query, "$top"), 999) {
        Ok(t) => t.unwrap_or(100),
        Err(resp) => return resp,
    };
    let matching: Vec<&DemoUser> = match qparam(query, "$search") {
        None => emu.users().iter().collect(),
        Some(search) => {
            let eventual = headers
                .get("ConsistencyLevel")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("eventual"));
            if !eventual {
                return bad_request(ctx, "Request_UnsupportedQuery", NEEDS_EVENTUAL);
            }
            let any_of = match parse_search(search) {
                Ok(any_of) => any_of,
                Err(message) => return bad_request(ctx, "Request_UnsupportedQuery", &message),
            };
            emu.users()
                .iter()
                .filter(|u| any_of.iter().any(|all| all.iter().all(|c| c.matches(u))))
                .collect()
        }
    };
    let mut body = json!({
        "@odata.context": metadata_context(&emu.base_url(), "users", select.as_deref(), ""),
        "value": matching
            .iter()
            .take(top)
            .map(|u| user_object(Some(u), &u.id, select.as_deref(), false))
            .collect::<Vec<Value>>(),
    });
    if qparam(query, "$count").is_some_and(|c| c.eq_ignore_ascii_case("true")) {
        body["@odata.count"] = json!(matching.len());
    }
    odata_json(StatusCode::OK, &body)
}

/// The clauses of a `$search` value: a list (OR) of lists (AND), or what is wrong with it.
fn parse_search(search: &str) -> Result<Vec<Vec<Clause>>, String> {
    let mut any_of = vec![Vec::new()];
    let mut rest = search.trim();
    let mut expect_clause = true;
    while !rest.is_empty() {
        if expect_clause {
            let Some(body) = rest.strip_prefix('"') else {
                return Err(format!(
                    "Syntax error: the $search value must be \"property:value\" clauses in double quotes, not '{rest}'."
                ));
            };
            let Some(end) = body.find('"') else {
                return Err("Syntax error: a $search clause has no closing double quote.".into());
            };
            let clause = parse_clause(&body[..end])?;
            if let Some(all) = any_of.last_mut() {
                all.push(clause);
            }
            rest = body[end + 1..].trim_start();
            expect_clause = false;
        } else if let Some(after) = rest.strip_prefix("OR ") {
            any_of.push(Vec::new());
            rest = after.trim_start();
            expect_clause = true;
        } else if let Some(after) = rest.strip_prefix("AND ") {
            rest = after.trim_start();
            expect_clause = true;
        } else {
            return Err(format!("Syntax error: '{rest}' is not valid in $search."));
        }
    }
    if expect_clause {
        return Err("Syntax error: the $search value ends without a clause.".into());
    }
    Ok(any_of)
}

fn parse_clause(text: &str) -> Result<Clause, String> {
    let Some((name, value)) = text.split_once(':') else {
        return Err(format!(
            "Syntax error: '{text}' is not a \"property:value\" clause."
        ));
    };
    let property = ["displayName", "userPrincipalName", "mail", "givenName", "surname"]
        .into_iter()
        .find(|p| p.eq_ignore_ascii_case(name.trim()))
        .ok_or_else(|| {
            format!(
                "Unsupported or invalid query filter clause specified for property '{}' of resource 'User'.",
                name.trim()
            )
        })?;
    Ok(Clause {
        property,
        value: value.trim().to_lowercase(),
    })
}

impl Clause {
    fn matches(&self, user: &DemoUser) -> bool {
        let field = match self.property {
            "displayName" => {
                let words = words(&user.name);
                return self
                    .value
                    .split(|c: char| !c.is_alphanumeric())
                    .filter(|w| !w.is_empty())
                    .all(|v| words.iter().any(|w| w.starts_with(v)));
            }
            "givenName" => user.name.split(' ').next().unwrap_or_default().to_owned(),
            "surname" => user
                .name
                .split_once(' ')
                .map(|(_, s)| s)
                .unwrap_or_default()
                .to_owned(),
            _ => user.username.clone(),
        };
        field.to_lowercase().starts_with(&self.value)
    }
}

/// A display name's words, lower case: split at spaces and symbols, and where a lower-case
/// letter is followed by an upper-case one (`JohnSmith` is `john` and `smith`).
fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
        prev_lower = c.is_lowercase();
        word.extend(c.to_lowercase());
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_split_into_words() {
        assert_eq!(words("Scanner 07 (Dock)"), ["scanner", "07", "dock"]);
        assert_eq!(words("JohnSmith"), ["john", "smith"]);
    }

    #[test]
    fn clauses_join_with_or_and_and() {
        let any_of =
            parse_search(r#""displayName:dan" OR "userPrincipalName:dan" AND "mail:d""#).unwrap();
        assert_eq!(any_of.len(), 2);
        assert_eq!(any_of[1].len(), 2);
        assert!(parse_search("dan").is_err());
        assert!(parse_search(r#""displayName:dan" OR"#).is_err());
        assert!(parse_search(r#""jobTitle:x""#).is_err());
    }
}
