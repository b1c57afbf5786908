//! Blob storage: knowledge-base documents and other tenant files.
//!
//! One trait, [`BlobStore`], with one implementation, [`AzureBlobStore`], over the official
//! `azure_storage_blob` crate. Paths are blob names inside one container, e.g.
//! `tenants/<uuid>/kb/<doc>.pdf`.
//!
//! Authentication:
//! - connection string with an account key (Azurite locally, `UseDevelopmentStorage=true` too):
//!   an account SAS is minted from the key ([`sas`]) and placed in the container URL; it is
//!   renewed before it expires;
//! - connection string with `SharedAccessSignature=`: that SAS is used as is;
//! - no connection string: `account_url` (https) with a managed identity (Entra ID token).
//!
//! Secrets (account key, SAS signature) never appear in `Debug` output, errors or logs.

mod azure;
mod connection_string;
pub mod sas;

pub use azure::AzureBlobStore;

use secrecy::SecretString;
use std::fmt;

/// Storage of opaque blobs under `/`-separated paths.
#[async_trait::async_trait]
pub trait BlobStore: Send + Sync {
    /// Stores bytes under `path` (e.g. `"tenants/<uuid>/kb/<doc>.pdf"`), overwriting, with a content type.
    async fn put(
        &self,
        path: &str,
        bytes: bytes::Bytes,
        content_type: &str,
    ) -> Result<(), BlobError>;
    /// Ok(None) when the blob does not exist.
    async fn get(&self, path: &str) -> Result<Option<bytes::Bytes>, BlobError>;
    /// Deleting a missing blob is Ok (idempotent).
    async fn delete(&self, path: &str) -> Result<(), BlobError>;
    /// Readiness: the container is reachable (used by /api/health). Cheap.
    async fn check_ready(&self) -> Result<(), BlobError>;
    /// Creates the container if missing (idempotent); called at start-up.
    async fn ensure_container(&self) -> Result<(), BlobError>;
}

/// Where the blobs live and how to authenticate.
#[derive(Clone)]
pub struct BlobConfig {
    /// Either a storage connection string (local: Azurite, e.g. "UseDevelopmentStorage=true" or
    /// "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=...;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"),
    /// or None to use `account_url` with managed identity (production).
    pub connection_string: Option<SecretString>,
    /// e.g. `https://myacct.blob.core.windows.net`  (used when connection_string is None)
    pub account_url: Option<String>,
    /// Optional client id of a user-assigned managed identity.
    pub managed_identity_client_id: Option<String>,
    pub container: String,
}

impl fmt::Debug for BlobConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlobConfig")
            .field(
                "connection_string",
                &self.connection_string.as_ref().map(|_| "<redacted>"),
            )
            .field("account_url", &self.account_url)
            .field(
                "managed_identity_client_id",
                &self.managed_identity_client_id,
            )
            .field("container", &self.container)
            .finish()
    }
}

/// Errors of the blob store. Messages are meant for logs and health output; they never contain
/// an account key or a SAS signature.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The configuration cannot work (bad connection string, URL, container name, ...).
    #[error("invalid blob storage configuration: {0}")]
    InvalidConfig(String),
    /// The blob path is not acceptable (see [`validate_path`]); no request was sent.
    #[error("invalid blob path: {0}")]
    InvalidPath(String),
    /// The content type is not acceptable; no request was sent.
    #[error("invalid content type: {0}")]
    InvalidContentType(String),
    /// The service could not be reached, timed out, or answered 5xx/429: worth retrying later.
    #[error("blob storage unavailable: {0}")]
    Unavailable(String),
    /// Authentication or authorization failed (HTTP 401/403, or no token could be obtained).
    #[error("blob storage refused access: {0}")]
    Unauthorized(String),
    /// Any other error answer of the service.
    #[error("blob storage error (HTTP {status}{}): {message}", code.as_deref().map(|c| format!(" {c}")).unwrap_or_default())]
    Service {
        status: u16,
        code: Option<String>,
        message: String,
    },
    /// Anything else (e.g. a malformed response).
    #[error("blob storage failure: {0}")]
    Other(String),
}

