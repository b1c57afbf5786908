//! The running app's licences: `whitelist.sig` loaded from the blob store
//! (`LICENCE_WHITELIST_BLOB`) or a file (`LICENCE_WHITELIST_PATH`), verified with
//! `LICENCE_PUBLIC_KEY`, cached, and loaded again when the cache is older than
//! `LICENCE_RELOAD_SECS` (30 s), so a new version is picked up within a minute.
//!
//! Fail closed: a missing, unsigned, tampered or unreadable file means no shop is licensed,
//! and a platform alert says why. A blob store that cannot be reached for a moment keeps the
//! last verified copy (it was signed; nothing was tampered with). A copy older than the one
//! loaded (lower version) is refused, so an old file cannot be replayed.
//!
//! With `LICENCE_SIGNING_KEY` the app can also sign and publish a new version (the admin
//! console, and local development's automatic licences for local shops).

use super::{ExpiryDate, Whitelist, WhitelistError};
use crate::blob::BlobStore;
use crate::db::Database;
use crate::tenants::InstagramHandle;
use chrono::{DateTime, Utc};
use ed25519_dalek::{SigningKey, VerifyingKey};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

pub const ALERT_KIND: &str = "licence_whitelist";
const ALERT_KEY: &str = "licence_whitelist_invalid";

#[derive(Debug, Clone)]
pub enum WhitelistSource {
    /// A blob name inside BLOB_CONTAINER, e.g. `licence/whitelist.sig`.
    Blob(String),
    File(PathBuf),
}

impl std::fmt::Display for WhitelistSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WhitelistSource::Blob(p) => write!(f, "blob {p}"),
            WhitelistSource::File(p) => write!(f, "file {}", p.display()),
        }
    }
}

/// The licence settings, read by `shared::settings`.
#[derive(Clone, Default)]
pub struct LicenceSettings {
    pub source: Option<WhitelistSource>,
    pub public_key: Option<VerifyingKey>,
    /// Signs new versions on the server (admin console; local shops in local development).
    pub signing_key: Option<SigningKey>,
    pub reload: Duration,
}

impl std::fmt::Debug for LicenceSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LicenceSettings")
            .field("source", &self.source)
            .field("public_key", &self.public_key.is_some())
            .field(
                "signing_key",
                &self.signing_key.as_ref().map(|_| "[REDACTED]"),
            )
            .field("reload", &self.reload)
            .finish()
    }
}

/// What a shop's licence says today.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct LicenceStatus {
    /// valid | expired | unlicensed | unavailable | disabled
    pub state: &'static str,
    /// The last valid day (Asia/Amman), when the handle is on the whitelist.
    #[schema(value_type = Option<String>, format = Date)]
    pub expires_on: Option<ExpiryDate>,
    /// Days until (0: the last day) or since (negative) the expiry.
    pub days_left: Option<i64>,
    /// For the merchant, in words.
    pub message: String,
}

impl LicenceStatus {
    pub fn allows_ai(&self) -> bool {
        self.state == "valid"
    }
    pub fn disabled() -> Self {
        LicenceStatus {
            state: "disabled",
            expires_on: None,
            days_left: None,
            message: "the shop is disabled on this platform; AI replies are off until it is enabled again".into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("this server has no LICENCE_SIGNING_KEY, so licences are read-only here; sign with the CLI (handler licence add …, then handler licence publish)")]
    NoSigningKey,
    #[error(
        "no whitelist location is configured (LICENCE_WHITELIST_BLOB or LICENCE_WHITELIST_PATH)"
    )]
    NoSource,
    #[error("LICENCE_SIGNING_KEY does not belong to LICENCE_PUBLIC_KEY; the app would refuse what it signs")]
    KeyMismatch,
    #[error("the current whitelist cannot be read, so it cannot be changed safely: {0}")]
    Unreadable(String),
    #[error("could not store the whitelist: {0}")]
    Store(String),
}

struct Cache {
    loaded: Result<Arc<Whitelist>, String>,
    checked_at: Option<Instant>,
}

pub struct LicenceBook {
    settings: LicenceSettings,
    blobs: Arc<dyn BlobStore>,
    db: Database,
    cache: Mutex<Cache>,
}

enum Fetched {
    Bytes(Vec<u8>),
    Missing,
    /// Could not be reached; not evidence of tampering.
    Unreachable(String),
}

impl LicenceBook {
    pub fn new(settings: LicenceSettings, blobs: Arc<dyn BlobStore>, db: Database) -> Self {
        LicenceBook {
            settings,
            blobs,
            db,
            cache: Mutex::new(Cache {
                loaded: Err("the whitelist has not been loaded yet".into()),
                checked_at: None,
            }),
        }
    }

