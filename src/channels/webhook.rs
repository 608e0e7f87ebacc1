//! Signing generic webhooks per the Standard Webhooks specification
//! (<https://www.standardwebhooks.com>): HMAC-SHA256 over `{id}.{timestamp}.{body}` with a shared
//! secret, sent in the `webhook-id`, `webhook-timestamp` and `webhook-signature` headers.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How secrets are shown to people: `whsec_` and the base64 of the key.
const PREFIX: &str = "whsec_";
/// Shortest key the specification allows (192 bits).
const MIN_LEN: usize = 24;
/// Longest key the specification allows (512 bits).
const MAX_LEN: usize = 64;

/// Standard base64 that takes secrets with or without their `=` padding.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The key a receiver shares with jitgate to check webhook signatures. Its `Debug` does not show
/// the key.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(Vec<u8>);

impl WebhookSecret {
    /// Reads `whsec_<base64>` (the prefix may be left out). The key must be 24 to 64 bytes long.
    pub fn parse(s: &str) -> Result<WebhookSecret, String> {
        let s = s.trim();
        let encoded = s.strip_prefix(PREFIX).unwrap_or(s);
        let key = LENIENT.decode(encoded).map_err(|_| {
            "the webhook secret is not valid: expected whsec_ followed by base64".to_string()
        })?;
        if key.len() < MIN_LEN || key.len() > MAX_LEN {
            return Err(format!(
                "the webhook secret is {} bytes long; Standard Webhooks secrets are {MIN_LEN} to {MAX_LEN} bytes (whsec_ and 32 to 88 base64 characters)",
                key.len()
            ));
        }
        Ok(WebhookSecret(key))
    }
}

impl std::str::FromStr for WebhookSecret {
    type Err = String;

    fn from_str(s: &str) -> Result<WebhookSecret, String> {
        WebhookSecret::parse(s)
    }
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(..)")
    }
}

