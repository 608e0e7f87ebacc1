//! Webhook signatures: the Standard Webhooks secret and signature of notification webhooks
//! (`channels::webhook`), and the signed anchors of the audit chain (`Anchor`), written and read
//! back as the anchor file and webhook receivers keep them.
//!
//! Input: fields separated by NUL bytes: the webhook secret, the message id, the timestamp,
//! the payload, then anchor fields (seq, hash, at, keyed_from, audit key).
//! Checked: nothing panics; the configuration accepts exactly the secrets the sender can use;
//! a signature is `v1,` and the base64 HMAC-SHA256 that a receiver computes on its own; an anchor
//! read back from its line verifies with its key, and with no other key, and stops verifying
//! when any field it signs changes.

#![no_main]

use base64::Engine as _;
use hmac::{Hmac, Mac};
use jitgate::channels::WebhookSecret;
use jitgate::channels::webhook::sign;
use jitgate::config::Settings;
use jitgate::domain::audit::{Anchor, ChainKey};
use jitgate::service::audit::read_anchor_lines;
use libfuzzer_sys::fuzz_target;
use sha2::Sha256;

const CONFIG: &str = r#"
[server]
public_url = "https://jit.contoso.example"
[database]
url = "sqlite::memory:"
[entra]
tenant_id = "72f988bf-86f1-41af-91ab-2d7cd011db47"
client_id = "c"
client_secret = "s"
[notify]
webhook_url = "https://siem.contoso.example/jitgate"
[[package]]
id = "p"
name = "P"
group_id = "5a1f3f3e-6a4b-4d5e-9a8b-1c2d3e4f5a6b"
min_duration = "15m"
default_duration = "1h"
max_duration = "2h"
"#;

/// What a receiver does: strip `whsec_`, decode the base64, HMAC the message.
fn receiver_signature(key: &[u8], msg_id: &str, timestamp: i64, payload: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(format!("{msg_id}.{timestamp}.").as_bytes());
    mac.update(payload);
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

fn secret_key(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    let b64 = s.strip_prefix("whsec_").unwrap_or(s);
    let lenient = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    lenient.decode(b64).ok()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut f = text.split('\0');
    let mut next = || f.next().unwrap_or("");
    let (secret, msg_id, timestamp, payload) = (next(), next(), next(), next());
    let (seq, hash, at, keyed_from, audit_key) = (next(), next(), next(), next(), next());

    // The secret: the configuration and the sender agree on which they take.
    let parsed = WebhookSecret::parse(secret);
    let configured = Settings::from_toml(
        CONFIG,
        [(
            "JITGATE_NOTIFY__WEBHOOK_SECRET".to_string(),
            secret.to_string(),
        )],
    );
    assert_eq!(
        parsed.is_ok(),
        configured.is_ok(),
        "the sender says {parsed:?}, the configuration {:?}",
        configured.as_ref().err()
    );
    if let Ok(s) = &parsed {
        let key = secret_key(secret).expect("a secret the sender takes decodes");
        let timestamp: i64 = timestamp.trim().parse().unwrap_or(1_614_265_330);
        let sig = sign(s, msg_id, timestamp, payload.as_bytes());
        assert_eq!(sig, receiver_signature(&key, msg_id, timestamp, payload.as_bytes()));
        assert_eq!(sig.len(), 3 + 44);
    }

    // An anchor, signed, written as a line and read back.
    let key = ChainKey::new(audit_key.as_bytes());
    let other = ChainKey::new(format!("{audit_key}x").as_bytes());
    let seq: i64 = seq.trim().parse().unwrap_or(1);
    let keyed_from: Option<i64> = keyed_from.trim().parse().ok();
    let at = chrono::DateTime::parse_from_rfc3339(at.trim())
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or_default();
    let a = Anchor::new(seq, hash, at, keyed_from, Some(&key));
    let line = serde_json::to_string(&a).unwrap();
    assert!(!line.contains('\n'));
    let back = read_anchor_lines(&line, "fuzz").expect("an anchor line reads back");
    assert_eq!(back.len(), 1);
    let b = &back[0].anchor;
    assert_eq!(b, &a);
    assert!(b.signed_by(&key));
    assert!(!b.signed_by(&other));
    let mut changed = b.clone();
    changed.seq = changed.seq.wrapping_add(1);
    assert!(!changed.signed_by(&key), "seq");
    let mut changed = b.clone();
    changed.hash.push('0');
    assert!(!changed.signed_by(&key), "hash");
    let mut changed = b.clone();
    changed.keyed_from = match changed.keyed_from {
        None => Some(1),
        Some(k) => Some(k.wrapping_add(1)),
    };
    assert!(!changed.signed_by(&key), "keyed_from");

    // Whatever the anchor lines hold, reading them never panics.
    let _ = read_anchor_lines(payload, "fuzz");
});