    pub fn source(&self) -> Option<&WhitelistSource> {
        self.settings.source.as_ref()
    }

    pub fn can_sign(&self) -> bool {
        self.settings.signing_key.is_some()
    }

    fn public_key(&self) -> Option<VerifyingKey> {
        self.settings.public_key.or_else(|| {
            self.settings
                .signing_key
                .as_ref()
                .map(|k| k.verifying_key())
        })
    }

    async fn fetch(&self) -> Result<Fetched, String> {
        match &self.settings.source {
            None => Err(
                "no whitelist is configured (LICENCE_WHITELIST_BLOB or LICENCE_WHITELIST_PATH)"
                    .into(),
            ),
            Some(WhitelistSource::Blob(path)) => Ok(match self.blobs.get(path).await {
                Ok(Some(b)) => Fetched::Bytes(b.to_vec()),
                Ok(None) => Fetched::Missing,
                Err(e) => Fetched::Unreachable(e.to_string()),
            }),
            Some(WhitelistSource::File(path)) => Ok(match tokio::fs::read(path).await {
                Ok(b) => Fetched::Bytes(b),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Fetched::Missing,
                Err(e) => Fetched::Unreachable(e.to_string()),
            }),
        }
    }

    /// The verified whitelist, or why there is none (fail closed). Reloads when due.
    pub async fn current(&self) -> Result<Arc<Whitelist>, String> {
        let mut cache = self.cache.lock().await;
        let due = cache
            .checked_at
            .is_none_or(|at| at.elapsed() >= self.settings.reload);
        if due {
            let loaded = self.load(&cache.loaded).await;
            self.report(&cache.loaded, &loaded).await;
            cache.loaded = loaded;
            cache.checked_at = Some(Instant::now());
        }
        cache.loaded.clone()
    }

    /// Loads again at the next use, whatever the cache's age.
    pub async fn reload_soon(&self) {
        self.cache.lock().await.checked_at = None;
    }

    async fn load(
        &self,
        previous: &Result<Arc<Whitelist>, String>,
    ) -> Result<Arc<Whitelist>, String> {
        let source = self
            .settings
            .source
            .as_ref()
            .map(|s| s.to_string())
            .unwrap_or_default();
        let Some(key) = self.public_key() else {
            return Err("LICENCE_PUBLIC_KEY is not set, so no whitelist can be trusted".into());
        };
        let bytes = match self.fetch().await? {
            Fetched::Bytes(b) => b,
            Fetched::Missing => return Err(format!("the whitelist is missing ({source})")),
            Fetched::Unreachable(e) => {
                return match previous {
                    Ok(w) => {
                        tracing::warn!(error = %e, %source, "whitelist unreachable; keeping the last verified copy");
                        Ok(w.clone())
                    }
                    Err(_) => Err(format!("the whitelist cannot be read ({source}): {e}")),
                }
            }
        };
        match Whitelist::verify(&bytes, &key) {
            Ok(w) => {
                if let Ok(prev) = previous {
                    if w.version < prev.version {
                        tracing::error!(
                            loaded = prev.version,
                            found = w.version,
                            "an older whitelist was published; keeping the newer one"
                        );
                        return Ok(prev.clone());
                    }
                }
                Ok(Arc::new(w))
            }
            Err(e) => Err(format!("the whitelist was refused ({source}): {e}")),
        }
    }

