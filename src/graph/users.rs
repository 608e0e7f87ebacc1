//! Users: reading one and their manager, searching by name or user principal name, and ending
//! their sign-in sessions.

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

    /// Users whose display name or user principal name has a word starting with `term`
    /// (`$search`, an advanced query: it needs `ConsistencyLevel: eventual`), at most `top`.
    pub(super) async fn search(
        &self,
        term: &str,
        top: usize,
    ) -> Result<Vec<DirectoryUser>, DirectoryError> {
        let term = search_term(term);
        if term.is_empty() {
            return Ok(Vec::new());
        }
        let search = format!("\"displayName:{term}\" OR \"userPrincipalName:{term}\"");
        // Spaces as %20, never `+` (which an OData query may read as itself).
        let search: String = search
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~:@".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        let top = top.clamp(1, 100);
        let url = self.url(&format!(
            "/users?$search={search}&$select={MEMBER_SELECT}&$top={top}"
        ));
        #[derive(serde::Deserialize)]
        struct Page {
            #[serde(default)]
            value: Vec<DirectoryUser>,
        }
        let page: Page = self.read_json(&url).await?;
        Ok(page.value)
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

/// What is searched for: the characters `$search` would read as syntax (quotes, the escape,
/// and `&`, which Graph's v1.0 search misreads even encoded) and control characters become
/// spaces, runs of spaces one, at most 64 characters.
pub(super) fn search_term(raw: &str) -> String {
    let cleaned: String = raw
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '"' | '\\' | '&') {
                ' '
            } else {
                c
            }
        })
        .take(64)
        .collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::search_term;

    #[test]
    fn search_syntax_is_not_passed_through() {
        assert_eq!(search_term("  scan\"ner  07 "), "scan ner 07");
        assert_eq!(search_term("a&b\\c"), "a b c");
        assert_eq!(search_term("\u{7}"), "");
        assert_eq!(search_term(&"x".repeat(100)).len(), 64);
    }
}
