//! The ID token of a redeemed code: verified (signature, issuer, audience, expiry, nonce), then
//! its Entra claims read and its tenant checked, giving who signed in.

use openidconnect::Nonce;
use openidconnect::core::CoreIdToken;
use serde::Deserialize;

use super::Oidc;
use super::discovery::OidcClient;
use super::failure::{SignInFailure, refused, refused_logged};
use crate::auth::Principal;

/// The claims we read from a verified ID token.
#[derive(Deserialize)]
struct EntraIdClaims {
    oid: Option<String>,
    tid: Option<String>,
    name: Option<String>,
    preferred_username: Option<String>,
    email: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
    /// The authentication contexts the sign-in satisfied (asked for with the `claims` request
    /// parameter when a package needs a step-up).
    #[serde(default, deserialize_with = "crate::auth::principal::acrs_claim")]
    acrs: Vec<String>,
}

impl Oidc {
    /// Who signed in, by `id_token`: verified with `client`'s keys against `nonce`, and of our
    /// tenant.
    pub(super) fn signed_in(
        &self,
        client: &OidcClient,
        id_token: &CoreIdToken,
        nonce: String,
    ) -> Result<Principal, SignInFailure> {
        let verifier = client.id_token_verifier();
        id_token
            .claims(&verifier, &Nonce::new(nonce))
            .map_err(|e| refused_logged("The ID token was not valid", &e.to_string()))?;
        // Signature, issuer, audience, expiry and nonce are verified above; read the Entra claims.
        let claims: EntraIdClaims = decode_payload(&id_token.to_string())
            .map_err(|e| refused_logged("The ID token could not be read", &e.to_string()))?;
        let oid = claims
            .oid
            .ok_or_else(|| refused(401, "The ID token carries no object id (oid)."))?;
        if let Some(tid) = &claims.tid
            && !tid.eq_ignore_ascii_case(&self.settings.entra.tenant_id)
        {
            return Err(refused(403, "That account belongs to another tenant."));
        }
        Ok(Principal::from_token(
            oid,
            claims.name,
            claims.preferred_username.or(claims.email),
            claims.roles,
            claims.acrs,
        ))
    }
}

/// The payload of a JWT whose signature has already been checked.
pub fn decode_payload<T: serde::de::DeserializeOwned>(jwt: &str) -> Result<T, String> {
    use base64::Engine;
    let payload = jwt.split('.').nth(1).ok_or("not a JWT")?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| e.to_string())?;
    serde_json::from_slice(&bytes).map_err(|e| e.to_string())
}
