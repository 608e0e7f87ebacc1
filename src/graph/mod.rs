//! TEMPORARY: the Directory trait only; the real module (client + types) arrives from the entra branch.
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberChange {
    Added,
    AlreadyMember,
    Removed,
    NotMember,
}
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct DirectoryUser {
    pub id: String,
    pub display_name: Option<String>,
    pub user_principal_name: Option<String>,
    pub odata_type: Option<String>,
}
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("throttled ({status})")]
    Throttled { status: u16, retry_after: Option<Duration>, message: String },
    #[error("transient: {0}")]
    Transient(String),
    #[error("rejected ({status} {code}): {message}")]
    Rejected { status: u16, code: String, message: String },
    #[error("token: {message}")]
    Token { retriable: bool, message: String },
}
impl DirectoryError {
    pub fn is_retriable(&self) -> bool {
        matches!(self, DirectoryError::Throttled { .. } | DirectoryError::Transient(_) | DirectoryError::Token { retriable: true, .. })
    }
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            DirectoryError::Throttled { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}
#[async_trait::async_trait]
pub trait Directory: Send + Sync + 'static {
    async fn add_member(&self, group_id: &str, user_id: &str) -> Result<MemberChange, DirectoryError>;
    async fn remove_member(&self, group_id: &str, user_id: &str) -> Result<MemberChange, DirectoryError>;
    async fn list_members(&self, group_id: &str) -> Result<Vec<DirectoryUser>, DirectoryError>;
    async fn get_user(&self, id: &str) -> Result<Option<DirectoryUser>, DirectoryError>;
    async fn get_manager(&self, user_id: &str) -> Result<Option<DirectoryUser>, DirectoryError>;
    async fn list_conditional_access_policies(&self) -> Result<serde_json::Value, DirectoryError>;
}
