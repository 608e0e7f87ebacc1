//! A self-signed certificate with a new RSA key: the demo's credential, and the tests'.

use std::str::FromStr;
use std::time::SystemTime;

use rand::RngCore;
use rsa::RsaPrivateKey;
use rsa::pkcs8::{EncodePrivateKey, LineEnding};
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::der::EncodePem;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::time::{Time, Validity};

/// A certificate for `CN={common_name}` valid from `not_before` to `not_after`, and its private
/// key: both PEM (`CERTIFICATE`, PKCS#8 `PRIVATE KEY`). RSA 2048, signed SHA-256.
pub fn self_signed(
    common_name: &str,
    not_before: SystemTime,
    not_after: SystemTime,
) -> anyhow::Result<(String, String)> {
    let key = RsaPrivateKey::new(&mut rand::thread_rng(), 2048)?;
    let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(key.clone());
    let spki = SubjectPublicKeyInfoOwned::from_key(key.to_public_key())?;
    let validity = Validity {
        not_before: Time::try_from(not_before)?,
        not_after: Time::try_from(not_after)?,
    };
    let mut serial = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut serial);
    serial[0] &= 0x7f;
    serial[0] |= 0x01;
    let subject = Name::from_str(&format!("CN={common_name}"))?;
    let builder = CertificateBuilder::new(
        Profile::Root,
        SerialNumber::new(&serial)?,
        validity,
        subject,
        spki,
        &signer,
    )?;
    let cert = builder.build::<rsa::pkcs1v15::Signature>()?;
    let cert_pem = cert.to_pem(LineEnding::LF)?;
    let key_pem = key.to_pkcs8_pem(LineEnding::LF)?.to_string();
    Ok((cert_pem, key_pem))
}
