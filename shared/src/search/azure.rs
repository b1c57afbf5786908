//! Azure AI Search over its REST API (api-version [`API_VERSION`]).
//!
//! One index holds every tenant's products and passages. Isolation rests on two things:
//! * every query body comes from [`build_query`] (or the private document-id lookup), whose
//!   filter always starts with `tenant_id eq '<tenant>'`, and [`build_query`] takes a
//!   [`SearchQuery`], which cannot exist without a [`TenantScope`];
//! * document keys are `<tenant>_<kind>_<id>`, so indexing or deleting for one tenant can never
//!   overwrite or delete another tenant's document, whatever id it is given.
//!
//! Fields: `id` (key), `item_id`, `tenant_id`, `kind`, `document_id` (filterable, not
//! searchable), `title` and `content` (searchable, `ar.microsoft`: Arabic stemming),
//! `content_normalized` ([`arabic::search_form`] of everything searchable, `standard.lucene`:
//! spelling variants meet), `snippet` (products: what a hit shows), `embedding` (HNSW, cosine).
//!
//! Queries use the full Lucene syntax built from the query's words only (letters and digits,
//! so user text cannot carry syntax): each word, its prefix (3+ characters) and a fuzzy form
//! (4+ characters, one edit) for typos. Passage queries with an embedding add a vector query
//! (hybrid, fused by the service with RRF) pre-filtered by the same tenant filter.

use super::{
    arabic, cut, HitKind, PassageDoc, ProductDoc, Search, SearchError, SearchHit, SearchQuery,
    TenantScope, MAX_LIMIT, PASSAGE_SNIPPET_CHARS, PRODUCT_SNIPPET_CHARS,
};
use crate::tenants::TenantId;
use async_trait::async_trait;
use azure_core::credentials::TokenCredential;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

pub const API_VERSION: &str = "2024-07-01";
/// Token scope for Azure AI Search data-plane and index management with Entra ID.
pub const SEARCH_SCOPE: &str = "https://search.azure.com/.default";
const VECTOR_PROFILE: &str = "igshop-vector-profile";
const VECTOR_ALGORITHM: &str = "igshop-hnsw";
/// Documents per indexing request (the service takes up to 1000; vectors make them large).
const INDEX_BATCH: usize = 100;
/// Keys per lookup page and per delete request when removing a document's passages.
const DELETE_BATCH: usize = 1000;
/// The service refuses `skip` beyond this.
const MAX_SKIP: usize = 100_000;

pub enum AzureAuth {
    /// Admin key, sent as the `api-key` header.
    ApiKey(SecretString),
    /// Entra ID bearer tokens for [`SEARCH_SCOPE`] (the service must allow RBAC).
    ManagedIdentity(Arc<dyn TokenCredential>),
}

pub struct AzureSearchConfig {
    /// `https://<service>.search.windows.net` (plain http only for a loopback test server).
    pub endpoint: String,
    pub index: String,
    pub auth: AzureAuth,
    /// Length of the embedding model's vectors; the index's vector field is made this size.
    pub dimensions: usize,
    pub timeout: Duration,
}

pub struct AzureSearch {
    http: reqwest::Client,
    endpoint: String,
    index: String,
    auth: AzureAuth,
    dimensions: usize,
}

impl std::fmt::Debug for AzureSearch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let auth = match self.auth {
            AzureAuth::ApiKey(_) => "api-key",
            AzureAuth::ManagedIdentity(_) => "managed identity",
        };
        f.debug_struct("AzureSearch")
            .field("endpoint", &self.endpoint)
            .field("index", &self.index)
            .field("auth", &auth)
            .field("dimensions", &self.dimensions)
            .finish()
    }
}

