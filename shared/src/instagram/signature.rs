//! Authentication of Instagram webhook POSTs: the `X-Hub-Signature-256` header.
//!
//! Meta signs the raw request body with HMAC-SHA256 and sends `sha256=<64 hex digits>`. Which
//! secret signs (the Meta app secret or the Instagram app secret) depends on how the app was set
//! up, so every configured secret is tried. The comparison is constant time
//! (`hmac::Mac::verify_slice`). The body must be the exact bytes received: verify before any
//! JSON parsing or re-encoding.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Name of the header carrying the signature.
pub const SIGNATURE_HEADER: &str = "X-Hub-Signature-256";

const PREFIX: &str = "sha256=";

/// Why a webhook signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No `X-Hub-Signature-256` header (or an empty one).
    #[error("missing X-Hub-Signature-256 header")]
    Missing,
    /// Not `sha256=` followed by 64 hex digits (e.g. the legacy `sha1=` header).
    #[error("malformed X-Hub-Signature-256 header")]
    Malformed,
    /// Well formed, but no configured secret produces it.
    #[error("webhook signature does not match")]
    Mismatch,
    /// No (non-empty) secret configured: nothing can be verified. A configuration error.
    #[error("no webhook secret configured")]
    NoSecretConfigured,
}

/// Checks `header` (the value of `X-Hub-Signature-256`) against HMAC-SHA256(`raw_body`) under
/// each of `secrets`; `Ok` when any of them matches. Empty secrets are ignored (an empty HMAC
/// key would let anyone sign). The hex digits may be upper or lower case.
pub fn verify_webhook_signature(
    raw_body: &[u8],
    header: Option<&str>,
    secrets: &[&SecretString],
) -> Result<(), SignatureError> {
    let mut keys = secrets
        .iter()
        .map(|s| s.expose_secret().as_bytes())
        .filter(|k| !k.is_empty())
        .peekable();
    if keys.peek().is_none() {
        return Err(SignatureError::NoSecretConfigured);
    }

    let header = header.map(str::trim).unwrap_or("");
    if header.is_empty() {
        return Err(SignatureError::Missing);
    }
    let expected = decode_signature(header)?;

    for key in keys {
        let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length");
        mac.update(raw_body);
        if mac.verify_slice(&expected).is_ok() {
            return Ok(());
        }
    }
    Err(SignatureError::Mismatch)
}

