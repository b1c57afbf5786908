//! Licences: which Instagram handles may get AI replies, and until when. The product owner
//! signs a `whitelist.sig` (format in `docs/licensing.md`) with an Ed25519 key; the app
//! verifies it with the public key, caches it and reloads it ([`book`]).
//!
//! This module is the format: [`Whitelist`] (entries, version, issued-at) ⇄ the exact bytes
//! that are signed, and the keys as PEM (PKCS#8 private, SPKI public).

pub mod book;

pub use ed25519_dalek::{SigningKey, VerifyingKey};

use crate::tenants::InstagramHandle;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signature, Signer, Verifier};
use std::collections::BTreeMap;
use std::fmt;

/// The first line of every whitelist.
pub const MAGIC: &str = "igshop-whitelist 1";
/// Where the signature line starts; everything before it is the signed payload.
const SIGNATURE_PREFIX: &str = "signature ";
/// A whitelist larger than this is refused before parsing.
pub const MAX_BYTES: usize = 4 * 1024 * 1024;

/// Asia/Amman has been UTC+3 all year since October 2022 (as in the agent's context).
pub fn amman() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(3 * 3600).expect("valid offset")
}

/// Today's calendar day in Amman.
pub fn amman_today(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&amman()).date_naive()
}

/// The last day a licence is valid (inclusive, Asia/Amman calendar day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExpiryDate(NaiveDate);

crate::string_schema!(
    ExpiryDate,
    "The last day the licence is valid (inclusive), an Asia/Amman calendar day: YYYY-MM-DD",
    "2027-01-31",
    format = utoipa::openapi::schema::SchemaFormat::KnownFormat(
        utoipa::openapi::schema::KnownFormat::Date
    )
);

impl ExpiryDate {
    /// `YYYY-MM-DD` exactly (four-digit year from 2000 to 2999).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim();
        let shaped = s.len() == 10
            && s.bytes().enumerate().all(|(i, b)| match i {
                4 | 7 => b == b'-',
                _ => b.is_ascii_digit(),
            });
        let date = shaped
            .then(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
            .flatten()
            .ok_or_else(|| {
                format!("an expiry date looks like 2027-01-31 (YYYY-MM-DD), got {raw:?}")
            })?;
        use chrono::Datelike;
        if !(2000..=2999).contains(&date.year()) {
            return Err(format!(
                "an expiry date must be between the years 2000 and 2999, got {raw:?}"
            ));
        }
        Ok(ExpiryDate(date))
    }
    pub fn from_date(d: NaiveDate) -> Self {
        ExpiryDate(d)
    }
    pub fn date(&self) -> NaiveDate {
        self.0
    }
    /// Valid on `today` (Amman) when today is on or before the expiry day.
    pub fn covers(&self, today: NaiveDate) -> bool {
        today <= self.0
    }
    /// Days from `today` to the expiry day: 0 on the last day, negative once expired.
    pub fn days_left(&self, today: NaiveDate) -> i64 {
        (self.0 - today).num_days()
    }
}

impl fmt::Display for ExpiryDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

impl serde::Serialize for ExpiryDate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The signed content: handle → expiry, a version that grows with every change, and when it
/// was issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Whitelist {
    pub version: u64,
    pub issued_at: DateTime<Utc>,
    pub entries: BTreeMap<String, ExpiryDate>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WhitelistError {
    #[error("the whitelist is empty")]
    Empty,
    #[error("the whitelist is larger than {MAX_BYTES} bytes")]
    TooLarge,
    #[error("not a whitelist: the first line must be {MAGIC:?}")]
    NotAWhitelist,
    #[error("the whitelist is truncated: {0}")]
    Truncated(String),
    #[error("the whitelist is malformed on line {line}: {reason}")]
    Malformed { line: usize, reason: String },
    #[error("the signature does not match: the file was changed after signing, or signed with another key")]
    BadSignature,
}

impl Whitelist {
    pub fn empty() -> Self {
        Whitelist {
            version: 0,
            issued_at: DateTime::<Utc>::from_timestamp(0, 0).expect("epoch"),
            entries: BTreeMap::new(),
        }
    }

    pub fn expiry(&self, handle: &InstagramHandle) -> Option<ExpiryDate> {
        self.entries.get(handle.as_str()).copied()
    }

