//! The knowledge worker: reads a queued document, cuts it into chunks, embeds them when an
//! embedding model is configured, writes `kb_chunks` and indexes them.
//!
//! Runs for each `{"kind":"kb_ingest"}` queue message (see [`crate::work`]). Idempotent on
//! redelivery: a document already indexed (or failed, or deleted) is left alone; one left
//! `processing` by a crash is read again from the start, its old chunks and index entries
//! removed first.
//!
//! Outcomes: a problem with the document itself (unsupported, no text, a forbidden or
//! unreachable address, too large) marks it `failed` with a sentence for the merchant and
//! returns `Ok` (the message is done). A problem of ours that may pass (blob storage, search or
//! the embedding model unavailable) returns `Err`, so the queue delivers the message again; on
//! the last allowed delivery the document is marked failed instead, so it never stays
//! `processing` for ever.

use super::chunk::{chunk, Chunk, DEFAULT_OVERLAP_CHARS, DEFAULT_TARGET_CHARS};
use super::documents::{blob_path, safe_file_name, Status};
use super::extract::{extract_text, DocumentKind, ExtractError};
use super::fetch::{fetch, FetchPolicy};
use super::html;
use crate::app::App;
use crate::db::{begin_for_tenant, DbError};
use crate::llm::usage::{record, CallKind, UsageEvent};
use crate::llm::LlmError;
use crate::search::{PassageDoc, SearchError};
use crate::tenants::TenantId;
use uuid::Uuid;

/// Chunks embedded per model call.
pub const EMBED_BATCH: usize = 64;
/// Passages sent to the search index per call.
pub const INDEX_BATCH: usize = 200;

/// How the worker reaches the outside world. The product uses [`IngestOptions::default`];
/// tests open exactly the loopback servers they run, through [`FetchPolicy`]'s test
/// allowances, which no setting can turn on.
#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    pub fetch: FetchPolicy,
}

/// An ingest message's body: `{"kind":"kb_ingest","tenant_id":…,"document_id":…}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IngestRequest {
    pub tenant: TenantId,
    pub document: Uuid,
}

impl IngestRequest {
    pub fn from_body(body: &serde_json::Value) -> Option<IngestRequest> {
        let id = |k: &str| body[k].as_str().and_then(|s| Uuid::parse_str(s).ok());
        Some(IngestRequest {
            tenant: TenantId::from_uuid(id("tenant_id")?),
            document: id("document_id")?,
        })
    }
}

