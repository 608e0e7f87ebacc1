//! [`GraphClient`]: the Microsoft Graph implementation of [`Directory`]. The client itself (where
//! it sends, as whom, how fast) and the trait's answers, each taken from the file that holds
//! that kind of call.

use serde_json::Value;

use super::pacer::Pacer;
use super::settings::GraphSettings;
use super::token::TokenCache;
use super::{
    AppCredential, Directory, DirectoryError, DirectoryRole, DirectoryUser, MemberChange,
    MemberDelta, MemberOp, SignInLog, UserAccess,
};

/// Microsoft Graph directory client with a client-credentials token cache.
///
/// Writes are never retried here (the outbox worker reschedules them); reads retry throttling
/// and transient errors up to three times, honouring `Retry-After` capped at five seconds.
pub struct GraphClient {
    pub(super) settings: GraphSettings,
    pub(super) http: reqwest::Client,
    pub(super) graph_base: String,
    pub(super) page_size: u32,
    pub(super) token: TokenCache,
    pub(super) pacer: Option<Pacer>,
}

impl std::fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphClient")
            .field("token_url", &self.token.url)
            .field("graph_base", &self.graph_base)
            .field("client_id", &self.settings.client_id)
            .finish_non_exhaustive()
    }
}

impl GraphClient {
    pub fn new(settings: GraphSettings, http: reqwest::Client) -> Self {
        let graph_base = settings.graph_url.trim_end_matches('/').to_owned();
        GraphClient {
            token: TokenCache::new(&settings, &graph_base),
            graph_base,
            http,
            page_size: 999,
            pacer: settings.write_budget.map(Pacer::new),
            settings,
        }
    }

    /// Page size (`$top`, 1..=999) used when listing group members. Default 999.
    pub fn with_page_size(mut self, page_size: u32) -> Self {
        self.page_size = page_size.clamp(1, 999);
        self
    }

    pub(super) fn url(&self, path: &str) -> String {
        format!("{}/v1.0{path}", self.graph_base)
    }

    /// Graph's beta endpoint, for the one read that needs it (device-code sign-ins).
    pub(super) fn beta_url(&self, path: &str) -> String {
        format!("{}/beta{path}", self.graph_base)
    }
}

#[async_trait::async_trait]
impl Directory for GraphClient {
    async fn add_member(
        &self,
        group_id: &str,
        user_id: &str,
    ) -> Result<MemberChange, DirectoryError> {
        self.add_to_group(group_id, user_id).await
    }

    async fn remove_member(
        &self,
        group_id: &str,
        user_id: &str,
    ) -> Result<MemberChange, DirectoryError> {
        self.remove_from_group(group_id, user_id).await
    }

    async fn is_member(&self, group_id: &str, user_id: &str) -> Result<bool, DirectoryError> {
        self.in_group(group_id, user_id).await
    }

    async fn change_members(&self, ops: &[MemberOp]) -> Vec<Result<MemberChange, DirectoryError>> {
        self.change_members_batched(ops).await
    }

    async fn are_members(&self, pairs: &[(String, String)]) -> Vec<Result<bool, DirectoryError>> {
        self.are_members_batched(pairs).await
    }

    async fn revoke_sign_in_sessions(&self, user_id: &str) -> Result<(), DirectoryError> {
        self.revoke_sessions(user_id).await
    }

    async fn list_members(&self, group_id: &str) -> Result<Vec<DirectoryUser>, DirectoryError> {
        self.members_of(group_id, "members").await
    }

    async fn member_delta(
        &self,
        group_id: &str,
        delta_link: Option<&str>,
    ) -> Result<MemberDelta, DirectoryError> {
        self.group_member_delta(group_id, delta_link).await
    }

    async fn member_groups_among(
        &self,
        user_id: &str,
        groups: &[String],
    ) -> Result<Vec<String>, DirectoryError> {
        let groups: Vec<&str> = groups.iter().map(String::as_str).collect();
        GraphClient::member_groups_among(self, user_id, &groups).await
    }

    async fn device_code_sign_ins(
        &self,
        since: chrono::DateTime<chrono::Utc>,
        user_id: Option<&str>,
    ) -> Result<SignInLog, DirectoryError> {
        GraphClient::device_code_sign_ins(self, since, user_id).await
    }

    async fn list_transitive_members(
        &self,
        group_id: &str,
    ) -> Result<Vec<DirectoryUser>, DirectoryError> {
        self.members_of(group_id, "transitiveMembers/microsoft.graph.user")
            .await
    }

    async fn get_user(&self, id: &str) -> Result<Option<DirectoryUser>, DirectoryError> {
        self.user(id).await
    }

    async fn search_users(
        &self,
        term: &str,
        top: usize,
    ) -> Result<Vec<DirectoryUser>, DirectoryError> {
        self.search(term, top).await
    }

    async fn get_manager(&self, user_id: &str) -> Result<Option<DirectoryUser>, DirectoryError> {
        self.manager_of(user_id).await
    }

    async fn user_access(&self, user_id: &str) -> Result<Option<UserAccess>, DirectoryError> {
        self.access_of(user_id).await
    }

    async fn privileged_roles(&self, user_id: &str) -> Result<Vec<DirectoryRole>, DirectoryError> {
        self.roles_of(user_id).await
    }

    async fn app_role_holders(&self, value: &str) -> Result<Vec<DirectoryUser>, DirectoryError> {
        self.holders_of(value).await
    }

    async fn send_mail(
        &self,
        sender: &str,
        to: &[String],
        subject: &str,
        body: &str,
    ) -> Result<(), DirectoryError> {
        self.send_text_mail(sender, to, subject, body).await
    }

    async fn list_conditional_access_policies(&self) -> Result<Value, DirectoryError> {
        self.conditional_access_policies().await
    }

    async fn app_credentials(&self, app_id: &str) -> Result<Vec<AppCredential>, DirectoryError> {
        self.registration_credentials(app_id).await
    }
}
