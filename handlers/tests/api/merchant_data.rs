//! "My data", black-box: the export zip holds the shop's rows and nothing of another shop's;
//! deleting the shop needs its handle typed, removes its rows and blobs, ends the session and
//! leaves every other shop as it was.

use crate::support::app::{sign_in, test_app, Merchant, TestApp};
use serde_json::{json, Value};
use std::io::Read;
use uuid::Uuid;

async fn call(
    ta: &TestApp,
    m: &Merchant,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> warp::http::Response<bytes::Bytes> {
    let mut r = warp::test::request()
        .method(method)
        .path(path)
        .header("cookie", format!("igshop_session={}", m.cookie))
        .header("x-csrf-token", &m.csrf);
    if let Some(b) = body {
        r = r
            .header("content-type", "application/json")
            .body(b.to_string());
    }
    r.reply(&ta.service).await
}

fn json_of(r: &warp::http::Response<bytes::Bytes>) -> Value {
    serde_json::from_slice(r.body()).unwrap_or(Value::Null)
}

/// A shop with an item, instructions, a conversation with a message, an order and a return.
async fn shop(ta: &TestApp, handle: &str, sku: &str, order_number: i64, words: &str) -> Merchant {
    let m = sign_in(ta, handle).await;
    let r = call(
        ta,
        &m,
        "POST",
        "/api/v1/catalog/items",
        Some(
            json!({ "sku": sku, "name": format!("قميص {sku}"), "price_jod": "12.500", "stock": 5 }),
        ),
    )
    .await;
    assert_eq!(r.status(), 201, "{:?}", r.body());
    let r = call(
        ta,
        &m,
        "PUT",
        "/api/v1/ai-instructions",
        Some(json!({ "instructions": format!("تعليمات {handle}") })),
    )
    .await;
    assert_eq!(r.status(), 200, "{:?}", r.body());
    let c = ta.t.db.platform().await.unwrap();
    let t = m.tenant.as_uuid();
    let conv: Uuid = c
        .query_one(
            "INSERT INTO conversations (tenant_id, customer_ig_id, customer_name, last_message_at, last_customer_message_at)
             VALUES ($1, $2, 'ليلى', now(), now()) RETURNING id",
            &[&t, &format!("cust-{handle}")],
        )
        .await
        .unwrap()
        .get(0);
    c.execute(
        "INSERT INTO messages (tenant_id, conversation_id, direction, author, mid, text, sent_at) VALUES ($1, $2, 'inbound', 'customer', $3, $4, now())",
        &[&t, &conv, &format!("mid-{handle}"), &words],
    )
    .await
    .unwrap();
    let order: Uuid = c
        .query_one(
            "INSERT INTO orders (tenant_id, order_number, conversation_id, customer_ig_id, customer_name, subtotal_jod, total_jod)
             VALUES ($1, $2, $3, $4, 'ليلى', 12.5, 14.5) RETURNING id",
            &[&t, &order_number, &conv, &format!("cust-{handle}")],
        )
        .await
        .unwrap()
        .get(0);
    c.execute(
        "INSERT INTO return_requests (tenant_id, order_id, conversation_id, reason) VALUES ($1, $2, $3, $4)",
        &[&t, &order, &conv, &format!("المقاس مش مزبوط {handle}")],
    )
    .await
    .unwrap();
    m
}

fn unzip(bytes: &[u8]) -> std::collections::BTreeMap<String, String> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).expect("a zip");
    let mut files = std::collections::BTreeMap::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        let mut text = String::new();
        f.read_to_string(&mut text).unwrap();
        let name = f.name().unwrap().to_string();
        files.insert(name, text);
    }
    files
}

#[tokio::test]
async fn the_export_holds_the_shops_own_data_and_nothing_of_another_shop() {
    let ta = test_app(&[]).await;
    let one = shop(&ta, "shop.one", "ONE-1", 7001, "بدي القميص الأزرق").await;
    let _two = shop(&ta, "shop.two", "TWO-1", 8002, "كلام الزبونة الثانية").await;

    let r = call(&ta, &one, "GET", "/api/v1/shop/export", None).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/zip");
    let disposition = r.headers()["content-disposition"].to_str().unwrap();
    let today = chrono::Utc::now().with_timezone(&chrono::FixedOffset::east_opt(3 * 3600).unwrap());
    assert_eq!(
        disposition,
        format!(
            "attachment; filename=\"shop.one-export-{}.zip\"",
            today.format("%Y-%m-%d")
        )
    );
    let files = unzip(r.body());
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "README.txt",
            "ai-instructions.txt",
            "business-rules.json",
            "catalog.csv",
            "conversations.json",
            "knowledge.json",
            "orders.csv",
            "profile.yaml",
            "returns.csv",
        ]
    );
    for name in &names {
        if *name != "README.txt" {
            assert!(files["README.txt"].contains(name), "README explains {name}");
        }
    }
    assert!(
        files["catalog.csv"].starts_with("\u{feff}sku,name"),
        "the catalog export's own format"
    );
    assert!(files["catalog.csv"].contains("ONE-1"));
    assert!(files["orders.csv"].contains("7001"));
    assert!(files["returns.csv"].contains("المقاس مش مزبوط shop.one"));
    assert_eq!(files["ai-instructions.txt"], "تعليمات shop.one");
    let conversations: Value = serde_json::from_str(&files["conversations.json"]).unwrap();
    let list = conversations["conversations"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["customer"]["ig_id"], "cust-shop.one");
    assert_eq!(list[0]["messages"][0]["text"], "بدي القميص الأزرق");
    assert_eq!(list[0]["messages"][0]["author"], "customer");
    let knowledge: Value = serde_json::from_str(&files["knowledge.json"]).unwrap();
    assert_eq!(knowledge["documents"], json!([]));
    // Nothing of the other shop, in any file.
    for (name, text) in &files {
        for theirs in ["TWO-1", "8002", "shop.two", "كلام الزبونة الثانية"] {
            assert!(!text.contains(theirs), "{name} holds {theirs}");
        }
    }

    let r = warp::test::request()
        .method("GET")
        .path("/api/v1/shop/export")
        .reply(&ta.service)
        .await;
    assert_eq!(r.status(), 401, "needs a session");
}

