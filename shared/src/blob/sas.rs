//! Account SAS (shared access signature) signed with a storage account key.
//!
//! `azure_storage_blob` 1.x has no shared-key authentication: it accepts an Entra ID token or a
//! SAS already present in the URL. For connection strings that carry an account key (Azurite
//! locally, or a key-based account) we mint an account SAS here and put it in the container URL.
//!
//! String-to-sign, per Microsoft's "Create an account SAS" (REST API reference), for signed
//! version (`sv`) 2020-12-06 and later:
//!
//! ```text
//! accountname + "\n" + signedpermissions + "\n" + signedservice + "\n" +
//! signedresourcetype + "\n" + signedstart + "\n" + signedexpiry + "\n" + signedIP + "\n" +
//! signedProtocol + "\n" + signedversion + "\n" + signedEncryptionScope + "\n"
//! ```
//!
//! Versions from 2015-04-05 up to (not including) 2020-12-06 omit the
//! `signedEncryptionScope + "\n"` line. The signature is
//! `base64(HMAC-SHA256(base64decode(account key), utf8(string-to-sign)))`, sent percent-encoded
//! as `sig`.

use base64::{engine::general_purpose::STANDARD as BASE64, Engine as _};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Signed version (`sv`) of the SAS tokens we mint. Any version since 2020-12-06 uses the same
/// string-to-sign; this one is supported by Azure Storage and by Azurite.
pub const SAS_VERSION: &str = "2022-11-02";

/// Protocols a SAS may be used over (`spr`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SasProtocol {
    /// `https`
    Https,
    /// `https,http` (needed for plain-http endpoints such as Azurite)
    HttpsAndHttp,
}

impl SasProtocol {
    pub fn as_str(self) -> &'static str {
        match self {
            SasProtocol::Https => "https",
            SasProtocol::HttpsAndHttp => "https,http",
        }
    }
}

/// The signed fields of an account SAS. Holds no key; `Debug` is safe to print.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountSas {
    pub account_name: String,
    /// `ss`, e.g. `b` (blob service only).
    pub services: String,
    /// `srt`, e.g. `sco` (service, container, object).
    pub resource_types: String,
    /// `sp`, e.g. `rwdlac`.
    pub permissions: String,
    /// `st`; `None` means valid from the moment the service receives the request.
    pub start: Option<DateTime<Utc>>,
    /// `se`.
    pub expiry: DateTime<Utc>,
    /// `sip`, e.g. `168.1.5.60-168.1.5.70`.
    pub ip_range: Option<String>,
    /// `spr`.
    pub protocol: SasProtocol,
    /// `sv`.
    pub version: String,
    /// `ses` (2020-12-06 and later).
    pub encryption_scope: Option<String>,
}

impl AccountSas {
    /// Blob service, all resource types (service, container, object), permissions
    /// read/write/delete/list/add/create, no start time, [`SAS_VERSION`].
    pub fn blob_read_write(
        account_name: &str,
        expiry: DateTime<Utc>,
        protocol: SasProtocol,
    ) -> Self {
        AccountSas {
            account_name: account_name.to_owned(),
            services: "b".into(),
            resource_types: "sco".into(),
            // The set r,a,c,w,d,l in the canonical account-SAS order (r w d l a c).
            permissions: "rwdlac".into(),
            start: None,
            expiry,
            ip_range: None,
            protocol,
            version: SAS_VERSION.into(),
            encryption_scope: None,
        }
    }

    /// The exact string that is signed (see the module documentation).
    pub fn string_to_sign(&self) -> String {
        let mut fields: Vec<&str> = Vec::with_capacity(11);
        let start = self.start.map(format_sas_time).unwrap_or_default();
        let expiry = format_sas_time(self.expiry);
        fields.push(&self.account_name);
        fields.push(&self.permissions);
        fields.push(&self.services);
        fields.push(&self.resource_types);
        fields.push(&start);
        fields.push(&expiry);
        fields.push(self.ip_range.as_deref().unwrap_or(""));
        fields.push(self.protocol.as_str());
        fields.push(&self.version);
        if self.version.as_str() >= "2020-12-06" {
            fields.push(self.encryption_scope.as_deref().unwrap_or(""));
        }
        let mut s = fields.join("\n");
        s.push('\n');
        s
    }

