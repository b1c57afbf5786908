//! Secrets at rest and signed values, all from `TOKEN_ENCRYPTION_KEY`.
//!
//! * Meta tokens and tenants' API keys are sealed with AES-256-GCM (random 96-bit nonce,
//!   stored as `nonce || ciphertext`), tagged with a key id so keys can rotate.
//! * OAuth `state` and CSRF tokens are HMAC-SHA256 with keys derived per purpose, so one
//!   value can never be replayed as another.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("TOKEN_ENCRYPTION_KEY must be 32 bytes of base64")]
    BadKey,
    #[error("this secret was sealed with key {0}, which is not the current key")]
    UnknownKey(String),
    #[error("the sealed secret is damaged or was not sealed with this key")]
    Damaged,
}

#[derive(Clone)]
pub struct Keys {
    seal: Aes256Gcm,
    key_id: String,
    root: [u8; 32],
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl Keys {
    pub fn from_base64(key: &SecretString) -> Result<Self, CryptoError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(key.expose_secret().trim())
            .map_err(|_| CryptoError::BadKey)?;
        let root: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::BadKey)?;
        let key_id = hex(&Sha256::digest(root)[..4]);
        Ok(Keys {
            seal: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&root)),
            key_id,
            root,
        })
    }

    /// Short public fingerprint of the key, stored beside each sealed value.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    pub fn seal(&self, plaintext: &[u8]) -> Vec<u8> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ciphertext = self
            .seal
            .encrypt(&nonce, plaintext)
            .expect("AES-GCM encryption of an in-memory buffer");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ciphertext);
        out
    }

    pub fn open(&self, key_id: &str, sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if key_id != self.key_id {
            return Err(CryptoError::UnknownKey(key_id.to_owned()));
        }
        if sealed.len() < 12 + 16 {
            return Err(CryptoError::Damaged);
        }
        let (nonce, ciphertext) = sealed.split_at(12);
        self.seal
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| CryptoError::Damaged)
    }

    pub fn open_string(&self, key_id: &str, sealed: &[u8]) -> Result<SecretString, CryptoError> {
        let bytes = self.open(key_id, sealed)?;
        String::from_utf8(bytes)
            .map(SecretString::from)
            .map_err(|_| CryptoError::Damaged)
    }

    /// HMAC-SHA256 of `message` under a key derived for `purpose`, base64url without padding.
    pub fn sign(&self, purpose: &str, message: &[u8]) -> String {
        let mut mac = self.mac(purpose);
        mac.update(message);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// Constant-time check of a value made by [`Keys::sign`].
    pub fn verify(&self, purpose: &str, message: &[u8], signature: &str) -> bool {
        let Ok(sig) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(signature) else {
            return false;
        };
        let mut mac = self.mac(purpose);
        mac.update(message);
        mac.verify_slice(&sig).is_ok()
    }

    fn mac(&self, purpose: &str) -> Hmac<Sha256> {
        let mut derive = <Hmac<Sha256> as Mac>::new_from_slice(&self.root).expect("any key length");
        derive.update(b"igshop/");
        derive.update(purpose.as_bytes());
        let subkey = derive.finalize().into_bytes();
        <Hmac<Sha256> as Mac>::new_from_slice(&subkey).expect("any key length")
    }
}

/// A fresh random token: 32 bytes, base64url without padding.
pub fn random_token() -> String {
    let key = Aes256Gcm::generate_key(&mut OsRng);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key)
}

/// SHA-256, for storing tokens we only ever compare (sessions, OAuth state).
pub fn sha256(data: &[u8]) -> Vec<u8> {
    Sha256::digest(data).to_vec()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(byte: u8) -> Keys {
        Keys::from_base64(&SecretString::from(
            base64::engine::general_purpose::STANDARD.encode([byte; 32]),
        ))
        .unwrap()
    }

    #[test]
    fn seal_and_open_round_trip_without_revealing_the_plaintext() {
        let k = keys(7);
        let sealed = k.seal(b"IGAAT-long-lived-token");
        assert!(!sealed.windows(6).any(|w| w == b"IGAAT-"));
        assert_eq!(
            k.open(k.key_id(), &sealed).unwrap(),
            b"IGAAT-long-lived-token"
        );
        assert_ne!(k.seal(b"x"), k.seal(b"x"), "a fresh nonce each time");
    }

    #[test]
    fn tampering_and_wrong_keys_are_refused() {
        let k = keys(7);
        let mut sealed = k.seal(b"secret");
        sealed[14] ^= 1;
        assert_eq!(k.open(k.key_id(), &sealed), Err(CryptoError::Damaged));
        let other = keys(8);
        let sealed = k.seal(b"secret");
        assert!(matches!(
            other.open(k.key_id(), &sealed),
            Err(CryptoError::UnknownKey(_))
        ));
        assert_eq!(k.open(k.key_id(), &sealed[..10]), Err(CryptoError::Damaged));
    }

    #[test]
    fn signatures_are_bound_to_their_purpose() {
        let k = keys(1);
        let s = k.sign("oauth-state", b"abc");
        assert!(k.verify("oauth-state", b"abc", &s));
        assert!(!k.verify("csrf", b"abc", &s));
        assert!(!k.verify("oauth-state", b"abd", &s));
        assert!(!k.verify("oauth-state", b"abc", "not base64 !"));
        assert!(!keys(2).verify("oauth-state", b"abc", &s));
    }

    #[test]
    fn bad_keys_are_named() {
        assert_eq!(
            Keys::from_base64(&SecretString::from("c2hvcnQ=".to_owned())).unwrap_err(),
            CryptoError::BadKey
        );
        assert!(!format!("{:?}", keys(3)).contains("root"));
    }
}