/// The full `X-Hub-Signature-256` value (`sha256=<lowercase hex>`) Meta would send for `raw`
/// signed with `secret`. For tests, local tooling and the benchmark.
pub fn sign_webhook_body(raw: &[u8], secret: &SecretString) -> String {
    let mut mac = HmacSha256::new_from_slice(secret.expose_secret().as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(raw);
    let digest = mac.finalize().into_bytes();
    let mut out = String::with_capacity(PREFIX.len() + 64);
    out.push_str(PREFIX);
    for b in digest {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// `sha256=<64 hex>` → 32 bytes.
fn decode_signature(header: &str) -> Result<[u8; 32], SignatureError> {
    let prefix_ok = header
        .get(..PREFIX.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(PREFIX));
    if !prefix_ok {
        return Err(SignatureError::Malformed);
    }
    let hex = &header.as_bytes()[PREFIX.len()..];
    if hex.len() != 64 {
        return Err(SignatureError::Malformed);
    }
    let mut out = [0u8; 32];
    for (i, pair) in hex.chunks_exact(2).enumerate() {
        let hi = hex_val(pair[0]).ok_or(SignatureError::Malformed)?;
        let lo = hex_val(pair[1]).ok_or(SignatureError::Malformed)?;
        out[i] = (hi << 4) | lo;
    }
    Ok(out)
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"object":"instagram","entry":[{"id":"17841400000000000","time":1700000000000,"messaging":[]}]}"#;

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    #[test]
    fn known_vector() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let sig = sign_webhook_body(b"what do ya want for nothing?", &secret("Jefe"));
        assert_eq!(
            sig,
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn valid_with_either_of_two_secrets() {
        let meta = secret("meta-app-secret");
        let ig = secret("instagram-app-secret");
        for signer in [&meta, &ig] {
            let header = sign_webhook_body(BODY, signer);
            assert_eq!(
                verify_webhook_signature(BODY, Some(&header), &[&meta, &ig]),
                Ok(())
            );
            assert_eq!(
                verify_webhook_signature(BODY, Some(&header), &[&ig, &meta]),
                Ok(())
            );
        }
    }

    #[test]
    fn signed_with_unknown_secret_is_mismatch() {
        let header = sign_webhook_body(BODY, &secret("someone-else"));
        let (a, b) = (secret("meta-app-secret"), secret("instagram-app-secret"));
        assert_eq!(
            verify_webhook_signature(BODY, Some(&header), &[&a, &b]),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn well_formed_but_wrong_digest_is_mismatch() {
        let s = secret("meta-app-secret");
        let header = format!("sha256={}", "0".repeat(64));
        assert_eq!(
            verify_webhook_signature(BODY, Some(&header), &[&s]),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn missing_header() {
        let s = secret("meta-app-secret");
        assert_eq!(
            verify_webhook_signature(BODY, None, &[&s]),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify_webhook_signature(BODY, Some("  "), &[&s]),
            Err(SignatureError::Missing)
        );
    }

    #[test]
    fn sha1_prefix_is_malformed() {
        let s = secret("meta-app-secret");
        let good = sign_webhook_body(BODY, &s);
        let sha1 = good.replacen("sha256=", "sha1=", 1);
        assert_eq!(
            verify_webhook_signature(BODY, Some(&sha1), &[&s]),
            Err(SignatureError::Malformed)
        );
        // A real 40-digit sha1 value too.
        let sha1_real = format!("sha1={}", "a".repeat(40));
        assert_eq!(
            verify_webhook_signature(BODY, Some(&sha1_real), &[&s]),
            Err(SignatureError::Malformed)
        );
    }

    #[test]
    fn non_hex_wrong_length_and_bare_hex_are_malformed() {
        let s = secret("meta-app-secret");
        let good = sign_webhook_body(BODY, &s);
        let non_hex = format!("{}zz", &good[..good.len() - 2]);
        let short = &good[..good.len() - 2];
        let long = format!("{good}00");
        let bare = &good["sha256=".len()..];
        for bad in [
            non_hex.as_str(),
            short,
            long.as_str(),
            bare,
            "sha256=",
            "sha256",
        ] {
            assert_eq!(
                verify_webhook_signature(BODY, Some(bad), &[&s]),
                Err(SignatureError::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn uppercase_hex_and_surrounding_space_are_accepted() {
        let s = secret("meta-app-secret");
        let good = sign_webhook_body(BODY, &s);
        let upper = format!("sha256={}", good["sha256=".len()..].to_ascii_uppercase());
        assert_eq!(verify_webhook_signature(BODY, Some(&upper), &[&s]), Ok(()));
        assert_eq!(
            verify_webhook_signature(BODY, Some(&format!(" {good} ")), &[&s]),
            Ok(())
        );
        assert_eq!(
            verify_webhook_signature(BODY, Some(&good.replacen("sha256=", "SHA256=", 1)), &[&s]),
            Ok(())
        );
    }

    #[test]
    fn one_changed_byte_is_mismatch() {
        let s = secret("meta-app-secret");
        let header = sign_webhook_body(BODY, &s);
        for i in [0, BODY.len() / 2, BODY.len() - 1] {
            let mut body = BODY.to_vec();
            body[i] ^= 0x01;
            assert_eq!(
                verify_webhook_signature(&body, Some(&header), &[&s]),
                Err(SignatureError::Mismatch)
            );
        }
        // Appended byte (e.g. a re-serialised body with a trailing newline).
        let mut body = BODY.to_vec();
        body.push(b'\n');
        assert_eq!(
            verify_webhook_signature(&body, Some(&header), &[&s]),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn no_secret_configured() {
        let header = sign_webhook_body(BODY, &secret("x"));
        assert_eq!(
            verify_webhook_signature(BODY, Some(&header), &[]),
            Err(SignatureError::NoSecretConfigured)
        );
        // Empty secrets do not count as configured, even when the header was made with "".
        let empty = secret("");
        let header = sign_webhook_body(BODY, &empty);
        assert_eq!(
            verify_webhook_signature(BODY, Some(&header), &[&empty]),
            Err(SignatureError::NoSecretConfigured)
        );
        assert_eq!(
            verify_webhook_signature(BODY, None, &[]),
            Err(SignatureError::NoSecretConfigured)
        );
    }

    #[test]
    fn empty_secret_is_ignored_next_to_a_real_one() {
        let empty = secret("");
        let real = secret("meta-app-secret");
        let forged = sign_webhook_body(BODY, &empty);
        assert_eq!(
            verify_webhook_signature(BODY, Some(&forged), &[&empty, &real]),
            Err(SignatureError::Mismatch)
        );
        let good = sign_webhook_body(BODY, &real);
        assert_eq!(
            verify_webhook_signature(BODY, Some(&good), &[&empty, &real]),
            Ok(())
        );
    }

    #[test]
    fn empty_body_is_signed_too() {
        let s = secret("meta-app-secret");
        let header = sign_webhook_body(b"", &s);
        assert_eq!(verify_webhook_signature(b"", Some(&header), &[&s]), Ok(()));
        assert_eq!(
            verify_webhook_signature(b"{}", Some(&header), &[&s]),
            Err(SignatureError::Mismatch)
        );
    }
}
