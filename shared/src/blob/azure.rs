//! [`AzureBlobStore`]: the [`BlobStore`] over `azure_storage_blob`.

use super::connection_string::StorageConnection;
use super::sas::{AccountSas, SasProtocol};
use super::{validate_container_name, validate_path, BlobConfig, BlobError, BlobStore};
use azure_core::credentials::TokenCredential;
use azure_core::error::ErrorKind;
use azure_core::http::{
    ExponentialRetryOptions, NoFormat, RequestContent, RetryOptions, StatusCode, Url,
};
use azure_identity::{ManagedIdentityCredential, ManagedIdentityCredentialOptions, UserAssignedId};
use azure_storage_blob::models::{
    BlobClientDeleteOptions, BlobClientUploadOptions, DeleteSnapshotsOptionType,
};
use azure_storage_blob::{BlobContainerClient, BlobContainerClientOptions, StorageError};
use base64::{engine::general_purpose::STANDARD as BASE64, Engine as _};
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretSlice, SecretString};
use std::fmt;
use std::future::Future;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

/// Lifetime of a minted account SAS.
const SAS_LIFETIME: chrono::Duration = chrono::Duration::hours(4);
/// A new SAS is minted when the current one has less than this left.
const SAS_RENEW_BEFORE: chrono::Duration = chrono::Duration::minutes(30);
/// Bound of [`BlobStore::check_ready`] (health checks must answer quickly).
const READY_TIMEOUT: Duration = Duration::from_secs(5);
/// Bound of container operations and deletes.
const CONTROL_TIMEOUT: Duration = Duration::from_secs(30);
/// Bound of uploads and downloads.
const DATA_TIMEOUT: Duration = Duration::from_secs(120);

const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

enum Auth {
    /// Account key from a connection string: we mint account SAS tokens.
    AccountKey {
        account_name: String,
        key: SecretSlice<u8>,
        protocol: SasProtocol,
    },
    /// Ready-made SAS from a connection string.
    Sas { token: SecretString },
    /// Entra ID token of a managed identity.
    ManagedIdentity {
        credential: Arc<dyn TokenCredential>,
        client_id: Option<String>,
    },
}

struct ClientSlot {
    client: Arc<BlobContainerClient>,
    /// When the client must be rebuilt (its SAS is about to expire); `None`: never.
    renew_at: Option<DateTime<Utc>>,
}

/// [`BlobStore`] on Azure Blob Storage (or Azurite), one container.
pub struct AzureBlobStore {
    container: String,
    /// Container URL without query (no SAS).
    container_url: Url,
    auth: Auth,
    options: BlobContainerClientOptions,
    slot: RwLock<ClientSlot>,
}

impl fmt::Debug for AzureBlobStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let auth = match &self.auth {
            Auth::AccountKey { .. } => "account key (account SAS, redacted)".to_owned(),
            Auth::Sas { .. } => "shared access signature (redacted)".to_owned(),
            Auth::ManagedIdentity {
                client_id: Some(id),
                ..
            } => format!("managed identity (client id {id})"),
            Auth::ManagedIdentity {
                client_id: None, ..
            } => "managed identity (system-assigned)".to_owned(),
        };
        f.debug_struct("AzureBlobStore")
            .field("container", &self.container)
            .field("container_url", &self.container_url.as_str())
            .field("auth", &auth)
            .finish_non_exhaustive()
    }
}

