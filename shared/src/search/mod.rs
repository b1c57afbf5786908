//! Search over products and knowledge-base passages, behind one trait ([`Search`]) with the two
//! implementations the architecture names:
//!
//! * [`PostgresSearch`] (`SEARCH_BACKEND=postgres`, the local default): full-text (`simple`
//!   configuration) plus trigram similarity over a normalised `search_text` column, hybrid
//!   with cosine similarity when passages and the query carry embeddings.
//! * [`AzureSearch`] (`SEARCH_BACKEND=azure`): Azure AI Search over its REST API, hybrid
//!   (BM25 + vector) queries, one index shared by all tenants with a tenant filter on every
//!   query.
//!
//! Both apply the same Arabic normalisation ([`arabic`]) to documents and queries. A query is
//! always made for one tenant: [`SearchQuery`] needs a [`TenantScope`], which only comes from
//! a [`TenantId`].

pub mod arabic;
mod azure;
mod passage_vectors;
pub mod pending;
mod postgres;

pub use azure::{
    build_query, document_key, index_definition, AzureAuth, AzureSearch, AzureSearchConfig,
    API_VERSION, SEARCH_SCOPE,
};
pub use passage_vectors::RERANKED;
pub use postgres::{
    PostgresSearch, DEFAULT_VECTOR_CACHE_BYTES, MIN_VECTOR_SIMILARITY, TRIGRAM_THRESHOLD,
    VECTOR_CANDIDATES,
};

use crate::db::{Database, DbError};
use crate::tenants::TenantId;
use async_trait::async_trait;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use uuid::Uuid;

/// Largest number of hits one query returns; [`SearchQuery::limit`] is clamped to 1..=50.
pub const MAX_LIMIT: usize = 50;
/// Longest query text looked at, in characters; the rest is ignored.
pub const MAX_QUERY_CHARS: usize = 500;
/// Most words of a query that are matched.
pub const MAX_QUERY_TERMS: usize = 24;
/// Embedding size of Azure OpenAI / OpenAI `text-embedding-3-small`.
pub const DEFAULT_EMBEDDING_DIMENSIONS: usize = 1536;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HitKind {
    Product,
    Passage,
}

