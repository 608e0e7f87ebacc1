//! Microsoft Graph directory client.
