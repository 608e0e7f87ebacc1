//! Reading the tenant's Conditional Access policies (`GET /identity/conditionalAccess/policies`),
//! which [`super::posture`] judges.

use serde_json::Value;

use super::DirectoryError;
use super::client::GraphClient;

impl GraphClient {
    /// Every page of the policy list, merged into the first page's one `value` array.
    pub(super) async fn conditional_access_policies(&self) -> Result<Value, DirectoryError> {
        let (mut first, items) = self
            .read_all(self.url("/identity/conditionalAccess/policies"))
            .await?;
        if let Some(obj) = first.as_object_mut() {
            obj.remove("@odata.nextLink");
            obj.insert("value".to_owned(), Value::Array(items));
        }
        Ok(first)
    }
}
