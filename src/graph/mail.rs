//! E-mail sent as the application through Graph (`POST /users/{sender}/sendMail`, `Mail.Send`).

use reqwest::Method;
use serde_json::json;

use super::DirectoryError;
use super::client::GraphClient;
use super::wire::user_segment;

impl GraphClient {
    /// A plain-text message from the mailbox `sender` to `to`, not kept in Sent Items.
    pub(super) async fn send_text_mail(
        &self,
        sender: &str,
        to: &[String],
        subject: &str,
        body: &str,
    ) -> Result<(), DirectoryError> {
        let segment = user_segment(sender)?;
        let url = self.url(&format!("/users/{segment}/sendMail"));
        let message = json!({
            "message": {
                "subject": subject,
                "body": {"contentType": "Text", "content": body},
                "toRecipients": to
                    .iter()
                    .map(|a| json!({"emailAddress": {"address": a}}))
                    .collect::<Vec<_>>(),
            },
            "saveToSentItems": false,
        });
        self.execute(Method::POST, &url, Some(&message))
            .await
            .map(drop)
    }
}