    /// Adds or extends (or shortens) a licence. Returns false when nothing changed.
    pub fn set(&mut self, handle: &InstagramHandle, expiry: ExpiryDate) -> bool {
        self.entries.insert(handle.as_str().to_owned(), expiry) != Some(expiry)
    }

    /// Returns false when the handle had no licence.
    pub fn remove(&mut self, handle: &InstagramHandle) -> bool {
        self.entries.remove(handle.as_str()).is_some()
    }

    /// The next version of this whitelist, issued at `now` (seconds precision).
    pub fn next(&self, now: DateTime<Utc>) -> Whitelist {
        Whitelist {
            version: self.version + 1,
            issued_at: DateTime::<Utc>::from_timestamp(now.timestamp(), 0).unwrap_or(now),
            entries: self.entries.clone(),
        }
    }

    /// The canonical payload: the exact bytes that are signed. Same whitelist → same bytes.
    pub fn payload(&self) -> String {
        let mut s = String::with_capacity(64 + self.entries.len() * 48);
        s.push_str(MAGIC);
        s.push('\n');
        s.push_str(&format!("version {}\n", self.version));
        s.push_str(&format!(
            "issued_at {}\n",
            self.issued_at.to_rfc3339_opts(SecondsFormat::Secs, true)
        ));
        for (handle, expiry) in &self.entries {
            s.push_str(&format!("licence {handle} {expiry}\n"));
        }
        s
    }

    /// The whole file: payload, then the signature line. Ed25519 is deterministic, so the
    /// same whitelist and key always give the same bytes.
    pub fn sign(&self, key: &SigningKey) -> Vec<u8> {
        use base64::Engine;
        let payload = self.payload();
        let signature = key.sign(payload.as_bytes());
        let mut out = payload.into_bytes();
        out.extend_from_slice(SIGNATURE_PREFIX.as_bytes());
        out.extend_from_slice(
            base64::engine::general_purpose::STANDARD
                .encode(signature.to_bytes())
                .as_bytes(),
        );
        out.push(b'\n');
        out
    }

    /// Checks the signature over the exact payload bytes, then parses the payload.
    pub fn verify(bytes: &[u8], key: &VerifyingKey) -> Result<Whitelist, WhitelistError> {
        use base64::Engine;
        if bytes.is_empty() {
            return Err(WhitelistError::Empty);
        }
        if bytes.len() > MAX_BYTES {
            return Err(WhitelistError::TooLarge);
        }
        if !bytes.starts_with(format!("{MAGIC}\n").as_bytes()) {
            return Err(WhitelistError::NotAWhitelist);
        }
        // The signature line is the last line; the payload is everything before it.
        let Some(body) = bytes.strip_suffix(b"\n") else {
            return Err(WhitelistError::Truncated(
                "the last line does not end with a newline".into(),
            ));
        };
        let split = body.iter().rposition(|&b| b == b'\n').map(|i| i + 1);
        let (payload, last) = match split {
            Some(i) => (&body[..i], &body[i..]),
            None => {
                return Err(WhitelistError::Truncated(
                    "there is no signature line".into(),
                ))
            }
        };
        let Some(sig_b64) = last.strip_prefix(SIGNATURE_PREFIX.as_bytes()) else {
            return Err(WhitelistError::Truncated(
                "the last line is not the signature line".into(),
            ));
        };
        let sig_bytes = base64::engine::general_purpose::STANDARD
            .decode(sig_b64)
            .ok()
            .and_then(|b| <[u8; 64]>::try_from(b).ok())
            .ok_or_else(|| {
                WhitelistError::Truncated("the signature is not 64 bytes of base64".into())
            })?;
        key.verify(payload, &Signature::from_bytes(&sig_bytes))
            .map_err(|_| WhitelistError::BadSignature)?;
        let text = std::str::from_utf8(payload).map_err(|_| WhitelistError::Malformed {
            line: 0,
            reason: "not UTF-8".into(),
        })?;
        let parsed = Self::parse_payload(text)?;
        // Signed but not canonical (another tool wrote it): refuse rather than guess.
        if parsed.payload() != text {
            return Err(WhitelistError::Malformed {
                line: 0,
                reason: "the payload is not in canonical form (sorted handles, one space, no blank lines)".into(),
            });
        }
        Ok(parsed)
    }

