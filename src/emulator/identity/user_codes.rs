//! The user codes of the device code flow: making a new one, reading one as people type it, and
//! finding the device code it stands for.

use rand::Rng;

use crate::emulator::grants::{DeviceFlows, DeviceGrant};

/// User codes: upper-case letters and digits without the ambiguous 0, O, 1, I and L.
const USER_CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
const USER_CODE_LEN: usize = 9;

/// Upper case, without spaces and dashes (people type codes in many ways).
pub(super) fn normalize_code(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// A user code no device code has yet.
pub(super) fn new_user_code(flows: &DeviceFlows) -> String {
    let mut rng = rand::thread_rng();
    loop {
        let code: String = (0..USER_CODE_LEN)
            .map(|_| char::from(USER_CODE_ALPHABET[rng.gen_range(0..USER_CODE_ALPHABET.len())]))
            .collect();
        if !flows.grants.values().any(|g| g.user_code == code) {
            return code;
        }
    }
}

/// The device code whose user code is `user_code`.
pub(super) fn by_user_code<'a>(
    flows: &'a mut DeviceFlows,
    user_code: &str,
) -> Option<(&'a String, &'a mut DeviceGrant)> {
    let code = normalize_code(user_code);
    if code.is_empty() {
        return None;
    }
    flows.grants.iter_mut().find(|(_, g)| g.user_code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_are_nine_unambiguous_characters() {
        let flows = DeviceFlows::default();
        for _ in 0..50 {
            let code = new_user_code(&flows);
            assert_eq!(code.len(), USER_CODE_LEN);
            assert!(
                code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b)),
                "{code}"
            );
            assert!(!code.contains(['0', 'O', '1', 'I', 'L']));
        }
    }

    #[test]
    fn codes_are_normalized() {
        assert_eq!(normalize_code(" abc-def ghj "), "ABCDEFGHJ");
    }
}
