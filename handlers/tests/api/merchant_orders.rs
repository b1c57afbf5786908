//! Orders, returns and the delivery hook through the API.

use crate::support::app::{sign_in, test_app, Merchant, TestApp};
use serde_json::{json, Value};

async fn call(
    ta: &TestApp,
    m: &Merchant,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value, String) {
    let mut req = warp::test::request()
        .method(method)
        .path(path)
        .header("cookie", format!("igshop_session={}", m.cookie))
        .header("x-csrf-token", &m.csrf);
    if let Some(b) = body {
        req = req.body(b.to_string());
    }
    let r = req.reply(&ta.service).await;
    let text = String::from_utf8_lossy(r.body()).into_owned();
    (
        r.status().as_u16(),
        serde_json::from_str(&text).unwrap_or(Value::Null),
        text,
    )
}

#[tokio::test]
async fn orders_returns_and_the_delivery_hook() {
    let ta = test_app(&[]).await;
    let m = sign_in(&ta, "shop_a").await;
    let p = ta.t.db.platform().await.unwrap();
    let order: uuid::Uuid = p
        .query_one(
            "INSERT INTO orders (tenant_id, order_number, customer_name, customer_phone, city, subtotal_jod, delivery_fee_jod, total_jod)
             VALUES ($1, 1042, 'سارة', '+962791234567', 'عمان', 25, 2.5, 27.5) RETURNING id",
            &[&m.tenant.as_uuid()],
        )
        .await
        .unwrap()
        .get(0);
    p.execute(
        "INSERT INTO return_requests (tenant_id, order_id, reason) VALUES ($1, $2, 'مقاس')",
        &[&m.tenant.as_uuid(), &order],
    )
    .await
    .unwrap();

    let (s, list, _) = call(
        &ta,
        &m,
        "GET",
        "/api/v1/orders?status=pending&customer=1042",
        None,
    )
    .await;
    assert_eq!((s, list["total"].as_i64()), (200, Some(1)), "{list}");
    let (s, bad, _) = call(&ta, &m, "GET", "/api/v1/orders?status=lost", None).await;
    assert_eq!(s, 422, "{bad}");
    let (s, _, _) = call(&ta, &m, "GET", "/api/v1/orders?from=yesterday", None).await;
    assert_eq!(s, 400);

    let (s, detail, _) = call(&ta, &m, "GET", &format!("/api/v1/orders/{order}"), None).await;
    assert_eq!((s, detail["total_jod"].as_str()), (200, Some("27.500")));
    let (s, refused, _) = call(
        &ta,
        &m,
        "POST",
        &format!("/api/v1/orders/{order}/status"),
        Some(json!({ "status": "delivered" })),
    )
    .await;
    assert_eq!(s, 422);
    assert!(refused["message"]
        .as_str()
        .unwrap()
        .contains("cannot become delivered"));
    let (s, moved, _) = call(
        &ta,
        &m,
        "POST",
        &format!("/api/v1/orders/{order}/status"),
        Some(json!({ "status": "confirmed" })),
    )
    .await;
    assert_eq!((s, moved["status"].as_str()), (200, Some("confirmed")));

    let (s, _, csv) = call(&ta, &m, "GET", "/api/v1/orders/export.csv", None).await;
    assert_eq!(s, 200);
    assert!(
        csv.contains("order_number")
            && csv.contains("1042")
            && csv.contains("سارة")
            && csv.contains("27.500"),
        "{csv}"
    );

    let (s, returns, _) = call(&ta, &m, "GET", "/api/v1/returns", None).await;
    assert_eq!((s, returns.as_array().unwrap().len()), (200, 1));
    let rid = returns[0]["id"].as_str().unwrap();
    let (s, r, _) = call(
        &ta,
        &m,
        "POST",
        &format!("/api/v1/returns/{rid}/status"),
        Some(json!({ "status": "approved", "note": "تمام" })),
    )
    .await;
    assert_eq!((s, r["status"].as_str()), (200, Some("approved")));

    let (s, none, _) = call(&ta, &m, "GET", "/api/v1/delivery-hook", None).await;
    assert_eq!((s, none["hook"].clone()), (200, Value::Null));
    let (s, _, _) = call(
        &ta,
        &m,
        "PUT",
        "/api/v1/delivery-hook",
        Some(json!({ "url": "ftp://x", "secret": "0123456789abcdef" })),
    )
    .await;
    assert_eq!(s, 422);
    // Checked when saved, without any lookup or connection: no private, loopback or
    // link-local address, no localhost name.
    for url in [
        "http://127.0.0.1:9/hook",
        "https://10.1.2.3/hook",
        "https://169.254.169.254/latest",
        "https://[::1]/hook",
        "https://[fe80::1]/hook",
        "https://localhost/hook",
        "https://couriers.localhost/hook",
    ] {
        let (s, r, _) = call(
            &ta,
            &m,
            "PUT",
            "/api/v1/delivery-hook",
            Some(json!({ "url": url, "secret": "0123456789abcdef" })),
        )
        .await;
        assert_eq!(s, 422, "{url}: {r}");
        assert_eq!(r["problems"][0]["field"], "url", "{r}");
        assert!(
            r["message"].as_str().unwrap().contains("private network"),
            "{r}"
        );
    }
    let (s, hook, _) = call(
        &ta,
        &m,
        "PUT",
        "/api/v1/delivery-hook",
        Some(
            json!({ "url": "https://courier.example/hooks/igshop", "secret": "0123456789abcdef" }),
        ),
    )
    .await;
    assert_eq!(
        (s, hook["hook"]["url"].as_str()),
        (200, Some("https://courier.example/hooks/igshop"))
    );
    assert!(
        !hook.to_string().contains("0123456789abcdef"),
        "the secret is never shown back"
    );
    call(
        &ta,
        &m,
        "POST",
        &format!("/api/v1/orders/{order}/status"),
        Some(json!({ "status": "shipped" })),
    )
    .await;
    let (s, log, _) = call(&ta, &m, "GET", "/api/v1/delivery-hook/log", None).await;
    assert_eq!(
        (s, log[0]["event"].as_str(), log[0]["status"].as_str()),
        (200, Some("order.status_changed"), Some("pending"))
    );

    // Another shop sees none of it.
    let other = sign_in(&ta, "shop_b").await;
    assert_eq!(
        call(&ta, &other, "GET", &format!("/api/v1/orders/{order}"), None)
            .await
            .0,
        404
    );
    assert_eq!(
        call(
            &ta,
            &other,
            "POST",
            &format!("/api/v1/orders/{order}/status"),
            Some(json!({ "status": "cancelled" }))
        )
        .await
        .0,
        404
    );
    assert_eq!(
        call(&ta, &other, "GET", &format!("/api/v1/returns/{rid}"), None)
            .await
            .0,
        404
    );
    assert_eq!(
        call(&ta, &other, "GET", "/api/v1/orders", None).await.1["total"],
        0
    );
}
