//! Local search backend: PostgreSQL full-text + trigram over `search_text`, the
//! [`arabic::search_form`] of an item's or passage's searchable fields (migration V2), hybrid
//! with cosine similarity of `kb_chunks.embedding` when the query has an embedding.
//!
//! Every statement runs inside [`begin_for_tenant`]. Writes and the vector side are plain
//! statements under row-level security. The text searches call the `SECURITY DEFINER`
//! functions of migration V10 (`search_catalog_items`, `search_kb_passages`, owned by the
//! NOLOGIN role `igshop_search`): Postgres will not use a GIN index for `@@`/`<%` under the
//! tenant policy (they are not LEAKPROOF), so the functions read under a policy of their own and
//! filter every table on the tenant they read from `app.tenant_id` themselves; unset, they
//! raise. The Rust code never passes a tenant to them.
//!
//! Ranking (all parts in 0..1):
//! * `coverage`: the share of the query's words (stopwords left out) found in the row's
//!   tsvector, words of three or more characters also as prefixes (`قميص` finds `قميصين`);
//! * `rank`: `ts_rank(search_tsv, any word, 1|32)`, a tie-breaker favouring short rows and
//!   repeated words;
//! * `trigram`: `word_similarity(query words, search_text)`, which forgives typos (`shirtt`);
//! * `lexical = 0.6 · coverage · (0.7 + 0.3 · rank) + 0.4 · trigram`. A row is a candidate
//!   when it matches a word; when fewer rows than asked for match, also when its trigram
//!   word-similarity reaches [`TRIGRAM_THRESHOLD`]. `trigram` is computed for the 200 best rows
//!   by the full-text part only (the rest of a common word's matches cannot be cheaply ranked).
//! * Passages, when the query has an embedding: `score = 0.5 · lexical + 0.5 · max(cosine, 0)`,
//!   and rows that match no word are candidates too when their cosine similarity reaches
//!   [`MIN_VECTOR_SIMILARITY`]. The cosine comes from the shop's embeddings held in the
//!   process ([`super::passage_vectors`], loaded once per knowledge-base version): the lexical
//!   candidates' and those of the [`RERANKED`] passages nearest by sign bits. A shop whose set
//!   does not fit in the budget is ranked in SQL instead, reading a bounded number of
//!   embeddings: the lexical candidates' and those of the [`VECTOR_CANDIDATES`] passages
//!   nearest by embedding signs (Hamming distance in SQL), re-ranked here by exact cosine (a
//!   SQL function over `real[]` costs about a millisecond per 1536-dimension row). Either way,
//!   rows whose embedding has another length than the query's (another model) count as having
//!   none.
//!
//! Products have no embeddings; a product query's embedding is ignored.

use super::passage_vectors::{Cached, PassageVectors, ShopVectors, RERANKED};
use super::{
    arabic, cut, HitKind, PassageDoc, ProductDoc, Search, SearchError, SearchHit, SearchQuery,
    PASSAGE_SNIPPET_CHARS, PRODUCT_SNIPPET_CHARS,
};
use crate::db::{begin_for_tenant, Database};
use crate::tenants::TenantId;
use async_trait::async_trait;
use deadpool_postgres::Transaction;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use uuid::Uuid;

/// `pg_trgm.word_similarity_threshold` for candidates found by trigram alone (set on V10's
/// search functions; a test checks they agree).
pub const TRIGRAM_THRESHOLD: f32 = 0.5;
/// Cosine similarity a passage that matches no word needs to be returned.
pub const MIN_VECTOR_SIMILARITY: f32 = 0.25;
/// Words of at least this many characters also match as prefixes.
const PREFIX_MIN_CHARS: usize = 3;
/// Lexical candidates of a hybrid passage search (at least the query's limit).
const HYBRID_CANDIDATES: usize = 50;
/// Passages taken by embedding signs (Hamming distance) for exact cosine re-ranking.
pub const VECTOR_CANDIDATES: usize = 50;

/// Memory for the shops' passage embeddings held in the process when nothing else is said
/// (`SEARCH_VECTOR_CACHE_MB`).
pub const DEFAULT_VECTOR_CACHE_BYTES: usize = 128 * 1024 * 1024;