impl HitKind {
    pub fn as_str(self) -> &'static str {
        match self {
            HitKind::Product => "product",
            HitKind::Passage => "passage",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SearchHit {
    /// The catalog item's id, or the passage's (kb_chunks) id.
    pub id: Uuid,
    pub kind: HitKind,
    /// The knowledge-base document a passage belongs to; `None` for products.
    pub document_id: Option<Uuid>,
    /// Higher is better. Comparable only within one result list (the two backends score
    /// differently).
    pub score: f32,
    /// Product name; passage heading (Postgres falls back to the document title).
    pub title: String,
    /// Product description (cut to [`PRODUCT_SNIPPET_CHARS`]); the passage text (cut to
    /// [`PASSAGE_SNIPPET_CHARS`], which a chunk normally does not reach).
    pub snippet: String,
}

pub const PRODUCT_SNIPPET_CHARS: usize = 300;
pub const PASSAGE_SNIPPET_CHARS: usize = 2000;

/// The tenant a query runs for. Constructed only from a [`TenantId`]: no query exists without
/// one, and both backends confine every query to it (Postgres through
/// [`crate::db::begin_for_tenant`], Azure through the `tenant_id` filter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TenantScope(TenantId);

impl TenantScope {
    pub fn new(tenant: TenantId) -> Self {
        TenantScope(tenant)
    }
    pub fn tenant(&self) -> TenantId {
        self.0
    }
}

impl From<TenantId> for TenantScope {
    fn from(tenant: TenantId) -> Self {
        TenantScope(tenant)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SearchQuery {
    pub scope: TenantScope,
    /// What the customer (or the model) typed; normalised by the backend.
    pub text: String,
    /// The query's embedding, for hybrid ranking of passages.
    pub embedding: Option<Vec<f32>>,
    /// Clamped to 1..=[`MAX_LIMIT`] when used (see [`SearchQuery::clamped_limit`]).
    pub limit: usize,
}

impl SearchQuery {
    /// A text query for `tenant` returning at most 10 hits.
    pub fn new(tenant: TenantId, text: impl Into<String>) -> Self {
        SearchQuery {
            scope: TenantScope::new(tenant),
            text: text.into(),
            embedding: None,
            limit: 10,
        }
    }
    pub fn with_embedding(mut self, embedding: Vec<f32>) -> Self {
        self.embedding = Some(embedding);
        self
    }
    pub fn with_limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }
    pub fn tenant(&self) -> TenantId {
        self.scope.tenant()
    }
    /// `limit` clamped to 1..=[`MAX_LIMIT`].
    pub fn clamped_limit(&self) -> usize {
        self.limit.clamp(1, MAX_LIMIT)
    }
    /// The query text in indexed form ([`arabic::search_form`]), at most [`MAX_QUERY_CHARS`]
    /// characters of the input looked at (a word cut there is left out).
    pub fn search_form(&self) -> String {
        match self.text.char_indices().nth(MAX_QUERY_CHARS) {
            None => arabic::search_form(&self.text),
            Some((end, _)) => {
                // Cut, and leave out the word that the cut went through.
                let head = &self.text[..end];
                let head = head.rfind(char::is_whitespace).map_or(head, |i| &head[..i]);
                arabic::search_form(head)
            }
        }
    }
    /// The words matched: the search form without stopwords, at most [`MAX_QUERY_TERMS`].
    pub fn terms(&self) -> Vec<String> {
        arabic::query_terms(&self.search_form(), MAX_QUERY_TERMS)
    }
}

/// A catalog item as search sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductDoc {
    pub id: Uuid,
    pub sku: String,
    pub name: String,
    pub description: String,
    pub category: Option<String>,
    /// Attribute names and values as plain text (see [`attributes_text`]).
    pub attributes_text: String,
}

impl ProductDoc {
    /// Every searchable field, as written (before normalisation).
    pub fn searchable_text(&self) -> String {
        let mut parts: Vec<&str> = vec![&self.name, &self.sku];
        if let Some(category) = &self.category {
            parts.push(category);
        }
        parts.push(&self.attributes_text);
        parts.push(&self.description);
        parts
            .into_iter()
            .filter(|p| !p.trim().is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// One knowledge-base passage (a `kb_chunks` row).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PassageDoc {
    pub id: Uuid,
    pub ordinal: i32,
    pub heading: String,
    pub content: String,
    pub embedding: Option<Vec<f32>>,
}

impl PassageDoc {
    pub fn searchable_text(&self) -> String {
        if self.heading.trim().is_empty() {
            self.content.clone()
        } else {
            format!("{} {}", self.heading, self.content)
        }
    }
}

/// A catalog item's `attributes` JSON as searchable text: keys and scalar values, depth
/// first (`{"color": "أزرق", "sizes": ["M", "L"]}` → `color أزرق sizes M L`).
pub fn attributes_text(attributes: &serde_json::Value) -> String {
    fn walk(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    out.push(k.clone());
                    walk(v, out);
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            serde_json::Value::String(s) => out.push(s.clone()),
            serde_json::Value::Number(n) => out.push(n.to_string()),
            serde_json::Value::Bool(_) | serde_json::Value::Null => {}
        }
    }
    let mut out = Vec::new();
    walk(attributes, &mut out);
    out.retain(|s| !s.trim().is_empty());
    out.join(" ")
}

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error(transparent)]
    Database(#[from] DbError),
    /// The row to index is not there (or belongs to another tenant).
    #[error("not found: {0}")]
    NotFound(String),
    #[error("invalid search request: {0}")]
    Invalid(String),
    #[error("search configuration: {0}")]
    Config(String),
    /// 401/403 from the search service: wrong key, or the identity lacks a role.
    #[error("the search service refused the credentials (HTTP {status}): {message}")]
    Unauthorized { status: u16, message: String },
    /// Worth retrying later: 429, 5xx, timeouts, connection failures.
    #[error("the search service is unavailable{}: {message}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
    Unavailable {
        status: Option<u16>,
        message: String,
    },
    /// Any other refusal (4xx): a bug in the request or a mismatched index.
    #[error("the search service answered HTTP {status}: {message}")]
    Service { status: u16, message: String },
}

impl From<tokio_postgres::Error> for SearchError {
    fn from(e: tokio_postgres::Error) -> Self {
        SearchError::Database(e.into())
    }
}

impl SearchError {
    /// True when trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            SearchError::Unavailable { .. } | SearchError::Database(DbError::Pool(_))
        )
    }
}

