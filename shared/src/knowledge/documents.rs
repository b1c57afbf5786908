//! A shop's knowledge-base documents: adding one (an upload or a web address), listing,
//! reading, deleting and retrying. The reading of the text happens later, off the request
//! path, in [`super::ingest`]; here a document is stored and queued.
//!
//! An upload's original is kept in blob storage under the tenant's prefix
//! (`tenants/<tenant>/knowledge/<document>/<file name>`) before its row is written; if the row
//! does not commit, the blob is deleted again. The queue message (`{"kind":"kb_ingest"}`, id
//! `kb:<document>`) is written in the same transaction as the row on the local Postgres queue;
//! on Service Bus it is sent right after the commit, and a document whose message was lost is
//! sent again by the sweeper ([`requeue_stuck`]).

use super::extract::{DocumentKind, MAX_INPUT_BYTES};
use super::fetch::{is_forbidden_host_name, is_forbidden_ip};
use crate::app::App;
use crate::blob::BlobError;
use crate::db::{begin_for_tenant, DbError};
use crate::queue::{enqueue_in, QueueError, QueueMessage};
use crate::search::SearchError;
use crate::tenants::TenantId;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use url::{Host, Url};
use uuid::Uuid;

/// The queue message kind the worker dispatches on.
pub const INGEST_KIND: &str = "kb_ingest";
/// Longest title kept, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest web address accepted, in bytes.
pub const MAX_URL_BYTES: usize = 2048;

/// Where a document stands. Shown to the merchant as is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Queued,
    Processing,
    Indexed,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Processing => "processing",
            Status::Indexed => "indexed",
            Status::Failed => "failed",
        }
    }
    fn parse(s: &str) -> Status {
        match s {
            "processing" => Status::Processing,
            "indexed" => Status::Indexed,
            "failed" => Status::Failed,
            _ => Status::Queued,
        }
    }
}

/// A knowledge-base document as the merchant sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = KnowledgeDocument)]
pub struct Document {
    pub id: Uuid,
    pub title: String,
    /// `upload` or `url`.
    pub source: String,
    pub url: Option<String>,
    pub file_name: Option<String>,
    /// pdf, docx, txt, markdown or html, once read.
    pub kind: Option<String>,
    pub content_type: Option<String>,
    pub size_bytes: Option<i64>,
    pub sha256: Option<String>,
    pub status: Status,
    /// Why it failed, in words for the merchant.
    pub failure_reason: Option<String>,
    pub chunk_count: i32,
    /// Text beyond the extraction cap was left out.
    pub truncated: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub indexed_at: Option<DateTime<Utc>>,
    #[serde(skip)]
    #[schema(ignore)]
    pub blob_path: Option<String>,
}

const COLUMNS: &str = "id, title, source_kind, source_url, file_name, document_kind, content_type,
    size_bytes, sha256, status, failure_reason, chunk_count, truncated, created_at, updated_at,
    indexed_at, blob_path";

fn document(row: &tokio_postgres::Row) -> Document {
    Document {
        id: row.get(0),
        title: row.get(1),
        source: row.get(2),
        url: row.get(3),
        file_name: row.get(4),
        kind: row.get(5),
        content_type: row.get(6),
        size_bytes: row.get(7),
        sha256: row.get(8),
        status: Status::parse(row.get(9)),
        failure_reason: row.get(10),
        chunk_count: row.get(11),
        truncated: row.get(12),
        created_at: row.get(13),
        updated_at: row.get(14),
        indexed_at: row.get(15),
        blob_path: row.get(16),
    }
}

