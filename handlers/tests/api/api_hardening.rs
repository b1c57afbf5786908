//! Hostile input against the merchant API (issue 14): inputs that used to stall or break the
//! server, shop boundaries in the schema, security headers and methods, one status code per
//! kind of error, and the CSV import that keeps the good rows.

use crate::support::app::{sign_in, test_app, Merchant, TestApp};
use serde_json::{json, Value};

struct Answer {
    status: u16,
    body: Value,
    headers: warp::http::HeaderMap,
}

async fn send(
    ta: &TestApp,
    m: Option<&Merchant>,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: Option<&str>,
) -> Answer {
    let mut req = warp::test::request().method(method).path(path);
    if let Some(m) = m {
        req = req
            .header("cookie", format!("igshop_session={}", m.cookie))
            .header("x-csrf-token", &m.csrf);
    }
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    if let Some(b) = body {
        req = req.body(b.to_owned());
    }
    let r = req.reply(&ta.service).await;
    let body = if r.body().is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(r.body())
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(r.body()).into_owned()))
    };
    Answer {
        status: r.status().as_u16(),
        body,
        headers: r.headers().clone(),
    }
}

async fn call(ta: &TestApp, m: &Merchant, method: &str, path: &str, body: Option<Value>) -> Answer {
    let text = body.map(|b| b.to_string());
    send(ta, Some(m), method, path, None, text.as_deref()).await
}