/// Where catalog writes must go for product search to see them; catalog functions take it
/// from [`Search::product_index`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductIndex {
    /// `catalog_items.search_text`, written in the catalog change's own transaction (Postgres
    /// backend). Catalog writes always do this.
    SearchText,
    /// An index outside the database (Azure AI Search): the write also records its items in
    /// `search_index_pending` in the same transaction, and [`pending`] pushes them after the
    /// commit.
    External,
}

#[async_trait]
pub trait Search: Send + Sync {
    /// Makes a product findable (or refreshes it). Postgres: the `catalog_items` row must
    /// exist; Azure: uploads the document.
    async fn index_product(&self, tenant: TenantId, item: &ProductDoc) -> Result<(), SearchError>;
    /// Makes a product unfindable. Postgres clears its search text (the row itself belongs to
    /// the catalog); Azure deletes the document. Removing what is not there is not an error.
    async fn remove_product(&self, tenant: TenantId, id: Uuid) -> Result<(), SearchError>;
    /// [`Search::index_product`] for several products of one tenant (Azure: in batches).
    async fn index_products(
        &self,
        tenant: TenantId,
        items: &[ProductDoc],
    ) -> Result<(), SearchError> {
        for item in items {
            self.index_product(tenant, item).await?;
        }
        Ok(())
    }
    /// [`Search::remove_product`] for several products of one tenant (Azure: in batches).
    async fn remove_products(&self, tenant: TenantId, ids: &[Uuid]) -> Result<(), SearchError> {
        for id in ids {
            self.remove_product(tenant, *id).await?;
        }
        Ok(())
    }
    /// Whether catalog writes must queue their items for this backend (see [`ProductIndex`]).
    fn product_index(&self) -> ProductIndex {
        ProductIndex::SearchText
    }
    /// Adds or refreshes passages of a knowledge-base document (upsert on
    /// `(document_id, ordinal)`; other passages of the document are left alone, so it may be
    /// called in batches). To replace a document's passages, call [`Search::remove_document`]
    /// first.
    async fn index_passages(
        &self,
        tenant: TenantId,
        document_id: Uuid,
        passages: &[PassageDoc],
    ) -> Result<(), SearchError>;
    /// Makes every passage of a document unfindable. Postgres clears their search text (the
    /// rows go when the knowledge-base code deletes the document); Azure deletes them.
    async fn remove_document(&self, tenant: TenantId, document_id: Uuid)
        -> Result<(), SearchError>;
    /// Active products of the query's tenant, best first.
    async fn search_products(&self, q: &SearchQuery) -> Result<Vec<SearchHit>, SearchError>;
    /// [`Search::search_products`] in the caller's transaction (begun for the query's tenant),
    /// so what the caller reads next shares its round trips. A backend outside the database
    /// ([`ProductIndex::External`]) searches on its own: the default.
    async fn search_products_in(
        &self,
        _tx: &deadpool_postgres::Transaction<'_>,
        q: &SearchQuery,
    ) -> Result<Vec<SearchHit>, SearchError> {
        self.search_products(q).await
    }
    /// Passages of the query's tenant, best first; hybrid when the query has an embedding.
    async fn search_passages(&self, q: &SearchQuery) -> Result<Vec<SearchHit>, SearchError>;
    /// Startup work: Azure creates or updates its index; Postgres checks the migration ran.
    async fn prepare(&self) -> Result<(), SearchError> {
        Ok(())
    }
    /// "postgres" or "azure", for health output.
    fn backend(&self) -> &'static str;
}

