//! Graph's change tracking of a group's members (`GET /groups/delta?$filter=id eq '{id}'
//! &$select=members`, wire doc §4.4): without a delta link every member (a full
//! synchronisation), with one only the members added and removed since; pages followed
//! verbatim until the new delta link.

use std::collections::BTreeMap;

use serde_json::Value;

use super::client::GraphClient;
use super::wire::require_guid;
use super::{DirectoryError, MemberDelta};

/// Pages of one delta answer followed at most.
const MAX_DELTA_PAGES: usize = 1_000;

impl GraphClient {
    pub(super) async fn group_member_delta(
        &self,
        group_id: &str,
        delta_link: Option<&str>,
    ) -> Result<MemberDelta, DirectoryError> {
        require_guid(group_id)?;
        let mut url = match delta_link {
            Some(link) => {
                // The token goes only to the configured Graph.
                self.check_next_link(link)?;
                link.to_owned()
            }
            None => self.url(&format!(
                "/groups/delta?$filter=id%20eq%20'{group_id}'&$select=members"
            )),
        };
        // Later pages may name a member again: the last word counts (Graph's order is not promised,
        // but a member changes at most once between two delta links).
        let mut seen: BTreeMap<String, bool> = BTreeMap::new();
        for _ in 0..MAX_DELTA_PAGES {
            let page: Value = self.read_json(&url).await?;
            read_page(&page, group_id, &mut seen);
            if let Some(next) = page.get("@odata.nextLink").and_then(Value::as_str) {
                self.check_next_link(next)?;
                url = next.to_owned();
                continue;
            }
            let Some(link) = page.get("@odata.deltaLink").and_then(Value::as_str) else {
                return Err(DirectoryError::Transient(
                    "Graph's delta answer carried neither a next link nor a delta link".to_owned(),
                ));
            };
            self.check_next_link(link)?;
            let (present, gone): (Vec<_>, Vec<_>) = seen.into_iter().partition(|(_, p)| *p);
            return Ok(MemberDelta {
                full: delta_link.is_none(),
                present: present.into_iter().map(|(id, _)| id).collect(),
                gone: gone.into_iter().map(|(id, _)| id).collect(),
                delta_link: link.to_owned(),
            });
        }
        Err(DirectoryError::Transient(
            "too many delta result pages".to_owned(),
        ))
    }
}

/// Adds the members a page names for `group_id` to `seen` (id → present).
fn read_page(page: &Value, group_id: &str, seen: &mut BTreeMap<String, bool>) {
    let groups = page.get("value").and_then(Value::as_array);
    for g in groups.into_iter().flatten() {
        let ours = g
            .get("id")
            .and_then(Value::as_str)
            .is_some_and(|id| id.eq_ignore_ascii_case(group_id));
        if !ours {
            continue;
        }
        let members = g.get("members@delta").and_then(Value::as_array);
        for m in members.into_iter().flatten() {
            if let Some(id) = m.get("id").and_then(Value::as_str) {
                seen.insert(id.to_ascii_lowercase(), m.get("@removed").is_none());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pages_are_merged_removals_marked_and_other_groups_ignored() {
        let g = "2e5807ce-58f3-4a94-9b37-ffff2e085957";
        let mut seen = BTreeMap::new();
        read_page(
            &json!({ "value": [
                { "id": g, "members@delta": [
                    { "@odata.type": "#microsoft.graph.user", "id": "A", "@removed": { "reason": "deleted" } },
                    { "@odata.type": "#microsoft.graph.user", "id": "b" }
                ]},
                { "id": "other", "members@delta": [ { "id": "c" } ] }
            ]}),
            g,
            &mut seen,
        );
        read_page(
            &json!({ "value": [ { "id": g.to_uppercase(), "members@delta": [ { "id": "d" } ] } ] }),
            g,
            &mut seen,
        );
        read_page(&json!({ "value": [] }), g, &mut seen);
        let expect: BTreeMap<String, bool> = [("a", false), ("b", true), ("d", true)]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        assert_eq!(seen, expect);
    }
}
