//! Meta's `signed_request`, posted as a form field to the deauthorize and data-deletion
//! callbacks: `base64url(signature) "." base64url(payload)`, where signature =
//! HMAC-SHA256(payload segment as ASCII, app secret) and payload is JSON such as
//! `{"algorithm":"HMAC-SHA256","issued_at":1700000000,"user_id":"17841400000000000"}`.
//!
//! The signature is checked (constant time, against every configured secret) before the payload
//! is decoded, then the algorithm must be `HMAC-SHA256` (any case) and `user_id` present. Base64
//! padding is optional.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, URL_SAFE_NO_PAD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// base64url that accepts padded and unpadded input.
const B64URL_ANY_PAD: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// A verified `signed_request`.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedRequest {
    /// The Instagram/Meta user the callback is about (always a string; numbers are converted
    /// exactly).
    pub user_id: String,
    /// `issued_at` (Unix seconds) when present and an integer.
    pub issued_at: Option<i64>,
    /// The whole decoded payload.
    pub raw: Value,
}

/// Why a `signed_request` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignedRequestError {
    /// Not two non-empty base64url segments joined by a dot, or a signature of the wrong size.
    #[error("malformed signed_request: {0}")]
    Malformed(&'static str),
    /// No (non-empty) app secret configured.
    #[error("no app secret configured")]
    NoSecretConfigured,
    /// The signature does not match the payload under any configured secret.
    #[error("signed_request signature does not match")]
    BadSignature,
    /// The (authentic) payload is not a JSON object.
    #[error("signed_request payload is not a JSON object: {0}")]
    InvalidPayload(String),
    /// `algorithm` missing or not HMAC-SHA256.
    #[error("unsupported signed_request algorithm {0:?}")]
    UnsupportedAlgorithm(String),
    /// `user_id` missing, null, empty, or not a string / exact integer.
    #[error("signed_request payload has no usable user_id")]
    MissingUserId,
}

/// Verifies and decodes a `signed_request` form value against any of `secrets`.
pub fn parse_signed_request(
    value: &str,
    secrets: &[&SecretString],
) -> Result<SignedRequest, SignedRequestError> {
    let keys: Vec<&[u8]> = secrets
        .iter()
        .map(|s| s.expose_secret().as_bytes())
        .filter(|k| !k.is_empty())
        .collect();
    if keys.is_empty() {
        return Err(SignedRequestError::NoSecretConfigured);
    }

    let value = value.trim();
    let (sig_b64, payload_b64) = value
        .split_once('.')
        .ok_or(SignedRequestError::Malformed("no '.' separator"))?;
    if sig_b64.is_empty() || payload_b64.is_empty() {
        return Err(SignedRequestError::Malformed("empty segment"));
    }
    if payload_b64.contains('.') {
        return Err(SignedRequestError::Malformed("more than two segments"));
    }
    let sig = B64URL_ANY_PAD
        .decode(sig_b64)
        .map_err(|_| SignedRequestError::Malformed("signature is not base64url"))?;
    if sig.len() != 32 {
        return Err(SignedRequestError::Malformed("signature is not 32 bytes"));
    }

    let authentic = keys.iter().any(|key| {
        let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length");
        mac.update(payload_b64.as_bytes());
        mac.verify_slice(&sig).is_ok()
    });
    if !authentic {
        return Err(SignedRequestError::BadSignature);
    }

    let payload = B64URL_ANY_PAD
        .decode(payload_b64)
        .map_err(|_| SignedRequestError::Malformed("payload is not base64url"))?;
    let raw: Value = serde_json::from_slice(&payload)
        .map_err(|e| SignedRequestError::InvalidPayload(e.to_string()))?;
    let obj = raw
        .as_object()
        .ok_or_else(|| SignedRequestError::InvalidPayload("not an object".into()))?;

    match obj.get("algorithm") {
        Some(Value::String(a)) if a.eq_ignore_ascii_case("HMAC-SHA256") => {}
        Some(Value::String(a)) => return Err(SignedRequestError::UnsupportedAlgorithm(a.clone())),
        Some(other) => return Err(SignedRequestError::UnsupportedAlgorithm(other.to_string())),
        None => return Err(SignedRequestError::UnsupportedAlgorithm(String::new())),
    }

    let user_id = match obj.get("user_id") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_owned(),
        Some(Value::Number(n)) if n.is_u64() || n.is_i64() => n.to_string(),
        _ => return Err(SignedRequestError::MissingUserId),
    };
    let issued_at = match obj.get("issued_at") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };

    Ok(SignedRequest {
        user_id,
        issued_at,
        raw,
    })
}

