//! Bearer access tokens for the JSON API: issued by the same tenant for the portal's own API
//! (audience = client id or `api://{client id}`), or for the requests API (`[entra]
//! requests_api_id`), checked against the tenant's signing keys. A token for the requests API,
//! the one jitgate resource the device-code block excludes, reaches only the caller's own
//! requests ([`Reach::Requests`]).

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;

use super::Principal;
use super::oidc::Oidc;
use super::principal::Reach;
use crate::error::AppError;

#[derive(Deserialize)]
struct AccessClaims {
    aud: serde_json::Value,
    oid: Option<String>,
    tid: Option<String>,
    scp: Option<String>,
    name: Option<String>,
    preferred_username: Option<String>,
    upn: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
    /// The authentication contexts the sign-in satisfied (step-up).
    #[serde(default, deserialize_with = "crate::auth::principal::acrs_claim")]
    acrs: Vec<String>,
}

fn unauthorized(m: &str) -> AppError {
    AppError::Unauthorized(m.to_string())
}

impl Oidc {
    /// The caller named by a bearer access token, once its signature, issuer, audience, expiry,
    /// tenant and delegated scope are checked.
    pub async fn validate_bearer(&self, token: &str) -> Result<Principal, AppError> {
        let (tenant_id, client_id) = (
            &self.settings.entra.tenant_id,
            &self.settings.entra.client_id,
        );
        let header =
            decode_header(token).map_err(|_| unauthorized("The access token is malformed."))?;
        if header.alg != Algorithm::RS256 {
            return Err(unauthorized("The access token is not signed with RS256."));
        }
        let kid = header
            .kid
            .ok_or_else(|| unauthorized("The access token names no signing key."))?;
        let mut d = self.discovered(false).await?;
        if d.jwks.find(&kid).is_none() {
            d = self.discovered(true).await?;
        }
        let jwk = d
            .jwks
            .find(&kid)
            .ok_or_else(|| unauthorized("The access token is signed by an unknown key."))?;
        let key = DecodingKey::from_jwk(jwk)
            .map_err(|_| unauthorized("The signing key cannot be used."))?;

        let portal = [client_id.to_string(), format!("api://{client_id}")];
        let requests: Vec<String> = self
            .settings
            .entra
            .requests_api_id
            .iter()
            .flat_map(|r| [r.clone(), format!("api://{r}")])
            .collect();
        let mut v = Validation::new(Algorithm::RS256);
        v.set_audience(&[&portal[..], &requests[..]].concat());
        v.set_issuer(&[self.issuer()]);
        v.set_required_spec_claims(&["exp", "iss", "aud"]);
        v.validate_nbf = true;
        v.leeway = 60;
        let data = decode::<AccessClaims>(token, &key, &v).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind as K;
            unauthorized(match e.kind() {
                K::ExpiredSignature => "The access token has expired.",
                K::ImmatureSignature => "The access token is not valid yet.",
                K::InvalidAudience => "The access token was issued for another audience.",
                K::InvalidIssuer => "The access token was issued by another issuer.",
                K::InvalidSignature => "The access token's signature is not valid.",
                _ => "The access token is not valid.",
            })
        })?;
        let c = data.claims;
        // A token for the requests API reaches only the caller's own requests (should a token
        // ever name both audiences, the narrower reach holds).
        let names = |list: &[String]| match &c.aud {
            serde_json::Value::String(a) => list.iter().any(|x| x.eq_ignore_ascii_case(a)),
            serde_json::Value::Array(all) => all
                .iter()
                .filter_map(|a| a.as_str())
                .any(|a| list.iter().any(|x| x.eq_ignore_ascii_case(a))),
            _ => false,
        };
        let reach = if names(&requests) {
            Reach::Requests
        } else {
            Reach::Portal
        };
        if c.tid
            .as_deref()
            .is_some_and(|t| !t.eq_ignore_ascii_case(tenant_id))
        {
            return Err(unauthorized("The access token belongs to another tenant."));
        }
        if c.scp.as_deref().unwrap_or("").trim().is_empty() {
            return Err(unauthorized(
                "The access token must be a delegated (user) token with a scope.",
            ));
        }
        let oid = c
            .oid
            .ok_or_else(|| unauthorized("The access token carries no object id (oid)."))?;
        let mut who =
            Principal::from_token(oid, c.name, c.preferred_username.or(c.upn), c.roles, c.acrs);
        who.reach = reach;
        Ok(who)
    }
}