#[derive(Clone)]
pub struct PostgresSearch {
    db: Database,
    /// Bytes of embeddings read by passage searches so far (see [`Self::embedding_bytes_read`]).
    embedding_bytes: Arc<AtomicU64>,
    /// The shops' passage embeddings, by knowledge-base version (migration V12).
    vectors: Arc<PassageVectors>,
}

impl std::fmt::Debug for PostgresSearch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresSearch").finish_non_exhaustive()
    }
}

/// The query's words as tsquery operands, quoted; the words hold only letters and digits
/// ([`arabic::search_form`]), so nothing in them can be tsquery syntax.
fn tsquery_operands(terms: &[String]) -> Vec<String> {
    terms
        .iter()
        .map(|t| {
            if t.chars().count() >= PREFIX_MIN_CHARS {
                format!("'{t}':*")
            } else {
                format!("'{t}'")
            }
        })
        .collect()
}

/// Lexical candidates, best first: `(id, lexical score)` plus what a hit shows.
struct Lexical {
    id: Uuid,
    document_id: Option<Uuid>,
    title: String,
    body: String,
    score: f32,
}

/// Product search: the definer function of migration V10, which reads the tenant from
/// `app.tenant_id` itself and uses the `(tenant_id, …)` GIN indexes (see docs/decisions.md).
const PRODUCTS_SQL: &str =
    "SELECT id, name, description, score FROM public.search_catalog_items($1, $2, $3, $4)";

/// Passage search: V10's definer function, same ranking as products.
const PASSAGES_SQL: &str = "SELECT id, document_id, title, content, score
       FROM public.search_kb_passages($1, $2, $3, $4)";