    fn parse_payload(text: &str) -> Result<Whitelist, WhitelistError> {
        let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
        let bad = |line: usize, reason: String| WhitelistError::Malformed { line, reason };
        lines.next(); // the magic line, checked by the caller
        let (n, version_line) = lines
            .next()
            .ok_or_else(|| WhitelistError::Truncated("no version line".into()))?;
        let version = version_line
            .strip_prefix("version ")
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or_else(|| bad(n, "expected \"version <number>\"".into()))?;
        let (n, issued_line) = lines
            .next()
            .ok_or_else(|| WhitelistError::Truncated("no issued_at line".into()))?;
        let issued_at = issued_line
            .strip_prefix("issued_at ")
            .and_then(|v| DateTime::parse_from_rfc3339(v).ok())
            .map(|d| d.with_timezone(&Utc))
            .ok_or_else(|| bad(n, "expected \"issued_at <RFC 3339 UTC time>\"".into()))?;
        let mut entries = BTreeMap::new();
        for (n, line) in lines {
            let rest = line
                .strip_prefix("licence ")
                .ok_or_else(|| bad(n, "expected \"licence <handle> <YYYY-MM-DD>\"".into()))?;
            let (handle, expiry) = rest
                .split_once(' ')
                .ok_or_else(|| bad(n, "expected \"licence <handle> <YYYY-MM-DD>\"".into()))?;
            let h = InstagramHandle::parse(handle).map_err(|e| bad(n, e))?;
            if h.as_str() != handle {
                return Err(bad(n, format!("the handle {handle:?} is not normalised")));
            }
            let e = ExpiryDate::parse(expiry).map_err(|e| bad(n, e))?;
            if entries.insert(handle.to_owned(), e).is_some() {
                return Err(bad(n, format!("the handle {handle} appears twice")));
            }
        }
        Ok(Whitelist {
            version,
            issued_at,
            entries,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{what} is not an Ed25519 {kind} key in PEM ({expected}): {reason}")]
    Unreadable {
        what: String,
        kind: &'static str,
        expected: &'static str,
        reason: String,
    },
}

/// A private key from PEM (`-----BEGIN PRIVATE KEY-----`, PKCS#8). Also accepts the PEM with
/// its newlines written as `\n` (one-line app settings) or just the base64 body.
pub fn signing_key_from_pem(text: &str, what: &str) -> Result<SigningKey, KeyError> {
    let pem = normalise_pem(text, "PRIVATE KEY");
    SigningKey::from_pkcs8_pem(&pem).map_err(|e| KeyError::Unreadable {
        what: what.to_owned(),
        kind: "private",
        expected: "PKCS#8, -----BEGIN PRIVATE KEY-----",
        reason: e.to_string(),
    })
}

/// A public key from PEM (`-----BEGIN PUBLIC KEY-----`, SPKI); same leniency as above.
pub fn verifying_key_from_pem(text: &str, what: &str) -> Result<VerifyingKey, KeyError> {
    let pem = normalise_pem(text, "PUBLIC KEY");
    VerifyingKey::from_public_key_pem(&pem).map_err(|e| KeyError::Unreadable {
        what: what.to_owned(),
        kind: "public",
        expected: "SPKI, -----BEGIN PUBLIC KEY-----",
        reason: e.to_string(),
    })
}

fn normalise_pem(text: &str, label: &str) -> String {
    // Escaped newlines first, then the outer whitespace: exactly one newline at the end.
    let t = text.replace("\\n", "\n").replace("\r\n", "\n");
    let t = t.trim().to_owned();
    if t.starts_with("-----BEGIN") {
        let mut t = t;
        t.push('\n');
        t
    } else {
        let body: String = t.chars().filter(|c| !c.is_whitespace()).collect();
        let mut pem = format!("-----BEGIN {label}-----\n");
        for chunk in body.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(chunk).unwrap_or(""));
            pem.push('\n');
        }
        pem.push_str(&format!("-----END {label}-----\n"));
        pem
    }
}

pub fn private_key_pem(key: &SigningKey) -> String {
    key.to_pkcs8_pem(LineEnding::LF)
        .map(|z| z.to_string())
        .expect("an Ed25519 key encodes as PKCS#8")
}

pub fn public_key_pem(key: &VerifyingKey) -> String {
    key.to_public_key_pem(LineEnding::LF)
        .expect("an Ed25519 key encodes as SPKI")
}

/// The licence of a shop as the merchant sees it (`/api/v1/me`, the wizard's finish step).
pub async fn for_shop(
    app: &crate::app::App,
    tenant: crate::tenants::TenantId,
) -> Result<book::LicenceStatus, crate::db::DbError> {
    let mut c = app.db.app().await?;
    let tx = crate::db::begin_for_tenant(&mut c, tenant).await?;
    let row = tx
        .query_opt(
            "SELECT status, ig_handle FROM tenants WHERE id = $1",
            &[&tenant.as_uuid()],
        )
        .await?;
    tx.commit().await?;
    let (status, handle): (String, Option<String>) = match row {
        Some(r) => (r.get(0), r.get(1)),
        None => ("disabled".into(), None),
    };
    if status == "disabled" {
        return Ok(book::LicenceStatus::disabled());
    }
    Ok(app.licences.status(handle.as_deref(), Utc::now()).await)
}

pub fn generate_key() -> SigningKey {
    SigningKey::generate(&mut aes_gcm::aead::OsRng)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Whitelist {
        let mut w = Whitelist::empty().next(
            DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
        );
        w.set(
            &InstagramHandle::parse("@Jo.Shop").unwrap(),
            ExpiryDate::parse("2027-01-31").unwrap(),
        );
        w.set(
            &InstagramHandle::parse("abc_1").unwrap(),
            ExpiryDate::parse("2026-12-31").unwrap(),
        );
        w
    }

    #[test]
    fn payload_is_canonical_and_signing_is_deterministic() {
        let key = generate_key();
        let w = sample();
        assert_eq!(
            w.payload(),
            "igshop-whitelist 1\nversion 1\nissued_at 2026-12-01T10:00:00Z\nlicence abc_1 2026-12-31\nlicence jo.shop 2027-01-31\n"
        );
        assert_eq!(w.sign(&key), w.sign(&key));
        let back = Whitelist::verify(&w.sign(&key), &key.verifying_key()).unwrap();
        assert_eq!(back, w);
    }

    #[test]
    fn every_flipped_byte_and_every_truncation_fails() {
        let key = generate_key();
        let bytes = sample().sign(&key);
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x01;
            assert!(
                Whitelist::verify(&b, &key.verifying_key()).is_err(),
                "byte {i}"
            );
        }
        for n in 0..bytes.len() {
            assert!(
                Whitelist::verify(&bytes[..n], &key.verifying_key()).is_err(),
                "{n} bytes"
            );
        }
        let other = generate_key();
        assert_eq!(
            Whitelist::verify(&bytes, &other.verifying_key()),
            Err(WhitelistError::BadSignature)
        );
    }

