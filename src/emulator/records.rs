//! What the tenant records for tests and the demo to read back: the Graph calls it answered and
//! the mail sent through it.

/// A message sent through the emulated Graph `sendMail`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SentMail {
    /// The sending mailbox's user principal name.
    pub from: String,
    /// Recipients' addresses.
    pub to: Vec<String>,
    pub subject: String,
    pub body: String,
    pub at: chrono::DateTime<chrono::Utc>,
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
