//! What the tenant records for tests and the demo to read back: the Graph calls it answered and
//! the mail sent through it.

/// A message sent through the emulated Graph `sendMail`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SentMail {
    /// The sending mailbox's user principal name.
    pub from: String,
    /// `toRecipients`' addresses: what every recipient sees in `To`.
    pub to: Vec<String>,
    /// `ccRecipients`' addresses: what every recipient sees in `Cc`.
    pub cc: Vec<String>,
    /// `bccRecipients`' addresses: delivered to, seen by no other recipient.
    pub bcc: Vec<String>,
    pub subject: String,
    pub body: String,
    pub at: chrono::DateTime<chrono::Utc>,
}

impl SentMail {
    /// Everyone the message was delivered to: `to`, `cc` and `bcc`.
    pub fn recipients(&self) -> impl Iterator<Item = &String> {
        self.to.iter().chain(&self.cc).chain(&self.bcc)
    }

    /// The addresses a recipient can see in the message (`To` and `Cc`; never `Bcc`).
    pub fn visible_recipients(&self) -> impl Iterator<Item = &String> {
        self.to.iter().chain(&self.cc)
    }
}

/// One logged Graph call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GraphCall {
    pub method: String,
    /// Path with query, as sent.
    pub path: String,
    pub status: u16,
    /// The `client-request-id` header the caller sent, if any.
    pub client_request_id: Option<String>,
}