/// The passages whose embedding signs are closest to the query's (Hamming distance over
/// `embedding_signs`, V10), joined with the lexical candidates `$4`: the only rows whose full
/// embedding is read. Runs under row-level security (the tenant index serves the policy).
const VECTOR_CANDIDATES_SQL: &str = "
    WITH near AS (
        SELECT id FROM kb_chunks
         WHERE search_text <> '' AND embedding_signs IS NOT NULL AND length(embedding_signs) = $2
         ORDER BY bit_count(embedding_signs # $1::text::varbit), id
         LIMIT $3
    )
    SELECT k.id, k.embedding, k.document_id, coalesce(nullif(btrim(k.heading), ''), d.title), k.content
      FROM kb_chunks k JOIN kb_documents d ON d.id = k.document_id
     WHERE (k.id IN (SELECT id FROM near) OR k.id = ANY($4))
       AND k.search_text <> '' AND k.embedding IS NOT NULL AND cardinality(k.embedding) = $2";

/// The shop's knowledge-base version (migration V12; 0 before its first passage).
const KB_VERSION_SQL: &str = "SELECT coalesce((SELECT version FROM kb_versions), 0)::int8";

/// The shop's passages that hybrid search ranks by embedding, with the version they are at:
/// always one row at least (the version, with no passage when there is none).
const LOAD_VECTORS_SQL: &str = "
    SELECT v.version, k.id, k.embedding
      FROM (SELECT coalesce((SELECT version FROM kb_versions), 0)::int8 AS version) AS v
      LEFT JOIN kb_chunks k ON k.search_text <> '' AND k.embedding IS NOT NULL";

/// Passages found by embedding alone, shown among the best: what a hit shows.
const PASSAGE_ROWS_SQL: &str = "
    SELECT k.id, k.document_id, coalesce(nullif(btrim(k.heading), ''), d.title), k.content
      FROM kb_chunks k JOIN kb_documents d ON d.id = k.document_id
     WHERE k.id = ANY($1) AND k.search_text <> ''";

/// The query embedding's signs as V10's `embedding_signs` writes them (`1` for > 0).
fn embedding_signs(embedding: &[f32]) -> String {
    embedding
        .iter()
        .map(|x| if *x > 0.0 { '1' } else { '0' })
        .collect()
}

impl PostgresSearch {
    pub fn new(db: Database) -> Self {
        Self::with_vector_cache(db, DEFAULT_VECTOR_CACHE_BYTES)
    }

    /// `bytes` for the shops' passage embeddings held in the process; 0 holds none, and every
    /// hybrid search ranks in SQL.
    pub fn with_vector_cache(db: Database, bytes: usize) -> Self {
        PostgresSearch {
            db,
            embedding_bytes: Arc::default(),
            vectors: Arc::new(PassageVectors::new(bytes)),
        }
    }

    /// Bytes of embeddings (4 per dimension) that passage searches of this instance (and its
    /// clones) have read from the database. Held in the process: a shop's whole set once per
    /// knowledge-base version, nothing per search. Searched in SQL (a shop too big for the
    /// budget, or no budget): at most `(HYBRID_CANDIDATES + VECTOR_CANDIDATES) · 4 ·
    /// dimensions` per search, whatever the size of the knowledge base.
    pub fn embedding_bytes_read(&self) -> u64 {
        self.embedding_bytes.load(Ordering::Relaxed)
    }

    /// Bytes of passage embeddings held in the process now, and how many shop sets have been
    /// loaded so far.
    pub fn vector_cache_use(&self) -> (usize, u64) {
        (self.vectors.bytes(), self.vectors.loads())
    }

    /// The shop's passage embeddings as held in the process for the knowledge base's version
    /// now, loading them when this instance holds another version (or none). `None` when the
    /// set does not fit in the budget: search in SQL then.
    async fn shop_vectors(
        &self,
        tx: &Transaction<'_>,
        tenant: TenantId,
    ) -> Result<Option<Arc<ShopVectors>>, SearchError> {
        if self.vectors.budget() == 0 {
            return Ok(None);
        }
        let version: i64 = tx
            .query_one(&tx.prepare_cached(KB_VERSION_SQL).await?, &[])
            .await?
            .get(0);
        let cached = match self.vectors.get(tenant, version) {
            Some(c) => c,
            None => {
                let lock = self.vectors.load_lock(tenant);
                let _loading = lock.lock().await;
                match self.vectors.get(tenant, version) {
                    Some(c) => c,
                    None => {
                        let loaded = self.load_vectors(tx).await?;
                        self.vectors.put(tenant, loaded)
                    }
                }
            }
        };
        Ok(match cached {
            Cached::Vectors(v) => Some(v),
            Cached::TooBig { .. } => None,
        })
    }

    /// Reads the shop's embeddings and their version in one statement (one snapshot), and
    /// stops reading once they would not fit in the budget.
    async fn load_vectors(&self, tx: &Transaction<'_>) -> Result<Cached, SearchError> {
        use futures::TryStreamExt;
        let rows = tx
            .query_raw(&tx.prepare_cached(LOAD_VECTORS_SQL).await?, [] as [i32; 0])
            .await?;
        futures::pin_mut!(rows);
        let mut set: Option<ShopVectors> = None;
        let mut bytes = 0u64;
        while let Some(row) = rows.try_next().await? {
            let set = set.get_or_insert_with(|| ShopVectors::new(row.get(0)));
            let Some(id) = row.get::<_, Option<Uuid>>(1) else {
                continue;
            };
            // An array with NULLs or several dimensions is not an embedding: skip it.
            let Ok(v) = row.try_get::<_, Vec<f32>>(2) else {
                continue;
            };
            bytes += (v.len() * std::mem::size_of::<f32>()) as u64;
            set.push(id, &v);
            if set.bytes() > self.vectors.budget() {
                self.embedding_bytes.fetch_add(bytes, Ordering::Relaxed);
                return Ok(Cached::TooBig {
                    version: set.version(),
                });
            }
        }
        self.embedding_bytes.fetch_add(bytes, Ordering::Relaxed);
        Ok(Cached::Vectors(Arc::new(set.unwrap_or_default())))
    }

    /// Writes a product's search text inside the caller's tenant transaction, so the catalog
    /// can index in the same transaction that inserts or updates the item.
    pub async fn index_product_in(
        tx: &Transaction<'_>,
        item: &ProductDoc,
    ) -> Result<(), SearchError> {
        let text = arabic::search_form(&item.searchable_text());
        let n = tx
            .execute(
                "UPDATE catalog_items SET search_text = $2 WHERE id = $1",
                &[&item.id, &text],
            )
            .await?;
        if n == 0 {
            return Err(SearchError::NotFound(format!("catalog item {}", item.id)));
        }
        Ok(())
    }

    /// Recomputes the search text of every product and passage of a tenant from the rows
    /// themselves (after migration V2, or when the normalisation changes). Returns the number
    /// of products and passages written.
    pub async fn reindex_tenant(&self, tenant: TenantId) -> Result<(u64, u64), SearchError> {
        let mut client = self.db.app().await?;
        let tx = begin_for_tenant(&mut client, tenant).await?;
        let rows = tx
            .query(
                "SELECT c.id, c.sku, c.name, c.description, cat.name, c.attributes
                   FROM catalog_items c LEFT JOIN categories cat ON cat.id = c.category_id",
                &[],
            )
            .await?;
        let (mut ids, mut texts) = (
            Vec::with_capacity(rows.len()),
            Vec::with_capacity(rows.len()),
        );
        for row in &rows {
            let attributes: serde_json::Value = row.get(5);
            let doc = ProductDoc {
                id: row.get(0),
                sku: row.get(1),
                name: row.get(2),
                description: row.get(3),
                category: row.get(4),
                attributes_text: super::attributes_text(&attributes),
            };
            ids.push(doc.id);
            texts.push(arabic::search_form(&doc.searchable_text()));
        }
        let products = tx
            .execute(
                "UPDATE catalog_items c SET search_text = v.text
                   FROM unnest($1::uuid[], $2::text[]) AS v(id, text) WHERE c.id = v.id",
                &[&ids, &texts],
            )
            .await?;
        let rows = tx
            .query("SELECT id, heading, content FROM kb_chunks", &[])
            .await?;
        let (mut ids, mut texts) = (
            Vec::with_capacity(rows.len()),
            Vec::with_capacity(rows.len()),
        );
        for row in &rows {
            let (heading, content): (String, String) = (row.get(1), row.get(2));
            ids.push(row.get::<_, Uuid>(0));
            texts.push(passage_search_text(&heading, &content));
        }
        let passages = tx
            .execute(
                "UPDATE kb_chunks k SET search_text = v.text
                   FROM unnest($1::uuid[], $2::text[]) AS v(id, text) WHERE k.id = v.id",
                &[&ids, &texts],
            )
            .await?;
        tx.commit().await?;
        Ok((products, passages))
    }

    async fn lexical(
        tx: &Transaction<'_>,
        sql: &str,
        q: &SearchQuery,
        kind: HitKind,
        limit: usize,
    ) -> Result<Vec<Lexical>, SearchError> {
        let terms = q.terms();
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        let operands = tsquery_operands(&terms);
        let any = operands.join(" | ");
        let words = terms.join(" ");
        let rows = tx
            .query(
                &tx.prepare_cached(sql).await?,
                &[&words, &any, &operands, &(limit as i32)],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|row| match kind {
                HitKind::Product => Lexical {
                    id: row.get(0),
                    document_id: None,
                    title: row.get(1),
                    body: row.get(2),
                    score: row.get(3),
                },
                HitKind::Passage => Lexical {
                    id: row.get(0),
                    document_id: Some(row.get(1)),
                    title: row.get(2),
                    body: row.get(3),
                    score: row.get(4),
                },
            })
            .collect())
    }
}