/// Worth delivering the message again.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Database(#[from] DbError),
    #[error("blob storage: {0}")]
    Blob(#[from] crate::blob::BlobError),
    #[error("search: {0}")]
    Search(#[from] SearchError),
    #[error("embeddings: {0}")]
    Embedding(#[from] LlmError),
    #[error("reading the document crashed: {0}")]
    Crashed(String),
}

impl From<tokio_postgres::Error> for IngestError {
    fn from(e: tokio_postgres::Error) -> Self {
        IngestError::Database(e.into())
    }
}

/// A reason the document cannot be indexed, for the merchant.
struct Failed(String);

/// Handles one ingest message (see the module documentation for the outcomes).
pub async fn handle(
    app: &App,
    request: IngestRequest,
    delivery_count: i32,
    options: &IngestOptions,
) -> Result<(), IngestError> {
    let IngestRequest { tenant, document } = request;
    let Some(doc) = start(app, tenant, document).await? else {
        return Ok(());
    };
    match process(app, tenant, &doc, options).await {
        Ok(Ok(chunks)) => {
            finish(app, tenant, document, Ok(chunks)).await?;
            Ok(())
        }
        Ok(Err(Failed(reason))) => {
            tracing::info!(%document, reason, "knowledge document failed");
            finish(app, tenant, document, Err(reason)).await?;
            Ok(())
        }
        Err(e) if delivery_count >= app.settings.queue.max_deliveries => {
            tracing::error!(error = %e, %document, "knowledge document failed on its last delivery");
            finish(
                app,
                tenant,
                document,
                Err("We couldn't process this document because of a problem on our side. Please try again later.".into()),
            )
            .await?;
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// What the worker needs of the row.
struct Queued {
    id: Uuid,
    source: String,
    url: Option<String>,
    blob_path: Option<String>,
    file_name: Option<String>,
    content_type: Option<String>,
}

/// Marks the document processing; `None` when there is nothing to do (deleted, indexed, failed).
async fn start(app: &App, tenant: TenantId, document: Uuid) -> Result<Option<Queued>, IngestError> {
    let mut client = app.db.app().await?;
    let tx = begin_for_tenant(&mut client, tenant).await?;
    let row = tx
        .query_opt(
            "SELECT status, source_kind, source_url, blob_path, file_name, content_type
               FROM kb_documents WHERE id = $1 FOR UPDATE",
            &[&document],
        )
        .await?;
    let Some(row) = row else {
        tracing::info!(%document, "knowledge document was deleted before it was read");
        return Ok(None);
    };
    let status: String = row.get(0);
    if status != Status::Queued.as_str() && status != Status::Processing.as_str() {
        tracing::info!(%document, status, "knowledge document already done; message ignored");
        return Ok(None);
    }
    tx.execute(
        "UPDATE kb_documents SET status = 'processing', updated_at = now() WHERE id = $1",
        &[&document],
    )
    .await?;
    tx.commit().await?;
    Ok(Some(Queued {
        id: document,
        source: row.get(1),
        url: row.get(2),
        blob_path: row.get(3),
        file_name: row.get(4),
        content_type: row.get(5),
    }))
}

/// Reads, chunks, embeds and indexes; the inner `Err` is the document's own fault.
async fn process(
    app: &App,
    tenant: TenantId,
    doc: &Queued,
    options: &IngestOptions,
) -> Result<Result<usize, Failed>, IngestError> {
    let (bytes, file_name, content_type) = match original(app, tenant, doc, options).await? {
        Ok(found) => found,
        Err(failed) => return Ok(Err(failed)),
    };
    let (text_bytes, kind, kind_name) =
        if let Some(kind) = DocumentKind::detect(&file_name, content_type.as_deref(), &bytes) {
            (bytes, kind, kind.as_str())
        } else if html::is_html(content_type.as_deref(), &bytes) {
            let markdown = html::to_markdown(&String::from_utf8_lossy(&bytes));
            (markdown.into_bytes(), DocumentKind::Markdown, "html")
        } else {
            return Ok(Err(Failed(ExtractError::Unsupported.to_string())));
        };
    let extracted = tokio::task::spawn_blocking(move || extract_text(&text_bytes, kind))
        .await
        .map_err(|e| IngestError::Crashed(e.to_string()))?;
    let text = match extracted {
        Ok(t) => t,
        Err(e) => {
            tracing::info!(detail = e.detail(), "knowledge document could not be read");
            return Ok(Err(Failed(e.to_string())));
        }
    };
    let chunks = chunk(&text, DEFAULT_TARGET_CHARS, DEFAULT_OVERLAP_CHARS);
    if chunks.is_empty() {
        return Ok(Err(Failed(ExtractError::Empty.to_string())));
    }
    {
        let mut client = app.db.app().await?;
        let tx = begin_for_tenant(&mut client, tenant).await?;
        tx.execute(
            "UPDATE kb_documents SET document_kind = $2, truncated = $3 WHERE id = $1",
            &[&doc.id, &kind_name, &text.truncated],
        )
        .await?;
        tx.commit().await?;
    }
    let embeddings = embed(app, tenant, &chunks).await?;
    if !index(app, tenant, doc.id, &chunks, embeddings).await? {
        return Ok(Err(Failed("deleted".into())));
    }
    Ok(Ok(chunks.len()))
}

/// The original's bytes, file name and content type: from blob storage for an upload; fetched
/// (SSRF policy, size and time caps) and then kept in blob storage for a web address.
async fn original(
    app: &App,
    tenant: TenantId,
    doc: &Queued,
    options: &IngestOptions,
) -> Result<Result<(Vec<u8>, String, Option<String>), Failed>, IngestError> {
    if doc.source == "upload" {
        let Some(path) = &doc.blob_path else {
            return Ok(Err(Failed(MISSING_UPLOAD.into())));
        };
        return Ok(match app.blobs.get(path).await? {
            Some(bytes) => Ok((
                bytes.to_vec(),
                doc.file_name.clone().unwrap_or_default(),
                doc.content_type.clone(),
            )),
            None => Err(Failed(MISSING_UPLOAD.into())),
        });
    }
    let url = doc.url.clone().unwrap_or_default();
    let fetched = match fetch(&url, &options.fetch).await {
        Ok(f) => f,
        Err(e) => {
            tracing::info!(error = ?e, "knowledge page could not be fetched");
            return Ok(Err(Failed(e.to_string())));
        }
    };
    let file_name = page_file_name(&fetched.final_url, fetched.content_type.as_deref());
    let path = blob_path(tenant, doc.id, &file_name);
    let stored_type = fetched
        .content_type
        .clone()
        .filter(|c| c.len() <= 200 && c.is_ascii() && !c.chars().any(|c| c.is_ascii_control()))
        .unwrap_or_else(|| "application/octet-stream".into());
    let bytes = bytes::Bytes::from(fetched.bytes);
    let put = app.blobs.put(&path, bytes.clone(), &stored_type).await;
    if let Err(crate::blob::BlobError::InvalidContentType(_)) = put {
        app.blobs
            .put(&path, bytes.clone(), "application/octet-stream")
            .await?;
    } else {
        put?;
    }
    let sha: String = {
        use sha2::Digest;
        sha2::Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let mut client = app.db.app().await?;
    let tx = begin_for_tenant(&mut client, tenant).await?;
    let updated = tx
        .execute(
            "UPDATE kb_documents SET blob_path = $2, file_name = $3, content_type = $4,
                    size_bytes = $5, sha256 = $6
              WHERE id = $1",
            &[
                &doc.id,
                &path,
                &file_name,
                &fetched.content_type,
                &(bytes.len() as i64),
                &sha,
            ],
        )
        .await?;
    tx.commit().await?;
    if updated == 0 {
        // Deleted while we fetched: the blob must not outlive the row.
        app.blobs.delete(&path).await?;
        return Ok(Err(Failed("deleted".into())));
    }
    Ok(Ok((bytes.to_vec(), file_name, fetched.content_type)))
}

const MISSING_UPLOAD: &str =
    "The uploaded file is missing from storage. Delete this document and upload the file again.";

/// A file name for a fetched page: the last part of its path, or `page`, with an extension
/// that matches what was fetched when it has none.
fn page_file_name(final_url: &str, content_type: Option<&str>) -> String {
    let last = url::Url::parse(final_url)
        .ok()
        .and_then(|u| {
            u.path_segments()
                .and_then(|mut s| s.next_back().map(str::to_owned))
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "page".into());
    let name = safe_file_name(&last);
    if name.contains('.') {
        return name;
    }
    let mime = content_type
        .and_then(|c| c.split(';').next())
        .map(|c| c.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let ext = match mime.as_str() {
        "application/pdf" => "pdf",
        "text/plain" => "txt",
        "text/markdown" => "md",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => "docx",
        _ => "html",
    };
    format!("{name}.{ext}")
}

/// Embeddings of the chunks (heading and text), in batches, with the usage of each call
/// recorded; `None` when no embedding model is configured. An unavailable model is an `Err`
/// (try again later); a model that refuses the request (wrong key or name) is logged and the
/// document is indexed for keyword search only.
async fn embed(
    app: &App,
    tenant: TenantId,
    chunks: &[Chunk],
) -> Result<Option<Vec<Vec<f32>>>, IngestError> {
    let Some(llm) = app.llm.as_ref() else {
        return Ok(None);
    };
    let Some(model) = llm.embedding_model().map(str::to_owned) else {
        return Ok(None);
    };
    let mut vectors = Vec::with_capacity(chunks.len());
    for batch in chunks.chunks(EMBED_BATCH) {
        let texts: Vec<String> = batch.iter().map(|c| embedding_input(c)).collect();
        let (mut got, usage) = match llm.embed(&texts).await {
            Ok(answer) => answer,
            Err(e @ LlmError::Unavailable { .. }) => return Err(e.into()),
            Err(e) => {
                tracing::error!(error = %e, "the embedding model refused; indexing for keyword search only");
                return Ok(None);
            }
        };
        let mut client = app.db.app().await?;
        let tx = begin_for_tenant(&mut client, tenant).await?;
        record(
            &tx,
            &UsageEvent {
                tenant,
                conversation_id: None,
                turn_id: None,
                kind: CallKind::Embedding,
                provider: llm.provider(),
                model: &model,
                usage,
                cost_usd: llm.cost_usd(&model, usage),
                billed_to: llm.billed_to(),
            },
        )
        .await?;
        tx.commit().await?;
        vectors.append(&mut got);
    }
    Ok(Some(vectors))
}

fn embedding_input(c: &Chunk) -> String {
    if c.heading.trim().is_empty() {
        c.content.clone()
    } else {
        format!("{}\n\n{}", c.heading, c.content)
    }
}

/// Replaces the document's chunks: old rows and index entries out, new rows in, then indexed
/// in batches. `false` when the document was deleted meanwhile (nothing is left behind).
async fn index(
    app: &App,
    tenant: TenantId,
    document: Uuid,
    chunks: &[Chunk],
    embeddings: Option<Vec<Vec<f32>>>,
) -> Result<bool, IngestError> {
    let passages: Vec<PassageDoc> = chunks
        .iter()
        .enumerate()
        .map(|(i, c)| PassageDoc {
            id: Uuid::new_v4(),
            ordinal: c.ordinal,
            heading: c.heading.clone(),
            content: c.content.clone(),
            embedding: embeddings.as_ref().and_then(|e| e.get(i).cloned()),
        })
        .collect();
    app.search.remove_document(tenant, document).await?;
    {
        let mut client = app.db.app().await?;
        let tx = begin_for_tenant(&mut client, tenant).await?;
        if tx
            .query_opt(
                "SELECT 1 FROM kb_documents WHERE id = $1 FOR UPDATE",
                &[&document],
            )
            .await?
            .is_none()
        {
            return Ok(false);
        }
        tx.execute("DELETE FROM kb_chunks WHERE document_id = $1", &[&document])
            .await?;
        let insert = tx
            .prepare(
                "INSERT INTO kb_chunks (id, tenant_id, document_id, ordinal, heading, content, embedding)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .await?;
        for p in &passages {
            tx.execute(
                &insert,
                &[
                    &p.id,
                    &tenant.as_uuid(),
                    &document,
                    &p.ordinal,
                    &p.heading,
                    &p.content,
                    &p.embedding,
                ],
            )
            .await?;
        }
        tx.commit().await?;
    }
    for batch in passages.chunks(INDEX_BATCH) {
        match app.search.index_passages(tenant, document, batch).await {
            Ok(()) => {}
            Err(SearchError::NotFound(_)) => return Ok(false),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(true)
}

/// Writes the outcome, unless the document was deleted meanwhile (then its index entries are
/// removed again, in case a batch landed after the delete).
async fn finish(
    app: &App,
    tenant: TenantId,
    document: Uuid,
    outcome: Result<usize, String>,
) -> Result<(), IngestError> {
    let mut client = app.db.app().await?;
    let tx = begin_for_tenant(&mut client, tenant).await?;
    let updated = match &outcome {
        Ok(chunks) => {
            tx.execute(
                "UPDATE kb_documents SET status = 'indexed', failure_reason = NULL,
                        chunk_count = $2, indexed_at = now(), updated_at = now()
                  WHERE id = $1",
                &[&document, &(*chunks as i32)],
            )
            .await?
        }
        Err(reason) => {
            tx.execute(
                "UPDATE kb_documents SET status = 'failed', failure_reason = $2, chunk_count = 0,
                        updated_at = now()
                  WHERE id = $1",
                &[&document, reason],
            )
            .await?
        }
    };
    tx.commit().await?;
    if updated == 0 {
        app.search.remove_document(tenant, document).await?;
    } else if outcome.is_err() {
        // A failed document keeps no chunks from an earlier attempt.
        app.search.remove_document(tenant, document).await?;
        let mut client = app.db.app().await?;
        let tx = begin_for_tenant(&mut client, tenant).await?;
        tx.execute("DELETE FROM kb_chunks WHERE document_id = $1", &[&document])
            .await?;
        tx.commit().await?;
    }
    Ok(())
}
