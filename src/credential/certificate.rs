//! The certificate credential: the certificate (PEM) and its RSA private key (in the same file or
//! in `private_key_path`), read again whenever either file changes so that a rotated certificate
//! is used without a restart, and the client assertion signed with it as Entra documents it:
//! header `PS256` with the certificate's `x5t#S256`; `aud` the token endpoint, `iss` = `sub` =
//! the client id, a unique `jti`, `nbf` now and `exp` five minutes on.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::{RsaPrivateKey, RsaPublicKey};
use secrecy::SecretString;
use sha2::{Digest, Sha256};
use x509_cert::Certificate;
use x509_cert::der::{DecodePem, Encode};

use super::{CredentialError, fatal};
use crate::config::EntraCredential;

/// How long an assertion is good for.
const ASSERTION_LIFETIME_SECS: i64 = 300;

/// What the portal knows of a certificate.
#[derive(Clone, Debug)]
pub struct CertificateInfo {
    /// base64url(SHA-256 of the DER): the `x5t#S256` header.
    pub thumbprint_s256: String,
    /// The same SHA-256 thumbprint in upper-case hex, as people read it.
    pub thumbprint_hex: String,
    pub subject: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    pub public_key: RsaPublicKey,
    pub der: Vec<u8>,
}

/// The first `-----BEGIN {label}-----` block of `pem`, whole.
fn block<'a>(pem: &'a str, label: &str) -> Option<&'a str> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin)?;
    let stop = pem[start..].find(&end)? + start + end.len();
    Some(&pem[start..stop])
}

/// Reads the first certificate of a PEM text.
pub fn read_certificate(pem: &str) -> Result<CertificateInfo, String> {
    let block = block(pem, "CERTIFICATE").ok_or("holds no PEM certificate (BEGIN CERTIFICATE)")?;
    let cert = Certificate::from_pem(block.as_bytes())
        .map_err(|e| format!("holds a certificate that cannot be read: {e}"))?;
    let der = cert
        .to_der()
        .map_err(|e| format!("holds a certificate that cannot be read: {e}"))?;
    let tbs = &cert.tbs_certificate;
    let time = |t: x509_cert::time::Time| {
        DateTime::<Utc>::from_timestamp(t.to_unix_duration().as_secs() as i64, 0)
            .unwrap_or_default()
    };
    let spki = tbs
        .subject_public_key_info
        .to_der()
        .map_err(|e| format!("holds a certificate whose key cannot be read: {e}"))?;
    let public_key = RsaPublicKey::from_public_key_der(&spki)
        .map_err(|_| "holds a certificate whose key is not RSA (Entra's assertions are RSA)")?;
    let digest = Sha256::digest(&der);
    Ok(CertificateInfo {
        thumbprint_s256: URL_SAFE_NO_PAD.encode(digest),
        thumbprint_hex: hex::encode_upper(digest),
        subject: tbs.subject.to_string(),
        not_before: time(tbs.validity.not_before),
        not_after: time(tbs.validity.not_after),
        public_key,
        der,
    })
}

/// Reads an RSA private key (PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`) from a PEM text.
fn read_key(pem: &str) -> Result<RsaPrivateKey, String> {
    if block(pem, "ENCRYPTED PRIVATE KEY").is_some() {
        return Err(
            "holds an encrypted private key; give it unencrypted (file permissions protect it)"
                .into(),
        );
    }
    if let Some(b) = block(pem, "PRIVATE KEY") {
        return RsaPrivateKey::from_pkcs8_pem(b)
            .map_err(|_| "holds a private key that is not a readable RSA key".into());
    }
    if let Some(b) = block(pem, "RSA PRIVATE KEY") {
        use rsa::pkcs1::DecodeRsaPrivateKey;
        return RsaPrivateKey::from_pkcs1_pem(b)
            .map_err(|_| "holds a private key that is not a readable RSA key".into());
    }
    Err("holds no private key (BEGIN PRIVATE KEY); put it in the same file or set entra.private_key_path".into())
}

struct Loaded {
    info: CertificateInfo,
    key: EncodingKey,
}

/// When a file was last written and how long it is: reading it again is due when either changes.
type Stamp = Vec<(Option<SystemTime>, u64)>;

/// The certificate's files, and what was read of them.
pub(super) struct CertificateFiles {
    paths: Option<(PathBuf, Option<PathBuf>)>,
    cache: Mutex<Option<(Stamp, Arc<Loaded>)>>,
}

