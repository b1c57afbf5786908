//! `/api/v1/knowledge/...`: the shop's knowledge base. Documents are uploaded
//! (`multipart/form-data`, a `file` field and an optional `title`) or added by web address,
//! listed with their status, read, deleted and retried; `search` shows what the agent would
//! find. The reading happens in the worker (`shared::knowledge::ingest`), off the request.
//!
//! Multipart bodies are read with our own cap (the host sends them chunked, without a
//! Content-Length, which warp's own multipart filter refuses) and parsed with `multer`.

use super::auth::{merchant, merchant_write};
use super::shop::{in_shop, internal, json_body};
use crate::http::{answer_here, capped_body, ApiError};
use serde::Deserialize;
use shared::app::App;
use shared::knowledge::documents::{self, KnowledgeError, Upload};
use shared::knowledge::extract::MAX_INPUT_BYTES;
use shared::llm::usage::{record, CallKind, UsageEvent};
use shared::search::SearchQuery;
use shared::sessions::MerchantSession;
use shared::tenants::TenantId;
use uuid::Uuid;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::{Filter, Rejection, Reply};

/// The form around a 20 MB file: boundaries, headers and the title.
const FORM_OVERHEAD: usize = 64 * 1024;
const JSON_LIMIT: usize = 8 * 1024;
const MAX_TITLE_BYTES: usize = 2 * 1024;

type Resp = warp::reply::Response;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UrlInput {
    /// An http(s) page to read.
    url: String,
    title: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SearchParams {
    /// What a customer might ask.
    q: Option<String>,
    /// At most 20 passages (default 5).
    limit: Option<usize>,
}

enum Op {
    List(MerchantSession),
    Upload(MerchantSession, Option<String>, bytes::Bytes),
    AddUrl(MerchantSession, UrlInput),
    Get(MerchantSession, String),
    Delete(MerchantSession, String),
    Retry(MerchantSession, String),
    Search(MerchantSession, SearchParams),
}

pub fn routes(app: App) -> BoxedFilter<(Resp,)> {
    let read = || merchant(app.clone());
    let write = || merchant_write(app.clone());
    let end = warp::path::end;

    let documents = end()
        .and(warp::get())
        .and(read())
        .map(Op::List)
        .or(end()
            .and(warp::post())
            .and(write())
            .and(warp::header::optional::<String>("content-type"))
            .and(upload_body())
            .map(Op::Upload))
        .unify()
        .or(warp::path!("url")
            .and(warp::post())
            .and(write())
            .and(json_body::<UrlInput>(JSON_LIMIT))
            .map(Op::AddUrl))
        .unify()
        .or(warp::path::param::<String>()
            .and(end())
            .and(warp::get())
            .and(read())
            .map(|id, s| Op::Get(s, id)))
        .unify()
        .or(warp::path::param::<String>()
            .and(end())
            .and(warp::delete())
            .and(write())
            .map(|id, s| Op::Delete(s, id)))
        .unify()
        .or(warp::path::param::<String>()
            .and(warp::path!("retry"))
            .and(warp::post())
            .and(write())
            .map(|id, s| Op::Retry(s, id)))
        .unify();
    let search = end()
        .and(warp::get())
        .and(read())
        .and(crate::http::query::<SearchParams>())
        .map(Op::Search);

    let handle = move |op: Op| {
        let app = app.clone();
        async move { run(app, op).await.unwrap_or_else(|e| e.into_response()) }
    };
    let h2 = handle.clone();
    let base = || {
        warp::path("api")
            .and(warp::path("v1"))
            .and(warp::path("knowledge"))
    };
    base()
        .and(warp::path("documents"))
        .and(answer_here(documents.then(handle)))
        .or(base()
            .and(warp::path("search"))
            .and(answer_here(search.then(h2))))
        .unify()
        .boxed()
}

/// The upload's bytes, refused with 413 past the file cap plus the form's own overhead.
fn upload_body() -> impl Filter<Extract = (bytes::Bytes,), Error = Rejection> + Clone {
    capped_body(MAX_INPUT_BYTES + FORM_OVERHEAD).or_else(|r: Rejection| async move {
        match r.find::<ApiError>() {
            Some(e) if e.status == StatusCode::PAYLOAD_TOO_LARGE => Err(warp::reject::custom(
                knowledge_error(KnowledgeError::TooLarge),
            )),
            _ => Err(r),
        }
    })
}

fn json<T: serde::Serialize>(v: &T) -> Resp {
    warp::reply::json(v).into_response()
}

fn status<T: serde::Serialize>(v: &T, code: StatusCode) -> Resp {
    warp::reply::with_status(warp::reply::json(v), code).into_response()
}

fn id_of(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| knowledge_error(KnowledgeError::NotFound))
}

