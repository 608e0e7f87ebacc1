//! Client assertions (RFC 7523, `client_assertion_type=…jwt-bearer`) of the portal's
//! registration, checked as Entra does: one signed with an uploaded certificate's key (found by
//! the header's `x5t#S256`, `PS256` or `RS256`), or a federated token matching a federated
//! identity credential (issuer, subject, audience) and signed by its issuer.

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use rsa::RsaPublicKey;
use rsa::pkcs1::EncodeRsaPublicKey;
use rsa::pkcs8::DecodePublicKey;
use serde_json::Value;
use sha2::{Digest, Sha256};
use x509_cert::Certificate;
use x509_cert::der::{DecodePem, Encode};

use super::errors::{TokenError, terr};
use crate::emulator::tenant::Emulator;

fn invalid_client(code: u32, message: impl Into<String>) -> TokenError {
    terr(StatusCode::UNAUTHORIZED, "invalid_client", code, message)
}

/// An uploaded certificate: its SHA-256 thumbprint, validity and key.
struct Uploaded {
    thumbprint: String,
    not_before: i64,
    not_after: i64,
    key: DecodingKey,
}

fn uploaded(pem: &str) -> Option<Uploaded> {
    // Only the certificate is uploaded, whatever else the file holds.
    const END: &str = "-----END CERTIFICATE-----";
    let start = pem.find("-----BEGIN CERTIFICATE-----")?;
    let stop = pem[start..].find(END)? + start + END.len();
    let cert = Certificate::from_pem(&pem.as_bytes()[start..stop]).ok()?;
    let der = cert.to_der().ok()?;
    let spki = cert.tbs_certificate.subject_public_key_info.to_der().ok()?;
    let public = RsaPublicKey::from_public_key_der(&spki).ok()?;
    let pkcs1 = public.to_pkcs1_der().ok()?;
    let v = &cert.tbs_certificate.validity;
    Some(Uploaded {
        thumbprint: URL_SAFE_NO_PAD.encode(Sha256::digest(&der)),
        not_before: v.not_before.to_unix_duration().as_secs() as i64,
        not_after: v.not_after.to_unix_duration().as_secs() as i64,
        key: DecodingKey::from_rsa_der(pkcs1.as_bytes()),
    })
}

/// A key given as PEM (SPKI `PUBLIC KEY` or PKCS#1 `RSA PUBLIC KEY`).
fn public_key(pem: &str) -> Option<DecodingKey> {
    DecodingKey::from_rsa_pem(pem.as_bytes()).ok()
}

/// Signature only; lifetime and claims are checked here after, for Entra's own messages.
fn signed_by(token: &str, key: &DecodingKey, alg: Algorithm) -> Option<Value> {
    let mut v = Validation::new(alg);
    v.validate_exp = false;
    v.validate_nbf = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    jsonwebtoken::decode::<Value>(token, key, &v)
        .ok()
        .map(|d| d.claims)
}

fn lifetime(claims: &Value) -> Result<(), TokenError> {
    let now = chrono::Utc::now().timestamp();
    let exp = claims["exp"].as_i64();
    let nbf = claims["nbf"].as_i64().unwrap_or(i64::MIN);
    // Entra allows five minutes of clock skew.
    if exp.is_none_or(|e| e + 300 < now) || nbf - 300 > now {
        return Err(invalid_client(
            700024,
            "Client assertion is not within its valid time range.",
        ));
    }
    Ok(())
}

/// Checks `assertion` for the app `client_id`, presented at the token endpoint of `tenant`.
pub(super) fn verify(
    emu: &Emulator,
    tenant: &str,
    client_id: &str,
    assertion: &str,
) -> Result<(), TokenError> {
    let header = jsonwebtoken::decode_header(assertion).map_err(|_| {
        terr(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            50027,
            "JWT token is invalid or malformed.",
        )
    })?;
    if !matches!(header.alg, Algorithm::RS256 | Algorithm::PS256) {
        return Err(invalid_client(
            5002738,
            format!(
                "Invalid JWT token. '{:?}' is not a supported signature algorithm.",
                header.alg
            ),
        ));
    }
    match header.x5t_s256.as_deref().or(header.x5t.as_deref()) {
        Some(thumbprint) => certificate(emu, tenant, client_id, assertion, thumbprint, header.alg),
        None => federated(emu, assertion, header.alg),
    }
}