async fn count(ta: &TestApp, table: &str, tenant: Uuid) -> i64 {
    let c = ta.t.db.platform().await.unwrap();
    let column = if table == "tenants" {
        "id"
    } else {
        "tenant_id"
    };
    c.query_one(
        &format!("SELECT count(*) FROM {table} WHERE {column} = $1"),
        &[&tenant],
    )
    .await
    .unwrap()
    .get(0)
}

const TABLES: [&str; 11] = [
    "tenants",
    "sessions",
    "catalog_items",
    "conversations",
    "messages",
    "orders",
    "return_requests",
    "kb_documents",
    "ai_settings",
    "alerts",
    "conversation_events",
];

#[tokio::test]
async fn deleting_the_shop_needs_its_handle_and_removes_its_rows_blobs_and_session_only() {
    let ta = test_app(&[]).await;
    ta.app.blobs.ensure_container().await.unwrap();
    let one = shop(&ta, "shop.one", "ONE-1", 7001, "مرحبا").await;
    let two = shop(&ta, "shop.two", "TWO-1", 8002, "مرحبا").await;
    // Each has a knowledge-base original in blob storage, a note and an alert.
    let mut paths = vec![];
    for m in [&one, &two] {
        let doc = Uuid::new_v4();
        let path = shared::knowledge::documents::blob_path(m.tenant, doc, "delivery.txt");
        ta.app
            .blobs
            .put(
                &path,
                bytes::Bytes::from_static(b"delivery in 2 days"),
                "text/plain",
            )
            .await
            .unwrap();
        let c = ta.t.db.platform().await.unwrap();
        let t = m.tenant.as_uuid();
        c.execute(
            "INSERT INTO kb_documents (id, tenant_id, title, source_kind, blob_path, status) VALUES ($1, $2, 'delivery', 'upload', $3, 'indexed')",
            &[&doc, &t, &path],
        )
        .await
        .unwrap();
        c.execute(
            "INSERT INTO conversation_events (tenant_id, conversation_id, kind, author, text)
             SELECT tenant_id, id, 'note', 'merchant', 'زبونة مهمة' FROM conversations WHERE tenant_id = $1",
            &[&t],
        )
        .await
        .unwrap();
        c.execute(
            "INSERT INTO alerts (tenant_id, kind, message) VALUES ($1, 'handoff', 'someone waits')",
            &[&t],
        )
        .await
        .unwrap();
        paths.push(path);
    }
    let before_two: Vec<i64> = {
        let mut v = vec![];
        for t in TABLES {
            v.push(count(&ta, t, two.tenant.as_uuid()).await);
        }
        v
    };

    // The wrong handle, or none: refused, nothing removed.
    for body in [
        json!({ "confirm": "shop.two" }),
        json!({ "confirm": "" }),
        json!({ "confirm": "shop\u{0}.one" }),
    ] {
        let r = call(&ta, &one, "DELETE", "/api/v1/shop", Some(body.clone())).await;
        assert_eq!(r.status(), 422, "{body}: {:?}", r.body());
        assert_eq!(json_of(&r)["problems"][0]["field"], "confirm");
    }
    let r = call(&ta, &one, "DELETE", "/api/v1/shop", Some(json!({}))).await;
    assert_eq!(r.status(), 400);
    let r = warp::test::request()
        .method("DELETE")
        .path("/api/v1/shop")
        .header("cookie", format!("igshop_session={}", one.cookie))
        .body(json!({ "confirm": "shop.one" }).to_string())
        .reply(&ta.service)
        .await;
    assert_eq!(r.status(), 403, "needs the CSRF token");
    assert_eq!(count(&ta, "catalog_items", one.tenant.as_uuid()).await, 1);
    assert!(ta.app.blobs.get(&paths[0]).await.unwrap().is_some());

    // The handle as the merchant types it.
    let r = call(
        &ta,
        &one,
        "DELETE",
        "/api/v1/shop",
        Some(json!({ "confirm": " @Shop.One " })),
    )
    .await;
    assert_eq!(r.status(), 204, "{:?}", r.body());
    let cookie = r.headers()["set-cookie"].to_str().unwrap();
    assert!(
        cookie.starts_with("igshop_session=;") && cookie.contains("Max-Age=0"),
        "{cookie}"
    );
    for t in TABLES {
        assert_eq!(
            count(&ta, t, one.tenant.as_uuid()).await,
            0,
            "{t} of the deleted shop"
        );
    }
    assert!(
        ta.app.blobs.get(&paths[0]).await.unwrap().is_none(),
        "its blob is gone"
    );
    let r = call(&ta, &one, "GET", "/api/v1/me", None).await;
    assert_eq!(r.status(), 401, "the session is gone");

    // The other shop is as it was.
    let mut after_two = vec![];
    for t in TABLES {
        after_two.push(count(&ta, t, two.tenant.as_uuid()).await);
    }
    assert_eq!(after_two, before_two);
    assert!(ta.app.blobs.get(&paths[1]).await.unwrap().is_some());
    let r = call(&ta, &two, "GET", "/api/v1/catalog/items", None).await;
    assert_eq!(r.status(), 200);
    assert_eq!(json_of(&r)["items"][0]["sku"], "TWO-1");
}
