//! Users one at a time: reading a user and their manager, and ending their sign-in sessions.

use reqwest::Method;

use super::client::GraphClient;
use super::wire::{require_guid, user_segment};
use super::{DirectoryError, DirectoryUser};

/// The fields read of every user (and every member of a group).
pub(super) const MEMBER_SELECT: &str = "id,displayName,userPrincipalName,mail";

impl GraphClient {
    /// A user by object id (or user principal name); `None` when Graph answers 404.
    pub(super) async fn user(&self, id: &str) -> Result<Option<DirectoryUser>, DirectoryError> {
        let segment = user_segment(id)?;
        let url = self.url(&format!("/users/{segment}?$select={MEMBER_SELECT}"));
        match self.read_json::<DirectoryUser>(&url).await {
            Ok(user) => Ok(Some(user)),
            Err(DirectoryError::Rejected { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The user's manager; `None` when Graph says no manager is set.
    pub(super) async fn manager_of(
        &self,
        user_id: &str,
    ) -> Result<Option<DirectoryUser>, DirectoryError> {
        require_guid(user_id)?;
        let url = self.url(&format!("/users/{user_id}/manager?$select={MEMBER_SELECT}"));
        match self.read_json::<DirectoryUser>(&url).await {
            Ok(manager) => Ok(Some(manager)),
            Err(DirectoryError::Rejected {
                status: 404,
                message,
                ..
            }) if message.contains("'manager'") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `revokeSignInSessions`: a write, not retried here.
    pub(super) async fn revoke_sessions(&self, user_id: &str) -> Result<(), DirectoryError> {
        require_guid(user_id)?;
        let url = self.url(&format!("/users/{user_id}/revokeSignInSessions"));
        self.execute(Method::POST, &url, None).await.map(drop)
    }
}