impl AzureBlobStore {
    /// Builds the store. No network call is made (see [`BlobStore::ensure_container`] and
    /// [`BlobStore::check_ready`]).
    pub fn from_config(cfg: &BlobConfig) -> Result<Self, BlobError> {
        validate_container_name(&cfg.container)?;

        let (endpoint, auth) = if let Some(cs) = &cfg.connection_string {
            let conn = StorageConnection::parse(cs)?;
            let protocol = if conn.blob_endpoint.scheme() == "https" {
                SasProtocol::Https
            } else {
                SasProtocol::HttpsAndHttp
            };
            let auth =
                match (conn.account_key, conn.sas_token) {
                    (Some(key), _) => Auth::AccountKey {
                        account_name: conn.account_name.unwrap_or_default(),
                        key,
                        protocol,
                    },
                    (None, Some(token)) => Auth::Sas { token },
                    (None, None) => return Err(BlobError::InvalidConfig(
                        "storage connection string: needs an AccountKey or a SharedAccessSignature"
                            .into(),
                    )),
                };
            (conn.blob_endpoint, auth)
        } else if let Some(account_url) = &cfg.account_url {
            let url = Url::parse(account_url.trim())
                .map_err(|e| BlobError::InvalidConfig(format!("account_url is not a URL: {e}")))?;
            if url.scheme() != "https" {
                return Err(BlobError::InvalidConfig(
                    "account_url must use https (managed identity tokens are only sent over https)"
                        .into(),
                ));
            }
            if url.query().is_some() || url.fragment().is_some() {
                return Err(BlobError::InvalidConfig(
                    "account_url must not have a query or fragment".into(),
                ));
            }
            let client_id = cfg
                .managed_identity_client_id
                .as_deref()
                .map(str::trim)
                .filter(|id| !id.is_empty())
                .map(str::to_owned);
            let options = ManagedIdentityCredentialOptions {
                user_assigned_id: client_id.clone().map(UserAssignedId::ClientId),
                ..Default::default()
            };
            let credential: Arc<dyn TokenCredential> =
                ManagedIdentityCredential::new(Some(options)).map_err(|e| {
                    BlobError::InvalidConfig(format!(
                        "managed identity: {}",
                        redact_secrets(&describe(&e))
                    ))
                })?;
            (
                url,
                Auth::ManagedIdentity {
                    credential,
                    client_id,
                },
            )
        } else {
            return Err(BlobError::InvalidConfig(
                "set a storage connection string or an account URL (managed identity)".into(),
            ));
        };

        let container_url = container_url(&endpoint, &cfg.container);
        let mut options = BlobContainerClientOptions::default();
        // Few, short retries: transient errors are retried a little, an unreachable endpoint
        // fails within seconds instead of minutes.
        options.client_options.retry = RetryOptions::exponential(ExponentialRetryOptions {
            initial_delay: azure_core::time::Duration::milliseconds(200),
            max_retries: 3,
            max_total_elapsed: azure_core::time::Duration::seconds(10),
            max_delay: azure_core::time::Duration::seconds(2),
        });

        let slot = build_client(&container_url, &auth, &options, Utc::now())?;
        Ok(AzureBlobStore {
            container: cfg.container.clone(),
            container_url,
            auth,
            options,
            slot: RwLock::new(slot),
        })
    }

    /// Name of the container.
    pub fn container(&self) -> &str {
        &self.container
    }

    /// The current container client, rebuilt with a fresh SAS when the old one nears expiry.
    fn client(&self) -> Result<Arc<BlobContainerClient>, BlobError> {
        let now = Utc::now();
        {
            let slot = self.slot.read().unwrap_or_else(PoisonError::into_inner);
            if slot.renew_at.is_none_or(|t| now < t) {
                return Ok(slot.client.clone());
            }
        }
        let mut slot = self.slot.write().unwrap_or_else(PoisonError::into_inner);
        if slot.renew_at.is_some_and(|t| now >= t) {
            *slot = build_client(&self.container_url, &self.auth, &self.options, now)?;
            tracing::debug!(container = %self.container, "blob store: renewed account SAS");
        }
        Ok(slot.client.clone())
    }

    fn scrub(&self, message: &str) -> String {
        self.auth.scrub(message)
    }