fn knowledge_error(e: KnowledgeError) -> ApiError {
    let message = e.to_string();
    match e {
        KnowledgeError::Unsupported => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_type",
            message,
        ),
        KnowledgeError::Empty => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "empty_file", message)
        }
        KnowledgeError::TooLarge => {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "file_too_large", message)
        }
        KnowledgeError::Invalid(_) => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
        }
        KnowledgeError::NotFound => ApiError::new(StatusCode::NOT_FOUND, "not_found", message),
        KnowledgeError::NotFailed => ApiError::new(StatusCode::CONFLICT, "not_failed", message),
        KnowledgeError::Search(e) if e.is_transient() => {
            tracing::warn!(error = %e, "search unavailable");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "search_unavailable",
                "Search is unavailable right now; nothing was changed. Please try again in a minute.",
            )
        }
        other => internal(other),
    }
}

/// The `file` part (name, content type, bytes) and the optional `title` of a form.
async fn read_form(content_type: Option<&str>, body: bytes::Bytes) -> Result<Upload, ApiError> {
    let not_a_form = || {
        ApiError::bad_request(
            "Send the file as multipart/form-data, in a field named \"file\" (and an optional \"title\").",
        )
    };
    let boundary = content_type
        .and_then(|ct| multer::parse_boundary(ct).ok())
        .ok_or_else(not_a_form)?;
    let stream = futures::stream::once(async move { Ok::<_, std::io::Error>(body) });
    let mut form = multer::Multipart::new(stream, boundary);
    let mut upload: Option<Upload> = None;
    let mut title: Option<String> = None;
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                return Err(ApiError::bad_request(format!(
                    "The form could not be read ({e}). Send the file as multipart/form-data."
                )))
            }
        };
        match field.name() {
            Some("file") if upload.is_none() => {
                let file_name = field.file_name().unwrap_or("document").to_owned();
                let content_type = field.content_type().map(|m| m.to_string());
                let bytes = field.bytes().await.map_err(|e| {
                    ApiError::bad_request(format!("The file could not be read: {e}"))
                })?;
                if bytes.len() > MAX_INPUT_BYTES {
                    return Err(knowledge_error(KnowledgeError::TooLarge));
                }
                upload = Some(Upload {
                    file_name,
                    content_type,
                    bytes,
                    title: None,
                });
            }
            Some("title") => {
                let bytes = field.bytes().await.map_err(|e| {
                    ApiError::bad_request(format!("The title could not be read: {e}"))
                })?;
                if bytes.len() > MAX_TITLE_BYTES {
                    return Err(knowledge_error(KnowledgeError::Invalid(
                        "The title is too long; keep it under 200 characters.".into(),
                    )));
                }
                title = Some(crate::http::read_text(&bytes, "title")?.to_owned());
            }
            _ => {}
        }
    }
    let mut upload = upload.ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "no_file",
            "Choose a file to upload (the form has no \"file\" field).",
        )
    })?;
    upload.title = title;
    Ok(upload)
}

