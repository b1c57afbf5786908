//! The catalog against a real Postgres: CRUD, the grid's bulk save, CSV import and the
//! export → import round trip, all scoped to one shop.

use shared::catalog::csv_import::ImportMode;
use shared::catalog::{
    self, csv_export, csv_import, CatalogError, ItemFilter, ItemInput, ItemPatch, ProductIndex, Sku,
};
use shared::db::begin_for_tenant;
use shared::money::Jod;
use std::collections::HashMap;
use testkit::TestDb;

fn item(sku: &str, name: &str, price: &str) -> ItemInput {
    ItemInput {
        sku: Sku::parse(sku).unwrap(),
        name: name.into(),
        description: String::new(),
        category_id: None,
        price_jod: Jod::parse(price).unwrap(),
        stock: 5,
        image_url: None,
        attributes: Default::default(),
        is_active: true,
    }
}

#[tokio::test]
async fn items_are_created_changed_and_deleted_within_one_shop() {
    let t = TestDb::new().await;
    let a = t.tenant("shop_a").await;
    let b = t.tenant("shop_b").await;
    let mut c = t.db.app().await.unwrap();
    let tx = begin_for_tenant(&mut c, a).await.unwrap();
    let shirt = catalog::create_item(
        &tx,
        a,
        &item("TS-1", "قميص أزرق", "12.5"),
        ProductIndex::SearchText,
    )
    .await
    .unwrap();
    assert_eq!(shirt.price_jod.to_string(), "12.500");
    let dup = catalog::create_item(
        &tx,
        a,
        &item("TS-1", "again", "1"),
        ProductIndex::SearchText,
    )
    .await;
    assert!(matches!(dup, Err(CatalogError::Conflict(_))));
    tx.rollback().await.unwrap();

    let tx = begin_for_tenant(&mut c, a).await.unwrap();
    let shirt = catalog::create_item(
        &tx,
        a,
        &item("TS-1", "قميص أزرق", "12.5"),
        ProductIndex::SearchText,
    )
    .await
    .unwrap();
    let changed = catalog::update_item(
        &tx,
        shirt.id,
        &ItemPatch {
            price_jod: Some(Jod::parse("11").unwrap()),
            stock: Some(2),
            ..Default::default()
        },
        ProductIndex::SearchText,
    )
    .await
    .unwrap();
    assert_eq!(
        (
            changed.price_jod.to_string(),
            changed.stock,
            changed.name.as_str()
        ),
        ("11.000".into(), 2, "قميص أزرق")
    );
    assert!(matches!(
        catalog::update_item(
            &tx,
            shirt.id,
            &ItemPatch {
                stock: Some(-1),
                ..Default::default()
            },
            ProductIndex::SearchText,
        )
        .await,
        Err(CatalogError::Invalid { .. })
    ));
    tx.commit().await.unwrap();

    // Shop B can neither see nor touch it.
    let tx = begin_for_tenant(&mut c, b).await.unwrap();
    assert!(matches!(
        catalog::get_item(&tx, shirt.id).await,
        Err(CatalogError::NotFound)
    ));
    assert!(matches!(
        catalog::delete_item(&tx, shirt.id, ProductIndex::SearchText).await,
        Err(CatalogError::NotFound)
    ));
    assert_eq!(
        catalog::list_items(&tx, &ItemFilter::default())
            .await
            .unwrap()
            .total,
        0
    );
    // And may use the same SKU for its own item.
    catalog::create_item(
        &tx,
        b,
        &item("TS-1", "B's shirt", "3"),
        ProductIndex::SearchText,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let tx = begin_for_tenant(&mut c, a).await.unwrap();
    let found = catalog::list_items(
        &tx,
        &ItemFilter {
            search: Some("أزرق".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(found.total, 1);
    catalog::delete_item(&tx, shirt.id, ProductIndex::SearchText)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn the_grid_save_applies_all_changes_or_none() {
    let t = TestDb::new().await;
    let a = t.tenant("shop_a").await;
    let mut c = t.db.app().await.unwrap();
    let tx = begin_for_tenant(&mut c, a).await.unwrap();
    let x = catalog::create_item(&tx, a, &item("X", "x", "1"), ProductIndex::SearchText)
        .await
        .unwrap();
    let y = catalog::create_item(&tx, a, &item("Y", "y", "1"), ProductIndex::SearchText)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let tx = begin_for_tenant(&mut c, a).await.unwrap();
    let bad = catalog::bulk_update(
        &tx,
        &[
            (
                x.id,
                ItemPatch {
                    price_jod: Some(Jod::parse("9").unwrap()),
                    ..Default::default()
                },
            ),
            (
                y.id,
                ItemPatch {
                    sku: Some(Sku::parse("X").unwrap()),
                    ..Default::default()
                },
            ),
        ],
        ProductIndex::SearchText,
    )
    .await;
    let err = bad.unwrap_err();
    assert!(err.to_string().contains("change 2"), "{err}");
    tx.rollback().await.unwrap();
    let tx = begin_for_tenant(&mut c, a).await.unwrap();
    assert_eq!(
        catalog::get_item(&tx, x.id)
            .await
            .unwrap()
            .price_jod
            .to_string(),
        "1.000",
        "nothing of the failed save stayed"
    );
}

#[tokio::test]
async fn csv_import_upserts_by_sku_and_round_trips() {
    let t = TestDb::new().await;
    let a = t.tenant("shop_a").await;
    let mut c = t.db.app().await.unwrap();
    let file = "\u{FEFF}sku,name,description,category,price,stock,image_url,active,المقاس\n\
                TS-1,\"قميص، أزرق\",\"قطن ١٠٠٪\nمريح\",قمصان,12.500,5,https://cdn.example/1.jpg,yes,L\n\
                TS-2,=SUM(A1),,Hoodies,د.أ 20,0,,no,\n\
                TS-3,Cap,-,قمصان,3.25 JD,7,,yes,M\n";
    let parsed = csv_import::parse(file.as_bytes(), &HashMap::new()).unwrap();
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);

    let tx = begin_for_tenant(&mut c, a).await.unwrap();
    let preview = csv_import::preview(&tx, &parsed).await.unwrap();
    assert_eq!((preview.to_create, preview.to_update), (3, 0));
    assert_eq!(
        preview.unknown_categories,
        vec!["Hoodies".to_string(), "قمصان".to_string()]
    );
    let refused = csv_import::commit(
        &tx,
        a,
        &parsed,
        false,
        ImportMode::AllOrNothing,
        ProductIndex::SearchText,
    )
    .await;
    assert!(matches!(
        refused,
        Err(csv_import::CommitError::UnknownCategories(_))
    ));
    let report = csv_import::commit(
        &tx,
        a,
        &parsed,
        true,
        ImportMode::AllOrNothing,
        ProductIndex::SearchText,
    )
    .await
    .unwrap();
    assert_eq!(
        (report.created, report.updated, report.categories_created),
        (3, 0, 2)
    );
    tx.commit().await.unwrap();

    // Export, import the export: the catalog is unchanged.
    let snapshot = |items: Vec<catalog::CatalogItem>| {
        let mut v: Vec<_> = items
            .into_iter()
            .map(|i| {
                (
                    i.sku.to_string(),
                    i.name,
                    i.description,
                    i.category,
                    i.price_jod.to_string(),
                    i.stock,
                    i.image_url,
                    i.is_active,
                    serde_json::Value::Object(i.attributes),
                )
            })
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    };
    let tx = begin_for_tenant(&mut c, a).await.unwrap();
    let before = catalog::list_items(&tx, &ItemFilter::default())
        .await
        .unwrap()
        .items;
    let mut exported = csv_export::header();
    for i in &before {
        exported.extend(csv_export::row(i));
    }
    let text = String::from_utf8(exported.clone()).unwrap();
    assert!(
        text.contains("'=SUM(A1)"),
        "formulas are neutralised: {text}"
    );
    let reparsed = csv_import::parse(&exported, &HashMap::new()).unwrap();
    assert!(reparsed.errors.is_empty(), "{:?}", reparsed.errors);
    let report = csv_import::commit(
        &tx,
        a,
        &reparsed,
        false,
        ImportMode::AllOrNothing,
        ProductIndex::SearchText,
    )
    .await
    .unwrap();
    assert_eq!(
        (report.created, report.updated, report.unchanged),
        (0, 0, 3),
        "re-importing the export changes nothing"
    );
    let changed = String::from_utf8(exported.clone())
        .unwrap()
        .replace("12.500", "13.000");
    let changed = csv_import::parse(changed.as_bytes(), &HashMap::new()).unwrap();
    let report = csv_import::commit(
        &tx,
        a,
        &changed,
        false,
        ImportMode::AllOrNothing,
        ProductIndex::SearchText,
    )
    .await
    .unwrap();
    assert_eq!(
        (report.created, report.updated, report.unchanged),
        (0, 1, 2)
    );
    let changed_back = csv_import::parse(&exported, &HashMap::new()).unwrap();
    csv_import::commit(
        &tx,
        a,
        &changed_back,
        false,
        ImportMode::AllOrNothing,
        ProductIndex::SearchText,
    )
    .await
    .unwrap();
    let after = catalog::list_items(&tx, &ItemFilter::default())
        .await
        .unwrap()
        .items;
    assert_eq!(snapshot(before), snapshot(after));
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn a_file_with_errors_writes_nothing() {
    let t = TestDb::new().await;
    let a = t.tenant("shop_a").await;
    let mut c = t.db.app().await.unwrap();
    let parsed = csv_import::parse(b"sku,name,price\nA,Ok,1\nB,Bad,-1\n", &HashMap::new()).unwrap();
    assert_eq!(parsed.errors.len(), 1);
    let tx = begin_for_tenant(&mut c, a).await.unwrap();
    let err = csv_import::commit(
        &tx,
        a,
        &parsed,
        true,
        ImportMode::AllOrNothing,
        ProductIndex::SearchText,
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("Nothing was saved"));
    assert_eq!(
        catalog::list_items(&tx, &ItemFilter::default())
            .await
            .unwrap()
            .total,
        0
    );
}

#[tokio::test]
async fn commit_imports_the_valid_rows_and_returns_the_rejected_ones() {
    let t = TestDb::new().await;
    let a = t.tenant("shop_a").await;
    let mut c = t.db.app().await.unwrap();
    let file = "sku,name,price,category\nA,Ok,1,\nB,Bad,-1,\nC,Also ok,2,Hats\nD,Nul\u{0}name,3,\n";
    let parsed = csv_import::parse(file.as_bytes(), &HashMap::new()).unwrap();
    // The preview already names the NUL row (it would fail at the database otherwise).
    assert!(
        parsed
            .errors
            .iter()
            .any(|e| e.row == 5 && e.reason.contains("NUL")),
        "{:?}",
        parsed.errors
    );
    let tx = begin_for_tenant(&mut c, a).await.unwrap();
    let report = csv_import::commit(
        &tx,
        a,
        &parsed,
        false,
        ImportMode::ValidRows,
        ProductIndex::SearchText,
    )
    .await
    .unwrap();
    assert_eq!((report.created, report.updated), (1, 0));
    let rows: Vec<usize> = report.rejected.iter().map(|e| e.row).collect();
    assert_eq!(rows, vec![3, 4, 5], "{:?}", report.rejected);
    assert!(report.rejected[1].reason.contains("Hats"));
    let csv = report.rejected_csv.expect("a CSV of the rejected rows");
    let lines: Vec<&str> = csv.trim_start_matches('\u{FEFF}').lines().collect();
    assert_eq!(lines[0], "sku,name,price,category,problem");
    assert!(lines[1].starts_with("B,Bad,-1,,price:"), "{csv}");
    assert!(
        lines[2].starts_with("C,Also ok,2,Hats,\"category:"),
        "{csv}"
    );
    assert_eq!(lines.len(), 4);
    let skus: Vec<String> = catalog::list_items(&tx, &ItemFilter::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|i| i.sku.to_string())
        .collect();
    assert_eq!(skus, vec!["A".to_string()]);
}

#[tokio::test]
async fn catalog_changes_are_searchable_at_once_with_arabic_spelling_variants() {
    use shared::search::{PostgresSearch, Search, SearchQuery};
    let t = TestDb::new().await;
    let a = t.tenant("shop_a").await;
    let mut c = t.db.app().await.unwrap();
    let tx = begin_for_tenant(&mut c, a).await.unwrap();
    catalog::create_item(
        &tx,
        a,
        &item("TS-1", "قَمِيص أزرق", "12.5"),
        ProductIndex::SearchText,
    )
    .await
    .unwrap();
    let parsed = csv_import::parse(
        "sku,name,price\nBG-1,شنطة جلد,30\n".as_bytes(),
        &HashMap::new(),
    )
    .unwrap();
    csv_import::commit(
        &tx,
        a,
        &parsed,
        false,
        ImportMode::AllOrNothing,
        ProductIndex::SearchText,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let search = PostgresSearch::new(t.db.clone());
    let hits = search
        .search_products(&SearchQuery::new(a, "قميص ازرق"))
        .await
        .unwrap();
    assert_eq!(
        hits.first().map(|h| h.title.as_str()),
        Some("قَمِيص أزرق"),
        "{hits:?}"
    );
    let hits = search
        .search_products(&SearchQuery::new(a, "شنطه"))
        .await
        .unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
}