    fn map_error(&self, what: &str, error: azure_core::Error) -> BlobError {
        match error.kind() {
            ErrorKind::HttpResponse {
                status, error_code, ..
            } => {
                let status = *status;
                let mut code = error_code.clone();
                let message = match StorageError::try_from(error) {
                    Ok(se) => {
                        if code.is_none() {
                            code = se.error_code.as_ref().map(|c| c.as_ref().to_owned());
                        }
                        se.message
                            .as_deref()
                            .and_then(|m| m.lines().map(str::trim).find(|l| !l.is_empty()))
                            .map(str::to_owned)
                            .unwrap_or_else(|| status.canonical_reason().into_owned())
                    }
                    Err(e) => describe(&e),
                };
                let n = u16::from(status);
                let code_part = code.as_deref().map(|c| format!(" {c}")).unwrap_or_default();
                let message = self.scrub(&format!("{what}: {message}"));
                match n {
                    401 | 403 => {
                        BlobError::Unauthorized(format!("{message} (HTTP {n}{code_part})"))
                    }
                    429 | 500..=599 => {
                        BlobError::Unavailable(format!("{message} (HTTP {n}{code_part})"))
                    }
                    _ => BlobError::Service {
                        status: n,
                        code,
                        message,
                    },
                }
            }
            ErrorKind::Connection | ErrorKind::Io => {
                BlobError::Unavailable(self.scrub(&format!("{what}: {}", describe(&error))))
            }
            ErrorKind::Credential => {
                BlobError::Unauthorized(self.scrub(&format!("{what}: {}", describe(&error))))
            }
            _ => BlobError::Other(self.scrub(&format!("{what}: {}", describe(&error)))),
        }
    }

    /// Runs `fut` with a time bound; maps its error.
    async fn bounded<T>(
        &self,
        what: &str,
        limit: Duration,
        fut: impl Future<Output = azure_core::Result<T>>,
    ) -> Result<Result<T, azure_core::Error>, BlobError> {
        match tokio::time::timeout(limit, fut).await {
            Ok(result) => Ok(result),
            Err(_) => Err(BlobError::Unavailable(format!(
                "{what}: timed out after {} s",
                limit.as_secs()
            ))),
        }
    }
}

#[async_trait::async_trait]
impl BlobStore for AzureBlobStore {
    async fn put(
        &self,
        path: &str,
        bytes: bytes::Bytes,
        content_type: &str,
    ) -> Result<(), BlobError> {
        validate_path(path)?;
        let content_type = match content_type.trim() {
            "" => DEFAULT_CONTENT_TYPE,
            ct => ct,
        };
        if !content_type
            .chars()
            .all(|c| c.is_ascii() && !c.is_ascii_control())
        {
            return Err(BlobError::InvalidContentType(format!(
                "{content_type:?} must be printable ASCII"
            )));
        }
        let what = format!("put {path:?}");
        let blob = self.client()?.blob_client(path);
        let options = BlobClientUploadOptions {
            blob_content_type: Some(content_type.to_owned()),
            ..Default::default()
        };
        let size = bytes.len();
        let content: RequestContent<bytes::Bytes, NoFormat> = bytes.into();
        self.bounded(&what, DATA_TIMEOUT, blob.upload(content, Some(options)))
            .await?
            .map_err(|e| self.map_error(&what, e))?;
        tracing::debug!(path, size, "blob stored");
        Ok(())
    }

    async fn get(&self, path: &str) -> Result<Option<bytes::Bytes>, BlobError> {
        validate_path(path)?;
        let what = format!("get {path:?}");
        let blob = self.client()?.blob_client(path);
        let result = self
            .bounded(&what, DATA_TIMEOUT, async move {
                blob.download(None).await?.body.collect().await
            })
            .await?;
        match result {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.http_status() == Some(StatusCode::NotFound) => Ok(None),
            Err(e) => Err(self.map_error(&what, e)),
        }
    }

    async fn delete(&self, path: &str) -> Result<(), BlobError> {
        validate_path(path)?;
        let what = format!("delete {path:?}");
        let blob = self.client()?.blob_client(path);
        let options = BlobClientDeleteOptions {
            delete_snapshots: Some(DeleteSnapshotsOptionType::Include),
            ..Default::default()
        };
        match self
            .bounded(&what, CONTROL_TIMEOUT, blob.delete(Some(options)))
            .await?
        {
            Ok(_) => Ok(()),
            Err(e) if e.http_status() == Some(StatusCode::NotFound) => Ok(()),
            Err(e) => Err(self.map_error(&what, e)),
        }
    }

