//! Search, both backends, through the real code paths:
//! * Postgres (the local default) against a fresh migrated database per test, as the
//!   application role under row-level security: Arabic spelling variants, typos, Arabizi and
//!   English, tenant isolation, inactive products, hybrid ranking of passages, limits.
//! * Azure AI Search against a real HTTP server on 127.0.0.1 standing in for the service: what
//!   each call sends (index definition, documents, queries with the tenant filter, hybrid
//!   bodies, auth headers) and how failures are reported (without the key).

use secrecy::SecretString;
use shared::db::begin_for_tenant;
use shared::search::{
    AzureAuth, AzureSearch, AzureSearchConfig, HitKind, PassageDoc, PostgresSearch, ProductDoc,
    Search, SearchError, SearchHit, SearchQuery, API_VERSION, MAX_LIMIT, SEARCH_SCOPE,
};
use shared::tenants::TenantId;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use testkit::TestDb;
use uuid::Uuid;
use warp::Filter;

// =====================================================================================
// Postgres backend
// =====================================================================================

struct Shop<'a> {
    t: &'a TestDb,
    tenant: TenantId,
    search: PostgresSearch,
}

impl<'a> Shop<'a> {
    async fn new(t: &'a TestDb, handle: &str) -> Shop<'a> {
        Shop {
            t,
            tenant: t.tenant(handle).await,
            search: PostgresSearch::new(t.db.clone()),
        }
    }

    /// Inserts a catalog item as the platform (as the catalog code would) and indexes it.
    async fn product(&self, sku: &str, name: &str, description: &str) -> Uuid {
        self.product_with(sku, name, description, true, serde_json::json!({}))
            .await
    }

    async fn product_with(
        &self,
        sku: &str,
        name: &str,
        description: &str,
        active: bool,
        attributes: serde_json::Value,
    ) -> Uuid {
        let id = self
            .insert_product(sku, name, description, active, &attributes)
            .await;
        let doc = ProductDoc {
            id,
            sku: sku.into(),
            name: name.into(),
            description: description.into(),
            category: None,
            attributes_text: shared::search::attributes_text(&attributes),
        };
        self.search.index_product(self.tenant, &doc).await.unwrap();
        id
    }

    async fn insert_product(
        &self,
        sku: &str,
        name: &str,
        description: &str,
        active: bool,
        attributes: &serde_json::Value,
    ) -> Uuid {
        let c = self.t.db.platform().await.unwrap();
        c.query_one(
            "INSERT INTO catalog_items (tenant_id, sku, name, description, price_jod, stock, is_active, attributes)
             VALUES ($1, $2, $3, $4, 10.000, 5, $5, $6) RETURNING id",
            &[&self.tenant.as_uuid(), &sku, &name, &description, &active, attributes],
        )
        .await
        .unwrap()
        .get(0)
    }

    async fn document(&self, title: &str) -> Uuid {
        let c = self.t.db.platform().await.unwrap();
        c.query_one(
            "INSERT INTO kb_documents (tenant_id, title, source_kind, status) VALUES ($1, $2, 'upload', 'indexed') RETURNING id",
            &[&self.tenant.as_uuid(), &title],
        )
        .await
        .unwrap()
        .get(0)
    }

    /// A document of `n` passages "جواب رقم i", passage i embedded [`along`] i, indexed.
    async fn answers_along(&self, n: usize) -> (Uuid, Vec<PassageDoc>) {
        let doc = self.document("الأسئلة").await;
        let passages: Vec<PassageDoc> = (0..n)
            .map(|i| passage(i as i32, "", &format!("جواب رقم {i}"), Some(along(i))))
            .collect();
        self.search
            .index_passages(self.tenant, doc, &passages)
            .await
            .unwrap();
        (doc, passages)
    }

    async fn products(&self, text: &str) -> Vec<SearchHit> {
        self.search
            .search_products(&SearchQuery::new(self.tenant, text))
            .await
            .unwrap()
    }

    async fn passages(&self, q: SearchQuery) -> Vec<SearchHit> {
        self.search.search_passages(&q).await.unwrap()
    }
}

fn passage(ordinal: i32, heading: &str, content: &str, embedding: Option<Vec<f32>>) -> PassageDoc {
    PassageDoc {
        id: Uuid::new_v4(),
        ordinal,
        heading: heading.into(),
        content: content.into(),
        embedding,
    }
}

fn ids(hits: &[SearchHit]) -> Vec<Uuid> {
    hits.iter().map(|h| h.id).collect()
}

#[tokio::test]
async fn migration_adds_search_columns_and_keeps_row_level_security() {
    let t = TestDb::new().await;
    let c = t.db.platform().await.unwrap();
    let ext: i64 = c
        .query_one(
            "SELECT count(*) FROM pg_extension WHERE extname IN ('pg_trgm', 'btree_gin')",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(ext, 2);
    for table in ["catalog_items", "kb_chunks"] {
        let generated: String = c
            .query_one(
                "SELECT is_generated FROM information_schema.columns WHERE table_name = $1 AND column_name = 'search_tsv'",
                &[&table],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(generated, "ALWAYS", "{table}.search_tsv");
        let indexes: Vec<String> = c
            .query(
                "SELECT indexdef FROM pg_indexes WHERE tablename = $1",
                &[&table],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        // One shop's rows per index lookup (btree_gin), and no table-wide text index left.
        assert!(
            indexes
                .iter()
                .any(|i| i.contains("gin (tenant_id, search_tsv)")),
            "{table}: {indexes:?}"
        );
        assert!(
            indexes
                .iter()
                .any(|i| i.contains("gin (tenant_id, search_text gin_trgm_ops)")),
            "{table}: {indexes:?}"
        );
        assert!(
            !indexes.iter().any(|i| i.contains("gin (search_")),
            "{table}: {indexes:?}"
        );
        let row = c
            .query_one(
                "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = $1",
                &[&table],
            )
            .await
            .unwrap();
        assert!(
            row.get::<_, bool>(0) && row.get::<_, bool>(1),
            "{table} lost forced RLS"
        );
    }
    PostgresSearch::new(t.db.clone()).prepare().await.unwrap();
}

#[tokio::test]
async fn arabic_spelling_variants_find_the_product() {
    let t = TestDb::new().await;
    let shop = Shop::new(&t, "shop_ar").await;
    let shirt = shop.product("SH-1", "قَمِيص أزرق", "قطن ١٠٠٪، مقاس ٤٢").await;
    let library = shop.product("BK-1", "مكتبة خشب", "رفوف للكتب").await;
    let trousers = shop.product("TR-1", "بنطلون أسود", "جينز").await;

    let hits = shop.products("قميص ازرق").await;
    assert_eq!(hits.first().map(|h| h.id), Some(shirt), "{hits:#?}");
    assert_eq!(hits[0].kind, HitKind::Product);
    assert_eq!(
        hits[0].title, "قَمِيص أزرق",
        "the hit shows the name as written"
    );
    assert!(!ids(&hits).contains(&trousers));

    for variant in [
        "قَمِيصٌ أَزْرَق",
        "القميص الأزرق",
        "قمـــيص",
        "بدي قميص أزرق لو سمحت",
        "مقاس ٤٢",
        "مقاس 42",
    ] {
        let hits = shop.products(variant).await;
        assert_eq!(
            hits.first().map(|h| h.id),
            Some(shirt),
            "{variant}: {hits:#?}"
        );
    }
    for variant in ["مكتبه", "مكتبة", "المكتبة", "مكتبة خشبية"] {
        let hits = shop.products(variant).await;
        assert_eq!(
            hits.first().map(|h| h.id),
            Some(library),
            "{variant}: {hits:#?}"
        );
    }
    assert_eq!(ids(&shop.products("بنطلون").await), vec![trousers]);
    assert!(shop.products("سيارة").await.is_empty());
    assert!(shop.products("  ؟! ").await.is_empty(), "no words, no hits");
}

#[tokio::test]
async fn typos_arabizi_and_english_find_the_product() {
    let t = TestDb::new().await;
    let shop = Shop::new(&t, "shop_en").await;
    let shirt = shop.product("SH-2", "Blue Shirt", "Cotton, slim fit").await;
    let hoodie = shop.product("HD-1", "Hoodie أسود", "oversized").await;
    let arabizi = shop
        .product_with(
            "AB-1",
            "Qamees 3alami",
            "",
            true,
            serde_json::json!({ "color": "azra2", "sizes": ["M", "XL"] }),
        )
        .await;

    for (query, expected) in [
        ("shirtt", shirt),
        ("SHIRT", shirt),
        ("blue shirts", shirt),
        ("do you have a blu shirt?", shirt),
        ("hoodies", hoodie),
        ("هودي hoodie", hoodie),
        ("qamees", arabizi),
        ("azra2", arabizi),
        ("xl", arabizi),
        ("sh-2", shirt),
    ] {
        let hits = shop.products(query).await;
        assert_eq!(
            hits.first().map(|h| h.id),
            Some(expected),
            "{query}: {hits:#?}"
        );
    }
    let hits = shop.products("shirt").await;
    assert_eq!(hits[0].snippet, "Cotton, slim fit");
    assert!(hits[0].score > 0.0);
}

#[tokio::test]
async fn a_tenant_never_sees_another_tenants_products_or_passages() {
    let t = TestDb::new().await;
    let a = Shop::new(&t, "shop_a").await;
    let b = Shop::new(&t, "shop_b").await;
    let a_item = a.product("SKU-1", "قميص أزرق", "").await;
    let b_item = b.product("SKU-1", "قميص أزرق", "").await;
    let a_doc = a.document("سياسة الإرجاع").await;
    let b_doc = b.document("سياسة الإرجاع").await;
    let a_passage = passage(
        0,
        "الإرجاع",
        "يمكن إرجاع المنتج خلال ١٤ يوماً",
        Some(vec![1.0, 0.0, 0.0]),
    );
    let b_passage = passage(
        0,
        "الإرجاع",
        "يمكن إرجاع المنتج خلال ١٤ يوماً",
        Some(vec![1.0, 0.0, 0.0]),
    );
    a.search
        .index_passages(a.tenant, a_doc, std::slice::from_ref(&a_passage))
        .await
        .unwrap();
    b.search
        .index_passages(b.tenant, b_doc, std::slice::from_ref(&b_passage))
        .await
        .unwrap();

    assert_eq!(ids(&a.products("قميص أزرق").await), vec![a_item]);
    assert_eq!(ids(&b.products("قميص أزرق").await), vec![b_item]);
    assert_eq!(ids(&a.products("SKU-1").await), vec![a_item]);

    let q = SearchQuery::new(a.tenant, "إرجاع المنتج").with_embedding(vec![1.0, 0.0, 0.0]);
    let hits = a.passages(q).await;
    assert_eq!(ids(&hits), vec![a_passage.id]);
    assert_eq!(hits[0].document_id, Some(a_doc));
    let hits = b
        .passages(SearchQuery::new(b.tenant, "").with_embedding(vec![1.0, 0.0, 0.0]))
        .await;
    assert_eq!(
        ids(&hits),
        vec![b_passage.id],
        "vector-only search stays in the tenant too"
    );

    // Writing through another tenant's ids does nothing to them.
    let stolen = ProductDoc {
        id: a_item,
        sku: "X".into(),
        name: "hijacked".into(),
        description: String::new(),
        category: None,
        attributes_text: String::new(),
    };
    assert!(matches!(
        b.search.index_product(b.tenant, &stolen).await,
        Err(SearchError::NotFound(_))
    ));
    assert!(matches!(
        b.search
            .index_passages(b.tenant, a_doc, &[passage(5, "", "hijacked", None)])
            .await,
        Err(SearchError::NotFound(_))
    ));
    b.search.remove_product(b.tenant, a_item).await.unwrap();
    b.search.remove_document(b.tenant, a_doc).await.unwrap();
    assert_eq!(ids(&a.products("قميص").await), vec![a_item]);
    assert!(a.products("hijacked").await.is_empty());
    assert_eq!(
        ids(&a.passages(SearchQuery::new(a.tenant, "إرجاع")).await),
        vec![a_passage.id]
    );
}

#[tokio::test]
async fn inactive_products_are_not_found() {
    let t = TestDb::new().await;
    let shop = Shop::new(&t, "shop_inactive").await;
    let active = shop.product("A-1", "حقيبة جلد", "").await;
    let _inactive = shop
        .product_with("A-2", "حقيبة جلد بنية", "", false, serde_json::json!({}))
        .await;
    assert_eq!(ids(&shop.products("حقيبة").await), vec![active]);
}

#[tokio::test]
async fn remove_and_reindex() {
    let t = TestDb::new().await;
    let shop = Shop::new(&t, "shop_remove").await;
    let item = shop.product("R-1", "ساعة يد", "").await;
    shop.search.remove_product(shop.tenant, item).await.unwrap();
    assert!(shop.products("ساعة").await.is_empty());
    shop.search
        .remove_product(shop.tenant, Uuid::new_v4())
        .await
        .unwrap();

    let doc = shop.document("الشحن").await;
    let p = passage(0, "", "التوصيل إلى عمّان خلال يومين", None);
    shop.search
        .index_passages(shop.tenant, doc, std::slice::from_ref(&p))
        .await
        .unwrap();
    let hits = shop
        .passages(SearchQuery::new(shop.tenant, "توصيل عمان"))
        .await;
    assert_eq!(ids(&hits), vec![p.id]);
    assert_eq!(
        hits[0].title, "الشحن",
        "an empty heading falls back to the document title"
    );
    shop.search.remove_document(shop.tenant, doc).await.unwrap();
    assert!(shop
        .passages(SearchQuery::new(shop.tenant, "توصيل"))
        .await
        .is_empty());

    // Rows written without indexing (or before migration V2) are found after a reindex.
    let raw = shop
        .insert_product(
            "R-2",
            "نظارة شمسية",
            "",
            true,
            &serde_json::json!({"brand": "Ray-Ban"}),
        )
        .await;
    assert!(shop.products("نظاره").await.is_empty());
    let (products, passages) = shop.search.reindex_tenant(shop.tenant).await.unwrap();
    assert_eq!((products, passages), (2, 1));
    assert_eq!(ids(&shop.products("نظاره").await), vec![raw]);
    assert_eq!(ids(&shop.products("rayban ray ban").await), vec![raw]);
    assert_eq!(
        ids(&shop.products("ساعة").await),
        vec![item],
        "reindex indexes every row again"
    );
    assert_eq!(
        ids(&shop.passages(SearchQuery::new(shop.tenant, "توصيل")).await),
        vec![p.id]
    );
}

#[tokio::test]
async fn indexing_inside_the_callers_transaction() {
    let t = TestDb::new().await;
    let shop = Shop::new(&t, "shop_tx").await;
    let mut c = t.db.app().await.unwrap();
    let tx = begin_for_tenant(&mut c, shop.tenant).await.unwrap();
    let id: Uuid = tx
        .query_one(
            "INSERT INTO catalog_items (tenant_id, sku, name, price_jod) VALUES ($1, 'T-1', 'فستان سهرة', 50) RETURNING id",
            &[&shop.tenant.as_uuid()],
        )
        .await
        .unwrap()
        .get(0);
    let doc = ProductDoc {
        id,
        sku: "T-1".into(),
        name: "فستان سهرة".into(),
        description: String::new(),
        category: Some("فساتين".into()),
        attributes_text: String::new(),
    };
    PostgresSearch::index_product_in(&tx, &doc).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(ids(&shop.products("فستان").await), vec![id]);
    assert_eq!(
        ids(&shop.products("الفساتين").await),
        vec![id],
        "the category is searchable"
    );
}

#[tokio::test]
async fn passages_are_ranked_by_embedding_among_equal_text_matches() {
    let t = TestDb::new().await;
    let shop = Shop::new(&t, "shop_kb").await;
    let doc = shop.document("الأسئلة الشائعة").await;
    let text = "سياسة الإرجاع: يمكنكم إرجاع القطعة خلال أسبوع";
    let east = passage(0, "الإرجاع", text, Some(vec![1.0, 0.0, 0.0]));
    let north = passage(1, "الإرجاع", text, Some(vec![0.0, 1.0, 0.0]));
    let plain = passage(2, "الإرجاع", text, None);
    let shipping = passage(
        3,
        "الشحن",
        "نوصل لكل مناطق المملكة",
        Some(vec![0.0, 0.0, 1.0]),
    );
    let other_model = passage(4, "الإرجاع", text, Some(vec![0.5; 5]));
    let all = [
        east.clone(),
        north.clone(),
        plain.clone(),
        shipping.clone(),
        other_model.clone(),
    ];
    shop.search
        .index_passages(shop.tenant, doc, &all)
        .await
        .unwrap();

    // Text only: the five equal matches... four, shipping does not match.
    let hits = shop.passages(SearchQuery::new(shop.tenant, "ارجاع")).await;
    assert_eq!(hits.len(), 4, "{hits:#?}");
    assert!(!ids(&hits).contains(&shipping.id));

    // Hybrid: the closest vector comes first among the equal text matches.
    let hits = shop
        .passages(SearchQuery::new(shop.tenant, "ارجاع").with_embedding(vec![0.9, 0.1, 0.0]))
        .await;
    assert_eq!(hits[0].id, east.id, "{hits:#?}");
    assert_eq!(hits[1].id, north.id, "{hits:#?}");
    let hits = shop
        .passages(SearchQuery::new(shop.tenant, "ارجاع").with_embedding(vec![0.1, 0.9, 0.0]))
        .await;
    assert_eq!(ids(&hits)[..2], [north.id, east.id]);
    // Passages without a comparable embedding still come, after those with one.
    assert!(ids(&hits).contains(&plain.id) && ids(&hits).contains(&other_model.id));

    // A passage that shares no word but whose vector is close is found; a distant one is not.
    let hits = shop
        .passages(
            SearchQuery::new(shop.tenant, "متى بيوصل الطلب").with_embedding(vec![0.0, 0.05, 1.0]),
        )
        .await;
    assert_eq!(ids(&hits), vec![shipping.id], "{hits:#?}");
    assert_eq!(hits[0].document_id, Some(doc));
    assert_eq!(hits[0].title, "الشحن");
    assert_eq!(hits[0].snippet, "نوصل لكل مناطق المملكة");

    // Re-indexing replaces a passage at the same ordinal.
    let mut updated = shipping.clone();
    updated.content = "الشحن مجاني فوق ٥٠ دينار".into();
    updated.embedding = None;
    shop.search
        .index_passages(shop.tenant, doc, &[updated])
        .await
        .unwrap();
    let hits = shop
        .passages(SearchQuery::new(shop.tenant, "شحن مجاني"))
        .await;
    assert_eq!(hits[0].id, shipping.id);
    assert_eq!(hits[0].snippet, "الشحن مجاني فوق ٥٠ دينار");

    // A broken embedding is refused before anything is written.
    let bad = passage(9, "", "x", Some(vec![f32::NAN, 1.0]));
    assert!(matches!(
        shop.search.index_passages(shop.tenant, doc, &[bad]).await,
        Err(SearchError::Invalid(_))
    ));
}

#[tokio::test]
async fn limit_is_clamped() {
    let t = TestDb::new().await;
    let shop = Shop::new(&t, "shop_many").await;
    let c = t.db.platform().await.unwrap();
    c.execute(
        "INSERT INTO catalog_items (tenant_id, sku, name, price_jod) SELECT $1, 'M-' || g, 'قميص رقم ' || g, 5 FROM generate_series(1, 60) g",
        &[&shop.tenant.as_uuid()],
    )
    .await
    .unwrap();
    shop.search.reindex_tenant(shop.tenant).await.unwrap();
    for (limit, expected) in [(0, 1), (7, 7), (10_000, MAX_LIMIT)] {
        let q = SearchQuery::new(shop.tenant, "قميص").with_limit(limit);
        assert_eq!(
            shop.search.search_products(&q).await.unwrap().len(),
            expected,
            "limit {limit}"
        );
        let q = SearchQuery::new(shop.tenant, "قميص")
            .with_embedding(vec![1.0])
            .with_limit(limit);
        assert_eq!(shop.search.search_passages(&q).await.unwrap().len(), 0);
    }
}

/// Index scans of `index` and sequential scans of `table` in this transaction so far.
async fn scans(tx: &deadpool_postgres::Transaction<'_>, index: &str, table: &str) -> (i64, i64) {
    let row = tx
        .query_one(
            "SELECT pg_stat_get_xact_numscans($1::text::regclass), pg_stat_get_xact_numscans($2::text::regclass)",
            &[&index, &table],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1))
}

#[tokio::test]
async fn search_uses_the_tenant_gin_indexes_as_the_application_role() {
    let t = TestDb::new().await;
    let shop = Shop::new(&t, "shop_big").await;
    let other = Shop::new(&t, "shop_other").await;
    let c = t.db.platform().await.unwrap();
    for (tenant, word) in [(shop.tenant, "قميص"), (other.tenant, "بلوزه")] {
        c.execute(
            "INSERT INTO catalog_items (tenant_id, sku, name, price_jod, search_text)
             SELECT $1, 'G-' || g, $2 || ' ' || g, 5, $2 || ' موديل ' || g FROM generate_series(1, 2000) g",
            &[&tenant.as_uuid(), &word],
        )
        .await
        .unwrap();
    }
    let doc = shop.document("الأسئلة").await;
    c.execute(
        "INSERT INTO kb_chunks (tenant_id, document_id, ordinal, content, search_text)
         SELECT $1, $2, g, 'جواب ' || g, 'جواب رقم ' || g FROM generate_series(1, 2000) g",
        &[&shop.tenant.as_uuid(), &doc],
    )
    .await
    .unwrap();
    c.batch_execute("ANALYZE catalog_items; ANALYZE kb_chunks")
        .await
        .unwrap();
    let needle = shop.product("NEEDLE", "شنطة جلد", "").await;

    let mut client = t.db.app().await.unwrap();
    let tx = begin_for_tenant(&mut client, shop.tenant).await.unwrap();
    let before = scans(&tx, "catalog_items_tenant_search_tsv_idx", "catalog_items").await;
    let rows = tx
        .query(
            "SELECT id FROM search_catalog_items('شنطه', '''شنطه'':*', ARRAY['''شنطه'':*'], 10)",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get::<_, Uuid>(0), needle);
    let after = scans(&tx, "catalog_items_tenant_search_tsv_idx", "catalog_items").await;
    assert!(
        after.0 > before.0,
        "full-text did not use the GIN index: {before:?} → {after:?}"
    );
    assert_eq!(after.1, before.1, "the function scanned catalog_items");
    // Found too few by full-text, so the trigram arm ran, on its index too.
    let trgm = scans(&tx, "catalog_items_tenant_search_trgm_idx", "catalog_items").await;
    assert!(trgm.0 > 0, "{trgm:?}");
    // With enough full-text matches the trigram arm does not run.
    tx.query(
        "SELECT id FROM search_catalog_items('قميص', '''قميص'':*', ARRAY['''قميص'':*'], 10)",
        &[],
    )
    .await
    .unwrap();
    assert_eq!(
        scans(&tx, "catalog_items_tenant_search_trgm_idx", "catalog_items")
            .await
            .0,
        trgm.0
    );

    // Passages likewise.
    let before = scans(&tx, "kb_chunks_tenant_search_tsv_idx", "kb_chunks").await;
    let rows = tx
        .query(
            "SELECT content FROM search_kb_passages('جواب 1234', '''جواب'':* | ''1234''', ARRAY['''جواب'':*', '''1234'''], 3)",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(rows[0].get::<_, String>(0), "جواب 1234");
    let after = scans(&tx, "kb_chunks_tenant_search_tsv_idx", "kb_chunks").await;
    assert!(after.0 > before.0, "{before:?} → {after:?}");
    assert_eq!(after.1, before.1, "the function scanned kb_chunks");

    // The plain query under the tenant policy, for contrast, does not use it (@@ is not
    // LEAKPROOF, so the policy is applied first): this is what the functions are for.
    let before = scans(&tx, "catalog_items_tenant_search_tsv_idx", "catalog_items").await;
    tx.query(
        "SELECT id FROM catalog_items WHERE search_tsv @@ to_tsquery('simple', '''شنطه'':*')",
        &[],
    )
    .await
    .unwrap();
    let after = scans(&tx, "catalog_items_tenant_search_tsv_idx", "catalog_items").await;
    assert_eq!(after.0, before.0);
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn search_functions_carry_the_trigram_threshold() {
    let t = TestDb::new().await;
    let c = t.db.platform().await.unwrap();
    for f in ["search_catalog_items", "search_kb_passages"] {
        let config: Vec<String> = c
            .query_one("SELECT proconfig FROM pg_proc WHERE proname = $1", &[&f])
            .await
            .unwrap()
            .get(0);
        assert!(
            config.contains(&format!(
                "pg_trgm.word_similarity_threshold={}",
                shared::search::TRIGRAM_THRESHOLD
            )),
            "{f}: {config:?}"
        );
    }
}

#[tokio::test]
async fn hybrid_passage_search_in_sql_reads_a_bounded_number_of_embeddings() {
    let t = TestDb::new().await;
    // No memory for embeddings in the process: every hybrid search ranks in SQL (as for a
    // shop whose set does not fit in the budget).
    let mut shop = Shop::new(&t, "shop_vectors").await;
    shop.search = PostgresSearch::with_vector_cache(t.db.clone(), 0);
    let doc = shop.document("الأسئلة").await;
    const DIMS: usize = 16;
    const PASSAGES: usize = 400;
    let vector = along;
    let passages: Vec<PassageDoc> = (0..PASSAGES)
        .map(|i| passage(i as i32, "", &format!("جواب رقم {i}"), Some(vector(i))))
        .collect();
    shop.search
        .index_passages(shop.tenant, doc, &passages)
        .await
        .unwrap();
    let c = t.db.platform().await.unwrap();
    let signs: String = c
        .query_one(
            "SELECT embedding_signs::text FROM kb_chunks WHERE id = $1",
            &[&passages[3].id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        signs, "0001000000000000",
        "one bit per dimension, 1 for > 0"
    );

    // A query along dimension 5 that shares no word: passages along it are found by vector
    // alone, and only a bounded number of embeddings is read.
    let before = shop.search.embedding_bytes_read();
    let q = SearchQuery::new(shop.tenant, "لون")
        .with_embedding(vector(5))
        .with_limit(5);
    let hits = shop.passages(q).await;
    let read = shop.search.embedding_bytes_read() - before;
    assert_eq!(hits.len(), 5, "{hits:#?}");
    for h in &hits {
        let i: usize = h.snippet.trim_start_matches("جواب رقم ").parse().unwrap();
        assert_eq!(i % DIMS, 5, "{h:#?}");
    }
    let bound = (shared::search::VECTOR_CANDIDATES * DIMS * 4) as u64;
    assert!(
        read > 0 && read <= bound,
        "{read} bytes read, bound {bound}"
    );
    // Text matches bring their own embeddings along, still bounded.
    let before = shop.search.embedding_bytes_read();
    let q = SearchQuery::new(shop.tenant, "جواب")
        .with_embedding(vector(5))
        .with_limit(5);
    let hits = shop.passages(q).await;
    let read = shop.search.embedding_bytes_read() - before;
    assert!(hits.len() == 5 && read <= 2 * bound, "{read} bytes");
    let i: usize = hits[0]
        .snippet
        .trim_start_matches("جواب رقم ")
        .parse()
        .unwrap();
    assert_eq!(i % DIMS, 5, "{hits:#?}");
}

// =====================================================================================
// Azure AI Search backend, against a local stand-in
// =====================================================================================

const KEY: &str = "AzS3archAdm1nK3y-0123456789abcdef";
const INDEX: &str = "igshop-test";

#[derive(Debug, Clone)]
struct Recorded {
    method: String,
    path: String,
    query: HashMap<String, String>,
    headers: HashMap<String, String>,
    body: String,
}

impl Recorded {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("JSON body")
    }
}

#[derive(Default)]
struct FakeState {
    requests: Vec<Recorded>,
    script: VecDeque<(u16, String)>,
}

struct FakeAzureSearch {
    addr: SocketAddr,
    state: Arc<Mutex<FakeState>>,
}

impl FakeAzureSearch {
    async fn start() -> Self {
        let state = Arc::new(Mutex::new(FakeState::default()));
        let shared_state = state.clone();
        let route = warp::method()
            .and(warp::path::full())
            .and(warp::query::raw().or(warp::any().map(String::new)).unify())
            .and(warp::header::headers_cloned())
            .and(warp::body::bytes())
            .map(
                move |method: warp::http::Method,
                      path: warp::path::FullPath,
                      raw_query: String,
                      headers: warp::http::HeaderMap,
                      body: bytes::Bytes| {
                    let mut state = shared_state.lock().unwrap();
                    state.requests.push(Recorded {
                        method: method.to_string(),
                        path: path.as_str().to_owned(),
                        query: url::form_urlencoded::parse(raw_query.as_bytes())
                            .into_owned()
                            .collect(),
                        headers: headers
                            .iter()
                            .map(|(k, v)| {
                                (
                                    k.as_str().to_owned(),
                                    v.to_str().unwrap_or_default().to_owned(),
                                )
                            })
                            .collect(),
                        body: String::from_utf8_lossy(&body).into_owned(),
                    });
                    let (status, body) = state
                        .script
                        .pop_front()
                        .unwrap_or((200, r#"{"value":[]}"#.to_owned()));
                    warp::http::Response::builder()
                        .status(status)
                        .header("content-type", "application/json; odata.metadata=none")
                        .body(body)
                        .unwrap()
                },
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(warp::serve(route).incoming(listener).run());
        FakeAzureSearch { addr, state }
    }

    fn answer(&self, status: u16, body: impl Into<String>) -> &Self {
        self.state
            .lock()
            .unwrap()
            .script
            .push_back((status, body.into()));
        self
    }

    fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    fn only_request(&self) -> Recorded {
        let requests = self.requests();
        assert_eq!(requests.len(), 1, "{requests:#?}");
        requests.into_iter().next().unwrap()
    }

    fn client_with(&self, auth: AzureAuth, dimensions: usize) -> AzureSearch {
        AzureSearch::new(AzureSearchConfig {
            endpoint: format!("http://{}/", self.addr),
            index: INDEX.into(),
            auth,
            dimensions,
            timeout: Duration::from_secs(5),
        })
        .unwrap()
    }

    fn client(&self) -> AzureSearch {
        self.client_with(AzureAuth::ApiKey(SecretString::from(KEY)), 3)
    }
}

fn assert_common(r: &Recorded) {
    assert_eq!(
        r.query.get("api-version").map(String::as_str),
        Some(API_VERSION),
        "{r:#?}"
    );
    assert_eq!(r.headers.get("api-key").map(String::as_str), Some(KEY));
    assert!(r
        .headers
        .get("content-type")
        .is_some_and(|c| c.starts_with("application/json")));
}

fn tenant_clause(t: TenantId) -> String {
    format!("tenant_id eq '{t}'")
}

#[tokio::test]
async fn azure_ensure_index_puts_the_definition() {
    let fake = FakeAzureSearch::start().await;
    fake.answer(201, r#"{"name":"igshop-test"}"#);
    let search = AzureSearch::new(AzureSearchConfig {
        endpoint: format!("http://{}", fake.addr),
        index: INDEX.into(),
        auth: AzureAuth::ApiKey(SecretString::from(KEY)),
        dimensions: 1536,
        timeout: Duration::from_secs(5),
    })
    .unwrap();
    search.prepare().await.unwrap();
    let r = fake.only_request();
    assert_eq!(r.method, "PUT");
    assert_eq!(r.path, format!("/indexes/{INDEX}"));
    assert_common(&r);
    let def = r.json();
    assert_eq!(def["name"], INDEX);
    let fields = def["fields"].as_array().unwrap();
    let field = |n: &str| {
        fields
            .iter()
            .find(|f| f["name"] == n)
            .unwrap_or_else(|| panic!("no field {n}"))
            .clone()
    };
    assert_eq!(field("id")["key"], true);
    assert_eq!(field("tenant_id")["filterable"], true);
    assert_eq!(field("tenant_id")["searchable"], false);
    assert_eq!(field("kind")["filterable"], true);
    assert_eq!(field("document_id")["filterable"], true);
    assert_eq!(field("title")["analyzer"], "ar.microsoft");
    assert_eq!(field("content")["analyzer"], "ar.microsoft");
    assert_eq!(field("content_normalized")["analyzer"], "standard.lucene");
    assert_eq!(field("embedding")["type"], "Collection(Edm.Single)");
    assert_eq!(field("embedding")["dimensions"], 1536);
    let profile = field("embedding")["vectorSearchProfile"].clone();
    let profiles = def["vectorSearch"]["profiles"].as_array().unwrap();
    let p = profiles
        .iter()
        .find(|p| p["name"] == profile)
        .expect("the field's profile is defined");
    let algorithms = def["vectorSearch"]["algorithms"].as_array().unwrap();
    let a = algorithms
        .iter()
        .find(|a| a["name"] == p["algorithm"])
        .expect("the profile's algorithm is defined");
    assert_eq!(a["kind"], "hnsw");
    assert_eq!(a["hnswParameters"]["metric"], "cosine");

    // Idempotent: the same PUT again.
    fake.answer(204, "");
    search.ensure_index().await.unwrap();
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].method, "PUT");
    assert_eq!(requests[1].json(), requests[0].json());
}

#[tokio::test]
async fn azure_indexes_products_and_passages() {
    let fake = FakeAzureSearch::start().await;
    let search = fake.client();
    let tenant = TenantId::new();
    let item = ProductDoc {
        id: Uuid::new_v4(),
        sku: "SH-1".into(),
        name: "قَمِيص أزرق".into(),
        description: "قطن".into(),
        category: Some("ملابس".into()),
        attributes_text: "color أزرق".into(),
    };
    fake.answer(
        200,
        r#"{"value":[{"key":"k","status":true,"statusCode":201}]}"#,
    );
    search.index_product(tenant, &item).await.unwrap();
    let r = fake.only_request();
    assert_eq!(
        (r.method.as_str(), r.path.as_str()),
        ("POST", &*format!("/indexes/{INDEX}/docs/index"))
    );
    assert_common(&r);
    let doc = &r.json()["value"][0];
    assert_eq!(doc["@search.action"], "upload");
    assert_eq!(doc["id"], format!("{tenant}_product_{}", item.id));
    assert_eq!(doc["item_id"], item.id.to_string());
    assert_eq!(doc["tenant_id"], tenant.to_string());
    assert_eq!(doc["kind"], "product");
    assert_eq!(doc["title"], "قَمِيص أزرق");
    assert_eq!(
        doc["content_normalized"],
        "قميص ازرق sh 1 ملابس color ازرق قطن"
    );
    assert_eq!(doc["snippet"], "قطن");
    assert!(doc.get("embedding").is_none());

    let document_id = Uuid::new_v4();
    let passages: Vec<PassageDoc> = (0..150)
        .map(|i| {
            passage(
                i,
                "الإرجاع",
                &format!("فقرة {i}"),
                Some(vec![0.5, 0.25, i as f32]),
            )
        })
        .collect();
    search
        .index_passages(tenant, document_id, &passages)
        .await
        .unwrap();
    let requests = fake.requests();
    assert_eq!(requests.len(), 3, "150 passages go in two batches");
    let first = requests[1].json();
    let batch = first["value"].as_array().unwrap();
    assert_eq!(batch.len(), 100);
    assert_eq!(requests[2].json()["value"].as_array().unwrap().len(), 50);
    assert_eq!(
        batch[0]["id"],
        format!("{tenant}_passage_{}", passages[0].id)
    );
    assert_eq!(batch[0]["kind"], "passage");
    assert_eq!(batch[0]["document_id"], document_id.to_string());
    assert_eq!(batch[0]["title"], "الإرجاع");
    assert_eq!(batch[0]["content"], "فقرة 0");
    assert_eq!(batch[0]["content_normalized"], "ارجاع فقره 0");
    assert_eq!(batch[0]["embedding"], serde_json::json!([0.5, 0.25, 0.0]));

    // Vectors of the wrong size never leave the process.
    let wrong = passage(0, "", "x", Some(vec![1.0, 2.0]));
    assert!(matches!(
        search.index_passages(tenant, document_id, &[wrong]).await,
        Err(SearchError::Invalid(_))
    ));
    assert_eq!(fake.requests().len(), 3);

    // Removing a product deletes this tenant's key.
    search.remove_product(tenant, item.id).await.unwrap();
    let r = fake.requests().pop().unwrap();
    assert_eq!(
        r.json()["value"],
        serde_json::json!([{ "@search.action": "delete", "id": format!("{tenant}_product_{}", item.id) }])
    );
}

#[tokio::test]
async fn azure_search_requests_carry_the_tenant_filter() {
    let fake = FakeAzureSearch::start().await;
    let search = fake.client();
    let tenant = TenantId::new();
    let id = Uuid::new_v4();
    fake.answer(
        200,
        serde_json::json!({ "value": [
            { "@search.score": 2.5, "item_id": id.to_string(), "kind": "product", "document_id": null,
              "title": "قميص أزرق", "content": "SH-1\nقطن", "snippet": "قطن" },
            { "@search.score": 1.0, "item_id": "not-a-uuid", "title": "broken" }
        ]})
        .to_string(),
    );
    let hits = search
        .search_products(&SearchQuery::new(tenant, "قَمِيص أزرق").with_limit(500))
        .await
        .unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].id, id);
    assert_eq!(hits[0].kind, HitKind::Product);
    assert_eq!(hits[0].title, "قميص أزرق");
    assert_eq!(hits[0].snippet, "قطن");
    assert_eq!(hits[0].score, 2.5);
    let r = fake.only_request();
    assert_eq!(
        (r.method.as_str(), r.path.as_str()),
        ("POST", &*format!("/indexes/{INDEX}/docs/search"))
    );
    assert_common(&r);
    let body = r.json();
    assert_eq!(
        body["filter"],
        format!("{} and kind eq 'product'", tenant_clause(tenant))
    );
    assert_eq!(body["top"], MAX_LIMIT);
    assert!(body["search"].as_str().unwrap().starts_with("قميص "));
    assert!(body.get("vectorQueries").is_none());

    // An injection attempt stays in the words; the filter is the same.
    search
        .search_products(&SearchQuery::new(tenant, "x' or tenant_id ne '"))
        .await
        .unwrap();
    let body = fake.requests().pop().unwrap().json();
    assert_eq!(
        body["filter"],
        format!("{} and kind eq 'product'", tenant_clause(tenant))
    );
    assert!(!body["search"].as_str().unwrap().contains('\''));

    // Nothing to look for: no request.
    let before = fake.requests().len();
    assert!(search
        .search_products(&SearchQuery::new(tenant, " ؟ "))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(fake.requests().len(), before);
}

#[tokio::test]
async fn azure_passage_search_is_hybrid_with_an_embedding() {
    let fake = FakeAzureSearch::start().await;
    let search = fake.client();
    let tenant = TenantId::new();
    let (id, doc) = (Uuid::new_v4(), Uuid::new_v4());
    fake.answer(
        200,
        serde_json::json!({ "value": [
            { "@search.score": 0.03, "item_id": id.to_string(), "kind": "passage", "document_id": doc.to_string(),
              "title": "الإرجاع", "content": "خلال ١٤ يوم", "snippet": null }
        ]})
        .to_string(),
    );
    let q = SearchQuery::new(tenant, "سياسة الإرجاع")
        .with_embedding(vec![0.5, 0.25, -1.0])
        .with_limit(5);
    let hits = search.search_passages(&q).await.unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(
        (hits[0].id, hits[0].document_id, hits[0].kind),
        (id, Some(doc), HitKind::Passage)
    );
    assert_eq!(hits[0].snippet, "خلال ١٤ يوم");
    let body = fake.only_request().json();
    assert_eq!(
        body["filter"],
        format!("{} and kind eq 'passage'", tenant_clause(tenant))
    );
    assert_eq!(body["top"], 5);
    assert!(body["search"].as_str().unwrap().contains("ارجاع"));
    let vq = &body["vectorQueries"][0];
    assert_eq!(vq["kind"], "vector");
    assert_eq!(vq["fields"], "embedding");
    assert_eq!(vq["vector"], serde_json::json!([0.5, 0.25, -1.0]));
    assert!(vq["k"].as_u64().unwrap() >= 5);
    assert_eq!(body["vectorFilterMode"], "preFilter");

    // Without an embedding: text only.
    search
        .search_passages(&SearchQuery::new(tenant, "الإرجاع"))
        .await
        .unwrap();
    assert!(fake
        .requests()
        .pop()
        .unwrap()
        .json()
        .get("vectorQueries")
        .is_none());
    // With an embedding of the wrong size: refused before sending.
    let before = fake.requests().len();
    let wrong = SearchQuery::new(tenant, "x").with_embedding(vec![1.0]);
    assert!(matches!(
        search.search_passages(&wrong).await,
        Err(SearchError::Invalid(_))
    ));
    assert_eq!(fake.requests().len(), before);
}

#[tokio::test]
async fn azure_remove_document_deletes_by_filter() {
    let fake = FakeAzureSearch::start().await;
    let search = fake.client();
    let tenant = TenantId::new();
    let document_id = Uuid::new_v4();
    let keys: Vec<String> = (0..3)
        .map(|_| format!("{tenant}_passage_{}", Uuid::new_v4()))
        .collect();
    let foreign = format!("{}_passage_{}", TenantId::new(), Uuid::new_v4());
    let page: Vec<serde_json::Value> = keys
        .iter()
        .chain(std::iter::once(&foreign))
        .map(|k| serde_json::json!({ "@search.score": 1.0, "id": k }))
        .collect();
    fake.answer(200, serde_json::json!({ "value": page }).to_string());
    fake.answer(200, r#"{"value":[]}"#);
    search.remove_document(tenant, document_id).await.unwrap();
    let requests = fake.requests();
    assert_eq!(requests.len(), 2, "{requests:#?}");
    let lookup = requests[0].json();
    assert_eq!(requests[0].path, format!("/indexes/{INDEX}/docs/search"));
    assert_eq!(
        lookup["filter"],
        format!(
            "{} and kind eq 'passage' and document_id eq '{document_id}'",
            tenant_clause(tenant)
        )
    );
    assert_eq!(lookup["select"], "id");
    let delete = requests[1].json();
    assert_eq!(requests[1].path, format!("/indexes/{INDEX}/docs/index"));
    let deleted: Vec<&str> = delete["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        deleted,
        keys.iter().map(String::as_str).collect::<Vec<_>>(),
        "only this tenant's keys are deleted"
    );
    assert!(delete["value"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["@search.action"] == "delete"));
}

#[tokio::test]
async fn azure_errors_are_classified_without_the_key() {
    let fake = FakeAzureSearch::start().await;
    let search = fake.client();
    let tenant = TenantId::new();
    let q = SearchQuery::new(tenant, "قميص");

    fake.answer(
        403,
        format!(
            r#"{{"error":{{"code":"Forbidden","message":"Authorization failed for key {KEY}"}}}}"#
        ),
    );
    let e = search.search_products(&q).await.unwrap_err();
    assert!(
        matches!(e, SearchError::Unauthorized { status: 403, .. }),
        "{e:?}"
    );
    assert!(!e.is_transient());
    let text = format!("{e} {e:?}");
    assert!(!text.contains(KEY), "{text}");
    assert!(text.contains("Authorization failed"), "{text}");

    fake.answer(
        503,
        r#"{"error":{"code":"ServiceUnavailable","message":"The service is too busy"}}"#,
    );
    let e = search.search_passages(&q).await.unwrap_err();
    assert!(
        matches!(
            e,
            SearchError::Unavailable {
                status: Some(503),
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.is_transient());
    assert!(!format!("{e} {e:?}").contains(KEY));

    fake.answer(
        400,
        r#"{"error":{"code":"InvalidRequestParameter","message":"Invalid expression"}}"#,
    );
    let e = search
        .index_product(
            tenant,
            &ProductDoc {
                id: Uuid::new_v4(),
                sku: "s".into(),
                name: "n".into(),
                description: String::new(),
                category: None,
                attributes_text: String::new(),
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&e, SearchError::Service { status: 400, message } if message.contains("Invalid expression")),
        "{e:?}"
    );

    // 207: some documents were refused.
    fake.answer(207, r#"{"value":[{"key":"a","status":false,"statusCode":400,"errorMessage":"field too long"}]}"#);
    let e = search
        .remove_product(tenant, Uuid::new_v4())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, SearchError::Service { status: 207, message } if message.contains("field too long")),
        "{e:?}"
    );

    // Nobody listening: unavailable, no key either.
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let gone = AzureSearch::new(AzureSearchConfig {
        endpoint: format!("http://{addr}"),
        index: INDEX.into(),
        auth: AzureAuth::ApiKey(SecretString::from(KEY)),
        dimensions: 3,
        timeout: Duration::from_secs(2),
    })
    .unwrap();
    let e = gone.search_products(&q).await.unwrap_err();
    assert!(
        matches!(e, SearchError::Unavailable { status: None, .. }),
        "{e:?}"
    );
    assert!(!format!("{e} {e:?}").contains(KEY));
}

#[derive(Debug)]
struct FixedToken(Mutex<Vec<String>>);

#[async_trait::async_trait]
impl azure_core::credentials::TokenCredential for FixedToken {
    async fn get_token(
        &self,
        scopes: &[&str],
        _options: Option<azure_core::credentials::TokenRequestOptions<'_>>,
    ) -> azure_core::Result<azure_core::credentials::AccessToken> {
        self.0
            .lock()
            .unwrap()
            .extend(scopes.iter().map(|s| s.to_string()));
        Ok(azure_core::credentials::AccessToken::new(
            "mi-t0ken",
            azure_core::time::OffsetDateTime::now_utc() + azure_core::time::Duration::hours(1),
        ))
    }
}

#[tokio::test]
async fn azure_managed_identity_sends_a_bearer_token() {
    let fake = FakeAzureSearch::start().await;
    let credential = Arc::new(FixedToken(Mutex::new(Vec::new())));
    let search = fake.client_with(AzureAuth::ManagedIdentity(credential.clone()), 3);
    search
        .search_products(&SearchQuery::new(TenantId::new(), "قميص"))
        .await
        .unwrap();
    let r = fake.only_request();
    assert_eq!(
        r.headers.get("authorization").map(String::as_str),
        Some("Bearer mi-t0ken")
    );
    assert!(!r.headers.contains_key("api-key"));
    assert_eq!(
        *credential.0.lock().unwrap(),
        vec![SEARCH_SCOPE.to_string()]
    );
}

/// The same answer up to the quantization's 0.01: as many hits, and every hit of one that
/// scores clearly above the other's last (more than 0.01) is in the other too, with its score
/// within 0.01 and the same text. Only near-ties at the cut may differ.
fn assert_same_hits(a: &[SearchHit], b: &[SearchHit]) {
    assert_eq!(a.len(), b.len(), "{a:#?} vs {b:#?}");
    for (x, y) in [(a, b), (b, a)] {
        let last = y.iter().map(|h| h.score).fold(f32::INFINITY, f32::min);
        for h in x.iter().filter(|h| h.score > last + 0.01) {
            let g = y
                .iter()
                .find(|g| g.id == h.id)
                .unwrap_or_else(|| panic!("{h:#?} missing from {y:#?}"));
            assert!((h.score - g.score).abs() < 0.01, "{h:#?} vs {g:#?}");
            assert_eq!(
                (&h.title, &h.snippet, h.document_id),
                (&g.title, &g.snippet, g.document_id)
            );
        }
    }
}

/// Passage i points mostly along dimension i % 16, with a little of every other one.
fn along(i: usize) -> Vec<f32> {
    (0..16)
        .map(|d| {
            if d == i % 16 {
                1.0
            } else {
                -0.05 - 0.001 * ((i * 7 + d) % 13) as f32
            }
        })
        .collect()
}

fn numbers(hits: &[SearchHit]) -> Vec<usize> {
    hits.iter()
        .map(|h| h.snippet.trim_start_matches("جواب رقم ").parse().unwrap())
        .collect()
}

#[tokio::test]
async fn embeddings_held_in_the_process_follow_every_change_to_the_knowledge_base() {
    let t = TestDb::new().await;
    let shop = Shop::new(&t, "shop_held").await;
    // A second instance of the app (another Functions instance) over the same database.
    let other = PostgresSearch::new(t.db.clone());
    let (doc, passages) = shop.answers_along(300).await;
    let query = |text: &str, i: usize| {
        SearchQuery::new(shop.tenant, text)
            .with_embedding(along(i))
            .with_limit(5)
    };

    // The first search loads the shop's set (300 × 16 × 4 bytes); the next ones read none.
    let hits = shop.passages(query("لون", 5)).await;
    assert!(numbers(&hits).iter().all(|n| n % 16 == 5), "{hits:#?}");
    assert_eq!(hits.len(), 5);
    assert_eq!(hits[0].document_id, Some(doc));
    assert_eq!(
        hits[0].title, "الأسئلة",
        "a passage without a heading shows its document's title"
    );
    let loaded = shop.search.embedding_bytes_read();
    assert_eq!(loaded, 300 * 16 * 4);
    for i in 0..16 {
        let hits = shop.passages(query("جواب", i)).await;
        assert_eq!(numbers(&hits)[0] % 16, i, "{hits:#?}");
    }
    assert_eq!(
        shop.search.embedding_bytes_read(),
        loaded,
        "nothing read per search"
    );
    let (held, loads) = shop.search.vector_cache_use();
    assert!(held > 0 && loads == 1, "{held} bytes, {loads} loads");

    // The same search ranks in SQL alike.
    let in_sql = PostgresSearch::with_vector_cache(t.db.clone(), 0);
    // The same search ranked in SQL (exact cosine) agrees, up to the order of near-ties
    // (these passages' similarities differ by about 0.0001; the held ones by at most 0.01).
    assert_same_hits(
        &in_sql.search_passages(&query("لون", 5)).await.unwrap(),
        &shop.passages(query("لون", 5)).await,
    );

    // A passage added through the other instance is found by this one's next search.
    let new_one = passage(
        300,
        "",
        "جواب رقم 9999",
        Some(along(5).iter().map(|x| x * 2.0).collect()),
    );
    other
        .index_passages(shop.tenant, doc, std::slice::from_ref(&new_one))
        .await
        .unwrap();
    let hits = shop
        .passages(
            SearchQuery::new(shop.tenant, "لون")
                .with_embedding(along(5).iter().map(|x| x * 2.0).collect())
                .with_limit(5),
        )
        .await;
    assert!(ids(&hits).contains(&new_one.id), "{hits:#?}");
    assert_eq!(
        shop.search.vector_cache_use().1,
        2,
        "loaded again at the new version"
    );

    // An embedding changed in place (re-embedded by another model run) moves the passage.
    let moved = &passages[21]; // along 5
    let c = t.db.platform().await.unwrap();
    c.execute(
        "UPDATE kb_chunks SET embedding = $2 WHERE id = $1",
        &[&moved.id, &along(11)],
    )
    .await
    .unwrap();
    let hits = shop.passages(query("لون", 11).with_limit(50)).await;
    assert!(ids(&hits).contains(&moved.id), "{hits:#?}");

    // A removed document's passages are gone from the next search of either instance.
    shop.search.remove_document(shop.tenant, doc).await.unwrap();
    assert!(shop.passages(query("لون", 5)).await.is_empty());
    assert!(other
        .search_passages(&query("جواب", 5))
        .await
        .unwrap()
        .is_empty());

    // Another shop's search never sees this shop's set, held or not.
    let b = Shop::new(&t, "shop_held_b").await;
    let doc_b = b.document("FAQ").await;
    let theirs = passage(0, "", "جواب رقم 7", Some(along(7)));
    b.search
        .index_passages(b.tenant, doc_b, std::slice::from_ref(&theirs))
        .await
        .unwrap();
    let q = SearchQuery::new(shop.tenant, "لون")
        .with_embedding(along(7))
        .with_limit(5);
    assert!(shop.search.search_passages(&q).await.unwrap().is_empty());
    assert!(b.search.search_passages(&q).await.unwrap().is_empty());
    let q = SearchQuery::new(b.tenant, "لون")
        .with_embedding(along(7))
        .with_limit(5);
    assert_eq!(
        ids(&shop.search.search_passages(&q).await.unwrap()),
        vec![theirs.id]
    );
}

#[tokio::test]
async fn a_shop_too_big_for_the_budget_is_searched_in_sql_with_the_same_answers() {
    let t = TestDb::new().await;
    let shop = Shop::new(&t, "shop_big").await;
    shop.answers_along(200).await;
    // Room for about a tenth of the set.
    let small = PostgresSearch::with_vector_cache(t.db.clone(), 2_000);
    for (text, i) in [("لون", 3), ("جواب", 9), ("جواب رقم 17", 1)] {
        let q = SearchQuery::new(shop.tenant, text)
            .with_embedding(along(i))
            .with_limit(5);
        let held = shop.search.search_passages(&q).await.unwrap();
        let in_sql = small.search_passages(&q).await.unwrap();
        assert_same_hits(&held, &in_sql);
    }
    let (held, loads) = small.vector_cache_use();
    assert_eq!(held, 0, "nothing held");
    assert_eq!(loads, 1, "tried once at this version, then searched in SQL");
    let bytes = small.embedding_bytes_read();
    let q = SearchQuery::new(shop.tenant, "لون").with_embedding(along(3));
    small.search_passages(&q).await.unwrap();
    assert!(
        small.embedding_bytes_read() - bytes
            <= (2 * shared::search::VECTOR_CANDIDATES * 16 * 4) as u64
    );
}

#[tokio::test]
async fn every_change_to_a_shops_passages_gives_it_a_new_knowledge_version() {
    let t = TestDb::new().await;
    let shop = Shop::new(&t, "shop_versions").await;
    let other = Shop::new(&t, "shop_versions_b").await;
    let doc = shop.document("FAQ").await;
    let version = |tenant: TenantId| {
        let db = t.db.clone();
        async move {
            let mut c = db.app().await.unwrap();
            let tx = begin_for_tenant(&mut c, tenant).await.unwrap();
            let v: i64 = tx
                .query_one("SELECT coalesce((SELECT version FROM kb_versions), 0)", &[])
                .await
                .unwrap()
                .get(0);
            v
        }
    };
    assert_eq!(version(shop.tenant).await, 0, "no passage yet");
    shop.search
        .index_passages(
            shop.tenant,
            doc,
            &[passage(0, "", "جواب", Some(vec![1.0, 0.0]))],
        )
        .await
        .unwrap();
    let v1 = version(shop.tenant).await;
    assert!(v1 > 0);
    // Each kind of write: an update, a document removed (search text cleared), a delete.
    let c = t.db.platform().await.unwrap();
    let mut seen = vec![v1];
    for sql in [
        "UPDATE kb_chunks SET heading = 'x' WHERE tenant_id = $1",
        "UPDATE kb_chunks SET search_text = '' WHERE tenant_id = $1",
        "DELETE FROM kb_chunks WHERE tenant_id = $1",
    ] {
        c.execute(sql, &[&shop.tenant.as_uuid()]).await.unwrap();
        let v = version(shop.tenant).await;
        assert!(v > *seen.last().unwrap(), "{sql}: {v} after {seen:?}");
        seen.push(v);
    }
    // Another shop's version never moves with this one's, and the shop sees only its own.
    assert_eq!(version(other.tenant).await, 0);
    // A shop with passages can still be deleted (the cascade gives it no new version).
    shop.search
        .index_passages(
            shop.tenant,
            doc,
            &[passage(1, "", "جواب", Some(vec![1.0, 0.0]))],
        )
        .await
        .unwrap();
    c.execute(
        "DELETE FROM tenants WHERE id = $1",
        &[&shop.tenant.as_uuid()],
    )
    .await
    .unwrap();
    let left: i64 = c
        .query_one(
            "SELECT count(*) FROM kb_versions WHERE tenant_id = $1",
            &[&shop.tenant.as_uuid()],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 0);
}