fn certificate(
    emu: &Emulator,
    tenant: &str,
    client_id: &str,
    assertion: &str,
    thumbprint: &str,
    alg: Algorithm,
) -> Result<(), TokenError> {
    let not_found = |reason: &str| {
        invalid_client(
            700027,
            format!(
                "Client assertion contains an invalid signature. [Reason - {reason}, Thumbprint of key used by client: '{thumbprint}', Found key 'Start=…, End=…'; please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{client_id}'.]"
            ),
        )
    };
    let cert = emu
        .config()
        .certificates
        .iter()
        .filter_map(|pem| uploaded(pem))
        .find(|c| c.thumbprint == thumbprint.trim_end_matches('='))
        .ok_or_else(|| not_found("The key was not found."))?;
    let now = chrono::Utc::now().timestamp();
    if now > cert.not_after || now < cert.not_before {
        return Err(not_found("The key used is expired."));
    }
    let claims = signed_by(assertion, &cert.key, alg)
        .ok_or_else(|| not_found("The signature is not valid."))?;
    for claim in ["iss", "sub"] {
        if claims[claim].as_str() != Some(client_id) {
            return Err(invalid_client(
                700021,
                "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials.",
            ));
        }
    }
    let base = emu.base_url();
    let accepted =
        [tenant, emu.config().tenant_id.as_str()].map(|t| format!("{base}/{t}/oauth2/v2.0/token"));
    let aud = claims["aud"].as_str().unwrap_or("");
    if !accepted.iter().any(|a| a.eq_ignore_ascii_case(aud)) {
        return Err(invalid_client(
            700023,
            format!(
                "Client assertion audience claim does not match Realm issuer. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials. Audience: '{aud}'."
            ),
        ));
    }
    if claims["jti"].as_str().is_none_or(str::is_empty) {
        return Err(invalid_client(
            700020,
            "Client assertion must contain a 'jti' claim.",
        ));
    }
    lifetime(&claims)
}

fn federated(emu: &Emulator, assertion: &str, alg: Algorithm) -> Result<(), TokenError> {
    let payload = assertion
        .split('.')
        .nth(1)
        .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .unwrap_or(Value::Null);
    let text = |k: &str| payload[k].as_str().unwrap_or("").to_string();
    let (iss, sub) = (text("iss"), text("sub"));
    let aud = match &payload["aud"] {
        Value::Array(a) => a.first().and_then(Value::as_str).unwrap_or("").to_string(),
        v => v.as_str().unwrap_or("").to_string(),
    };
    let no_match = || {
        terr(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            70021,
            format!(
                "No matching federated identity record found for presented assertion. Assertion Issuer: '{iss}'. Assertion Subject: '{sub}'. Assertion Audience: '{aud}'."
            ),
        )
    };
    let fic = emu
        .config()
        .federated_credentials
        .iter()
        .find(|f| f.issuer == iss && f.subject == sub && f.audience == aud)
        .ok_or_else(no_match)?;
    let signed = match &fic.public_key_pem {
        Some(pem) => public_key(pem).and_then(|k| signed_by(assertion, &k, alg)),
        None if iss == emu.issuer() => emu.inner.key.verify(assertion).ok(),
        None => None,
    };
    let claims = signed.ok_or_else(|| {
        invalid_client(
            700211,
            format!("The federated token from issuer '{iss}' has no valid signature from the issuer's keys."),
        )
    })?;
    lifetime(&claims)
}