impl PostgresSearch {
    /// Hybrid ranking with the shop's embeddings in the process: the lexical candidates and the
    /// [`RERANKED`] passages nearest by sign bits, scored `0.5 · lexical + 0.5 · max(cosine,
    /// 0)` as in SQL; only the passages found by embedding alone that make the top `limit` are
    /// read from the database (what they show).
    async fn hybrid_in_process(
        tx: &Transaction<'_>,
        vectors: &ShopVectors,
        lexical: Vec<Lexical>,
        embedding: &[f32],
        limit: usize,
    ) -> Result<Vec<SearchHit>, SearchError> {
        // (score, id, what it shows when known)
        let mut ranked: Vec<(f32, Uuid, Option<Lexical>)> = Vec::with_capacity(lexical.len());
        let mut seen = std::collections::HashSet::with_capacity(lexical.len());
        for l in lexical {
            let vector = vectors.similarity(&l.id, embedding).unwrap_or(0.0).max(0.0);
            seen.insert(l.id);
            ranked.push((0.5 * l.score + 0.5 * vector, l.id, Some(l)));
        }
        for (id, s) in vectors.nearest(embedding, RERANKED.max(limit)) {
            if s >= MIN_VECTOR_SIMILARITY && !seen.contains(&id) {
                ranked.push((0.5 * s, id, None));
            }
        }
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        // A passage changed since the version was read may be gone: read a few more than needed.
        let wanted: Vec<Uuid> = ranked
            .iter()
            .take(limit + 3)
            .filter(|r| r.2.is_none())
            .map(|r| r.1)
            .collect();
        let mut shown: HashMap<Uuid, Lexical> = HashMap::with_capacity(wanted.len());
        if !wanted.is_empty() {
            for row in tx
                .query(&tx.prepare_cached(PASSAGE_ROWS_SQL).await?, &[&wanted])
                .await?
            {
                let id: Uuid = row.get(0);
                shown.insert(
                    id,
                    Lexical {
                        id,
                        document_id: Some(row.get(1)),
                        title: row.get(2),
                        body: row.get(3),
                        score: 0.0,
                    },
                );
            }
        }
        Ok(ranked
            .into_iter()
            .filter_map(|(score, id, l)| {
                let mut l = l.or_else(|| shown.remove(&id))?;
                l.score = score;
                Some(passage_hit(l))
            })
            .take(limit)
            .collect())
    }
}