/// The `webhook-signature` value for one message: `v1,` and the base64 HMAC-SHA256 of
/// `{msg_id}.{timestamp}.{payload}`. `payload` must be the exact bytes sent; `msg_id` must not
/// contain a full stop.
pub fn sign(secret: &WebhookSecret, msg_id: &str, timestamp: i64, payload: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(&secret.0).expect("HMAC takes keys of any length");
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    let digest = mac.finalize().into_bytes();
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// The three Standard Webhooks headers for one attempt: `webhook-id` (`msg_id`, the same on every
/// attempt of one message, so receivers can drop repeats), `webhook-timestamp` (`timestamp`, Unix
/// seconds of this attempt) and `webhook-signature`.
pub fn headers(
    secret: &WebhookSecret,
    msg_id: &str,
    timestamp: i64,
    payload: &[u8],
) -> Vec<(String, String)> {
    vec![
        ("webhook-id".to_owned(), msg_id.to_owned()),
        ("webhook-timestamp".to_owned(), timestamp.to_string()),
        (
            "webhook-signature".to_owned(),
            sign(secret, msg_id, timestamp, payload),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The signing test of the specification's JavaScript library
    /// (standard-webhooks, libraries/javascript/src/webhook.test.ts, "sign function works").
    #[test]
    fn signature_matches_the_reference_vector() {
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            sign(
                &secret,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    /// The signing test of the specification's Rust library (libraries/rust/src/lib.rs, `test_sign`).
    #[test]
    fn signature_matches_the_rust_library_vector() {
        let secret = WebhookSecret::parse("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
        assert_eq!(
            sign(
                &secret,
                "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
                1649367553,
                br#"{"email":"test@example.com","username":"test_user"}"#
            ),
            "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
        );
    }

    #[test]
    fn the_prefix_is_optional() {
        let with = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let without = WebhookSecret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(with, without);
        assert_eq!(
            "  whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n"
                .parse::<WebhookSecret>()
                .unwrap(),
            with
        );
    }

    #[test]
    fn padding_is_optional() {
        // 25 bytes: base64 ends with "==".
        let padded = base64::engine::general_purpose::STANDARD.encode([7u8; 25]);
        assert!(padded.ends_with("=="));
        let a = WebhookSecret::parse(&padded).unwrap();
        let b = WebhookSecret::parse(padded.trim_end_matches('=')).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn short_long_and_garbled_secrets_are_refused() {
        let short = format!(
            "whsec_{}",
            base64::engine::general_purpose::STANDARD.encode([1u8; 23])
        );
        let e = WebhookSecret::parse(&short).unwrap_err();
        assert!(e.contains("23 bytes"), "{e}");
        assert!(e.contains("24 to 64 bytes"), "{e}");
        let long = base64::engine::general_purpose::STANDARD.encode([1u8; 65]);
        assert!(WebhookSecret::parse(&long).is_err());
        let longest = base64::engine::general_purpose::STANDARD.encode([1u8; 64]);
        assert!(WebhookSecret::parse(&longest).is_ok());
        for bad in ["", "whsec_", "whsec_not base64!", "whsec_%%%%"] {
            let e = WebhookSecret::parse(bad).unwrap_err();
            assert!(!e.is_empty());
        }
    }

    #[test]
    fn debug_does_not_show_the_key() {
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let shown = format!("{secret:?}");
        assert_eq!(shown, "WebhookSecret(..)");
        assert!(!shown.contains("MfKQ"));
    }

    #[test]
    fn headers_carry_id_timestamp_and_signature() {
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        let h = headers(&secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        assert_eq!(
            h,
            vec![
                (
                    "webhook-id".to_owned(),
                    "msg_p5jXN8AQM9LWM0D4loKWxJek".to_owned()
                ),
                ("webhook-timestamp".to_owned(), "1614265330".to_owned()),
                (
                    "webhook-signature".to_owned(),
                    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=".to_owned()
                ),
            ]
        );
        // Any change to the body changes the signature.
        let other = sign(
            &secret,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232315}"#,
        );
        assert_ne!(other, h[2].1);
    }

    mod properties {
        use base64::Engine as _;
        use hmac::{Hmac, Mac};
        use proptest::prelude::*;
        use sha2::Sha256;

        use super::{WebhookSecret, sign};

        fn encoded_len(text: &str) -> usize {
            text.trim_start_matches("whsec_").len()
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(128))]

            /// What the `webhook` fuzz target checks: a key of 24 to 64 bytes is taken with or
            /// without `whsec_` and padding, others are refused, and the signature is the one a
            /// receiver computes on its own.
            #[test]
            fn secrets_and_signatures(
                key in proptest::collection::vec(any::<u8>(), 0..80),
                prefixed in any::<bool>(),
                padded in any::<bool>(),
                msg_id in "[A-Za-z0-9_]{0,30}",
                timestamp in any::<i64>(),
                payload in proptest::collection::vec(any::<u8>(), 0..200),
            ) {
                let mut encoded = base64::engine::general_purpose::STANDARD.encode(&key);
                if !padded {
                    encoded = encoded.trim_end_matches('=').to_string();
                }
                let text = if prefixed { format!("whsec_{encoded}") } else { encoded };
                match WebhookSecret::parse(&text) {
                    Ok(secret) => {
                        prop_assert!((24..=64).contains(&key.len()));
                        let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
                        mac.update(format!("{msg_id}.{timestamp}.").as_bytes());
                        mac.update(&payload);
                        let expected = format!(
                            "v1,{}",
                            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
                        );
                        prop_assert_eq!(sign(&secret, &msg_id, timestamp, &payload), expected);
                    }
                    Err(e) => {
                        prop_assert!(!(24..=64).contains(&key.len()), "{}", e);
                        // The secret never shows in the error.
                        if encoded_len(&text) >= 8 {
                            prop_assert!(!e.contains(&text));
                        }
                    }
                }
            }
        }
    }
}