    /// Base64 HMAC-SHA256 of [`Self::string_to_sign`] under the (already base64-decoded) key.
    pub fn signature(&self, account_key: &[u8]) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(account_key).expect("HMAC accepts any key length");
        mac.update(self.string_to_sign().as_bytes());
        BASE64.encode(mac.finalize().into_bytes())
    }

    /// The SAS token as a URL query string (no leading `?`), every value percent-encoded:
    /// `sv`, `ss`, `srt`, `sp`, `st` (if set), `se`, `sip` (if set), `spr`, `ses` (if set), `sig`.
    ///
    /// The result contains the signature: treat it as a secret.
    pub fn to_query(&self, account_key: &[u8]) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("sv", &self.version);
        q.append_pair("ss", &self.services);
        q.append_pair("srt", &self.resource_types);
        q.append_pair("sp", &self.permissions);
        if let Some(start) = self.start {
            q.append_pair("st", &format_sas_time(start));
        }
        q.append_pair("se", &format_sas_time(self.expiry));
        if let Some(ip) = &self.ip_range {
            q.append_pair("sip", ip);
        }
        q.append_pair("spr", self.protocol.as_str());
        if let Some(scope) = &self.encryption_scope {
            q.append_pair("ses", scope);
        }
        q.append_pair("sig", &self.signature(account_key));
        q.finish()
    }
}

/// ISO 8601 UTC without fractional seconds, as SAS fields expect: `2030-01-02T03:04:05Z`.
pub fn format_sas_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const KEY_B64: &str =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    fn fixed() -> AccountSas {
        AccountSas::blob_read_write(
            "devstoreaccount1",
            Utc.with_ymd_and_hms(2030, 1, 2, 3, 4, 5).unwrap(),
            SasProtocol::HttpsAndHttp,
        )
    }

    #[test]
    fn string_to_sign_matches_documented_layout() {
        assert_eq!(
            fixed().string_to_sign(),
            "devstoreaccount1\nrwdlac\nb\nsco\n\n2030-01-02T03:04:05Z\n\nhttps,http\n2022-11-02\n\n"
        );
    }

    #[test]
    fn pre_2020_12_06_versions_have_no_encryption_scope_line() {
        let mut sas = fixed();
        sas.version = "2019-12-12".into();
        assert_eq!(
            sas.string_to_sign(),
            "devstoreaccount1\nrwdlac\nb\nsco\n\n2030-01-02T03:04:05Z\n\nhttps,http\n2019-12-12\n"
        );
    }

    #[test]
    fn signature_is_hmac_sha256_of_string_to_sign() {
        let key = BASE64.decode(KEY_B64).unwrap();
        let expected = {
            let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
            mac.update(
                b"devstoreaccount1\nrwdlac\nb\nsco\n\n2030-01-02T03:04:05Z\n\nhttps,http\n2022-11-02\n\n",
            );
            BASE64.encode(mac.finalize().into_bytes())
        };
        assert_eq!(fixed().signature(&key), expected);
    }

    #[test]
    fn query_is_percent_encoded_and_complete() {
        let key = BASE64.decode(KEY_B64).unwrap();
        let sas = fixed();
        let q = sas.to_query(&key);
        assert!(q.starts_with("sv=2022-11-02&ss=b&srt=sco&sp=rwdlac&se=2030-01-02T03%3A04%3A05Z&spr=https%2Chttp&sig="), "{q}");
        let sig_encoded = q.rsplit_once("sig=").unwrap().1;
        assert!(
            !sig_encoded.contains('+') && !sig_encoded.contains('/') && !sig_encoded.contains('=')
        );
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(q.as_bytes())
            .into_owned()
            .collect();
        let sig = pairs
            .iter()
            .find(|(k, _)| k == "sig")
            .map(|(_, v)| v.clone())
            .unwrap();
        assert_eq!(sig, sas.signature(&key));
    }
}
