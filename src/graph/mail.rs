//! E-mail sent as the application through Graph (`POST /users/{sender}/sendMail`, `Mail.Send`).

use reqwest::Method;
use serde_json::json;

use super::DirectoryError;
use super::client::GraphClient;
use super::wire::user_segment;

impl GraphClient {
    /// A plain-text message from the mailbox `sender` to `to`, not kept in Sent Items.
    ///
    /// One recipient is named in `toRecipients`. Several (the approvers of a request, say) are
    /// all put in `bccRecipients`, as the SMTP channel does: no one sees who else was told, a
    /// reply-all goes nowhere, and it stays one call, so a retry cannot mail some twice.
    pub(super) async fn send_text_mail(
        &self,
        sender: &str,
        to: &[String],
        subject: &str,
        body: &str,
    ) -> Result<(), DirectoryError> {
        let segment = user_segment(sender)?;
        let url = self.url(&format!("/users/{segment}/sendMail"));
        let recipients: Vec<_> = to
            .iter()
            .map(|a| json!({"emailAddress": {"address": a}}))
            .collect();
        let field = if recipients.len() > 1 {
            "bccRecipients"
        } else {
            "toRecipients"
        };
        let mut message = json!({
            "subject": subject,
            "body": {"contentType": "Text", "content": body},
        });
        message[field] = serde_json::Value::Array(recipients);
        let message = json!({"message": message, "saveToSentItems": false});
        self.execute(Method::POST, &url, Some(&message))
            .await
            .map(drop)
    }
}