impl CertificateFiles {
    pub(super) fn new(kind: &EntraCredential) -> CertificateFiles {
        let paths = match kind {
            EntraCredential::Certificate {
                certificate_path,
                private_key_path,
            } => Some((certificate_path.clone(), private_key_path.clone())),
            _ => None,
        };
        CertificateFiles {
            paths,
            cache: Mutex::new(None),
        }
    }

    fn files(&self) -> Result<Vec<&Path>, CredentialError> {
        let (cert, key) = self
            .paths
            .as_ref()
            .ok_or_else(|| fatal("no certificate is configured"))?;
        Ok(std::iter::once(cert.as_path())
            .chain(key.as_deref())
            .collect())
    }

    fn load(&self) -> Result<Arc<Loaded>, CredentialError> {
        let files = self.files()?;
        let stamp: Stamp = files
            .iter()
            .map(|p| {
                std::fs::metadata(p)
                    .map(|m| (m.modified().ok(), m.len()))
                    .map_err(|e| {
                        fatal(format!(
                            "cannot read the certificate file {}: {e}",
                            p.display()
                        ))
                    })
            })
            .collect::<Result<_, _>>()?;
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((seen, loaded)) = cache.as_ref()
            && *seen == stamp
        {
            return Ok(loaded.clone());
        }
        let read = |p: &Path| {
            std::fs::read_to_string(p).map_err(|e| {
                fatal(format!(
                    "cannot read the certificate file {}: {e}",
                    p.display()
                ))
            })
        };
        let cert_path = files[0];
        let cert_text = read(cert_path)?;
        let info = read_certificate(&cert_text).map_err(|e| {
            fatal(format!(
                "{} (entra.certificate_path) {e}",
                cert_path.display()
            ))
        })?;
        let key_path = files.get(1).copied().unwrap_or(cert_path);
        let key_text = if key_path == cert_path {
            cert_text
        } else {
            read(key_path)?
        };
        let key = read_key(&key_text).map_err(|e| fatal(format!("{} {e}", key_path.display())))?;
        if RsaPublicKey::from(&key) != info.public_key {
            return Err(fatal(format!(
                "the private key in {} does not belong to the certificate in {} (thumbprint {})",
                key_path.display(),
                cert_path.display(),
                info.thumbprint_hex
            )));
        }
        let der = key
            .to_pkcs1_der()
            .map_err(|_| fatal("the private key cannot be used for signing"))?;
        let loaded = Arc::new(Loaded {
            info,
            key: EncodingKey::from_rsa_der(der.as_bytes()),
        });
        if cache.is_some() {
            tracing::info!(thumbprint = %loaded.info.thumbprint_hex, "the certificate file changed; the new one is in use");
        }
        *cache = Some((stamp, loaded.clone()));
        Ok(loaded)
    }

    pub(super) fn info(&self) -> Result<CertificateInfo, CredentialError> {
        Ok(self.load()?.info.clone())
    }

    /// A fresh assertion for `client_id` at the token endpoint `token_url`.
    pub(super) fn assertion(
        &self,
        client_id: &str,
        token_url: &str,
    ) -> Result<SecretString, CredentialError> {
        let loaded = self.load()?;
        let info = &loaded.info;
        let now = Utc::now();
        if now >= info.not_after {
            return Err(fatal(format!(
                "the certificate (thumbprint {}) expired on {}: upload a new one to the app registration and put it in entra.certificate_path",
                info.thumbprint_hex,
                info.not_after.format("%Y-%m-%d %H:%M UTC")
            )));
        }
        if now < info.not_before {
            return Err(fatal(format!(
                "the certificate (thumbprint {}) is not valid before {}",
                info.thumbprint_hex,
                info.not_before.format("%Y-%m-%d %H:%M UTC")
            )));
        }
        let mut header = Header::new(Algorithm::PS256);
        header.typ = Some("JWT".into());
        header.x5t_s256 = Some(info.thumbprint_s256.clone());
        let now = now.timestamp();
        let claims = serde_json::json!({
            "aud": token_url,
            "iss": client_id,
            "sub": client_id,
            "jti": uuid::Uuid::new_v4().to_string(),
            "iat": now,
            "nbf": now,
            "exp": now + ASSERTION_LIFETIME_SECS,
        });
        jsonwebtoken::encode(&header, &claims, &loaded.key)
            .map(SecretString::from)
            .map_err(|e| fatal(format!("signing the client assertion failed: {e}")))
    }
}