/// What [`from_settings`] needs; the settings module fills it from SEARCH_BACKEND,
/// AZURE_SEARCH_ENDPOINT, AZURE_SEARCH_API_KEY, AZURE_SEARCH_INDEX, the managed identity's
/// client id and the embedding model's size.
#[derive(Debug, Clone)]
pub struct SearchSettings {
    /// "postgres" (default when empty) or "azure".
    pub backend: String,
    /// `https://<service>.search.windows.net`
    pub azure_endpoint: Option<String>,
    /// Admin key; when `None` the managed identity is used (it needs the "Search Index Data
    /// Contributor" and "Search Service Contributor" roles).
    pub azure_api_key: Option<SecretString>,
    pub azure_index: Option<String>,
    /// User-assigned identity's client id; `None` for the system-assigned one.
    pub managed_identity_client_id: Option<String>,
    /// Size of the embedding model's vectors ([`DEFAULT_EMBEDDING_DIMENSIONS`] for
    /// text-embedding-3-small).
    pub embedding_dimensions: usize,
    /// Bytes for the shops' passage embeddings held in the process with the Postgres backend
    /// (`SEARCH_VECTOR_CACHE_MB`; 0 ranks every hybrid search in SQL).
    pub vector_cache_bytes: usize,
}

/// Builds the configured backend. No network access: call [`Search::prepare`] at startup.
pub fn from_settings(
    settings: &SearchSettings,
    db: Database,
) -> Result<Arc<dyn Search>, SearchError> {
    match settings.backend.trim().to_ascii_lowercase().as_str() {
        "" | "postgres" => Ok(Arc::new(PostgresSearch::with_vector_cache(
            db,
            settings.vector_cache_bytes,
        ))),
        "azure" => {
            let endpoint = settings
                .azure_endpoint
                .as_deref()
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .ok_or_else(|| {
                    SearchError::Config("SEARCH_BACKEND=azure needs AZURE_SEARCH_ENDPOINT".into())
                })?;
            let index = settings
                .azure_index
                .as_deref()
                .map(str::trim)
                .filter(|i| !i.is_empty())
                .ok_or_else(|| {
                    SearchError::Config("SEARCH_BACKEND=azure needs AZURE_SEARCH_INDEX".into())
                })?;
            let auth = match &settings.azure_api_key {
                Some(key) if !secrecy::ExposeSecret::expose_secret(key).trim().is_empty() => {
                    AzureAuth::ApiKey(key.clone())
                }
                _ => {
                    let client_id = settings
                        .managed_identity_client_id
                        .as_deref()
                        .map(str::trim)
                        .filter(|c| !c.is_empty());
                    AzureAuth::ManagedIdentity(
                        crate::azure_identity::managed_identity(client_id)
                            .map_err(SearchError::Config)?,
                    )
                }
            };
            Ok(Arc::new(AzureSearch::new(AzureSearchConfig {
                endpoint: endpoint.to_owned(),
                index: index.to_owned(),
                auth,
                dimensions: settings.embedding_dimensions,
                timeout: std::time::Duration::from_secs(15),
            })?))
        }
        other => Err(SearchError::Config(format!(
            "SEARCH_BACKEND must be \"postgres\" or \"azure\", not {other:?}"
        ))),
    }
}

