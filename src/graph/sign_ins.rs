//! Device-code sign-ins from Entra's sign-in log (`GET /beta/auditLogs/signIns`, application
//! permission `AuditLog.Read.All`): what each exemption was used for, and who was blocked. The
//! `authenticationProtocol` property (and its filter) exists only in beta, so this one read goes
//! there; everything else stays on v1.0.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;

use super::client::GraphClient;
use super::{DirectoryError, SignIn};

/// Sign-ins a page (Graph's maximum for this list).
const PAGE: usize = 1000;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireStatus {
    #[serde(default)]
    error_code: Option<i64>,
    #[serde(default)]
    failure_reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireSignIn {
    id: String,
    created_date_time: DateTime<Utc>,
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    user_principal_name: Option<String>,
    #[serde(default)]
    app_id: Option<String>,
    #[serde(default)]
    app_display_name: Option<String>,
    #[serde(default)]
    ip_address: Option<String>,
    #[serde(default)]
    conditional_access_status: Option<String>,
    #[serde(default)]
    status: Option<WireStatus>,
    #[serde(default)]
    resource_id: Option<String>,
}

impl From<WireSignIn> for SignIn {
    fn from(w: WireSignIn) -> SignIn {
        let (error_code, failure_reason) = match w.status {
            Some(s) => (s.error_code.unwrap_or(0), s.failure_reason),
            None => (0, None),
        };
        SignIn {
            id: w.id,
            at: w.created_date_time,
            user_id: w.user_id.unwrap_or_default(),
            user_principal_name: w.user_principal_name.unwrap_or_default(),
            app_id: w.app_id.unwrap_or_default(),
            app_name: w.app_display_name.unwrap_or_default(),
            ip_address: w.ip_address.unwrap_or_default(),
            conditional_access: w.conditional_access_status.unwrap_or_default(),
            error_code,
            failure_reason: failure_reason.filter(|r| !r.is_empty() && r != "Other."),
            resource_id: w.resource_id.unwrap_or_default(),
        }
    }
}

impl GraphClient {
    /// Device-code sign-ins at or after `since` (all users, or one), newest first.
    pub(super) async fn device_code_sign_ins(
        &self,
        since: DateTime<Utc>,
        user_id: Option<&str>,
    ) -> Result<Vec<SignIn>, DirectoryError> {
        let mut filter = format!(
            "createdDateTime ge {} and authenticationProtocol eq 'deviceCode'",
            since.to_rfc3339_opts(SecondsFormat::Secs, true)
        );
        if let Some(u) = user_id {
            super::wire::require_guid(u)?;
            filter = format!("userId eq '{u}' and {filter}");
        }
        let mut first = url::Url::parse(&self.beta_url("/auditLogs/signIns"))
            .map_err(|e| DirectoryError::Transient(e.to_string()))?;
        first
            .query_pairs_mut()
            .append_pair("$filter", &filter)
            .append_pair("$top", &PAGE.to_string());
        let (_, items) = self.read_all(first.to_string()).await?;
        items
            .into_iter()
            .map(|v| {
                serde_json::from_value::<WireSignIn>(v)
                    .map(SignIn::from)
                    .map_err(|e| {
                        DirectoryError::Transient(format!(
                            "unexpected sign-in in Graph response: {e}"
                        ))
                    })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_resource_maps_to_what_the_portal_keeps() {
        let w: WireSignIn = serde_json::from_value(serde_json::json!({
            "id": "66ea54eb-6301-4ee5-be62-ff5a759b0100",
            "createdDateTime": "2026-11-23T10:15:00Z",
            "userId": "0b6a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c01",
            "userPrincipalName": "dana@contoso.example",
            "appId": "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
            "appDisplayName": "Microsoft Azure CLI",
            "ipAddress": "203.0.113.7",
            "conditionalAccessStatus": "failure",
            "status": {"errorCode": 53003, "failureReason": "Access has been blocked by Conditional Access policies."},
            "authenticationProtocol": "deviceCode",
            "resourceId": "00000003-0000-0000-c000-000000000000"
        }))
        .unwrap();
        let s = SignIn::from(w);
        assert_eq!(
            (s.error_code, s.conditional_access.as_str()),
            (53003, "failure")
        );
        assert!(!s.succeeded() && s.blocked_by_conditional_access());
        assert_eq!(s.app_name, "Microsoft Azure CLI");
        assert_eq!(s.resource_id, "00000003-0000-0000-c000-000000000000");
    }
}