/// Builds a `signed_request` the way Meta does (unpadded base64url). For tests and local tooling.
pub fn make_signed_request(payload: &Value, secret: &SecretString) -> String {
    let payload_b64 = URL_SAFE_NO_PAD.encode(payload.to_string());
    let mut mac = HmacSha256::new_from_slice(secret.expose_secret().as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(payload_b64.as_bytes());
    let sig_b64 = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{sig_b64}.{payload_b64}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    fn payload() -> Value {
        json!({
            "algorithm": "HMAC-SHA256",
            "issued_at": 1_700_000_000,
            "user_id": "17841400000000001"
        })
    }

    /// Re-signs an arbitrary payload segment (already base64url) with `secret`.
    fn sign_segment(payload_b64: &str, secret: &SecretString) -> String {
        let mut mac = HmacSha256::new_from_slice(secret.expose_secret().as_bytes()).unwrap();
        mac.update(payload_b64.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    fn pad(seg: &str) -> String {
        let mut s = seg.to_owned();
        while !s.len().is_multiple_of(4) {
            s.push('=');
        }
        s
    }

    #[test]
    fn valid() {
        let s = secret("app-secret");
        let v = make_signed_request(&payload(), &s);
        let r = parse_signed_request(&v, &[&s]).unwrap();
        assert_eq!(r.user_id, "17841400000000001");
        assert_eq!(r.issued_at, Some(1_700_000_000));
        assert_eq!(r.raw, payload());
    }

    #[test]
    fn valid_with_either_secret_and_extra_fields() {
        let meta = secret("meta-secret");
        let ig = secret("ig-secret");
        let p = json!({"algorithm":"hmac-sha256","issued_at":"1700000001","user_id":"42","expires":0,"oauth_token":"x"});
        for signer in [&meta, &ig] {
            let v = make_signed_request(&p, signer);
            let r = parse_signed_request(&v, &[&meta, &ig]).unwrap();
            assert_eq!(r.user_id, "42");
            assert_eq!(r.issued_at, Some(1_700_000_001));
            assert_eq!(r.raw["oauth_token"], "x");
        }
    }

    #[test]
    fn numeric_user_id_is_returned_as_exact_string() {
        let s = secret("app-secret");
        // > 2^53: must not go through f64.
        let p = json!({"algorithm":"HMAC-SHA256","user_id": 17841400000000001u64});
        let r = parse_signed_request(&make_signed_request(&p, &s), &[&s]).unwrap();
        assert_eq!(r.user_id, "17841400000000001");
        assert_eq!(r.issued_at, None);
    }

    #[test]
    fn forged_signature() {
        let s = secret("app-secret");
        let forged = make_signed_request(&payload(), &secret("attacker"));
        assert_eq!(
            parse_signed_request(&forged, &[&s]),
            Err(SignedRequestError::BadSignature)
        );
        // Right size, all zeros.
        let (_, p) = make_signed_request(&payload(), &s)
            .split_once('.')
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .unwrap();
        let zeros = format!("{}.{p}", URL_SAFE_NO_PAD.encode([0u8; 32]));
        assert_eq!(
            parse_signed_request(&zeros, &[&s]),
            Err(SignedRequestError::BadSignature)
        );
    }

    #[test]
    fn tampered_payload() {
        let s = secret("app-secret");
        let v = make_signed_request(&payload(), &s);
        let (sig, _) = v.split_once('.').unwrap();
        let mut other = payload();
        other["user_id"] = json!("99999");
        let other_b64 = URL_SAFE_NO_PAD.encode(other.to_string());
        let tampered = format!("{sig}.{other_b64}");
        assert_eq!(
            parse_signed_request(&tampered, &[&s]),
            Err(SignedRequestError::BadSignature)
        );
    }

    #[test]
    fn wrong_algorithm() {
        let s = secret("app-secret");
        let mut p = payload();
        p["algorithm"] = json!("HMAC-SHA1");
        let v = make_signed_request(&p, &s);
        assert_eq!(
            parse_signed_request(&v, &[&s]),
            Err(SignedRequestError::UnsupportedAlgorithm("HMAC-SHA1".into()))
        );
        p.as_object_mut().unwrap().remove("algorithm");
        let v = make_signed_request(&p, &s);
        assert!(matches!(
            parse_signed_request(&v, &[&s]),
            Err(SignedRequestError::UnsupportedAlgorithm(_))
        ));
        p["algorithm"] = json!("none");
        let v = make_signed_request(&p, &s);
        assert!(matches!(
            parse_signed_request(&v, &[&s]),
            Err(SignedRequestError::UnsupportedAlgorithm(_))
        ));
    }

    #[test]
    fn missing_or_bad_user_id() {
        let s = secret("app-secret");
        for p in [
            json!({"algorithm":"HMAC-SHA256","issued_at":1}),
            json!({"algorithm":"HMAC-SHA256","user_id":null}),
            json!({"algorithm":"HMAC-SHA256","user_id":""}),
            json!({"algorithm":"HMAC-SHA256","user_id":1.5}),
            json!({"algorithm":"HMAC-SHA256","user_id":{"id":"1"}}),
        ] {
            let v = make_signed_request(&p, &s);
            assert_eq!(
                parse_signed_request(&v, &[&s]),
                Err(SignedRequestError::MissingUserId),
                "{p}"
            );
        }
    }

    #[test]
    fn authentic_but_not_json_or_not_object() {
        let s = secret("app-secret");
        for raw in ["not json", "[1,2]", "\"str\""] {
            let p = URL_SAFE_NO_PAD.encode(raw);
            let v = format!("{}.{p}", sign_segment(&p, &s));
            assert!(
                matches!(
                    parse_signed_request(&v, &[&s]),
                    Err(SignedRequestError::InvalidPayload(_))
                ),
                "{raw}"
            );
        }
        // Authentic segment that is not base64url at all.
        let p = "!!!!";
        let v = format!("{}.{p}", sign_segment(p, &s));
        assert!(matches!(
            parse_signed_request(&v, &[&s]),
            Err(SignedRequestError::Malformed(_))
        ));
    }

    #[test]
    fn garbage() {
        let s = secret("app-secret");
        for g in [
            "",
            ".",
            "abc",
            "abc.",
            ".abc",
            "a.b.c",
            "***.eyJ9",
            "%%%%.%%%%",
            "c2ln.eyJ9",
        ] {
            assert!(
                matches!(
                    parse_signed_request(g, &[&s]),
                    Err(SignedRequestError::Malformed(_))
                ),
                "{g:?}"
            );
        }
        let good = make_signed_request(&payload(), &s);
        assert!(matches!(
            parse_signed_request(&format!("{good}.x"), &[&s]),
            Err(SignedRequestError::Malformed(_))
        ));
    }

    #[test]
    fn padding_variants() {
        let s = secret("app-secret");
        let good = make_signed_request(&payload(), &s);
        let (sig, p) = good.split_once('.').unwrap();
        assert!(!sig.contains('=') && !p.contains('='));
        // Sig is 32 bytes → 43 chars unpadded, 44 padded.
        assert_eq!(sig.len(), 43);
        for (a, b) in [
            (sig.to_owned(), p.to_owned()),
            (pad(sig), p.to_owned()),
            (sig.to_owned(), pad(p)),
            (pad(sig), pad(p)),
        ] {
            // A padded payload segment is a different ASCII string: Meta signs what it sends.
            let b_signed = if b.ends_with('=') {
                sign_segment(&b, &s)
            } else {
                a.clone()
            };
            let a = if b.ends_with('=') {
                if a.ends_with('=') {
                    pad(&b_signed)
                } else {
                    b_signed
                }
            } else {
                a
            };
            let v = format!("{a}.{b}");
            let r = parse_signed_request(&v, &[&s]).unwrap_or_else(|e| panic!("{v}: {e}"));
            assert_eq!(r.user_id, "17841400000000001");
        }
        // Surrounding whitespace (e.g. a trailing newline from a form) is tolerated.
        assert!(parse_signed_request(&format!(" {good}\n"), &[&s]).is_ok());
    }

    #[test]
    fn no_secret_configured() {
        let s = secret("app-secret");
        let v = make_signed_request(&payload(), &s);
        assert_eq!(
            parse_signed_request(&v, &[]),
            Err(SignedRequestError::NoSecretConfigured)
        );
        let empty = secret("");
        let v = make_signed_request(&payload(), &empty);
        assert_eq!(
            parse_signed_request(&v, &[&empty]),
            Err(SignedRequestError::NoSecretConfigured)
        );
    }
}
