//! RSA signing keys of the emulated tenant: token signing, verification and the JWKS entry.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rsa::RsaPrivateKey;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// One RS256 key pair with an Entra-style key id.
pub(crate) struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    n: String,
    e: String,
}

impl SigningKey {
    /// Generates a fresh 2048-bit key. Slow (CPU bound): call it from a blocking context.
    pub(crate) fn generate() -> anyhow::Result<Self> {
        let private = RsaPrivateKey::new(&mut rand::thread_rng(), 2048)?;
        let der = private.to_pkcs1_der()?;
        let encoding = EncodingKey::from_rsa_der(der.as_bytes());
        let n_bytes = private.n().to_bytes_be();
        let e_bytes = private.e().to_bytes_be();
        let n = URL_SAFE_NO_PAD.encode(&n_bytes);
        let e = URL_SAFE_NO_PAD.encode(&e_bytes);
        let decoding = DecodingKey::from_rsa_components(&n, &e)?;
        // Entra key ids look like a base64url SHA-1 thumbprint (27 characters); 20 bytes of a
        // SHA-256 over the modulus give the same shape.
        let digest = Sha256::digest(&n_bytes);
        let kid = URL_SAFE_NO_PAD.encode(&digest[..20]);
        Ok(Self {
            kid,
            encoding,
            decoding,
            n,
            e,
        })
    }

    /// Signs `claims` as an RS256 JWT with `typ` and `kid` in the header.
    pub(crate) fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.typ = Some("JWT".to_owned());
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding)
            .expect("RS256 signing with a freshly generated key cannot fail")
    }

    /// Verifies the signature only; lifetime, audience and issuer are checked by the caller so
    /// that it can answer with Graph's own messages.
    pub(crate) fn verify(&self, token: &str) -> Result<Value, jsonwebtoken::errors::Error> {
        let header = jsonwebtoken::decode_header(token)?;
        if header.kid.as_deref() != Some(self.kid.as_str()) {
            return Err(jsonwebtoken::errors::ErrorKind::InvalidSignature.into());
        }
        let mut validation = Validation::new(Algorithm::RS256);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        jsonwebtoken::decode::<Value>(token, &self.decoding, &validation).map(|data| data.claims)
    }

    /// The JWKS entry, shaped like Entra's: `kid` == `x5t`, `use: sig`, no `alg`.
    pub(crate) fn jwk(&self, issuer: &str) -> Value {
        json!({
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "x5t": self.kid,
            "n": self.n,
            "e": self.e,
            "cloud_instance_name": "microsoftonline.com",
            "issuer": issuer,
        })
    }
}