/// An OData string literal: quoted, with single quotes doubled.
fn odata_string(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// The filter every request carries: the tenant first, then the other conditions.
fn tenant_filter(scope: &TenantScope, kind: HitKind, document_id: Option<Uuid>) -> String {
    let mut filter = format!(
        "tenant_id eq {} and kind eq {}",
        odata_string(&scope.tenant().to_string()),
        odata_string(kind.as_str())
    );
    if let Some(doc) = document_id {
        filter.push_str(&format!(
            " and document_id eq {}",
            odata_string(&doc.to_string())
        ));
    }
    filter
}

/// The Lucene query for the query's words: each word, its prefix (3+ characters) and a
/// fuzzy form (4+ characters). The words hold only letters and digits; the lower-casing in
/// [`arabic::normalize`] also keeps `AND`/`OR`/`NOT` from being operators.
fn lucene_query(terms: &[String]) -> String {
    let mut parts = Vec::with_capacity(terms.len() * 3);
    for t in terms {
        debug_assert!(t.chars().all(char::is_alphanumeric));
        parts.push(t.clone());
        let n = t.chars().count();
        if n >= 3 {
            parts.push(format!("{t}*"));
        }
        if n >= 4 {
            parts.push(format!("{t}~1"));
        }
    }
    parts.join(" ")
}

/// The body of `POST /indexes/{index}/docs/search` for a query: the tenant filter always,
/// the words when there are any, the vector query for passages with an embedding.
pub fn build_query(q: &SearchQuery, kind: HitKind) -> Value {
    let mut body = json!({
        "filter": tenant_filter(&q.scope, kind, None),
        "queryType": "full",
        "searchMode": "any",
        "searchFields": "title,content,content_normalized",
        "select": "item_id,kind,document_id,title,content,snippet",
        "top": q.clamped_limit(),
        "count": false,
    });
    let terms = q.terms();
    if !terms.is_empty() {
        body["search"] = Value::String(lucene_query(&terms));
    }
    if kind == HitKind::Passage {
        if let Some(embedding) = q.embedding.as_ref().filter(|e| !e.is_empty()) {
            body["vectorQueries"] = json!([{
                "kind": "vector",
                "vector": embedding,
                "fields": "embedding",
                "k": MAX_LIMIT,
            }]);
            body["vectorFilterMode"] = Value::String("preFilter".into());
        }
    }
    body
}

/// The index definition: `PUT /indexes/{name}` creates or updates it.
pub fn index_definition(name: &str, dimensions: usize) -> Value {
    let keyword = |name: &str, key: bool| {
        json!({
            "name": name, "type": "Edm.String", "key": key, "searchable": false, "filterable": true,
            "retrievable": true, "sortable": false, "facetable": false,
        })
    };
    let text = |name: &str, analyzer: &str, retrievable: bool| {
        json!({
            "name": name, "type": "Edm.String", "searchable": true, "filterable": false,
            "retrievable": retrievable, "sortable": false, "facetable": false, "analyzer": analyzer,
        })
    };
    json!({
        "name": name,
        "fields": [
            keyword("id", true),
            keyword("item_id", false),
            keyword("tenant_id", false),
            keyword("kind", false),
            keyword("document_id", false),
            text("title", "ar.microsoft", true),
            text("content", "ar.microsoft", true),
            text("content_normalized", "standard.lucene", false),
            {
                "name": "snippet", "type": "Edm.String", "searchable": false, "filterable": false,
                "retrievable": true, "sortable": false, "facetable": false,
            },
            {
                "name": "embedding", "type": "Collection(Edm.Single)", "searchable": true, "filterable": false,
                "retrievable": false, "sortable": false, "facetable": false,
                "dimensions": dimensions, "vectorSearchProfile": VECTOR_PROFILE,
            },
        ],
        "vectorSearch": {
            "algorithms": [{
                "name": VECTOR_ALGORITHM,
                "kind": "hnsw",
                "hnswParameters": { "metric": "cosine", "m": 4, "efConstruction": 400, "efSearch": 500 },
            }],
            "profiles": [{ "name": VECTOR_PROFILE, "algorithm": VECTOR_ALGORITHM }],
        },
    })
}

/// A document key: the tenant, the kind and the id, so keys of two tenants never collide.
pub fn document_key(tenant: TenantId, kind: HitKind, id: Uuid) -> String {
    format!("{}_{}_{}", tenant, kind.as_str(), id)
}

fn product_document(tenant: TenantId, item: &ProductDoc) -> Value {
    let mut content: Vec<&str> = vec![&item.sku];
    if let Some(c) = &item.category {
        content.push(c);
    }
    content.push(&item.attributes_text);
    content.push(&item.description);
    let content = content
        .into_iter()
        .filter(|s| !s.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    json!({
        "@search.action": "upload",
        "id": document_key(tenant, HitKind::Product, item.id),
        "item_id": item.id.to_string(),
        "tenant_id": tenant.to_string(),
        "kind": HitKind::Product.as_str(),
        "document_id": null,
        "title": item.name,
        "content": content,
        "content_normalized": arabic::search_form(&item.searchable_text()),
        "snippet": cut(&item.description, PRODUCT_SNIPPET_CHARS),
    })
}

fn passage_document(tenant: TenantId, document_id: Uuid, p: &PassageDoc) -> Value {
    let mut doc = json!({
        "@search.action": "upload",
        "id": document_key(tenant, HitKind::Passage, p.id),
        "item_id": p.id.to_string(),
        "tenant_id": tenant.to_string(),
        "kind": HitKind::Passage.as_str(),
        "document_id": document_id.to_string(),
        "title": p.heading,
        "content": p.content,
        "content_normalized": arabic::search_form(&p.searchable_text()),
        "snippet": null,
    });
    if let Some(e) = p.embedding.as_ref().filter(|e| !e.is_empty()) {
        doc["embedding"] = json!(e);
    }
    doc
}

fn delete_action(key: &str) -> Value {
    json!({ "@search.action": "delete", "id": key })
}

fn endpoint_url(raw: &str) -> Result<String, SearchError> {
    let url = url::Url::parse(raw.trim())
        .map_err(|e| SearchError::Config(format!("AZURE_SEARCH_ENDPOINT is not a URL: {e}")))?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
        return Err(SearchError::Config(
            "AZURE_SEARCH_ENDPOINT must use https (keys and tokens are sent to it)".into(),
        ));
    }
    if url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(SearchError::Config(
            "AZURE_SEARCH_ENDPOINT must be the bare service URL".into(),
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// Azure AI Search index names: 2-128 lower-case letters, digits or dashes, starting with a
/// letter or digit, no double dash.
fn check_index_name(name: &str) -> Result<(), SearchError> {
    let ok = (2..=128).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--");
    if ok {
        Ok(())
    } else {
        Err(SearchError::Config(format!(
            "AZURE_SEARCH_INDEX {name:?} is not a valid index name (2-128 lower-case letters, digits and single dashes)"
        )))
    }
}

impl AzureSearch {
    pub fn new(config: AzureSearchConfig) -> Result<Self, SearchError> {
        let endpoint = endpoint_url(&config.endpoint)?;
        check_index_name(&config.index)?;
        if !(2..=4096).contains(&config.dimensions) {
            return Err(SearchError::Config(format!(
                "embedding dimensions must be between 2 and 4096, not {}",
                config.dimensions
            )));
        }
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(Duration::from_secs(5).min(config.timeout))
            .build()
            .map_err(|e| SearchError::Config(format!("HTTP client: {e}")))?;
        Ok(AzureSearch {
            http,
            endpoint,
            index: config.index,
            auth: config.auth,
            dimensions: config.dimensions,
        })
    }

    pub fn index_name(&self) -> &str {
        &self.index
    }

    pub fn dimensions(&self) -> usize {
        self.dimensions
    }

    /// Creates the index, or updates it to this definition (`PUT` is idempotent). Changing an
    /// existing field (say, the vector size) is refused by the service: that needs a new
    /// index name.
    pub async fn ensure_index(&self) -> Result<(), SearchError> {
        let url = format!("{}/indexes/{}", self.endpoint, self.index);
        self.send(
            reqwest::Method::PUT,
            &url,
            &index_definition(&self.index, self.dimensions),
        )
        .await?;
        Ok(())
    }

    async fn auth_header(&self) -> Result<(&'static str, String), SearchError> {
        match &self.auth {
            AzureAuth::ApiKey(key) => Ok(("api-key", key.expose_secret().to_owned())),
            AzureAuth::ManagedIdentity(credential) => {
                let token = credential
                    .get_token(&[SEARCH_SCOPE], None)
                    .await
                    .map_err(|e| SearchError::Unavailable {
                        status: None,
                        message: format!(
                            "could not get a managed-identity token for Azure AI Search: {e}"
                        ),
                    })?;
                Ok(("authorization", format!("Bearer {}", token.token.secret())))
            }
        }
    }

    /// Removes anything secret from text that is about to become an error message.
    fn redact(&self, text: &str) -> String {
        match &self.auth {
            AzureAuth::ApiKey(key) if !key.expose_secret().is_empty() => {
                text.replace(key.expose_secret(), "[redacted]")
            }
            _ => text.to_owned(),
        }
    }

    async fn send(
        &self,
        method: reqwest::Method,
        url: &str,
        body: &Value,
    ) -> Result<Value, SearchError> {
        let (header, value) = self.auth_header().await?;
        let response = self
            .http
            .request(method, url)
            .query(&[("api-version", API_VERSION)])
            .header(header, value)
            .json(body)
            .send()
            .await
            .map_err(|e| SearchError::Unavailable {
                status: None,
                message: self.redact(&format!(
                    "request to Azure AI Search failed: {}",
                    e.without_url()
                )),
            })?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        if status.is_success() {
            if text.trim().is_empty() {
                return Ok(Value::Null);
            }
            return serde_json::from_str(&text).map_err(|e| SearchError::Service {
                status: status.as_u16(),
                message: format!("unreadable answer: {e}"),
            });
        }
        let detail = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| {
                v.pointer("/error/message")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .unwrap_or(text);
        let message = self.redact(&cut(detail.trim(), 300));
        let status = status.as_u16();
        Err(match status {
            401 | 403 => SearchError::Unauthorized { status, message },
            408 | 429 | 500 | 502 | 503 | 504 => SearchError::Unavailable {
                status: Some(status),
                message,
            },
            _ => SearchError::Service { status, message },
        })
    }

    /// Sends index actions in batches; a 207 answer (some documents failed) is an error.
    async fn index_actions(&self, actions: Vec<Value>, batch: usize) -> Result<(), SearchError> {
        let url = format!("{}/indexes/{}/docs/index", self.endpoint, self.index);
        for chunk in actions.chunks(batch) {
            let answer = self
                .send(reqwest::Method::POST, &url, &json!({ "value": chunk }))
                .await?;
            let failed: Vec<String> = answer
                .get("value")
                .and_then(Value::as_array)
                .map(|results| {
                    results
                        .iter()
                        .filter(|r| r.get("status").and_then(Value::as_bool) == Some(false))
                        .map(|r| {
                            format!(
                                "{}: {}",
                                r.get("key").and_then(Value::as_str).unwrap_or("?"),
                                r.get("errorMessage")
                                    .and_then(Value::as_str)
                                    .unwrap_or("failed")
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            if !failed.is_empty() {
                return Err(SearchError::Service {
                    status: 207,
                    message: self.redact(&cut(
                        &format!(
                            "{} document(s) not indexed: {}",
                            failed.len(),
                            failed.join("; ")
                        ),
                        500,
                    )),
                });
            }
        }
        Ok(())
    }

    async fn search(&self, body: &Value) -> Result<Vec<Value>, SearchError> {
        let url = format!("{}/indexes/{}/docs/search", self.endpoint, self.index);
        let answer = self.send(reqwest::Method::POST, &url, body).await?;
        Ok(answer
            .get("value")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default())
    }

    fn check_dimensions(&self, embedding: &[f32]) -> Result<(), SearchError> {
        if embedding.len() != self.dimensions {
            return Err(SearchError::Invalid(format!(
                "the embedding has {} dimensions; the index expects {}",
                embedding.len(),
                self.dimensions
            )));
        }
        if embedding.iter().any(|x| !x.is_finite()) {
            return Err(SearchError::Invalid(
                "an embedding holds a value that is not a finite number".into(),
            ));
        }
        Ok(())
    }

    async fn query(&self, q: &SearchQuery, kind: HitKind) -> Result<Vec<SearchHit>, SearchError> {
        let embedding = q
            .embedding
            .as_deref()
            .filter(|e| !e.is_empty() && kind == HitKind::Passage);
        if let Some(e) = embedding {
            self.check_dimensions(e)?;
        }
        if q.terms().is_empty() && embedding.is_none() {
            return Ok(Vec::new());
        }
        let body = build_query(q, kind);
        let docs = self.search(&body).await?;
        let mut hits = Vec::with_capacity(docs.len());
        for doc in docs {
            let str_field = |name: &str| {
                doc.get(name)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            let Ok(id) = Uuid::parse_str(&str_field("item_id")) else {
                tracing::warn!(index = %self.index, "search: a document without a valid item_id was skipped");
                continue;
            };
            let score = doc
                .get("@search.score")
                .and_then(Value::as_f64)
                .unwrap_or(0.0) as f32;
            let hit = match kind {
                HitKind::Product => SearchHit {
                    id,
                    kind,
                    document_id: None,
                    score,
                    title: str_field("title"),
                    snippet: str_field("snippet"),
                },
                HitKind::Passage => SearchHit {
                    id,
                    kind,
                    document_id: Uuid::parse_str(&str_field("document_id")).ok(),
                    score,
                    title: str_field("title"),
                    snippet: cut(&str_field("content"), PASSAGE_SNIPPET_CHARS),
                },
            };
            hits.push(hit);
        }
        Ok(hits)
    }
}

#[async_trait]
impl Search for AzureSearch {
    async fn index_product(&self, tenant: TenantId, item: &ProductDoc) -> Result<(), SearchError> {
        self.index_actions(vec![product_document(tenant, item)], INDEX_BATCH)
            .await
    }

    async fn remove_product(&self, tenant: TenantId, id: Uuid) -> Result<(), SearchError> {
        self.index_actions(
            vec![delete_action(&document_key(tenant, HitKind::Product, id))],
            DELETE_BATCH,
        )
        .await
    }

    async fn index_products(
        &self,
        tenant: TenantId,
        items: &[ProductDoc],
    ) -> Result<(), SearchError> {
        let actions = items.iter().map(|i| product_document(tenant, i)).collect();
        self.index_actions(actions, INDEX_BATCH).await
    }

    async fn remove_products(&self, tenant: TenantId, ids: &[Uuid]) -> Result<(), SearchError> {
        let actions = ids
            .iter()
            .map(|id| delete_action(&document_key(tenant, HitKind::Product, *id)))
            .collect();
        self.index_actions(actions, DELETE_BATCH).await
    }

    fn product_index(&self) -> super::ProductIndex {
        super::ProductIndex::External
    }

    async fn index_passages(
        &self,
        tenant: TenantId,
        document_id: Uuid,
        passages: &[PassageDoc],
    ) -> Result<(), SearchError> {
        for p in passages {
            if let Some(e) = p.embedding.as_ref().filter(|e| !e.is_empty()) {
                self.check_dimensions(e)?;
            }
        }
        let actions = passages
            .iter()
            .map(|p| passage_document(tenant, document_id, p))
            .collect();
        self.index_actions(actions, INDEX_BATCH).await
    }

    async fn remove_document(
        &self,
        tenant: TenantId,
        document_id: Uuid,
    ) -> Result<(), SearchError> {
        let scope = TenantScope::new(tenant);
        let mut keys = Vec::new();
        let mut skip = 0;
        loop {
            let body = json!({
                "search": "*",
                "filter": tenant_filter(&scope, HitKind::Passage, Some(document_id)),
                "select": "id",
                "top": DELETE_BATCH,
                "skip": skip,
            });
            let page = self.search(&body).await?;
            let n = page.len();
            keys.extend(
                page.iter()
                    .filter_map(|d| d.get("id").and_then(Value::as_str).map(str::to_owned)),
            );
            skip += n;
            if n < DELETE_BATCH || skip >= MAX_SKIP {
                break;
            }
        }
        // Keys of this tenant only, whatever the service answered.
        let prefix = format!("{tenant}_");
        let actions: Vec<Value> = keys
            .iter()
            .filter(|k| k.starts_with(&prefix))
            .map(|k| delete_action(k))
            .collect();
        self.index_actions(actions, DELETE_BATCH).await
    }

    async fn search_products(&self, q: &SearchQuery) -> Result<Vec<SearchHit>, SearchError> {
        self.query(q, HitKind::Product).await
    }

    async fn search_passages(&self, q: &SearchQuery) -> Result<Vec<SearchHit>, SearchError> {
        self.query(q, HitKind::Passage).await
    }

    async fn prepare(&self) -> Result<(), SearchError> {
        self.ensure_index().await
    }

    fn backend(&self) -> &'static str {
        "azure"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant_clause(t: TenantId) -> String {
        format!("tenant_id eq '{t}'")
    }

    #[test]
    fn every_query_filter_starts_with_the_tenant() {
        let t = TenantId::new();
        for kind in [HitKind::Product, HitKind::Passage] {
            for q in [
                SearchQuery::new(t, "قميص ازرق"),
                SearchQuery::new(t, ""),
                SearchQuery::new(t, "x").with_embedding(vec![0.1, 0.2]),
                SearchQuery {
                    scope: TenantScope::from(t),
                    text: "shirt".into(),
                    embedding: None,
                    limit: 500,
                },
            ] {
                let body = build_query(&q, kind);
                let filter = body["filter"].as_str().unwrap();
                assert!(filter.starts_with(&tenant_clause(t)), "{filter}");
                assert_eq!(
                    filter,
                    format!("{} and kind eq '{}'", tenant_clause(t), kind.as_str())
                );
                assert!(body["top"].as_u64().unwrap() <= MAX_LIMIT as u64);
            }
        }
    }

    #[test]
    fn query_text_cannot_alter_the_filter_or_carry_syntax() {
        let t = TenantId::new();
        let evil = "x' or tenant_id ne 'y') or (kind eq 'passage' AND NOT \"a\" || b:c~2 /re/ [1 TO 9] {x} ^3 \\";
        let body = build_query(&SearchQuery::new(t, evil), HitKind::Product);
        assert_eq!(
            body["filter"],
            format!("{} and kind eq 'product'", tenant_clause(t))
        );
        let search = body["search"].as_str().unwrap();
        for word in search.split(' ') {
            let bare = word.trim_end_matches('*').trim_end_matches("~1");
            assert!(
                !bare.is_empty() && bare.chars().all(char::is_alphanumeric),
                "{word:?} in {search:?}"
            );
        }
        for op in [
            "AND", "OR", "NOT", "'", "\"", "(", ")", "||", ":", "/", "[", "{", "^", "\\",
        ] {
            assert!(!search.contains(op), "{op:?} survived in {search:?}");
        }
    }

    #[test]
    fn filter_values_are_escaped() {
        assert_eq!(odata_string("o'brien"), "'o''brien'");
        assert_eq!(odata_string("''"), "''''''");
        let t = TenantId::new();
        let doc = Uuid::new_v4();
        let f = tenant_filter(&TenantScope::new(t), HitKind::Passage, Some(doc));
        assert_eq!(
            f,
            format!("tenant_id eq '{t}' and kind eq 'passage' and document_id eq '{doc}'")
        );
    }

    #[test]
    fn the_search_text_is_normalised_with_prefix_and_fuzzy_forms() {
        let q = SearchQuery::new(TenantId::new(), "بدي القَمِيص الأزرق XL");
        let body = build_query(&q, HitKind::Product);
        assert_eq!(body["search"], "قميص قميص* قميص~1 ازرق ازرق* ازرق~1 xl");
        assert_eq!(body["queryType"], "full");
        assert!(body.get("vectorQueries").is_none());
    }

    #[test]
    fn passages_with_an_embedding_get_a_prefiltered_vector_query() {
        let t = TenantId::new();
        let q = SearchQuery::new(t, "سياسة الإرجاع")
            .with_embedding(vec![0.5, -0.25, 1.0])
            .with_limit(3);
        let body = build_query(&q, HitKind::Passage);
        assert_eq!(body["vectorQueries"][0]["kind"], "vector");
        assert_eq!(body["vectorQueries"][0]["fields"], "embedding");
        assert_eq!(body["vectorQueries"][0]["vector"], json!([0.5, -0.25, 1.0]));
        assert_eq!(body["vectorFilterMode"], "preFilter");
        assert_eq!(body["top"], 3);
        assert!(body["search"].as_str().unwrap().contains("سياسه"));
        // Products have no embeddings: no vector query for them.
        assert!(build_query(&q, HitKind::Product)
            .get("vectorQueries")
            .is_none());
        // No words, only a vector: no "search" at all.
        let only_vector = SearchQuery::new(t, "؟؟").with_embedding(vec![1.0, 0.0]);
        let body = build_query(&only_vector, HitKind::Passage);
        assert!(body.get("search").is_none());
        assert!(body["filter"]
            .as_str()
            .unwrap()
            .starts_with(&tenant_clause(t)));
    }

    #[test]
    fn keys_carry_the_tenant() {
        let (a, b) = (TenantId::new(), TenantId::new());
        let id = Uuid::new_v4();
        let ka = document_key(a, HitKind::Product, id);
        assert_ne!(ka, document_key(b, HitKind::Product, id));
        assert_ne!(ka, document_key(a, HitKind::Passage, id));
        assert!(
            ka.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
            "{ka}"
        );
    }

    #[test]
    fn index_definition_shape() {
        let def = index_definition("igshop", 1536);
        let fields = def["fields"].as_array().unwrap();
        let field = |n: &str| fields.iter().find(|f| f["name"] == n).unwrap().clone();
        assert_eq!(field("id")["key"], true);
        assert_eq!(field("tenant_id")["filterable"], true);
        assert_eq!(field("tenant_id")["searchable"], false);
        assert_eq!(field("title")["analyzer"], "ar.microsoft");
        assert_eq!(field("content")["analyzer"], "ar.microsoft");
        assert_eq!(field("content_normalized")["analyzer"], "standard.lucene");
        assert_eq!(field("embedding")["dimensions"], 1536);
        assert_eq!(
            field("embedding")["vectorSearchProfile"],
            def["vectorSearch"]["profiles"][0]["name"]
        );
        assert_eq!(def["vectorSearch"]["algorithms"][0]["kind"], "hnsw");
    }

    #[test]
    fn endpoint_and_index_name_are_checked() {
        assert_eq!(
            endpoint_url("https://x.search.windows.net/").unwrap(),
            "https://x.search.windows.net"
        );
        assert!(endpoint_url("http://x.search.windows.net").is_err());
        assert!(endpoint_url("http://127.0.0.1:8080").is_ok());
        assert!(endpoint_url("https://x.search.windows.net?api-key=1").is_err());
        assert!(endpoint_url("not a url").is_err());
        assert!(check_index_name("igshop-search").is_ok());
        for bad in ["I", "Igshop", "-a", "a--b", "a_b", "a/b"] {
            assert!(check_index_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn debug_output_has_no_key() {
        let s = AzureSearch::new(AzureSearchConfig {
            endpoint: "https://x.search.windows.net".into(),
            index: "igshop".into(),
            auth: AzureAuth::ApiKey(SecretString::from("sup3r-secret-k3y")),
            dimensions: 8,
            timeout: Duration::from_secs(1),
        })
        .unwrap();
        assert!(!format!("{s:?}").contains("sup3r"));
        assert_eq!(s.redact("key sup3r-secret-k3y here"), "key [redacted] here");
    }
}