    /// A platform alert when the whitelist stops being usable; closed when it is usable again.
    async fn report(
        &self,
        before: &Result<Arc<Whitelist>, String>,
        after: &Result<Arc<Whitelist>, String>,
    ) {
        let result = async {
            let c = self.db.platform().await?;
            match after {
                Err(reason) => {
                    tracing::error!(%reason, "licences fail closed: no AI replies for any shop");
                    crate::alerts::raise(
                        &c,
                        None,
                        ALERT_KIND,
                        crate::alerts::Severity::Critical,
                        &format!("No shop gets AI replies: {reason}"),
                        Some(ALERT_KEY),
                    )
                    .await?;
                }
                Ok(w) if before.as_ref().map(|b| b.version) != Ok(w.version) => {
                    tracing::info!(version = w.version, licences = w.entries.len(), "whitelist loaded");
                    c.execute(
                        "UPDATE alerts SET acknowledged_at = now() WHERE tenant_id IS NULL AND dedupe_key = $1 AND acknowledged_at IS NULL",
                        &[&ALERT_KEY],
                    )
                    .await?;
                }
                Ok(_) => {}
            }
            Ok::<_, crate::db::DbError>(())
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "could not record the whitelist's state");
        }
    }

    /// The licence of a shop's handle today.
    pub async fn status(&self, handle: Option<&str>, now: DateTime<Utc>) -> LicenceStatus {
        let whitelist = match self.current().await {
            Ok(w) => w,
            Err(reason) => {
                return LicenceStatus {
                    state: "unavailable",
                    expires_on: None,
                    days_left: None,
                    message: format!(
                        "licences cannot be checked right now, so AI replies are off: {reason}"
                    ),
                }
            }
        };
        Self::status_in(&whitelist, handle, now)
    }

    pub fn status_in(
        whitelist: &Whitelist,
        handle: Option<&str>,
        now: DateTime<Utc>,
    ) -> LicenceStatus {
        let unlicensed = |message: String| LicenceStatus {
            state: "unlicensed",
            expires_on: None,
            days_left: None,
            message,
        };
        let Some(handle) = handle.and_then(|h| InstagramHandle::parse(h).ok()) else {
            return unlicensed("the shop has no Instagram handle to license".into());
        };
        let Some(expiry) = whitelist.expiry(&handle) else {
            return unlicensed(format!("@{handle} has no licence for AI replies"));
        };
        let today = super::amman_today(now);
        let days_left = expiry.days_left(today);
        if expiry.covers(today) {
            LicenceStatus {
                state: "valid",
                expires_on: Some(expiry),
                days_left: Some(days_left),
                message: format!("licensed until {expiry} (Amman time)"),
            }
        } else {
            LicenceStatus {
                state: "expired",
                expires_on: Some(expiry),
                days_left: Some(days_left),
                message: format!("the licence of @{handle} expired on {expiry}"),
            }
        }
    }

    /// Signs `change` applied to the current whitelist as its next version and publishes it.
    /// Returns the new whitelist (unchanged, and nothing written, when the change is a no-op).
    /// Callers serialise concurrent edits (the admin API holds an advisory lock).
    pub async fn publish_change(
        &self,
        change: impl FnOnce(&mut Whitelist) -> bool,
    ) -> Result<Arc<Whitelist>, PublishError> {
        let key = self
            .settings
            .signing_key
            .clone()
            .ok_or(PublishError::NoSigningKey)?;
        if self.public_key() != Some(key.verifying_key()) {
            return Err(PublishError::KeyMismatch);
        }
        let source = self.settings.source.clone().ok_or(PublishError::NoSource)?;
        let mut cache = self.cache.lock().await;
        // Always start from what is stored now, not from the cache.
        let current = match self.fetch().await.map_err(PublishError::Unreadable)? {
            Fetched::Missing => Whitelist::empty(),
            Fetched::Unreachable(e) => return Err(PublishError::Unreadable(e)),
            Fetched::Bytes(b) => Whitelist::verify(&b, &key.verifying_key())
                .map_err(|e: WhitelistError| PublishError::Unreadable(e.to_string()))?,
        };
        let mut next = current.next(Utc::now());
        if !change(&mut next) {
            return Ok(Arc::new(current));
        }
        let bytes = next.sign(&key);
        match &source {
            WhitelistSource::Blob(path) => self
                .blobs
                .put(path, bytes::Bytes::from(bytes), "text/plain; charset=utf-8")
                .await
                .map_err(|e| PublishError::Store(e.to_string()))?,
            WhitelistSource::File(path) => write_atomically(path, &bytes)
                .await
                .map_err(|e| PublishError::Store(format!("{}: {e}", path.display())))?,
        }
        let next = Arc::new(next);
        let before = std::mem::replace(&mut cache.loaded, Ok(next.clone()));
        cache.checked_at = Some(Instant::now());
        self.report(&before, &cache.loaded).await;
        Ok(next)
    }

    /// Local development: a shop signed in locally is licensed for a year, when this server
    /// holds a signing key. Never called outside `IGSHOP_ENV=local`.
    pub async fn license_local_shop(&self, handle: &InstagramHandle) -> Result<(), PublishError> {
        let today = super::amman_today(Utc::now());
        let expiry = ExpiryDate::from_date(today + chrono::Duration::days(365));
        self.publish_change(|w| match w.expiry(handle) {
            Some(e) if e.covers(today) => false,
            _ => w.set(handle, expiry),
        })
        .await
        .map(|_| ())
    }
}

/// Writes next to the target and renames, so a reader never sees half a file.
pub async fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp-{}", uuid::Uuid::new_v4().simple()));
    tokio::fs::write(&tmp, bytes).await?;
    if let Err(e) = tokio::fs::rename(&tmp, path).await {
        let _ = tokio::fs::remove_file(&tmp).await;
        return Err(e);
    }
    Ok(())
}