    async fn check_ready(&self) -> Result<(), BlobError> {
        let what = format!("check container {:?}", self.container);
        let client = self.client()?;
        match self
            .bounded(&what, READY_TIMEOUT, client.get_properties(None))
            .await?
        {
            Ok(_) => Ok(()),
            Err(e) if e.http_status() == Some(StatusCode::NotFound) => Err(BlobError::Unavailable(
                format!("{what}: the container does not exist"),
            )),
            Err(e) => Err(self.map_error(&what, e)),
        }
    }

    async fn ensure_container(&self) -> Result<(), BlobError> {
        let what = format!("create container {:?}", self.container);
        let client = self.client()?;
        match self
            .bounded(&what, CONTROL_TIMEOUT, client.create(None))
            .await?
        {
            Ok(_) => {
                tracing::info!(container = %self.container, "blob container created");
                Ok(())
            }
            Err(e) if is_container_already_exists(&e) => Ok(()),
            Err(e) => Err(self.map_error(&what, e)),
        }
    }
}

impl Auth {
    /// Removes anything secret from a message: URL query strings, `sig=` values, the key.
    fn scrub(&self, message: &str) -> String {
        let mut out = redact_secrets(message);
        match self {
            Auth::AccountKey { key, .. } => {
                let b64 = BASE64.encode(key.expose_secret());
                if out.contains(&b64) {
                    out = out.replace(&b64, "<redacted>");
                }
            }
            Auth::Sas { token } => {
                let token = token.expose_secret();
                if !token.is_empty() && out.contains(token) {
                    out = out.replace(token, "<redacted>");
                }
            }
            Auth::ManagedIdentity { .. } => {}
        }
        out
    }
}

/// A container client for `container_url` authenticated per `auth` (with a fresh SAS when the
/// account key is known).
fn build_client(
    container_url: &Url,
    auth: &Auth,
    options: &BlobContainerClientOptions,
    now: DateTime<Utc>,
) -> Result<ClientSlot, BlobError> {
    let mut url = container_url.clone();
    let (credential, renew_at) = match auth {
        Auth::AccountKey {
            account_name,
            key,
            protocol,
        } => {
            let expiry = now + SAS_LIFETIME;
            let sas = AccountSas::blob_read_write(account_name, expiry, *protocol);
            url.set_query(Some(&sas.to_query(key.expose_secret())));
            (None, Some(expiry - SAS_RENEW_BEFORE))
        }
        Auth::Sas { token } => {
            url.set_query(Some(token.expose_secret()));
            (None, None)
        }
        Auth::ManagedIdentity { credential, .. } => (Some(credential.clone()), None),
    };
    let client = BlobContainerClient::new(url, credential, Some(options.clone()))
        .map_err(|e| BlobError::InvalidConfig(auth.scrub(&describe(&e))))?;
    Ok(ClientSlot {
        client: Arc::new(client),
        renew_at,
    })
}

fn is_container_already_exists(e: &azure_core::Error) -> bool {
    match e.kind() {
        ErrorKind::HttpResponse {
            status: StatusCode::Conflict,
            error_code,
            ..
        } => error_code
            .as_deref()
            .is_none_or(|c| c == "ContainerAlreadyExists"),
        _ => false,
    }
}

fn container_url(endpoint: &Url, container: &str) -> Url {
    let mut url = endpoint.clone();
    url.set_query(None);
    url.set_fragment(None);
    url.path_segments_mut()
        .expect("http(s) endpoint URLs can be a base")
        .pop_if_empty()
        .push(container);
    url
}

