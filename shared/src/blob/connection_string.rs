//! Parsing of Azure Storage connection strings (blob endpoint only).
//!
//! Error messages name keys, never values: a value might be the account key.

use super::BlobError;
use base64::{engine::general_purpose::STANDARD as BASE64, Engine as _};
use secrecy::{ExposeSecret, SecretSlice, SecretString};
use std::fmt;
use url::Url;

/// Azurite's well-known development account (`UseDevelopmentStorage=true`).
pub(crate) const AZURITE_ACCOUNT_NAME: &str = "devstoreaccount1";
/// Azurite's well-known development account key. Public and documented by Microsoft
/// ("Use the Azurite emulator for local Azure Storage development"); it only works against the
/// emulator.
pub(crate) const AZURITE_ACCOUNT_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
/// Azurite's default blob endpoint.
pub(crate) const AZURITE_BLOB_ENDPOINT: &str = "http://127.0.0.1:10000/devstoreaccount1";

/// What a connection string says about the blob service.
pub(crate) struct StorageConnection {
    pub account_name: Option<String>,
    /// Base64-decoded account key.
    pub account_key: Option<SecretSlice<u8>>,
    /// A ready-made SAS token (`SharedAccessSignature=`), without leading `?`.
    pub sas_token: Option<SecretString>,
    /// Blob service endpoint, e.g. `https://acct.blob.core.windows.net/` or
    /// `http://127.0.0.1:10000/devstoreaccount1`. Never has a query.
    pub blob_endpoint: Url,
}

impl fmt::Debug for StorageConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StorageConnection")
            .field("account_name", &self.account_name)
            .field(
                "account_key",
                &self.account_key.as_ref().map(|_| "<redacted>"),
            )
            .field("sas_token", &self.sas_token.as_ref().map(|_| "<redacted>"))
            .field("blob_endpoint", &self.blob_endpoint.as_str())
            .finish()
    }
}

fn invalid(msg: impl Into<String>) -> BlobError {
    BlobError::InvalidConfig(format!("storage connection string: {}", msg.into()))
}