/// Why a document was not added, read or deleted. `Display` is for the merchant.
#[derive(Debug, thiserror::Error)]
pub enum KnowledgeError {
    #[error("This file type is not supported. Upload a PDF, a Word document (.docx), a text file (.txt) or a Markdown file (.md).")]
    Unsupported,
    #[error("The file is empty.")]
    Empty,
    #[error("The file is larger than {} MB. Split it into smaller files and upload them one by one.", MAX_INPUT_BYTES / (1024 * 1024))]
    TooLarge,
    /// Bad input, with a sentence saying what to change.
    #[error("{0}")]
    Invalid(String),
    #[error("There is no such document in your knowledge base.")]
    NotFound,
    #[error("Only a document that failed can be tried again.")]
    NotFailed,
    #[error(transparent)]
    Database(#[from] DbError),
    #[error("blob storage: {0}")]
    Blob(#[from] BlobError),
    #[error("queue: {0}")]
    Queue(#[from] QueueError),
    #[error("search: {0}")]
    Search(#[from] SearchError),
}

impl From<tokio_postgres::Error> for KnowledgeError {
    fn from(e: tokio_postgres::Error) -> Self {
        KnowledgeError::Database(e.into())
    }
}

/// An uploaded file, as the API received it.
pub struct Upload {
    pub file_name: String,
    pub content_type: Option<String>,
    pub bytes: bytes::Bytes,
    pub title: Option<String>,
}

/// The blob path of a document's original.
pub fn blob_path(tenant: TenantId, document: Uuid, file_name: &str) -> String {
    format!(
        "tenants/{tenant}/knowledge/{document}/{}",
        safe_file_name(file_name)
    )
}

/// A file name that is safe as the last part of a blob path: letters (any script), digits,
/// `.`, `-` and `_` kept, anything else `_`, no leading dot, at most 100 characters.
pub fn safe_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let cleaned = cleaned.trim_start_matches('.').trim_end_matches('.');
    let cut: String = cleaned
        .chars()
        .rev()
        .take(100)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    if cut.trim_matches('_').is_empty() {
        "document".into()
    } else {
        cut
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A title: the one given (trimmed, cut), or `fallback`.
fn title_of(given: Option<&str>, fallback: &str) -> Result<String, KnowledgeError> {
    let t = given
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .unwrap_or(fallback);
    if t.chars().any(char::is_control) {
        return Err(KnowledgeError::Invalid(
            "The title can't contain line breaks or control characters.".into(),
        ));
    }
    Ok(t.chars().take(MAX_TITLE_CHARS).collect())
}

/// The worker's queue message for a document.
pub fn ingest_message(tenant: TenantId, document: Uuid) -> QueueMessage {
    QueueMessage {
        message_id: format!("kb:{document}"),
        body: serde_json::json!({
            "kind": INGEST_KIND,
            "tenant_id": tenant.to_string(),
            "document_id": document.to_string(),
        }),
    }
}

/// Queues a document in the caller's transaction on the local queue; returns the message to
/// send after the commit when the queue is Service Bus.
async fn queue_in(
    app: &App,
    tx: &impl GenericClient,
    tenant: TenantId,
    document: Uuid,
) -> Result<Option<QueueMessage>, KnowledgeError> {
    let message = ingest_message(tenant, document);
    match &app.local_queue {
        Some(queue) => {
            enqueue_in(tx, queue.name(), &message).await?;
            Ok(None)
        }
        None => Ok(Some(message)),
    }
}

/// Sends what [`queue_in`] left for after the commit. A failure is only logged: the row is
/// committed as queued and the sweeper sends it again.
async fn send_after_commit(app: &App, message: Option<QueueMessage>) {
    if let Some(message) = message {
        if let Err(e) = app.queue.send(&message).await {
            tracing::warn!(error = %e, message_id = %message.message_id, "could not queue a knowledge document; the sweeper will");
        }
    }
}

/// Stores an upload and queues it for reading. The kind is checked here (415 for anything but
/// PDF, DOCX, TXT and Markdown); the text is read by the worker.
pub async fn create_from_upload(
    app: &App,
    tenant: TenantId,
    upload: Upload,
) -> Result<Document, KnowledgeError> {
    if upload.bytes.is_empty() {
        return Err(KnowledgeError::Empty);
    }
    if upload.bytes.len() > MAX_INPUT_BYTES {
        return Err(KnowledgeError::TooLarge);
    }
    let kind = DocumentKind::detect(
        &upload.file_name,
        upload.content_type.as_deref(),
        &upload.bytes,
    )
    .ok_or(KnowledgeError::Unsupported)?;
    let file_name = safe_file_name(&upload.file_name);
    let fallback = upload
        .file_name
        .rsplit(['/', '\\'])
        .next()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or(&file_name)
        .to_owned();
    let title = title_of(upload.title.as_deref(), &fallback)?;
    let id = Uuid::new_v4();
    let path = blob_path(tenant, id, &file_name);
    let content_type = content_type_of(kind);
    app.blobs
        .put(&path, upload.bytes.clone(), content_type)
        .await?;

    let stored = async {
        let mut client = app.db.app().await?;
        let tx = begin_for_tenant(&mut client, tenant).await?;
        let row = tx
            .query_one(
                &format!(
                    "INSERT INTO kb_documents (id, tenant_id, title, source_kind, blob_path, file_name,
                         document_kind, content_type, size_bytes, sha256, status)
                     VALUES ($1, $2, $3, 'upload', $4, $5, $6, $7, $8, $9, 'queued')
                     RETURNING {COLUMNS}"
                ),
                &[
                    &id,
                    &tenant.as_uuid(),
                    &title,
                    &path,
                    &upload.file_name.chars().take(255).collect::<String>(),
                    &kind.as_str(),
                    &content_type,
                    &(upload.bytes.len() as i64),
                    &sha256_hex(&upload.bytes),
                ],
            )
            .await?;
        let later = queue_in(app, &tx, tenant, id).await?;
        tx.commit().await?;
        Ok::<_, KnowledgeError>((document(&row), later))
    }
    .await;
    match stored {
        Ok((doc, later)) => {
            send_after_commit(app, later).await;
            Ok(doc)
        }
        Err(e) => {
            // The row never committed: the blob must not outlive it.
            if let Err(be) = app.blobs.delete(&path).await {
                tracing::error!(error = %be, path, "could not delete the blob of an upload that was not stored");
            }
            Err(e)
        }
    }
}

/// The content type a stored original is given.
pub fn content_type_of(kind: DocumentKind) -> &'static str {
    match kind {
        DocumentKind::Pdf => "application/pdf",
        DocumentKind::Docx => {
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        }
        DocumentKind::Txt => "text/plain; charset=utf-8",
        DocumentKind::Markdown => "text/markdown; charset=utf-8",
    }
}

/// Checks a web address at request time: http(s), no user name or password, not an internal
/// host name nor a private, loopback or link-local address written as a number. The worker
/// checks again, after DNS and on every redirect ([`super::fetch`]).
pub fn check_url(raw: &str) -> Result<Url, KnowledgeError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(KnowledgeError::Invalid(
            "Paste the link of the page, starting with https://.".into(),
        ));
    }
    if raw.len() > MAX_URL_BYTES {
        return Err(KnowledgeError::Invalid(format!(
            "This link is longer than {MAX_URL_BYTES} characters. Use a shorter link to the page."
        )));
    }
    let url = Url::parse(raw).map_err(|_| {
        KnowledgeError::Invalid(
            "This is not a valid web address. Paste the full link, starting with https://.".into(),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(KnowledgeError::Invalid(
            "Only http:// and https:// links can be added.".into(),
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(KnowledgeError::Invalid(
            "Links with a user name or password in them can't be added. Use the page's public link.".into(),
        ));
    }
    let private = || {
        KnowledgeError::Invalid(
            "This link points to a private or internal address, which can't be added. Use the page's public link.".into(),
        )
    };
    match url.host() {
        None => {
            return Err(KnowledgeError::Invalid(
                "This web address has no website name in it.".into(),
            ))
        }
        Some(Host::Ipv4(ip)) if is_forbidden_ip(IpAddr::V4(ip)) => return Err(private()),
        Some(Host::Ipv6(ip)) if is_forbidden_ip(IpAddr::V6(ip)) => return Err(private()),
        Some(Host::Domain(name)) if is_forbidden_host_name(name) => return Err(private()),
        Some(_) => {}
    }
    Ok(url)
}

/// Records a web page to add and queues it; the worker fetches it (with the SSRF policy) and
/// keeps the fetched original in blob storage.
pub async fn create_from_url(
    app: &App,
    tenant: TenantId,
    raw_url: &str,
    title: Option<&str>,
) -> Result<Document, KnowledgeError> {
    let url = check_url(raw_url)?;
    let fallback = url.host_str().unwrap_or("page").to_owned();
    let title = title_of(title, &fallback)?;
    let id = Uuid::new_v4();
    let mut client = app.db.app().await?;
    let tx = begin_for_tenant(&mut client, tenant).await?;
    let row = tx
        .query_one(
            &format!(
                "INSERT INTO kb_documents (id, tenant_id, title, source_kind, source_url, status)
                 VALUES ($1, $2, $3, 'url', $4, 'queued')
                 RETURNING {COLUMNS}"
            ),
            &[&id, &tenant.as_uuid(), &title, &url.as_str()],
        )
        .await?;
    let later = queue_in(app, &tx, tenant, id).await?;
    tx.commit().await?;
    send_after_commit(app, later).await;
    Ok(document(&row))
}

/// Every document of the shop, newest first.
pub async fn list(tx: &impl GenericClient) -> Result<Vec<Document>, KnowledgeError> {
    let rows = tx
        .query(
            &format!("SELECT {COLUMNS} FROM kb_documents ORDER BY created_at DESC, id"),
            &[],
        )
        .await?;
    Ok(rows.iter().map(document).collect())
}

/// One document of the shop; another shop's is [`KnowledgeError::NotFound`].
pub async fn get(tx: &impl GenericClient, id: Uuid) -> Result<Document, KnowledgeError> {
    tx.query_opt(
        &format!("SELECT {COLUMNS} FROM kb_documents WHERE id = $1"),
        &[&id],
    )
    .await?
    .map(|r| document(&r))
    .ok_or(KnowledgeError::NotFound)
}

/// Deletes a document: its index entries first (if search is unavailable nothing is deleted
/// and the merchant can try again), then the row with its chunks, then the original blob.
pub async fn delete(app: &App, tenant: TenantId, id: Uuid) -> Result<(), KnowledgeError> {
    let mut client = app.db.app().await?;
    let tx = begin_for_tenant(&mut client, tenant).await?;
    let row = tx
        .query_opt(
            "SELECT blob_path FROM kb_documents WHERE id = $1 FOR UPDATE",
            &[&id],
        )
        .await?
        .ok_or(KnowledgeError::NotFound)?;
    let path: Option<String> = row.get(0);
    app.search.remove_document(tenant, id).await?;
    tx.execute("DELETE FROM kb_chunks WHERE document_id = $1", &[&id])
        .await?;
    tx.execute("DELETE FROM kb_documents WHERE id = $1", &[&id])
        .await?;
    tx.commit().await?;
    if let Some(path) = path {
        if let Err(e) = app.blobs.delete(&path).await {
            tracing::error!(error = %e, path, "a deleted document's blob could not be deleted");
        }
    }
    Ok(())
}

/// Queues a failed document again (after the merchant fixed the page, say).
pub async fn retry(app: &App, tenant: TenantId, id: Uuid) -> Result<Document, KnowledgeError> {
    let mut client = app.db.app().await?;
    let tx = begin_for_tenant(&mut client, tenant).await?;
    let doc = get(&tx, id).await?;
    if doc.status != Status::Failed {
        return Err(KnowledgeError::NotFailed);
    }
    let row = tx
        .query_one(
            &format!(
                "UPDATE kb_documents SET status = 'queued', failure_reason = NULL, updated_at = now()
                  WHERE id = $1 RETURNING {COLUMNS}"
            ),
            &[&id],
        )
        .await?;
    let later = queue_in(app, &tx, tenant, id).await?;
    tx.commit().await?;
    send_after_commit(app, later).await;
    Ok(document(&row))
}

/// Sweeper: sends the queue message again for documents left queued or processing for longer
/// than `stale_after` (a message lost after the commit, a worker that died mid-way and whose
/// message was dead-lettered). Sending is idempotent by message id. Returns how many were sent.
pub async fn requeue_stuck(
    app: &App,
    stale_after: std::time::Duration,
    batch: i64,
) -> Result<usize, KnowledgeError> {
    let client = app.db.platform().await?;
    let rows = client
        .query(
            "SELECT id, tenant_id FROM kb_documents
              WHERE status IN ('queued', 'processing')
                AND updated_at < now() - make_interval(secs => $1)
              ORDER BY updated_at LIMIT $2",
            &[&stale_after.as_secs_f64(), &batch],
        )
        .await?;
    let mut sent = 0;
    for row in rows {
        let (id, tenant): (Uuid, Uuid) = (row.get(0), row.get(1));
        let tenant = TenantId::from_uuid(tenant);
        let message = ingest_message(tenant, id);
        match app.queue.send(&message).await {
            Ok(()) => {
                client
                    .execute(
                        "UPDATE kb_documents SET updated_at = now() WHERE id = $1",
                        &[&id],
                    )
                    .await?;
                sent += 1;
            }
            Err(e) => {
                tracing::warn!(error = %e, document = %id, "could not queue a stuck knowledge document")
            }
        }
    }
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_made_safe_for_blob_paths() {
        assert_eq!(safe_file_name("سياسة الإرجاع.pdf"), "سياسة_الإرجاع.pdf");
        assert_eq!(safe_file_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_file_name("C:\\docs\\faq.docx"), "faq.docx");
        assert_eq!(safe_file_name(".hidden"), "hidden");
        assert_eq!(safe_file_name("..."), "document");
        assert_eq!(safe_file_name("a\u{0}b\nc.txt"), "a_b_c.txt");
        assert!(safe_file_name(&"x".repeat(500)).chars().count() <= 100);
        let t = TenantId::new();
        let d = Uuid::new_v4();
        assert_eq!(
            blob_path(t, d, "../x y.md"),
            format!("tenants/{t}/knowledge/{d}/x_y.md")
        );
    }

    #[test]
    fn urls_are_checked_before_anything_is_stored() {
        for ok in ["https://shop.example.com/faq", "http://example.org/a?b=c"] {
            assert!(check_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "not a url",
            "ftp://example.com/x",
            "file:///etc/passwd",
            "https://user:pw@example.com/",
            "http://127.0.0.1/",
            "http://[::1]/",
            "http://localhost:8080/",
            "http://169.254.169.254/latest/meta-data/",
            "http://10.0.0.5/",
            "http://192.168.1.1/",
            "http://metadata.google.internal/",
            "http://intranet/",
            "http://2130706433/",
        ] {
            assert!(
                matches!(check_url(bad), Err(KnowledgeError::Invalid(_))),
                "{bad}"
            );
        }
    }
}
