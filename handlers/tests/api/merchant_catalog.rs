//! The catalog API end to end: sign-in, CSRF, CRUD, the grid's bulk save, categories, CSV
//! import (preview + commit) and the streamed export, bad input, and another shop's data;
//! with SEARCH_BACKEND=azure, every write reaching a recording Azure AI Search (after the
//! commit, or through the sweeper when the service was down).

use crate::support::app::{sign_in, test_app, Merchant, TestApp};
use crate::support::fake_search::{Action, FakeSearch};
use serde_json::{json, Value};

async fn call(
    ta: &TestApp,
    m: &Merchant,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> (u16, Value) {
    let mut req = warp::test::request()
        .method(method)
        .path(path)
        .header("cookie", format!("igshop_session={}", m.cookie))
        .header("x-csrf-token", &m.csrf);
    if let Some(b) = body {
        req = req.body(b.to_owned());
    }
    let r = req.reply(&ta.service).await;
    let v = if r.body().is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(r.body())
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(r.body()).into_owned()))
    };
    (r.status().as_u16(), v)
}

#[tokio::test]
async fn items_and_categories_through_the_api() {
    let ta = test_app(&[]).await;
    let m = sign_in(&ta, "shop_a").await;
    let (s, cat) = call(
        &ta,
        &m,
        "POST",
        "/api/v1/catalog/categories",
        Some(r#"{"name":"قمصان"}"#),
    )
    .await;
    assert_eq!(s, 201, "{cat}");
    let (s, item) = call(
        &ta,
        &m,
        "POST",
        "/api/v1/catalog/items",
        Some(&json!({ "sku": "TS-1", "name": "قميص أزرق", "price_jod": "12.5", "stock": 4, "category_id": cat["id"], "attributes": { "size": "L" } }).to_string()),
    )
    .await;
    assert_eq!(s, 201, "{item}");
    assert_eq!(item["price_jod"], "12.500");
    assert_eq!(item["category"], "قمصان");
    let id = item["id"].as_str().unwrap().to_owned();

    let (s, got) = call(&ta, &m, "GET", &format!("/api/v1/catalog/items/{id}"), None).await;
    assert_eq!((s, got["sku"].as_str()), (200, Some("TS-1")));
    let (s, patched) = call(
        &ta,
        &m,
        "PATCH",
        &format!("/api/v1/catalog/items/{id}"),
        Some(r#"{"price_jod":"11.250","stock":3}"#),
    )
    .await;
    assert_eq!(
        (s, patched["price_jod"].as_str(), patched["stock"].as_i64()),
        (200, Some("11.250"), Some(3))
    );
    let (s, bulk) = call(
        &ta,
        &m,
        "POST",
        "/api/v1/catalog/items/bulk",
        Some(&json!({ "changes": [{ "id": id, "stock": 9 }] }).to_string()),
    )
    .await;
    assert_eq!((s, bulk["items"][0]["stock"].as_i64()), (200, Some(9)));
    let (s, page) = call(
        &ta,
        &m,
        "GET",
        "/api/v1/catalog/items?search=%D8%A3%D8%B2%D8%B1%D9%82&per_page=10",
        None,
    )
    .await;
    assert_eq!((s, page["total"].as_i64()), (200, Some(1)), "{page}");
    let (s, cats) = call(&ta, &m, "GET", "/api/v1/catalog/categories", None).await;
    assert_eq!((s, cats[0]["item_count"].as_i64()), (200, Some(1)));

    // Another shop: 404 for every attempt, and nothing changes.
    let other = sign_in(&ta, "shop_b").await;
    for (method, body) in [
        ("GET", None),
        ("PATCH", Some(r#"{"stock":0}"#)),
        ("DELETE", None),
    ] {
        let (s, _) = call(
            &ta,
            &other,
            method,
            &format!("/api/v1/catalog/items/{id}"),
            body,
        )
        .await;
        assert_eq!(s, 404, "{method}");
    }
    let (s, _) = call(
        &ta,
        &other,
        "DELETE",
        &format!("/api/v1/catalog/categories/{}", cat["id"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(s, 404);
    let (_, still) = call(&ta, &m, "GET", &format!("/api/v1/catalog/items/{id}"), None).await;
    assert_eq!(still["stock"], 9);

    let (s, _) = call(
        &ta,
        &m,
        "DELETE",
        &format!("/api/v1/catalog/items/{id}"),
        None,
    )
    .await;
    assert_eq!(s, 204);
    let (s, _) = call(&ta, &m, "GET", &format!("/api/v1/catalog/items/{id}"), None).await;
    assert_eq!(s, 404);
    let (s, _) = call(&ta, &m, "GET", "/api/v1/catalog/items/not-a-uuid", None).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx_and_writes_nothing() {
    let ta = test_app(&[]).await;
    let m = sign_in(&ta, "shop_a").await;
    let cases: &[(&str, u16, &str)] = &[
        ("not json", 400, "not valid"),
        (
            r#"{"sku":"A","name":"x","price_jod":"-1"}"#,
            400,
            "negative",
        ),
        (
            r#"{"sku":"A","name":"x","price_jod":"1.2345"}"#,
            400,
            "3 decimals",
        ),
        (r#"{"sku":"A B","name":"x","price_jod":"1"}"#, 400, "spaces"),
        (
            r#"{"sku":"A","name":"x","price_jod":"1","colour":"red"}"#,
            400,
            "unknown field",
        ),
        (
            r#"{"sku":"A","name":"   ","price_jod":"1"}"#,
            422,
            "name is empty",
        ),
        (
            r#"{"sku":"A","name":"x","price_jod":"1","stock":-2}"#,
            422,
            "stock",
        ),
        (
            r#"{"sku":"A","name":"x","price_jod":"1","image_url":"javascript:alert(1)"}"#,
            422,
            "image URL",
        ),
    ];
    for (body, status, word) in cases {
        let (s, v) = call(&ta, &m, "POST", "/api/v1/catalog/items", Some(body)).await;
        assert_eq!(s, *status, "{body}: {v}");
        assert!(v["message"].as_str().unwrap().contains(word), "{body}: {v}");
    }
    let big = json!({ "sku": "A", "name": "x".repeat(70_000), "price_jod": "1" }).to_string();
    assert_eq!(
        call(&ta, &m, "POST", "/api/v1/catalog/items", Some(&big))
            .await
            .0,
        413
    );
    let (_, page) = call(&ta, &m, "GET", "/api/v1/catalog/items", None).await;
    assert_eq!(page["total"], 0);

    // No CSRF token, or no session.
    let r = warp::test::request()
        .method("POST")
        .path("/api/v1/catalog/items")
        .header("cookie", format!("igshop_session={}", m.cookie))
        .body(r#"{"sku":"A","name":"x","price_jod":"1"}"#)
        .reply(&ta.service)
        .await;
    assert_eq!(r.status(), 403);
    let r = warp::test::request()
        .method("GET")
        .path("/api/v1/catalog/items")
        .reply(&ta.service)
        .await;
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn csv_preview_commit_and_streamed_export() {
    let ta = test_app(&[]).await;
    let m = sign_in(&ta, "shop_a").await;
    let file = "\u{FEFF}الرمز,الاسم,السعر,الكمية,الفئة\nTS-1,\"قميص، أزرق\",12.500,5,قمصان\nTS-2,Hoodie,12.5 JD,3,Hoodies\nTS-3,Cap,-1,1,قمصان\n";
    let (s, preview) = call(
        &ta,
        &m,
        "POST",
        "/api/v1/catalog/import/preview",
        Some(file),
    )
    .await;
    assert_eq!(s, 200, "{preview}");
    assert_eq!(preview["valid_rows"], 2);
    assert_eq!(preview["errors"][0]["row"], 4);
    assert!(preview["errors"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("negative"));
    let (s, refused) = call(
        &ta,
        &m,
        "POST",
        "/api/v1/catalog/import/commit?create_missing_categories=true&mode=all_or_nothing",
        Some(file),
    )
    .await;
    assert_eq!(s, 422, "{refused}");
    assert!(refused["message"]
        .as_str()
        .unwrap()
        .contains("Nothing was saved"));

    let good = file.replace("TS-3,Cap,-1,1,قمصان\n", "");
    let (s, report) = call(
        &ta,
        &m,
        "POST",
        "/api/v1/catalog/import/commit?create_missing_categories=true",
        Some(&good),
    )
    .await;
    assert_eq!(s, 200, "{report}");
    assert_eq!(
        (
            report["created"].as_i64(),
            report["categories_created"].as_i64()
        ),
        (Some(2), Some(2))
    );

    let r = warp::test::request()
        .method("GET")
        .path("/api/v1/catalog/export.csv")
        .header("cookie", format!("igshop_session={}", m.cookie))
        .reply(&ta.service)
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv = String::from_utf8(r.body().to_vec()).unwrap();
    assert!(csv.starts_with("\u{FEFF}sku,name,"), "{csv}");
    assert!(
        csv.contains("TS-1,قميص، أزرق,,قمصان,12.500,5") && csv.contains("Hoodie"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 3);

    let (s, bad) = call(
        &ta,
        &m,
        "POST",
        "/api/v1/catalog/import/preview",
        Some("name,price\nx,1\n"),
    )
    .await;
    assert_eq!(s, 422);
    assert!(bad["message"].as_str().unwrap().contains("SKU"));
}

// ---------------------------------------------------------------- Azure AI Search index

async fn azure_app(search: &FakeSearch) -> TestApp {
    let settings = search.settings();
    let extra: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    test_app(&extra).await
}

/// Entries still waiting for the external index: (item, attempts, last_error).
async fn pending(ta: &TestApp) -> Vec<(String, i32, Option<String>)> {
    let c = ta.app.db.platform().await.unwrap();
    c.query(
        "SELECT item_id::text, attempts, last_error FROM search_index_pending ORDER BY queued_at",
        &[],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2)))
    .collect()
}

fn key(m: &Merchant, item: &str) -> String {
    format!("{}_product_{item}", m.tenant)
}

/// The actions accepted since the last `clear`, as (action, key); uploads checked to carry
/// the shop's tenant and the item's id.
fn actions(search: &FakeSearch, m: &Merchant) -> Vec<(String, String)> {
    search
        .accepted()
        .into_iter()
        .map(|a: Action| {
            if a.action == "upload" {
                assert_eq!(a.doc["tenant_id"], m.tenant.to_string(), "{:?}", a.doc);
                assert_eq!(a.doc["kind"], "product");
                assert_eq!(key(m, a.doc["item_id"].as_str().unwrap()), a.key);
            }
            (a.action, a.key)
        })
        .collect()
}

fn upload(m: &Merchant, item: &str) -> (String, String) {
    ("upload".into(), key(m, item))
}

fn delete(m: &Merchant, item: &str) -> (String, String) {
    ("delete".into(), key(m, item))
}

#[tokio::test]
async fn with_azure_search_every_catalog_write_reaches_the_index_after_its_commit() {
    let search = FakeSearch::start().await;
    let ta = azure_app(&search).await;
    let m = sign_in(&ta, "shop_a").await;
    let (_, cat) = call(
        &ta,
        &m,
        "POST",
        "/api/v1/catalog/categories",
        Some(r#"{"name":"قمصان"}"#),
    )
    .await;
    assert!(
        search.accepted().is_empty(),
        "an empty category indexes nothing"
    );

    // Create: one upload, with the category name and the attributes in the document.
    let (s, item) = call(
        &ta,
        &m,
        "POST",
        "/api/v1/catalog/items",
        Some(&json!({ "sku": "TS-1", "name": "قميص أزرق", "price_jod": "12.5", "category_id": cat["id"], "attributes": { "size": "XL" } }).to_string()),
    )
    .await;
    assert_eq!(s, 201, "{item}");
    let id = item["id"].as_str().unwrap().to_owned();
    assert_eq!(actions(&search, &m), vec![upload(&m, &id)]);
    let doc = &search.accepted()[0].doc;
    assert_eq!(doc["title"], "قميص أزرق");
    let content = doc["content"].as_str().unwrap();
    assert!(content.contains("قمصان") && content.contains("XL"), "{doc}");
    assert!(pending(&ta).await.is_empty());

    // Update, the grid's bulk save, a category rename: one upload each.
    search.clear();
    let (s, _) = call(
        &ta,
        &m,
        "PATCH",
        &format!("/api/v1/catalog/items/{id}"),
        Some(r#"{"price_jod":"11"}"#),
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = call(
        &ta,
        &m,
        "POST",
        "/api/v1/catalog/items/bulk",
        Some(&json!({ "changes": [{ "id": id, "name": "قميص كحلي" }] }).to_string()),
    )
    .await;
    assert_eq!(s, 200);
    let cat_id = cat["id"].as_str().unwrap();
    let (s, _) = call(
        &ta,
        &m,
        "PUT",
        &format!("/api/v1/catalog/categories/{cat_id}"),
        Some(r#"{"name":"بلايز"}"#),
    )
    .await;
    assert_eq!(s, 204);
    assert_eq!(actions(&search, &m), vec![upload(&m, &id); 3]);
    let last = search.accepted().pop().unwrap().doc;
    assert_eq!(last["title"], "قميص كحلي");
    assert!(last["content"].as_str().unwrap().contains("بلايز"), "{last}");

    // A write that is refused (bad input) commits nothing and pushes nothing.
    search.clear();
    let (s, _) = call(
        &ta,
        &m,
        "PATCH",
        &format!("/api/v1/catalog/items/{id}"),
        Some(r#"{"stock":-1}"#),
    )
    .await;
    assert_eq!(s, 422);
    assert!(search.requests().is_empty());
    assert!(pending(&ta).await.is_empty());

    // Inactive: out of the index (the agent only offers active products); active again: back.
    let (s, _) = call(
        &ta,
        &m,
        "PATCH",
        &format!("/api/v1/catalog/items/{id}"),
        Some(r#"{"is_active":false}"#),
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = call(
        &ta,
        &m,
        "PATCH",
        &format!("/api/v1/catalog/items/{id}"),
        Some(r#"{"is_active":true}"#),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(actions(&search, &m), vec![delete(&m, &id), upload(&m, &id)]);

    // Delete: the document goes.
    search.clear();
    let (s, _) = call(
        &ta,
        &m,
        "DELETE",
        &format!("/api/v1/catalog/items/{id}"),
        None,
    )
    .await;
    assert_eq!(s, 204);
    assert_eq!(actions(&search, &m), vec![delete(&m, &id)]);

    // CSV import commit: exactly the rows created or changed, in one request.
    search.clear();
    let file = "sku,name,price\nA-1,قميص,1\nA-2,بنطلون,2\n";
    let (s, report) = call(&ta, &m, "POST", "/api/v1/catalog/import/commit", Some(file)).await;
    assert_eq!((s, report["created"].as_i64()), (200, Some(2)), "{report}");
    let (_, page) = call(&ta, &m, "GET", "/api/v1/catalog/items", None).await;
    let id_of = |sku: &str| {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["sku"] == sku)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let mut got = actions(&search, &m);
    got.sort();
    let mut want = vec![upload(&m, &id_of("A-1")), upload(&m, &id_of("A-2"))];
    want.sort();
    assert_eq!(got, want);
    assert_eq!(search.requests().len(), 1, "one request for the import");
    // The same file again changes nothing and pushes nothing; one row changed pushes one.
    search.clear();
    let (s, _) = call(&ta, &m, "POST", "/api/v1/catalog/import/commit", Some(file)).await;
    assert_eq!(s, 200);
    assert!(search.requests().is_empty());
    let (s, _) = call(
        &ta,
        &m,
        "POST",
        "/api/v1/catalog/import/commit",
        Some(&file.replace("بنطلون,2", "بنطلون,3")),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(actions(&search, &m), vec![upload(&m, &id_of("A-2"))]);
    assert!(pending(&ta).await.is_empty());

    // Another shop's write pushes only its own item, under its own tenant.
    search.clear();
    let other = sign_in(&ta, "shop_b").await;
    let (s, b_item) = call(
        &ta,
        &other,
        "POST",
        "/api/v1/catalog/items",
        Some(r#"{"sku":"B-1","name":"Cap","price_jod":"3"}"#),
    )
    .await;
    assert_eq!(s, 201);
    assert_eq!(
        actions(&search, &other),
        vec![upload(&other, b_item["id"].as_str().unwrap())]
    );
}

#[tokio::test]
async fn with_azure_search_down_the_write_succeeds_and_the_sweeper_pushes_it_once_later() {
    let search = FakeSearch::start().await;
    let ta = azure_app(&search).await;
    let m = sign_in(&ta, "shop_a").await;
    search.set_down(true);
    let (s, item) = call(
        &ta,
        &m,
        "POST",
        "/api/v1/catalog/items",
        Some(r#"{"sku":"TS-1","name":"قميص","price_jod":"5"}"#),
    )
    .await;
    assert_eq!(
        s, 201,
        "the catalog write does not depend on the search service"
    );
    let id = item["id"].as_str().unwrap().to_owned();
    assert_eq!(search.requests().len(), 1, "one attempt after the commit");
    let left = pending(&ta).await;
    assert_eq!(left.len(), 1);
    assert_eq!((&left[0].0, left[0].1), (&id, 1));
    assert!(left[0].2.as_deref().unwrap().contains("503"), "{left:?}");

    // Still down: the sweeper waits for the back-off, then tries and keeps the entry.
    let report = shared::jobs::sweeper(&ta.app).await.unwrap();
    assert!(
        report
            .lines
            .contains(&"search index: 0 pushed, 0 to retry".to_owned()),
        "{:?}",
        report.lines
    );
    let platform = ta.app.db.platform().await.unwrap();
    let back_off_over =
        "UPDATE search_index_pending SET next_attempt_at = now() - interval '1 second'";
    platform.execute(back_off_over, &[]).await.unwrap();
    let report = shared::jobs::sweeper(&ta.app).await.unwrap();
    assert!(
        report
            .lines
            .contains(&"search index: 0 pushed, 1 to retry".to_owned()),
        "{:?}",
        report.lines
    );
    assert_eq!(pending(&ta).await[0].1, 2);

    // Recovered: the next run (after the back-off) pushes it, once.
    search.set_down(false);
    search.clear();
    platform.execute(back_off_over, &[]).await.unwrap();
    let report = shared::jobs::sweeper(&ta.app).await.unwrap();
    assert!(
        report
            .lines
            .contains(&"search index: 1 pushed, 0 to retry".to_owned()),
        "{:?}",
        report.lines
    );
    assert_eq!(actions(&search, &m), vec![upload(&m, &id)]);
    assert!(pending(&ta).await.is_empty());
    let report = shared::jobs::sweeper(&ta.app).await.unwrap();
    assert!(
        report
            .lines
            .contains(&"search index: 0 pushed, 0 to retry".to_owned()),
        "{:?}",
        report.lines
    );
    assert_eq!(search.accepted().len(), 1, "nothing pushed twice");
}

#[tokio::test]
async fn with_the_postgres_backend_nothing_is_queued_for_an_external_index() {
    let ta = test_app(&[]).await;
    let m = sign_in(&ta, "shop_a").await;
    let (s, item) = call(
        &ta,
        &m,
        "POST",
        "/api/v1/catalog/items",
        Some(r#"{"sku":"TS-1","name":"قميص","price_jod":"5"}"#),
    )
    .await;
    assert_eq!(s, 201);
    let id = item["id"].as_str().unwrap();
    let (s, _) = call(
        &ta,
        &m,
        "PATCH",
        &format!("/api/v1/catalog/items/{id}"),
        Some(r#"{"stock":2}"#),
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = call(
        &ta,
        &m,
        "POST",
        "/api/v1/catalog/import/commit",
        Some("sku,name,price\nA-1,x,1\n"),
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = call(
        &ta,
        &m,
        "DELETE",
        &format!("/api/v1/catalog/items/{id}"),
        None,
    )
    .await;
    assert_eq!(s, 204);
    assert!(pending(&ta).await.is_empty());
    let report = shared::jobs::sweeper(&ta.app).await.unwrap();
    assert!(
        report
            .lines
            .iter()
            .any(|l| l.starts_with("search index: nothing to push")),
        "{:?}",
        report.lines
    );
}

#[tokio::test]
async fn a_change_made_while_the_previous_one_is_being_pushed_is_pushed_after_it() {
    let search = FakeSearch::start().await;
    let ta = azure_app(&search).await;
    let m = sign_in(&ta, "shop_a").await;
    let (_, item) = call(
        &ta,
        &m,
        "POST",
        "/api/v1/catalog/items",
        Some(r#"{"sku":"TS-1","name":"v1","price_jod":"5"}"#),
    )
    .await;
    let id = item["id"].as_str().unwrap().to_owned();

    // The push after "v2" is held at the service...
    search.clear();
    search.hold(true);
    let first = tokio::spawn({
        let (service, cookie, csrf, path) = (
            ta.service.clone(),
            m.cookie.clone(),
            m.csrf.clone(),
            format!("/api/v1/catalog/items/{id}"),
        );
        async move {
            warp::test::request()
                .method("PATCH")
                .path(&path)
                .header("cookie", format!("igshop_session={cookie}"))
                .header("x-csrf-token", csrf)
                .body(r#"{"name":"v2"}"#)
                .reply(&service)
                .await
                .status()
        }
    });
    while search.requests().is_empty() {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    // ...while "v3" commits: its own push finds the entry claimed and leaves it.
    let (s, _) = call(
        &ta,
        &m,
        "PATCH",
        &format!("/api/v1/catalog/items/{id}"),
        Some(r#"{"name":"v3"}"#),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(search.requests().len(), 1);
    search.hold(false);
    assert_eq!(first.await.unwrap(), 200);

    // "v2" was pushed, but the entry that "v3" queued stays until "v3" is pushed.
    assert_eq!(search.accepted().last().unwrap().doc["title"], "v2");
    assert_eq!(pending(&ta).await.len(), 1);
    let report = shared::jobs::sweeper(&ta.app).await.unwrap();
    assert!(
        report
            .lines
            .contains(&"search index: 1 pushed, 0 to retry".to_owned()),
        "{:?}",
        report.lines
    );
    assert_eq!(search.accepted().last().unwrap().doc["title"], "v3");
    assert!(pending(&ta).await.is_empty());
}