/// The first `max` characters of `text`, with "…" when cut.
pub(crate) fn cut(text: &str, max: usize) -> String {
    let mut chars = text.char_indices();
    match chars.nth(max) {
        None => text.to_owned(),
        Some((end, _)) => format!("{}…", text[..end].trim_end()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_is_clamped() {
        let t = TenantId::new();
        assert_eq!(SearchQuery::new(t, "x").with_limit(0).clamped_limit(), 1);
        assert_eq!(SearchQuery::new(t, "x").with_limit(7).clamped_limit(), 7);
        assert_eq!(
            SearchQuery::new(t, "x").with_limit(10_000).clamped_limit(),
            MAX_LIMIT
        );
        assert_eq!(SearchQuery::new(t, "x").clamped_limit(), 10);
    }

    #[test]
    fn the_scope_is_the_tenant_it_was_made_from() {
        let t = TenantId::new();
        assert_eq!(SearchQuery::new(t, "x").tenant(), t);
        assert_eq!(TenantScope::from(t).tenant(), t);
    }

    #[test]
    fn query_text_is_cut_and_normalised() {
        let t = TenantId::new();
        let long = "قَمِيص ".repeat(1000);
        let q = SearchQuery::new(t, long);
        assert!(q.search_form().chars().count() <= MAX_QUERY_CHARS);
        assert_eq!(q.terms(), vec!["قميص"]);
        let many: String = (0..100).map(|i| format!("w{i} ")).collect();
        assert_eq!(SearchQuery::new(t, many).terms().len(), MAX_QUERY_TERMS);
    }

    #[test]
    fn attributes_become_text() {
        let v = serde_json::json!({"color": "أزرق", "sizes": ["M", "L"], "cotton": true, "weight": 1.5, "x": null});
        let text = attributes_text(&v);
        for word in [
            "color", "أزرق", "sizes", "M", "L", "cotton", "weight", "1.5",
        ] {
            assert!(
                text.split(' ').any(|w| w == word),
                "{word} missing from {text:?}"
            );
        }
        assert_eq!(attributes_text(&serde_json::json!({})), "");
    }

    #[test]
    fn product_searchable_text_has_every_field() {
        let p = ProductDoc {
            id: Uuid::new_v4(),
            sku: "SH-1".into(),
            name: "قميص".into(),
            description: "قطن".into(),
            category: Some("ملابس".into()),
            attributes_text: "color أزرق".into(),
        };
        assert_eq!(p.searchable_text(), "قميص SH-1 ملابس color أزرق قطن");
    }

    #[test]
    fn cut_respects_characters() {
        assert_eq!(cut("قميص", 10), "قميص");
        assert_eq!(cut("قميص ازرق", 4), "قميص…");
        assert_eq!(cut("", 3), "");
    }

    #[test]
    fn from_settings_picks_the_backend_and_checks_azure_settings() {
        // A Database whose pools never connect (connections open lazily).
        let url = SecretString::from("postgres://nobody@127.0.0.1:1/none");
        let db = Database::connect(&url, &url, 2).unwrap();
        let mut s = SearchSettings {
            backend: String::new(),
            azure_endpoint: None,
            azure_api_key: None,
            azure_index: None,
            managed_identity_client_id: None,
            embedding_dimensions: DEFAULT_EMBEDDING_DIMENSIONS,
            vector_cache_bytes: DEFAULT_VECTOR_CACHE_BYTES,
        };
        assert_eq!(from_settings(&s, db.clone()).unwrap().backend(), "postgres");
        s.backend = "Azure".into();
        assert!(
            matches!(from_settings(&s, db.clone()), Err(SearchError::Config(m)) if m.contains("AZURE_SEARCH_ENDPOINT"))
        );
        s.azure_endpoint = Some("https://igshop.search.windows.net".into());
        assert!(
            matches!(from_settings(&s, db.clone()), Err(SearchError::Config(m)) if m.contains("AZURE_SEARCH_INDEX"))
        );
        s.azure_index = Some("igshop".into());
        s.azure_api_key = Some(SecretString::from("k3y-value"));
        assert_eq!(from_settings(&s, db.clone()).unwrap().backend(), "azure");
        s.backend = "elastic".into();
        assert!(matches!(from_settings(&s, db), Err(SearchError::Config(_))));
    }
}