#[tokio::test]
async fn every_foreign_key_between_shop_rows_includes_tenant_id() {
    let ta = test_app(&[]).await;
    let p = ta.t.db.platform().await.unwrap();
    // Every foreign key whose referenced table belongs to a shop (has tenant_id) must carry
    // tenant_id on both sides: then a row can only point at a row of its own shop.
    let rows = p
        .query(
            "SELECT c.conname, c.conrelid::regclass::text, c.confrelid::regclass::text,
                    array(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
                            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i),
                    array(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
                            JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i)
               FROM pg_constraint c
               JOIN information_schema.table_constraints tc
                 ON tc.constraint_name = c.conname AND tc.table_name = c.conrelid::regclass::text
              WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = 'public'
                AND EXISTS (SELECT 1 FROM information_schema.columns col
                             WHERE col.table_schema = 'public' AND col.table_name = c.confrelid::regclass::text
                               AND col.column_name = 'tenant_id')",
            &[],
        )
        .await
        .unwrap();
    assert!(
        rows.len() > 15,
        "the walk found the shop references: {}",
        rows.len()
    );
    let mut wrong = Vec::new();
    for r in &rows {
        let (name, from, to): (String, String, String) = (r.get(0), r.get(1), r.get(2));
        let (cols, refcols): (Vec<String>, Vec<String>) = (r.get(3), r.get(4));
        let pairs_tenant = cols
            .iter()
            .zip(&refcols)
            .any(|(c, rc)| c == "tenant_id" && rc == "tenant_id");
        // A reference to the tenants table itself is the shop's own id.
        let is_the_shop = to == "tenants" && cols == ["tenant_id"];
        if !(pairs_tenant || is_the_shop) {
            wrong.push(format!("{name}: {from}{cols:?} → {to}{refcols:?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "foreign keys without tenant_id: {wrong:#?}"
    );
}

#[tokio::test]
async fn another_shops_category_is_refused_like_a_random_id_and_its_deletion_changes_nothing_here()
{
    let ta = test_app(&[]).await;
    let a = sign_in(&ta, "shop_a").await;
    let b = sign_in(&ta, "shop_b").await;
    let cat = call(
        &ta,
        &a,
        "POST",
        "/api/v1/catalog/categories",
        Some(json!({ "name": "Shirts" })),
    )
    .await;
    assert_eq!(cat.status, 201, "{}", cat.body);
    let a_cat = cat.body["id"].as_str().unwrap().to_owned();
    let random = uuid::Uuid::new_v4().to_string();

    let create = |category: String| json!({ "sku": format!("B-{}", &category[..8]), "name": "B's item", "price_jod": "1", "category_id": category });
    let foreign = call(
        &ta,
        &b,
        "POST",
        "/api/v1/catalog/items",
        Some(create(a_cat.clone())),
    )
    .await;
    let unknown = call(
        &ta,
        &b,
        "POST",
        "/api/v1/catalog/items",
        Some(create(random.clone())),
    )
    .await;
    assert_eq!(foreign.status, 422, "{}", foreign.body);
    assert_eq!(
        (
            foreign.status,
            &foreign.body["message"],
            &foreign.body["problems"][0]["field"]
        ),
        (
            unknown.status,
            &unknown.body["message"],
            &json!("category_id")
        ),
        "a foreign id answers exactly as a random one"
    );

    let item = call(
        &ta,
        &b,
        "POST",
        "/api/v1/catalog/items",
        Some(json!({ "sku": "B-1", "name": "B's item", "price_jod": "1" })),
    )
    .await;
    assert_eq!(item.status, 201);
    let id = item.body["id"].as_str().unwrap().to_owned();
    let patched = call(
        &ta,
        &b,
        "PATCH",
        &format!("/api/v1/catalog/items/{id}"),
        Some(json!({ "category_id": a_cat })),
    )
    .await;
    assert_eq!(patched.status, 422, "{}", patched.body);
    let bulk = call(
        &ta,
        &b,
        "POST",
        "/api/v1/catalog/items/bulk",
        Some(json!({ "changes": [{ "id": id, "category_id": a_cat }] })),
    )
    .await;
    assert_eq!(bulk.status, 422, "{}", bulk.body);
    assert_eq!(bulk.body["problems"][0]["field"], "changes[0].category_id");

    // Written straight into the database (as the app role, in B's shop), the reference is
    // refused by the schema itself.
    let mut c = ta.t.db.app().await.unwrap();
    let tx = shared::db::begin_for_tenant(&mut c, b.tenant)
        .await
        .unwrap();
    let e = tx
        .execute(
            "UPDATE catalog_items SET category_id = $1 WHERE id = $2",
            &[
                &a_cat.parse::<uuid::Uuid>().unwrap(),
                &id.parse::<uuid::Uuid>().unwrap(),
            ],
        )
        .await
        .unwrap_err();
    assert_eq!(
        e.code(),
        Some(&tokio_postgres::error::SqlState::FOREIGN_KEY_VIOLATION)
    );
    drop(tx);

    // A's own item in its category; A deletes the category: B's items are as they were.
    let before = call(&ta, &b, "GET", "/api/v1/catalog/items", None).await;
    let gone = call(
        &ta,
        &a,
        "DELETE",
        &format!("/api/v1/catalog/categories/{a_cat}"),
        None,
    )
    .await;
    assert_eq!(gone.status, 204);
    let after = call(&ta, &b, "GET", "/api/v1/catalog/items", None).await;
    assert_eq!(before.body, after.body);
}

#[tokio::test]
async fn nul_characters_are_refused_naming_the_field() {
    let ta = test_app(&[]).await;
    let m = sign_in(&ta, "shop_a").await;
    let cases = [
        (
            "POST",
            "/api/v1/catalog/items",
            json!({ "sku": "N-1", "name": "a\u{0}b", "price_jod": "1" }),
            "name",
        ),
        (
            "POST",
            "/api/v1/catalog/items",
            json!({ "sku": "N-1", "name": "ok", "price_jod": "1", "attributes": { "colour": "x\u{0}" } }),
            "attributes.colour",
        ),
        (
            "POST",
            "/api/v1/catalog/items",
            json!({ "sku": "N-1", "name": "ok", "price_jod": "1", "image_url": "https://x.test/\u{0}" }),
            "image_url",
        ),
        (
            "POST",
            "/api/v1/catalog/categories",
            json!({ "name": "c\u{0}" }),
            "name",
        ),
        (
            "PUT",
            "/api/v1/ai-instructions",
            json!({ "instructions": "be nice\u{0}" }),
            "instructions",
        ),
        (
            "PUT",
            "/api/v1/business-rules",
            json!({ "delivery_zones": [{ "city": "Amman\u{0}", "fee_jod": "2" }] }),
            "delivery_zones[0].city",
        ),
        (
            "PUT",
            "/api/v1/profile",
            json!({ "shop_name": "x\u{0}" }),
            "shop_name",
        ),
    ];
    for (method, path, body, field) in cases {
        let r = call(&ta, &m, method, path, Some(body)).await;
        assert_eq!(r.status, 422, "{method} {path}: {}", r.body);
        assert_eq!(r.body["error"], "invalid");
        assert_eq!(r.body["problems"][0]["field"], field, "{}", r.body);
        assert!(r.body["message"].as_str().unwrap().contains("NUL"));
    }
    let yaml = send(
        &ta,
        Some(&m),
        "PUT",
        "/api/v1/profile",
        Some("application/yaml"),
        Some("shop_name: \"a\u{0}\"\n"),
    )
    .await;
    assert_eq!(yaml.status, 422, "{}", yaml.body);
    assert_eq!(yaml.body["problems"][0]["field"], "profile");
    // Nothing was written.
    let items = call(&ta, &m, "GET", "/api/v1/catalog/items", None).await;
    assert_eq!(items.body["total"], 0);
}

#[tokio::test]
async fn bodies_that_cannot_be_read_are_400_and_change_nothing() {
    let ta = test_app(&[]).await;
    let m = sign_in(&ta, "shop_a").await;
    let rules = json!({ "delivery_zones": [{ "city": "Amman", "fee_jod": "2" }] });
    let saved = call(&ta, &m, "PUT", "/api/v1/business-rules", Some(rules)).await;
    assert_eq!(saved.status, 200, "{}", saved.body);
    for body in ["[]", "\"rules\"", "12", "null", ""] {
        let r = send(
            &ta,
            Some(&m),
            "PUT",
            "/api/v1/business-rules",
            None,
            Some(body),
        )
        .await;
        assert_eq!(r.status, 400, "{body:?}: {}", r.body);
        assert_eq!(r.body["error"], "bad_request");
    }
    let r = send(
        &ta,
        Some(&m),
        "POST",
        "/api/v1/catalog/items",
        None,
        Some("[]"),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let deep = format!("{{\"name\":{}1{}}}", "[".repeat(100), "]".repeat(100));
    let r = send(
        &ta,
        Some(&m),
        "POST",
        "/api/v1/catalog/items",
        None,
        Some(&deep),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body["message"].as_str().unwrap().contains("nests deeper"));
    let kept = call(&ta, &m, "GET", "/api/v1/business-rules", None).await;
    assert_eq!(
        kept.body["delivery_zones"][0]["city"], "Amman",
        "{}",
        kept.body
    );

    // Deeply nested YAML is refused before it is parsed.
    let yaml = format!("shop_name: {}{}\n", "[".repeat(30_000), "]".repeat(30_000));
    let r = send(
        &ta,
        Some(&m),
        "PUT",
        "/api/v1/profile",
        Some("application/yaml"),
        Some(&yaml),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body["message"].as_str().unwrap().contains("nests deeper"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn skus_with_invisible_or_direction_changing_characters_are_refused() {
    let ta = test_app(&[]).await;
    let m = sign_in(&ta, "shop_a").await;
    for (sku, named) in [
        ("TS\u{202E}1", "U+202E"),
        ("TS\u{200B}1", "U+200B"),
        ("\u{200E}TS1", "U+200E"),
    ] {
        let r = call(
            &ta,
            &m,
            "POST",
            "/api/v1/catalog/items",
            Some(json!({ "sku": sku, "name": "x", "price_jod": "1" })),
        )
        .await;
        assert_eq!(r.status, 400, "{}", r.body);
        let message = r.body["message"].as_str().unwrap();
        assert!(
            message.contains("control character") && message.contains(named),
            "{message}"
        );
        assert!(!message.contains("spaces"), "{message}");
    }
}

#[tokio::test]
async fn errors_name_what_was_wrong() {
    let ta = test_app(&[]).await;
    let m = sign_in(&ta, "shop_a").await;
    // A query parameter that cannot be read is named.
    let r = call(
        &ta,
        &m,
        "GET",
        "/api/v1/catalog/items?page=2&per_page=lots",
        None,
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body["message"].as_str().unwrap().contains("\"per_page\""),
        "{}",
        r.body
    );
    // Above its maximum: 422 naming it.
    let r = call(&ta, &m, "GET", "/api/v1/catalog/items?per_page=501", None).await;
    assert_eq!(
        (r.status, &r.body["problems"][0]["field"]),
        (422, &json!("per_page")),
        "{}",
        r.body
    );
    let r = call(&ta, &m, "GET", "/api/v1/orders?per_page=201", None).await;
    assert_eq!(r.status, 422, "{}", r.body);
    // A status that is not one: 422 naming the field.
    let r = call(
        &ta,
        &m,
        "POST",
        &format!("/api/v1/orders/{}/status", uuid::Uuid::new_v4()),
        Some(json!({ "status": "teleported" })),
    )
    .await;
    assert_eq!(
        (r.status, &r.body["problems"][0]["field"]),
        (422, &json!("status")),
        "{}",
        r.body
    );
    // CSRF: missing and wrong are told apart.
    let missing = warp::test::request()
        .method("POST")
        .path("/api/v1/catalog/categories")
        .header("cookie", format!("igshop_session={}", m.cookie))
        .body(r#"{"name":"x"}"#)
        .reply(&ta.service)
        .await;
    let wrong = warp::test::request()
        .method("POST")
        .path("/api/v1/catalog/categories")
        .header("cookie", format!("igshop_session={}", m.cookie))
        .header("x-csrf-token", "not-the-token")
        .body(r#"{"name":"x"}"#)
        .reply(&ta.service)
        .await;
    assert_eq!(
        (missing.status().as_u16(), wrong.status().as_u16()),
        (403, 403)
    );
    assert!(String::from_utf8_lossy(missing.body()).contains("missing"));
    let wrong = String::from_utf8_lossy(wrong.body()).into_owned();
    assert!(
        wrong.contains("wrong") && !wrong.contains("missing"),
        "{wrong}"
    );
}

#[tokio::test]
async fn security_headers_no_store_and_405_with_allow() {
    let ta = test_app(&[]).await;
    let m = sign_in(&ta, "shop_a").await;
    for path in [
        "/api/v1/me",
        "/api/v1/catalog/items",
        "/api/v1/catalog/export.csv",
        "/api/v1/nowhere",
        "/api/health",
    ] {
        let r = call(&ta, &m, "GET", path, None).await;
        let h = |name: &str| r.headers.get(name).map(|v| v.to_str().unwrap().to_owned());
        let csp = h("content-security-policy").unwrap_or_default();
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"),
            "{path}: {csp}"
        );
        assert_eq!(
            h("x-content-type-options").as_deref(),
            Some("nosniff"),
            "{path}"
        );
        assert!(h("referrer-policy").is_some(), "{path}");
        assert_eq!(h("strict-transport-security"), None, "local: plain http");
        if path != "/api/health" || r.status == 200 {
            let ct = h("content-type").unwrap_or_default();
            if ct.starts_with("application/json") || ct.starts_with("text/csv") {
                assert_eq!(
                    h("cache-control").as_deref(),
                    Some("no-store"),
                    "{path} ({ct})"
                );
            }
        }
    }
    let csv = call(&ta, &m, "GET", "/api/v1/catalog/export.csv", None).await;
    assert_eq!(csv.headers["cache-control"], "no-store");

    // A wrong method on a built address: 405 with Allow, never 501.
    for (method, path, allow) in [
        ("DELETE", "/api/v1/me", "GET"),
        ("PUT", "/api/v1/catalog/items", "GET, POST"),
        ("POST", "/api/v1/profile", "GET, PUT"),
        ("GET", "/api/v1/onboarding/finish", "POST"),
        (
            "PUT",
            &format!("/api/v1/orders/{}", uuid::Uuid::new_v4()),
            "GET",
        ),
    ] {
        let r = call(&ta, &m, method, path, None).await;
        assert_eq!(r.status, 405, "{method} {path}: {}", r.body);
        assert_eq!(r.headers["allow"], allow, "{method} {path}");
        assert_eq!(r.body["error"], "method_not_allowed");
    }
    let r = call(&ta, &m, "GET", "/api/v1/nowhere/at-all", None).await;
    assert_ne!(r.status, 405);
}

#[test]
fn hsts_outside_the_local_environment() {
    use warp::Reply;
    let r = handlers::security_headers::apply(warp::reply::json(&json!({})).into_response(), true);
    assert!(r.headers()["strict-transport-security"]
        .to_str()
        .unwrap()
        .contains("max-age="));
    assert_eq!(r.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn csv_commit_keeps_the_good_rows_or_nothing_when_asked() {
    let ta = test_app(&[]).await;
    let m = sign_in(&ta, "shop_a").await;
    let file = "sku,name,price\nA,Good,1\nB,Bad,-1\nC,Nul\u{0},2\n";
    let preview = send(
        &ta,
        Some(&m),
        "POST",
        "/api/v1/catalog/import/preview",
        Some("text/csv"),
        Some(file),
    )
    .await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert_eq!(preview.body["valid_rows"], 1);
    assert!(
        preview.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["row"] == 4),
        "the NUL row is flagged: {}",
        preview.body
    );

    let all = send(
        &ta,
        Some(&m),
        "POST",
        "/api/v1/catalog/import/commit?mode=all_or_nothing",
        Some("text/csv"),
        Some(file),
    )
    .await;
    assert_eq!(all.status, 422, "{}", all.body);
    assert_eq!(
        all.body["problems"].as_array().unwrap().len(),
        2,
        "{}",
        all.body
    );
    let none = call(&ta, &m, "GET", "/api/v1/catalog/items", None).await;
    assert_eq!(none.body["total"], 0);

    let r = send(
        &ta,
        Some(&m),
        "POST",
        "/api/v1/catalog/import/commit",
        Some("text/csv"),
        Some(file),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["created"], 1);
    let rejected: Vec<i64> = r.body["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["row"].as_i64().unwrap())
        .collect();
    assert_eq!(rejected, vec![3, 4]);
    let csv = r.body["rejected_csv"].as_str().unwrap();
    assert!(csv.contains("B,Bad,-1,price:"), "{csv}");
    let items = call(&ta, &m, "GET", "/api/v1/catalog/items", None).await;
    assert_eq!(items.body["total"], 1);
}
