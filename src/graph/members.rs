//! Group membership one call at a time: adding and removing a member, asking whether someone is
//! a member, and listing a group's members (direct, or users through nested groups). The
//! requests that change or check a membership are built here for a `$batch` too.

use reqwest::Method;
use serde_json::json;

use super::client::GraphClient;
use super::request::Call;
use super::users::MEMBER_SELECT;
use super::wire::{added, member_groups_contain, removed, require_guid};
use super::{DirectoryError, DirectoryUser, MemberChange};

/// The request asking whether `user_id` is in `group_id` (`checkMemberGroups`, a read).
pub(super) fn member_check(group_id: &str, user_id: &str) -> Result<Call, DirectoryError> {
    require_guid(group_id)?;
    require_guid(user_id)?;
    Ok(Call {
        method: Method::POST,
        url: format!("/users/{user_id}/checkMemberGroups"),
        body: Some(json!({ "groupIds": [group_id] })),
    })
}

impl GraphClient {
    /// The request that adds (`add`) `user_id` to `group_id`, or removes them.
    pub(super) fn member_change(
        &self,
        add: bool,
        group_id: &str,
        user_id: &str,
    ) -> Result<Call, DirectoryError> {
        require_guid(group_id)?;
        require_guid(user_id)?;
        Ok(if add {
            Call {
                method: Method::POST,
                url: format!("/groups/{group_id}/members/$ref"),
                body: Some(
                    json!({ "@odata.id": format!("{}/v1.0/directoryObjects/{user_id}", self.graph_base) }),
                ),
            }
        } else {
            Call {
                method: Method::DELETE,
                url: format!("/groups/{group_id}/members/{user_id}/$ref"),
                body: None,
            }
        })
    }

    pub(super) async fn add_to_group(
        &self,
        group_id: &str,
        user_id: &str,
    ) -> Result<MemberChange, DirectoryError> {
        let call = self.member_change(true, group_id, user_id)?;
        added(self.execute_call(call).await.map(drop))
    }

    pub(super) async fn remove_from_group(
        &self,
        group_id: &str,
        user_id: &str,
    ) -> Result<MemberChange, DirectoryError> {
        let call = self.member_change(false, group_id, user_id)?;
        removed(self.execute_call(call).await.map(drop))
    }

    /// Whether reads show `user_id` in `group_id` now; retried inline like the other reads.
    pub(super) async fn in_group(
        &self,
        group_id: &str,
        user_id: &str,
    ) -> Result<bool, DirectoryError> {
        let call = member_check(group_id, user_id)?;
        let bytes = self
            .read_with(call.method, &self.url(&call.url), call.body.as_ref())
            .await?;
        member_groups_contain(&bytes, group_id)
    }

    /// Every page of `/groups/{group_id}/{relation}` (`members`, or
    /// `transitiveMembers/microsoft.graph.user`), as users.
    pub(super) async fn members_of(
        &self,
        group_id: &str,
        relation: &str,
    ) -> Result<Vec<DirectoryUser>, DirectoryError> {
        require_guid(group_id)?;
        let first = self.url(&format!(
            "/groups/{group_id}/{relation}?$select={MEMBER_SELECT}&$top={}",
            self.page_size
        ));
        let (_, items) = self.read_all(first).await?;
        items
            .into_iter()
            .map(|item| {
                serde_json::from_value(item).map_err(|e| {
                    DirectoryError::Transient(format!("unexpected member in Graph response: {e}"))
                })
            })
            .collect()
    }
}