    #[test]
    fn dates_and_expiry_are_inclusive() {
        for bad in [
            "2027-1-31",
            "31-01-2027",
            "2027-02-30",
            "",
            "2027-01-31x",
            "1999-12-31",
        ] {
            assert!(ExpiryDate::parse(bad).is_err(), "{bad}");
        }
        let e = ExpiryDate::parse("2026-12-31").unwrap();
        let last = NaiveDate::from_ymd_opt(2026, 12, 31).unwrap();
        assert!(e.covers(last));
        assert!(!e.covers(last.succ_opt().unwrap()));
        assert_eq!(e.days_left(last), 0);
        // 21:30 UTC on the 31st is already the 1st in Amman.
        let now = DateTime::parse_from_rfc3339("2026-12-31T21:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert!(!e.covers(amman_today(now)));
    }

    #[test]
    fn keys_round_trip_through_pem() {
        let key = generate_key();
        let private = private_key_pem(&key);
        assert!(private.starts_with("-----BEGIN PRIVATE KEY-----"));
        let public = public_key_pem(&key.verifying_key());
        assert!(public.starts_with("-----BEGIN PUBLIC KEY-----"));
        assert_eq!(
            signing_key_from_pem(&private.replace('\n', "\\n"), "x")
                .unwrap()
                .to_bytes(),
            key.to_bytes()
        );
        let body: String = public.lines().filter(|l| !l.starts_with("-----")).collect();
        assert_eq!(
            verifying_key_from_pem(&body, "x").unwrap(),
            key.verifying_key()
        );
        assert!(verifying_key_from_pem("nonsense", "LICENCE_PUBLIC_KEY").is_err());
    }
}