/// Longest blob name Azure accepts (characters).
pub const MAX_PATH_CHARS: usize = 1024;

/// Checks a blob path: non-empty, at most [`MAX_PATH_CHARS`] characters, no leading `/`, no
/// empty, `.` or `..` segment (so no `//` and no trailing `/`), no trailing `.`, no backslash,
/// no control characters.
pub fn validate_path(path: &str) -> Result<(), BlobError> {
    let bad = |why: &str| {
        Err(BlobError::InvalidPath(format!(
            "{why}: {:?}",
            truncate_for_message(path)
        )))
    };
    if path.is_empty() {
        return bad("empty");
    }
    if path.chars().count() > MAX_PATH_CHARS {
        return bad("longer than 1024 characters");
    }
    if path.starts_with('/') {
        return bad("starts with '/'");
    }
    if path.contains('\\') {
        return bad("contains a backslash");
    }
    if path.chars().any(char::is_control) {
        return bad("contains a control character");
    }
    if path.ends_with('.') {
        return bad("ends with '.'");
    }
    for segment in path.split('/') {
        match segment {
            "" => return bad("has an empty segment"),
            "." | ".." => return bad("has a '.' or '..' segment"),
            _ => {}
        }
    }
    Ok(())
}

fn truncate_for_message(s: &str) -> String {
    const MAX: usize = 120;
    if s.chars().count() <= MAX {
        s.to_owned()
    } else {
        let head: String = s.chars().take(MAX).collect();
        format!("{head}…")
    }
}

/// Checks an Azure container name: 3-63 characters, lower-case letters, digits and single
/// hyphens, starting and ending with a letter or digit.
pub fn validate_container_name(name: &str) -> Result<(), BlobError> {
    let ok = (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--");
    if ok {
        Ok(())
    } else {
        Err(BlobError::InvalidConfig(format!(
            "container name {name:?} must be 3-63 characters of lower-case letters, digits and single hyphens"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        for ok in [
            "a",
            "tenants/0b6e/kb/doc.pdf",
            "a..b.pdf",
            "مستندات/ملف.txt",
            "x y/z?#%.bin",
        ] {
            assert!(validate_path(ok).is_ok(), "{ok}");
        }
        let long_ok = "a".repeat(1024);
        assert!(validate_path(&long_ok).is_ok());
        for bad in [
            "", "/a", "a/../b", "..", "a/./b", "a//b", "a/", "a\\b", "a\u{0}b", "a\nb", "a.", "a/.",
        ] {
            assert!(
                matches!(validate_path(bad), Err(BlobError::InvalidPath(_))),
                "{bad:?}"
            );
        }
        assert!(matches!(
            validate_path(&"a".repeat(1025)),
            Err(BlobError::InvalidPath(_))
        ));
    }

    #[test]
    fn container_names() {
        for ok in ["igshop", "abc", "a-b-c", "x1y", "kb-2024"] {
            assert!(validate_container_name(ok).is_ok(), "{ok}");
        }
        for bad in ["ab", "-abc", "abc-", "a--b", "ABC", "a_b", &"a".repeat(64)] {
            assert!(validate_container_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn config_debug_is_redacted() {
        let cfg = BlobConfig {
            connection_string: Some(SecretString::from(
                "AccountName=a;AccountKey=c2VjcmV0LWtleQ==".to_owned(),
            )),
            account_url: None,
            managed_identity_client_id: None,
            container: "igshop".into(),
        };
        let dbg = format!("{cfg:?}");
        assert!(
            !dbg.contains("c2VjcmV0LWtleQ") && !dbg.contains("AccountKey"),
            "{dbg}"
        );
        assert!(dbg.contains("igshop"));
    }
}
