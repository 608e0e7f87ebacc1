//! A claims challenge, as Microsoft's APIs send it when a token lacks what a call needs (a
//! Conditional Access authentication context, for jitgate's step-up): 401 with
//! `WWW-Authenticate: Bearer realm="…", authorization_uri="…", error="insufficient_claims",
//! claims="<base64 of a claims request>"`. The client decodes the claims request and signs in
//! again passing it as the `claims` parameter.

use base64::Engine;

/// The claims request (JSON) a `WWW-Authenticate` value carries, when it is an
/// `insufficient_claims` challenge with a readable `claims`; `None` otherwise.
pub fn claims_of(www_authenticate: &str) -> Option<String> {
    let params = bearer_params(www_authenticate)?;
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    if get("error") != Some("insufficient_claims") {
        return None;
    }
    let encoded = get("claims")?.trim();
    // Entra pads standard base64; take unpadded and URL-safe forms too.
    let standard = encoded.replace('-', "+").replace('_', "/");
    let unpadded = standard.trim_end_matches('=');
    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(unpadded)
        .ok()?;
    let json = String::from_utf8(bytes).ok()?;
    // It must be a JSON object to be sent on as a claims request.
    match serde_json::from_str::<serde_json::Value>(&json) {
        Ok(serde_json::Value::Object(_)) => Some(json),
        _ => None,
    }
}

/// The `name="value"` (or `name=token`) parameters of a `Bearer` challenge.
fn bearer_params(header: &str) -> Option<Vec<(String, String)>> {
    let rest = header.trim();
    let (scheme, mut rest) = rest.split_once(char::is_whitespace)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let mut out = Vec::new();
    loop {
        rest = rest.trim_start_matches(|c: char| c == ',' || c.is_whitespace());
        if rest.is_empty() {
            return Some(out);
        }
        let (name, after) = rest.split_once('=')?;
        let after = after.trim_start();
        let (value, remaining) = if let Some(quoted) = after.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, escaped)) = chars.next() {
                            value.push(escaped);
                        }
                    }
                    '"' => {
                        end = Some(i + 1);
                        break;
                    }
                    c => value.push(c),
                }
            }
            (value, &quoted[end?..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_string(), &after[end..])
        };
        out.push((name.trim().to_string(), value));
        rest = remaining;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_challenges_are_read_as_microsoft_sends_them() {
        // Microsoft's documented example.
        let documented = r#"Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="insufficient_claims", claims="eyJhY2Nlc3NfdG9rZW4iOnsiYWNycyI6eyJlc3NlbnRpYWwiOnRydWUsInZhbHVlIjoiY3AxIn19fQ==""#;
        assert_eq!(
            claims_of(documented).as_deref(),
            Some(r#"{"access_token":{"acrs":{"essential":true,"value":"cp1"}}}"#)
        );
        // Unpadded, other order, another case of the scheme.
        let unpadded = r#"bearer claims="eyJhY2Nlc3NfdG9rZW4iOnsiYWNycyI6eyJlc3NlbnRpYWwiOnRydWUsInZhbHVlIjoiYzEifX19", error="insufficient_claims""#;
        assert!(claims_of(unpadded).unwrap().contains("\"c1\""));
        // Not a claims challenge.
        for other in [
            r#"Bearer error="invalid_token""#,
            r#"Bearer error="insufficient_claims""#,
            r#"Basic realm="x""#,
            r#"Bearer error="insufficient_claims", claims="not base64!""#,
            // Base64 of something that is not a JSON object.
            r#"Bearer error="insufficient_claims", claims="WyJjMSJd""#,
            r#"Bearer error="insufficient_claims", claims="unterminated"#,
            "",
        ] {
            assert_eq!(claims_of(other), None, "{other}");
        }
    }
}