impl StorageConnection {
    pub(crate) fn parse(connection_string: &SecretString) -> Result<Self, BlobError> {
        let raw = connection_string.expose_secret();
        let mut account_name = None;
        let mut account_key_b64: Option<&str> = None;
        let mut sas: Option<&str> = None;
        let mut blob_endpoint: Option<&str> = None;
        let mut protocol: Option<&str> = None;
        let mut suffix: Option<&str> = None;
        let mut dev_storage = false;

        for (index, segment) in raw.split(';').enumerate() {
            let segment = segment.trim();
            if segment.is_empty() {
                continue;
            }
            let Some((key, value)) = segment.split_once('=') else {
                return Err(invalid(format!(
                    "segment {} is not of the form Key=Value",
                    index + 1
                )));
            };
            let value = value.trim();
            match key.trim().to_ascii_lowercase().as_str() {
                "usedevelopmentstorage" => {
                    dev_storage = value.eq_ignore_ascii_case("true");
                    if !dev_storage && !value.eq_ignore_ascii_case("false") {
                        return Err(invalid("UseDevelopmentStorage must be true or false"));
                    }
                }
                "developmentstorageproxyuri" => {
                    return Err(invalid("DevelopmentStorageProxyUri is not supported"));
                }
                "accountname" => account_name = Some(value),
                "accountkey" => account_key_b64 = Some(value),
                "sharedaccesssignature" => sas = Some(value.trim_start_matches('?')),
                "blobendpoint" => blob_endpoint = Some(value),
                "defaultendpointsprotocol" => protocol = Some(value),
                "endpointsuffix" => suffix = Some(value),
                // Other services' endpoints and unknown keys do not concern the blob store.
                _ => {}
            }
        }

        if dev_storage {
            account_name = Some(AZURITE_ACCOUNT_NAME);
            account_key_b64 = Some(AZURITE_ACCOUNT_KEY);
            sas = None;
            blob_endpoint = Some(AZURITE_BLOB_ENDPOINT);
        }

        let account_key = match account_key_b64 {
            None => None,
            Some(b64) => {
                let bytes = BASE64
                    .decode(b64)
                    .map_err(|_| invalid("AccountKey is not valid base64"))?;
                if bytes.is_empty() {
                    return Err(invalid("AccountKey is empty"));
                }
                Some(SecretSlice::from(bytes))
            }
        };
        if account_key.is_some() && account_name.is_none_or(str::is_empty) {
            return Err(invalid("AccountKey needs AccountName"));
        }
        let sas_token = match sas {
            Some(s) if !s.is_empty() => Some(SecretString::from(s.to_owned())),
            Some(_) => return Err(invalid("SharedAccessSignature is empty")),
            None => None,
        };
        if account_key.is_none() && sas_token.is_none() {
            return Err(invalid(
                "needs AccountName and AccountKey, SharedAccessSignature, or UseDevelopmentStorage=true",
            ));
        }

        let blob_endpoint = match blob_endpoint {
            Some(e) => {
                let url = Url::parse(e)
                    .map_err(|err| invalid(format!("BlobEndpoint is not a URL: {err}")))?;
                if url.query().is_some() || url.fragment().is_some() {
                    return Err(invalid("BlobEndpoint must not have a query or fragment"));
                }
                url
            }
            None => {
                let name = account_name
                    .filter(|n| !n.is_empty())
                    .ok_or_else(|| invalid("needs BlobEndpoint or AccountName"))?;
                let protocol = protocol.unwrap_or("https").to_ascii_lowercase();
                if protocol != "https" && protocol != "http" {
                    return Err(invalid("DefaultEndpointsProtocol must be https or http"));
                }
                let suffix = suffix.unwrap_or("core.windows.net");
                Url::parse(&format!("{protocol}://{name}.blob.{suffix}/"))
                    .map_err(|err| invalid(format!("cannot build the blob endpoint: {err}")))?
            }
        };
        if !matches!(blob_endpoint.scheme(), "http" | "https") || blob_endpoint.cannot_be_a_base() {
            return Err(invalid("BlobEndpoint must be an http(s) URL"));
        }

        Ok(StorageConnection {
            account_name: account_name.map(str::to_owned),
            account_key,
            sas_token,
            blob_endpoint,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<StorageConnection, BlobError> {
        StorageConnection::parse(&SecretString::from(s.to_owned()))
    }

    #[test]
    fn development_storage_shortcut() {
        let c = parse("UseDevelopmentStorage=true").unwrap();
        assert_eq!(c.account_name.as_deref(), Some("devstoreaccount1"));
        assert_eq!(
            c.blob_endpoint.as_str(),
            "http://127.0.0.1:10000/devstoreaccount1"
        );
        assert_eq!(
            c.account_key.unwrap().expose_secret(),
            BASE64.decode(AZURITE_ACCOUNT_KEY).unwrap().as_slice()
        );
    }

    #[test]
    fn explicit_azurite_string() {
        let c = parse(&format!(
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AZURITE_ACCOUNT_KEY};BlobEndpoint=http://127.0.0.1:10123/devstoreaccount1;"
        ))
        .unwrap();
        assert_eq!(
            c.blob_endpoint.as_str(),
            "http://127.0.0.1:10123/devstoreaccount1"
        );
        assert!(c.sas_token.is_none());
    }

    #[test]
    fn endpoint_from_account_name_and_suffix() {
        let c = parse(&format!(
            "DefaultEndpointsProtocol=https;AccountName=myacct;AccountKey={AZURITE_ACCOUNT_KEY};EndpointSuffix=core.chinacloudapi.cn"
        ))
        .unwrap();
        assert_eq!(
            c.blob_endpoint.as_str(),
            "https://myacct.blob.core.chinacloudapi.cn/"
        );
        let c = parse(&format!(
            "AccountName=myacct;AccountKey={AZURITE_ACCOUNT_KEY}"
        ))
        .unwrap();
        assert_eq!(
            c.blob_endpoint.as_str(),
            "https://myacct.blob.core.windows.net/"
        );
    }

    #[test]
    fn sas_connection_string() {
        let c = parse("BlobEndpoint=https://myacct.blob.core.windows.net/;SharedAccessSignature=?sv=2022-11-02&sig=abc")
            .unwrap();
        assert!(c.account_key.is_none());
        assert_eq!(
            c.sas_token.unwrap().expose_secret(),
            "sv=2022-11-02&sig=abc"
        );
    }

    #[test]
    fn errors_name_keys_but_never_values() {
        let secretish = "NotBase64!!SuperSecretValue";
        let err = parse(&format!("AccountName=a;AccountKey={secretish}"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("AccountKey") && !err.contains(secretish),
            "{err}"
        );
        let err = parse(&format!("AccountName=a;{secretish}"))
            .unwrap_err()
            .to_string();
        assert!(!err.contains(secretish), "{err}");
        assert!(parse("AccountName=a").is_err());
        assert!(parse("").is_err());
        assert!(parse(&format!(
            "AccountKey={AZURITE_ACCOUNT_KEY};BlobEndpoint=http://x/"
        ))
        .is_err());
        assert!(parse(&format!(
            "AccountName=a;AccountKey={AZURITE_ACCOUNT_KEY};BlobEndpoint=ftp://x/"
        ))
        .is_err());
    }
}