fn passage_search_text(heading: &str, content: &str) -> String {
    arabic::search_form(&format!("{heading} {content}"))
}

/// Cosine similarity; `None` when the lengths differ or either vector is all zeros.
pub(crate) fn cosine(a: &[f32], b: &[f32]) -> Option<f32> {
    if a.len() != b.len() || a.is_empty() {
        return None;
    }
    let (mut ab, mut aa, mut bb) = (0f64, 0f64, 0f64);
    for (x, y) in a.iter().zip(b) {
        let (x, y) = (*x as f64, *y as f64);
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    if aa == 0.0 || bb == 0.0 || !ab.is_finite() {
        return None;
    }
    Some((ab / (aa.sqrt() * bb.sqrt())) as f32)
}

fn check_embedding(embedding: &[f32]) -> Result<(), SearchError> {
    if embedding.iter().any(|x| !x.is_finite()) {
        return Err(SearchError::Invalid(
            "an embedding holds a value that is not a finite number".into(),
        ));
    }
    Ok(())
}

fn product_hit(l: Lexical) -> SearchHit {
    SearchHit {
        id: l.id,
        kind: HitKind::Product,
        document_id: None,
        score: l.score,
        title: l.title,
        snippet: cut(&l.body, PRODUCT_SNIPPET_CHARS),
    }
}

fn passage_hit(l: Lexical) -> SearchHit {
    SearchHit {
        id: l.id,
        kind: HitKind::Passage,
        document_id: l.document_id,
        score: l.score,
        title: l.title,
        snippet: cut(&l.body, PASSAGE_SNIPPET_CHARS),
    }
}

#[async_trait]
impl Search for PostgresSearch {
    async fn index_product(&self, tenant: TenantId, item: &ProductDoc) -> Result<(), SearchError> {
        let mut client = self.db.app().await?;
        let tx = begin_for_tenant(&mut client, tenant).await?;
        Self::index_product_in(&tx, item).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn remove_product(&self, tenant: TenantId, id: Uuid) -> Result<(), SearchError> {
        let mut client = self.db.app().await?;
        let tx = begin_for_tenant(&mut client, tenant).await?;
        tx.execute(
            "UPDATE catalog_items SET search_text = '' WHERE id = $1 AND search_text <> ''",
            &[&id],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn index_passages(
        &self,
        tenant: TenantId,
        document_id: Uuid,
        passages: &[PassageDoc],
    ) -> Result<(), SearchError> {
        for p in passages {
            if let Some(e) = &p.embedding {
                check_embedding(e)?;
            }
        }
        let mut client = self.db.app().await?;
        let tx = begin_for_tenant(&mut client, tenant).await?;
        // The foreign key check does not see row-level security: make sure the document is
        // this tenant's before attaching passages to it.
        if tx
            .query_opt("SELECT 1 FROM kb_documents WHERE id = $1", &[&document_id])
            .await?
            .is_none()
        {
            return Err(SearchError::NotFound(format!(
                "knowledge-base document {document_id}"
            )));
        }
        let upsert = tx
            .prepare(
                "INSERT INTO kb_chunks (id, tenant_id, document_id, ordinal, heading, content, embedding, search_text)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (document_id, ordinal) DO UPDATE
                    SET heading = excluded.heading, content = excluded.content,
                        embedding = excluded.embedding, search_text = excluded.search_text",
            )
            .await?;
        let tenant_id = tenant.as_uuid();
        for p in passages {
            let embedding = p.embedding.as_ref().filter(|e| !e.is_empty());
            let text = passage_search_text(&p.heading, &p.content);
            tx.execute(
                &upsert,
                &[
                    &p.id,
                    &tenant_id,
                    &document_id,
                    &p.ordinal,
                    &p.heading,
                    &p.content,
                    &embedding,
                    &text,
                ],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn remove_document(
        &self,
        tenant: TenantId,
        document_id: Uuid,
    ) -> Result<(), SearchError> {
        let mut client = self.db.app().await?;
        let tx = begin_for_tenant(&mut client, tenant).await?;
        tx.execute(
            "UPDATE kb_chunks SET search_text = '' WHERE document_id = $1 AND search_text <> ''",
            &[&document_id],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn search_products(&self, q: &SearchQuery) -> Result<Vec<SearchHit>, SearchError> {
        let mut client = self.db.app().await?;
        let tx = begin_for_tenant(&mut client, q.tenant()).await?;
        let found = self.search_products_in(&tx, q).await?;
        tx.commit().await?;
        Ok(found)
    }

    async fn search_products_in(
        &self,
        tx: &Transaction<'_>,
        q: &SearchQuery,
    ) -> Result<Vec<SearchHit>, SearchError> {
        let found = Self::lexical(tx, PRODUCTS_SQL, q, HitKind::Product, q.clamped_limit()).await?;
        Ok(found.into_iter().map(product_hit).collect())
    }

    async fn search_passages(&self, q: &SearchQuery) -> Result<Vec<SearchHit>, SearchError> {
        let limit = q.clamped_limit();
        let embedding = q.embedding.as_deref().filter(|e| !e.is_empty());
        if let Some(e) = embedding {
            check_embedding(e)?;
        }
        let mut client = self.db.app().await?;
        let tx = begin_for_tenant(&mut client, q.tenant()).await?;
        let Some(embedding) = embedding else {
            let found = Self::lexical(&tx, PASSAGES_SQL, q, HitKind::Passage, limit).await?;
            tx.commit().await?;
            return Ok(found.into_iter().map(passage_hit).collect());
        };

        // Hybrid: the lexical candidates and the shop's embeddings held in the process at the
        // knowledge base's version now, asked for together (pipelined on the connection).
        let (lexical, vectors) = tokio::try_join!(
            Self::lexical(
                &tx,
                PASSAGES_SQL,
                q,
                HitKind::Passage,
                HYBRID_CANDIDATES.max(limit),
            ),
            self.shop_vectors(&tx, q.tenant())
        )?;
        if let Some(vectors) = vectors {
            let hits = Self::hybrid_in_process(&tx, &vectors, lexical, embedding, limit).await?;
            tx.commit().await?;
            return Ok(hits);
        }

        // Hybrid in SQL: the passages nearest by embedding signs join the lexical candidates;
        // only these rows' embeddings are read (at most HYBRID_CANDIDATES + VECTOR_CANDIDATES).
        let lexical_ids: Vec<Uuid> = lexical.iter().map(|l| l.id).collect();
        let rows = tx
            .query(
                &tx.prepare_cached(VECTOR_CANDIDATES_SQL).await?,
                &[
                    &embedding_signs(embedding),
                    &(embedding.len() as i32),
                    &(VECTOR_CANDIDATES.max(limit) as i64),
                    &lexical_ids,
                ],
            )
            .await?;
        tx.commit().await?;
        let mut candidates: HashMap<Uuid, Lexical> =
            lexical.into_iter().map(|l| (l.id, l)).collect();
        let mut similarity: HashMap<Uuid, f32> = HashMap::with_capacity(rows.len());
        let mut bytes = 0u64;
        for row in &rows {
            // An array with NULLs or several dimensions is not an embedding: skip it.
            let Ok(v) = row.try_get::<_, Vec<f32>>(1) else {
                continue;
            };
            bytes += (v.len() * std::mem::size_of::<f32>()) as u64;
            let Some(s) = cosine(&v, embedding) else {
                continue;
            };
            let id: Uuid = row.get(0);
            similarity.insert(id, s);
            if s >= MIN_VECTOR_SIMILARITY && !candidates.contains_key(&id) {
                candidates.insert(
                    id,
                    Lexical {
                        id,
                        document_id: Some(row.get(2)),
                        title: row.get(3),
                        body: row.get(4),
                        score: 0.0,
                    },
                );
            }
        }
        self.embedding_bytes.fetch_add(bytes, Ordering::Relaxed);
        let mut hits: Vec<SearchHit> = candidates
            .into_values()
            .map(|mut l| {
                let vector = similarity.get(&l.id).copied().unwrap_or(0.0).max(0.0);
                l.score = 0.5 * l.score + 0.5 * vector;
                passage_hit(l)
            })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
        hits.truncate(limit);
        Ok(hits)
    }

    async fn prepare(&self) -> Result<(), SearchError> {
        let client = self.db.app().await?;
        let row = client
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM information_schema.columns
                                 WHERE table_name = 'kb_chunks' AND column_name = 'embedding_signs')
                        AND to_regprocedure('public.search_catalog_items(text, text, text[], integer)') IS NOT NULL",
                &[],
            )
            .await?;
        if !row.get::<_, bool>(0) {
            return Err(SearchError::Config(
                "the search columns or functions are missing: run `handler migrate`".into(),
            ));
        }
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedding_signs_are_one_bit_per_dimension() {
        assert_eq!(embedding_signs(&[0.5, -0.1, 0.0, 2.0]), "1001");
        assert_eq!(embedding_signs(&[]), "");
    }

    #[test]
    fn cosine_similarity() {
        assert_eq!(cosine(&[1.0, 0.0], &[1.0, 0.0]), Some(1.0));
        assert_eq!(cosine(&[1.0, 0.0], &[0.0, 1.0]), Some(0.0));
        assert!(
            (cosine(&[1.0, 1.0], &[1.0, 0.0]).unwrap() - std::f32::consts::FRAC_1_SQRT_2).abs()
                < 1e-6
        );
        assert_eq!(cosine(&[1.0, 0.0], &[-1.0, 0.0]), Some(-1.0));
        assert_eq!(cosine(&[1.0, 0.0], &[1.0, 0.0, 0.0]), None);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 0.0]), None);
        assert_eq!(cosine(&[], &[]), None);
    }

    #[test]
    fn operands_are_quoted_and_prefixed_when_long_enough() {
        let terms = vec![
            "قميص".to_string(),
            "xl".to_string(),
            "12".to_string(),
            "abc".to_string(),
        ];
        assert_eq!(
            tsquery_operands(&terms),
            vec!["'قميص':*", "'xl'", "'12'", "'abc':*"]
        );
    }

    #[test]
    fn query_words_cannot_carry_tsquery_syntax() {
        let q = SearchQuery::new(TenantId::new(), "a' | b:* & !c <-> (d) \\ ''");
        for operand in tsquery_operands(&q.terms()) {
            let inner = operand.trim_end_matches(":*").trim_matches('\'');
            assert!(inner.chars().all(char::is_alphanumeric), "{operand}");
        }
    }
}
