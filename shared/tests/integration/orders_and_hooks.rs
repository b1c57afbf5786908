//! Orders and returns along their allowed paths, and delivery hooks: signed, retried until
//! acknowledged, never sent into a private network.

use secrecy::SecretString;
use shared::app::App;
use shared::db::begin_for_tenant;
use shared::delivery_hooks::{self, Reach};
use shared::orders::{self, OrderFilter, OrderStatus, ReturnStatus};
use shared::settings::{Settings, Source};
use shared::tenants::TenantId;
use std::sync::{Arc, Mutex};
use testkit::TestDb;
use warp::Filter;

fn app_for(t: &TestDb) -> App {
    let mut env = t.env();
    env.push((
        "AZURE_STORAGE_CONNECTION_STRING".into(),
        std::env::var("AZURE_STORAGE_CONNECTION_STRING")
            .expect("run with ./scripts/test (Azurite)"),
    ));
    App::build(Settings::from_source(&Source::from_map(env)).unwrap()).unwrap()
}

async fn order(t: &TestDb, tenant: TenantId, number: i64, name: &str, created: &str) -> uuid::Uuid {
    let p = t.db.platform().await.unwrap();
    let id: uuid::Uuid = p
        .query_one(
            "INSERT INTO orders (tenant_id, order_number, customer_ig_id, customer_name, customer_phone, city, address, subtotal_jod, delivery_fee_jod, total_jod, created_at)
             VALUES ($1, $2, 'cust', $3, '+962791234567', 'عمان', 'الصويفية', 25, 2.5, 27.5, $4::text::timestamptz) RETURNING id",
            &[&tenant.as_uuid(), &number, &name, &created],
        )
        .await
        .unwrap()
        .get(0);
    p.execute(
        "INSERT INTO order_items (tenant_id, order_id, sku, name, unit_price_jod, quantity, line_total_jod) VALUES ($1, $2, 'TS-1', 'قميص', 12.5, 2, 25)",
        &[&tenant.as_uuid(), &id],
    )
    .await
    .unwrap();
    id
}