async fn run(app: App, op: Op) -> Result<Resp, ApiError> {
    match op {
        Op::List(s) => in_shop(&app, s.tenant, |tx| {
            Box::pin(async move { documents::list(tx).await.map_err(knowledge_error) })
        })
        .await
        .map(|d| json(&serde_json::json!({ "documents": d }))),
        Op::Upload(s, content_type, body) => {
            let upload = read_form(content_type.as_deref(), body).await?;
            documents::create_from_upload(&app, s.tenant, upload)
                .await
                .map(|d| status(&d, StatusCode::ACCEPTED))
                .map_err(knowledge_error)
        }
        Op::AddUrl(s, input) => {
            documents::create_from_url(&app, s.tenant, &input.url, input.title.as_deref())
                .await
                .map(|d| status(&d, StatusCode::ACCEPTED))
                .map_err(knowledge_error)
        }
        Op::Get(s, id) => {
            let id = id_of(&id)?;
            in_shop(&app, s.tenant, |tx| {
                Box::pin(async move { documents::get(tx, id).await.map_err(knowledge_error) })
            })
            .await
            .map(|d| json(&d))
        }
        Op::Delete(s, id) => {
            let id = id_of(&id)?;
            documents::delete(&app, s.tenant, id)
                .await
                .map(|()| StatusCode::NO_CONTENT.into_response())
                .map_err(knowledge_error)
        }
        Op::Retry(s, id) => {
            let id = id_of(&id)?;
            documents::retry(&app, s.tenant, id)
                .await
                .map(|d| status(&d, StatusCode::ACCEPTED))
                .map_err(knowledge_error)
        }
        Op::Search(s, params) => search(&app, s.tenant, params).await,
    }
}

/// What the agent would find for `q`: passages of the shop's documents, hybrid when an
/// embedding model is configured (the query's embedding is billed like any other).
async fn search(app: &App, tenant: TenantId, params: SearchParams) -> Result<Resp, ApiError> {
    let q = params.q.unwrap_or_default();
    if q.trim().is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "Type what a customer might ask, e.g. ?q=delivery to Irbid.",
        ));
    }
    if q.chars().count() > shared::search::MAX_QUERY_CHARS {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            format!(
                "The question is longer than {} characters; shorten it.",
                shared::search::MAX_QUERY_CHARS
            ),
        ));
    }
    let mut query = SearchQuery::new(tenant, q.clone()).with_limit(params.limit.unwrap_or(10));
    if let Some(embedding) = query_embedding(app, tenant, &q).await {
        query = query.with_embedding(embedding);
    }
    let hits = app
        .search
        .search_passages(&query)
        .await
        .map_err(|e| knowledge_error(KnowledgeError::Search(e)))?;
    Ok(json(&serde_json::json!({ "query": q, "hits": hits })))
}

/// The query's embedding, or `None` (no model, or it failed: the search is then by words).
async fn query_embedding(app: &App, tenant: TenantId, q: &str) -> Option<Vec<f32>> {
    let llm = app.llm.as_ref()?;
    let model = llm.embedding_model()?.to_owned();
    let (mut vectors, usage) = match llm.embed(&[q.to_owned()]).await {
        Ok(answer) => answer,
        Err(e) => {
            tracing::warn!(error = %e, "query embedding failed; searching by words only");
            return None;
        }
    };
    let (provider, cost_usd, billed_to) =
        (llm.provider(), llm.cost_usd(&model, usage), llm.billed_to());
    let recorded = in_shop(app, tenant, move |tx| {
        Box::pin(async move {
            let event = UsageEvent {
                tenant,
                conversation_id: None,
                turn_id: None,
                kind: CallKind::Embedding,
                provider,
                model: &model,
                usage,
                cost_usd,
                billed_to,
            };
            record(tx, &event).await.map_err(internal)
        })
    })
    .await;
    if recorded.is_err() {
        return None;
    }
    vectors.pop()
}
