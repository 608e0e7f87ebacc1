//! The portal's own app registration's credentials (`GET /applications(appId='…')` with
//! `$select=passwordCredentials,keyCredentials`): when a client secret or certificate ends.

use serde::Deserialize;

use super::client::GraphClient;
use super::{AppCredential, DirectoryError};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Listed {
    #[serde(default)]
    key_id: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    hint: Option<String>,
    #[serde(default)]
    end_date_time: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Registration {
    #[serde(default)]
    password_credentials: Vec<Listed>,
    #[serde(default)]
    key_credentials: Vec<Listed>,
}

fn credential(kind: &'static str, l: Listed) -> AppCredential {
    AppCredential {
        kind,
        key_id: l.key_id.unwrap_or_default(),
        display_name: l.display_name,
        hint: l.hint,
        end: l.end_date_time,
    }
}

impl GraphClient {
    pub(super) async fn registration_credentials(
        &self,
        app_id: &str,
    ) -> Result<Vec<AppCredential>, DirectoryError> {
        let escaped = app_id.replace('\'', "''");
        let url = self.url(&format!(
            "/applications(appId='{escaped}')?$select=passwordCredentials,keyCredentials"
        ));
        let reg: Registration = self.read_json(&url).await?;
        Ok(reg
            .password_credentials
            .into_iter()
            .map(|l| credential("secret", l))
            .chain(
                reg.key_credentials
                    .into_iter()
                    .map(|l| credential("certificate", l)),
            )
            .collect())
    }
}