#[tokio::test]
async fn orders_are_listed_filtered_and_moved_along_allowed_paths_only() {
    let t = TestDb::new().await;
    let a = t.tenant("shop_a").await;
    let b = t.tenant("shop_b").await;
    let o1 = order(&t, a, 1, "سارة", "2026-11-20T21:30:00Z").await; // 21 Nov 00:30 in Amman
    order(&t, a, 2, "Omar", "2026-11-22T10:00:00Z").await;
    order(&t, b, 1, "Other shop", "2026-11-22T10:00:00Z").await;
    let mut c = t.db.app().await.unwrap();
    let tx = begin_for_tenant(&mut c, a).await.unwrap();
    let all = orders::list(&tx, &OrderFilter::default()).await.unwrap();
    assert_eq!(all.total, 2);
    let day = orders::list(
        &tx,
        &OrderFilter {
            from: "2026-11-21".parse().ok(),
            to: "2026-11-21".parse().ok(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(day.total, 1, "the Amman calendar day decides");
    let by_name = orders::list(
        &tx,
        &OrderFilter {
            customer: Some("omar".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(by_name.items[0].order_number, 2);
    assert!(orders::list(
        &tx,
        &OrderFilter {
            status: Some("lost".into()),
            ..Default::default()
        }
    )
    .await
    .is_err());

    let d = orders::detail(&tx, o1).await.unwrap();
    assert_eq!(
        (
            d.items.len(),
            d.summary.item_count,
            d.summary.total_jod.to_string()
        ),
        (1, 2, "27.500".to_string())
    );
    assert_eq!(
        d.allowed_next,
        vec![OrderStatus::Confirmed, OrderStatus::Cancelled]
    );
    let err = orders::change_status(&tx, a, o1, OrderStatus::Delivered, "merchant")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("cannot become delivered"), "{err}");
    orders::change_status(&tx, a, o1, OrderStatus::Confirmed, "merchant")
        .await
        .unwrap();
    let shipped = orders::change_status(&tx, a, o1, OrderStatus::Shipped, "merchant")
        .await
        .unwrap();
    assert_eq!(shipped.history.len(), 2);
    assert_eq!(shipped.history[1].to, "shipped");
    tx.commit().await.unwrap();

    // Shop B cannot see or move shop A's order.
    let tx = begin_for_tenant(&mut c, b).await.unwrap();
    assert!(matches!(
        orders::detail(&tx, o1).await,
        Err(orders::OrderError::NotFound)
    ));
    assert!(matches!(
        orders::change_status(&tx, b, o1, OrderStatus::Delivered, "x").await,
        Err(orders::OrderError::NotFound)
    ));
}

#[tokio::test]
async fn return_requests_follow_their_own_path() {
    let t = TestDb::new().await;
    let a = t.tenant("shop_a").await;
    let o = order(&t, a, 1, "سارة", "2026-11-20T10:00:00Z").await;
    let p = t.db.platform().await.unwrap();
    let r: uuid::Uuid = p
        .query_one("INSERT INTO return_requests (tenant_id, order_id, reason) VALUES ($1, $2, 'المقاس صغير') RETURNING id", &[&a.as_uuid(), &o])
        .await
        .unwrap()
        .get(0);
    let mut c = t.db.app().await.unwrap();
    let tx = begin_for_tenant(&mut c, a).await.unwrap();
    assert_eq!(
        orders::list_returns(&tx, Some("requested"))
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        orders::change_return_status(&tx, r, ReturnStatus::Refunded, None)
            .await
            .is_err()
    );
    let approved =
        orders::change_return_status(&tx, r, ReturnStatus::Approved, Some("أرسلها مع المندوب"))
            .await
            .unwrap();
    assert_eq!(approved.merchant_note, "أرسلها مع المندوب");
    assert_eq!(approved.allowed_next, vec![ReturnStatus::Received]);
}

#[derive(Clone, Default)]
struct Receiver {
    seen: Arc<Mutex<Vec<(String, String, String, String)>>>,
    fail_first: Arc<Mutex<u32>>,
}

async fn receiver(r: Receiver) -> std::net::SocketAddr {
    let route = warp::post()
        .and(warp::header::<String>("x-igshop-timestamp"))
        .and(warp::header::<String>("x-igshop-signature"))
        .and(warp::header::<String>("idempotency-key"))
        .and(warp::body::bytes())
        .map(
            move |ts: String, sig: String, key: String, body: bytes::Bytes| {
                r.seen.lock().unwrap().push((
                    ts,
                    sig,
                    key,
                    String::from_utf8_lossy(&body).into_owned(),
                ));
                let mut fail = r.fail_first.lock().unwrap();
                if *fail > 0 {
                    *fail -= 1;
                    warp::http::StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    warp::http::StatusCode::OK
                }
            },
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(warp::serve(route).incoming(listener).run());
    addr
}

#[tokio::test]
async fn hooks_are_signed_retried_until_acknowledged_and_kept_out_of_private_networks() {
    let t = TestDb::new().await;
    let app = app_for(&t);
    let a = t.tenant("shop_a").await;
    let o = order(&t, a, 7, "سارة", "2026-11-20T10:00:00Z").await;
    let recv = Receiver::default();
    *recv.fail_first.lock().unwrap() = 1;
    let addr = receiver(recv.clone()).await;
    let secret = SecretString::from("hook-secret-for-tests-0123".to_owned());

    let mut c = t.db.app().await.unwrap();
    let tx = begin_for_tenant(&mut c, a).await.unwrap();
    assert!(
        delivery_hooks::set_config(&tx, &app.keys, a, "ftp://x", &secret, true, true, true)
            .await
            .is_err()
    );
    assert!(delivery_hooks::set_config(
        &tx,
        &app.keys,
        a,
        &format!("http://{addr}/hook"),
        &SecretString::from("short".to_owned()),
        true,
        true,
        true
    )
    .await
    .is_err());
    delivery_hooks::set_config(
        &tx,
        &app.keys,
        a,
        &format!("http://{addr}/hook"),
        &secret,
        true,
        true,
        true,
    )
    .await
    .unwrap();
    orders::change_status(&tx, a, o, OrderStatus::Confirmed, "merchant")
        .await
        .unwrap();
    tx.commit().await.unwrap();

    // Loopback is a private address: refused unless exactly allowed (as only a test does).
    let refused = delivery_hooks::deliver_due(&app, &Reach::default(), 10)
        .await
        .unwrap();
    assert_eq!(refused.retrying, 1);
    assert!(
        recv.seen.lock().unwrap().is_empty(),
        "a request reached a private address"
    );
    let p = t.db.platform().await.unwrap();
    let err: String = p
        .query_one("SELECT last_error FROM hook_deliveries", &[])
        .await
        .unwrap()
        .get(0);
    assert!(err.contains("private network"), "{err}");

    let reach = Reach {
        allow_exact: vec![addr],
    };
    p.execute("UPDATE hook_deliveries SET next_attempt_at = now()", &[])
        .await
        .unwrap();
    let first = delivery_hooks::deliver_due(&app, &reach, 10).await.unwrap();
    assert_eq!(first.retrying, 1, "the receiver answered 500 once");
    p.execute("UPDATE hook_deliveries SET next_attempt_at = now()", &[])
        .await
        .unwrap();
    let second = delivery_hooks::deliver_due(&app, &reach, 10).await.unwrap();
    assert_eq!(second.delivered, 1);
    p.execute(
        "UPDATE hook_deliveries SET next_attempt_at = now() - interval '1 hour'",
        &[],
    )
    .await
    .unwrap();
    let third = delivery_hooks::deliver_due(&app, &reach, 10).await.unwrap();
    assert_eq!(
        third,
        delivery_hooks::DeliveryReport::default(),
        "retries stop after success"
    );

    let seen = recv.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        seen[0].2, seen[1].2,
        "the same idempotency key on every retry"
    );
    for (ts, sig, _, body) in &seen {
        // What a receiver does: recompute HMAC-SHA256(secret, "<ts>.<body>").
        assert_eq!(
            sig,
            &delivery_hooks::signature(&secret, ts.parse().unwrap(), body.as_bytes())
        );
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["event"], "order.status_changed");
        assert_eq!(v["order"]["order_number"], 7);
        assert_eq!(v["order"]["total_jod"], "27.500");
        assert_eq!(v["order"]["items"][0]["sku"], "TS-1");
        assert_eq!(v["order"]["customer_phone"], "+962791234567");
    }
    let row = p
        .query_one("SELECT status, attempts FROM hook_deliveries", &[])
        .await
        .unwrap();
    assert_eq!(
        (row.get::<_, String>(0), row.get::<_, i32>(1)),
        ("delivered".into(), 3)
    );
}