/// The error and its sources, `: `-joined (sources carry the useful part, e.g. "Connection refused").
fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = vec![error.to_string()];
    let mut source = error.source();
    while let Some(s) = source {
        let text = s.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// Drops query strings from any http(s) URL in `message` and redacts any remaining `sig=` value.
pub(crate) fn redact_secrets(message: &str) -> String {
    let is_url_end = |c: char| c.is_whitespace() || matches!(c, ')' | '"' | '\'' | '<' | '>' | '`');

    // 1. URL query strings.
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    loop {
        let next = ["http://", "https://"]
            .iter()
            .filter_map(|p| find_ascii_case_insensitive(rest, p))
            .min();
        let Some(start) = next else {
            out.push_str(rest);
            break;
        };
        out.push_str(&rest[..start]);
        let url_part = &rest[start..];
        let end = url_part.find(is_url_end).unwrap_or(url_part.len());
        let url = &url_part[..end];
        match url.find('?') {
            Some(q) => {
                out.push_str(&url[..q]);
                out.push_str("?<query redacted>");
            }
            None => out.push_str(url),
        }
        rest = &url_part[end..];
    }

    // 2. Any `sig=` left (outside URLs).
    let mut result = String::with_capacity(out.len());
    let mut rest = out.as_str();
    while let Some(i) = find_ascii_case_insensitive(rest, "sig=") {
        let value_start = i + 4;
        result.push_str(&rest[..value_start]);
        let value = &rest[value_start..];
        let end = value
            .find(|c: char| c == '&' || is_url_end(c))
            .unwrap_or(value.len());
        result.push_str("<redacted>");
        rest = &value[end..];
    }
    result.push_str(rest);
    result
}

fn find_ascii_case_insensitive(haystack: &str, needle: &str) -> Option<usize> {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    if n.len() > h.len() {
        return None;
    }
    (0..=h.len() - n.len()).find(|&i| h[i..i + n.len()].eq_ignore_ascii_case(n))
}

#[cfg(test)]
mod tests {
    use super::super::connection_string::{AZURITE_ACCOUNT_KEY, AZURITE_BLOB_ENDPOINT};
    use super::*;

    fn azurite_config() -> BlobConfig {
        BlobConfig {
            connection_string: Some(SecretString::from(format!(
                "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AZURITE_ACCOUNT_KEY};BlobEndpoint={AZURITE_BLOB_ENDPOINT};"
            ))),
            account_url: None,
            managed_identity_client_id: None,
            container: "unit-test".into(),
        }
    }

    fn current_url(store: &AzureBlobStore) -> Url {
        store.client().unwrap().url().clone()
    }

    #[test]
    fn container_url_carries_a_complete_account_sas() {
        let store = AzureBlobStore::from_config(&azurite_config()).unwrap();
        let url = current_url(&store);
        assert_eq!(url.path(), "/devstoreaccount1/unit-test");
        let keys: Vec<String> = url.query_pairs().map(|(k, _)| k.into_owned()).collect();
        for k in ["sv", "ss", "srt", "sp", "se", "spr", "sig"] {
            assert!(keys.iter().any(|x| x == k), "missing {k} in {keys:?}");
        }
        let spr = url
            .query_pairs()
            .find(|(k, _)| k == "spr")
            .unwrap()
            .1
            .into_owned();
        assert_eq!(spr, "https,http");
        // The blob URL keeps the SAS and percent-encodes the name as one segment.
        let blob = store.client().unwrap().blob_client("tenants/t1/kb/a b.pdf");
        assert!(blob.url().query().unwrap().contains("sig="));
        assert!(
            blob.url()
                .path()
                .ends_with("/unit-test/tenants%2Ft1%2Fkb%2Fa%20b.pdf"),
            "{}",
            blob.url().path()
        );
    }

    #[test]
    fn sas_is_renewed_before_expiry() {
        let store = AzureBlobStore::from_config(&azurite_config()).unwrap();
        let renew_at = store.slot.read().unwrap().renew_at.unwrap();
        let left = renew_at - Utc::now();
        assert!(
            left > chrono::Duration::hours(3) && left <= SAS_LIFETIME - SAS_RENEW_BEFORE,
            "{left}"
        );

        // Not due: same client.
        let a = store.client().unwrap();
        assert!(Arc::ptr_eq(&a, &store.client().unwrap()));

        // Due: a new client with a new SAS (different expiry).
        let before = current_url(&store);
        {
            let mut slot = store.slot.write().unwrap();
            slot.renew_at = Some(Utc::now() - chrono::Duration::seconds(1));
            // Pretend the old SAS was minted earlier, so the new `se` must differ.
            let mut old = before.clone();
            old.query_pairs_mut()
                .clear()
                .append_pair("se", "2000-01-01T00:00:00Z");
            slot.client = Arc::new(BlobContainerClient::new(old, None, None).unwrap());
        }
        let renewed = store.client().unwrap();
        assert!(!Arc::ptr_eq(&a, &renewed));
        let se = renewed
            .url()
            .query_pairs()
            .find(|(k, _)| k == "se")
            .unwrap()
            .1
            .into_owned();
        assert_ne!(se, "2000-01-01T00:00:00Z");
        assert!(store.slot.read().unwrap().renew_at.unwrap() > Utc::now());
    }

    #[test]
    fn debug_output_has_no_key_and_no_signature() {
        let cfg = azurite_config();
        let store = AzureBlobStore::from_config(&cfg).unwrap();
        for dbg in [
            format!("{store:?}"),
            format!("{cfg:?}"),
            format!("{store:#?}"),
            format!("{cfg:#?}"),
        ] {
            assert!(!dbg.contains(AZURITE_ACCOUNT_KEY), "{dbg}");
            assert!(!dbg.contains(&AZURITE_ACCOUNT_KEY[..20]), "{dbg}");
            assert!(!dbg.contains("sig="), "{dbg}");
            assert!(dbg.contains("unit-test"), "{dbg}");
        }
    }

    #[test]
    fn config_errors() {
        let mut cfg = azurite_config();
        cfg.container = "Bad_Name".into();
        assert!(matches!(
            AzureBlobStore::from_config(&cfg),
            Err(BlobError::InvalidConfig(_))
        ));

        let none = BlobConfig {
            connection_string: None,
            account_url: None,
            managed_identity_client_id: None,
            container: "abc".into(),
        };
        assert!(matches!(
            AzureBlobStore::from_config(&none),
            Err(BlobError::InvalidConfig(_))
        ));

        let http_mi = BlobConfig {
            account_url: Some("http://acct.blob.core.windows.net".into()),
            ..none.clone()
        };
        assert!(matches!(
            AzureBlobStore::from_config(&http_mi),
            Err(BlobError::InvalidConfig(_))
        ));
    }

    #[test]
    fn managed_identity_store_builds_without_network() {
        let cfg = BlobConfig {
            connection_string: None,
            account_url: Some("https://acct.blob.core.windows.net".into()),
            managed_identity_client_id: Some("00000000-0000-0000-0000-000000000001".into()),
            container: "igshop".into(),
        };
        let store = AzureBlobStore::from_config(&cfg).unwrap();
        assert_eq!(
            current_url(&store).as_str(),
            "https://acct.blob.core.windows.net/igshop"
        );
        assert!(format!("{store:?}").contains("00000000-0000-0000-0000-000000000001"));
    }

    #[test]
    fn redaction() {
        let msg = "error sending request for url (http://127.0.0.1:1/devstoreaccount1/c?restype=container&sig=AbC%2B%2F%3D&sv=1): tcp connect error";
        let r = redact_secrets(msg);
        assert_eq!(r, "error sending request for url (http://127.0.0.1:1/devstoreaccount1/c?<query redacted>): tcp connect error");
        assert_eq!(
            redact_secrets("x SIG=abc&y=1 sig=def"),
            "x SIG=<redacted>&y=1 sig=<redacted>"
        );
        assert_eq!(
            redact_secrets("no secrets https://a/b here"),
            "no secrets https://a/b here"
        );
    }
}
