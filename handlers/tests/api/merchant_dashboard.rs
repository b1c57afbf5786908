//! The dashboard overview, computed from rows in the real database: Asia/Amman day
//! boundaries, another shop's rows left out, test chats left out, bad ranges refused.

use crate::support::app::{session_cookie_of, test_app, TestApp};
use serde_json::{json, Value};
use uuid::Uuid;

async fn sign_in(ta: &TestApp, handle: &str) -> (String, Uuid) {
    let r = warp::test::request()
        .method("POST")
        .path("/api/v1/auth/local")
        .body(json!({ "handle": handle }).to_string())
        .reply(&ta.service)
        .await;
    let body: Value = serde_json::from_slice(r.body()).unwrap();
    (
        session_cookie_of(&r).unwrap(),
        body["tenant_id"].as_str().unwrap().parse().unwrap(),
    )
}

async fn get(ta: &TestApp, cookie: &str, path: &str) -> (u16, Value) {
    let r = warp::test::request()
        .method("GET")
        .path(path)
        .header("cookie", format!("igshop_session={cookie}"))
        .reply(&ta.service)
        .await;
    (
        r.status().as_u16(),
        serde_json::from_slice(r.body()).unwrap_or(Value::Null),
    )
}

/// One shop's activity, written as the platform role (it may write any tenant's rows).
struct Rows<'a> {
    db: &'a deadpool_postgres::Object,
    tenant: Uuid,
}

impl Rows<'_> {
    async fn conversation(&self, kind: &str, created: &str) -> Uuid {
        self.db
            .query_one(
                "INSERT INTO conversations (tenant_id, kind, customer_ig_id, created_at)
                 VALUES ($1, $2, $3, $4::text::timestamptz) RETURNING id",
                &[&self.tenant, &kind, &Uuid::new_v4().to_string(), &created],
            )
            .await
            .unwrap()
            .get(0)
    }
    async fn message(&self, conv: Uuid, direction: &str, author: &str, at: &str) {
        self.db
            .execute(
                "INSERT INTO messages (tenant_id, conversation_id, direction, author, text, sent_at)
                 VALUES ($1, $2, $3, $4, 'x', $5::text::timestamptz)",
                &[&self.tenant, &conv, &direction, &author, &at],
            )
            .await
            .unwrap();
    }
    async fn order(&self, number: i64, status: &str, source: &str, total: &str, at: &str) {
        self.db
            .execute(
                "INSERT INTO orders (tenant_id, order_number, status, source, subtotal_jod, total_jod, created_at)
                 VALUES ($1, $2, $3, $4, $5::text::numeric, $5::text::numeric, $6::text::timestamptz)",
                &[&self.tenant, &number, &status, &source, &total, &at],
            )
            .await
            .unwrap();
    }
    async fn usage(&self, prompt: i32, cached: i32, completion: i32, cost: &str, at: &str) {
        self.db
            .execute(
                "INSERT INTO usage_events (tenant_id, kind, provider, model, prompt_tokens, cached_tokens,
                                           completion_tokens, cost_usd, created_at)
                 VALUES ($1, 'chat', 'openai', 'gpt-4o-mini', $2, $3, $4, $5::text::numeric, $6::text::timestamptz)",
                &[&self.tenant, &prompt, &cached, &completion, &cost, &at],
            )
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn overview_counts_the_shops_own_amman_days() {
    let ta = test_app(&[]).await;
    let (cookie, tenant) = sign_in(&ta, "jo.shop").await;
    let (other_cookie, other_tenant) = sign_in(&ta, "other.shop").await;
    let db = ta.t.db.platform().await.unwrap();
    let a = Rows { db: &db, tenant };

    // Asia/Amman is UTC+3: 2025-03-01 00:00 there is 2025-02-28 21:00 UTC.
    let c1 = a.conversation("instagram", "2025-03-01T10:00:00Z").await;
    a.message(c1, "inbound", "customer", "2025-02-28T20:59:00Z")
        .await; // Feb 28 in Amman
    a.message(c1, "inbound", "customer", "2025-03-01T10:00:00Z")
        .await;
    a.message(c1, "outbound", "ai", "2025-03-01T10:01:00Z")
        .await;
    a.message(c1, "inbound", "customer", "2025-03-02T21:30:00Z")
        .await; // Mar 3 in Amman
    a.message(c1, "inbound", "customer", "2025-03-03T21:00:00Z")
        .await; // Mar 4 in Amman
    db.execute(
        "INSERT INTO agent_turns (tenant_id, conversation_id, status, started_at)
         VALUES ($1, $2, 'handed_off', '2025-03-01T10:02:00Z')",
        &[&tenant, &c1],
    )
    .await
    .unwrap();
    let c2 = a.conversation("instagram", "2025-02-20T10:00:00Z").await;
    a.message(c2, "inbound", "customer", "2025-03-02T08:00:00Z")
        .await;
    a.message(c2, "outbound", "merchant", "2025-03-02T08:05:00Z")
        .await;
    db.execute(
        "UPDATE conversations SET mode = 'human', mode_changed_at = '2025-03-02T08:06:00Z' WHERE id = $1",
        &[&c2],
    )
    .await
    .unwrap();
    let test_chat = a.conversation("playground", "2025-03-01T10:00:00Z").await;
    a.message(test_chat, "inbound", "customer", "2025-03-01T11:00:00Z")
        .await;
    a.message(test_chat, "outbound", "ai", "2025-03-01T11:00:01Z")
        .await;

    a.order(1, "pending", "instagram", "10.500", "2025-03-01T12:00:00Z")
        .await;
    a.order(
        2,
        "delivered",
        "instagram",
        "20.000",
        "2025-03-02T22:30:00Z",
    )
    .await; // Mar 3 in Amman
    a.order(3, "cancelled", "instagram", "5.250", "2025-03-02T10:00:00Z")
        .await;
    a.order(
        4,
        "pending",
        "playground",
        "100.000",
        "2025-03-02T10:00:00Z",
    )
    .await;
    a.order(5, "confirmed", "instagram", "7.000", "2025-03-03T21:30:00Z")
        .await; // Mar 4
    a.usage(1000, 200, 50, "0.001234", "2025-03-01T10:01:00Z")
        .await;
    a.usage(500, 0, 20, "0.000500", "2025-03-03T12:00:00Z")
        .await;
    a.usage(9999, 0, 99, "1.000000", "2025-03-05T12:00:00Z")
        .await;

    // Another shop, busy on the same days: none of it may show.
    let b = Rows {
        db: &db,
        tenant: other_tenant,
    };
    let cb = b.conversation("instagram", "2025-03-01T10:00:00Z").await;
    b.message(cb, "inbound", "customer", "2025-03-01T10:00:00Z")
        .await;
    b.message(cb, "outbound", "ai", "2025-03-01T10:00:05Z")
        .await;
    b.order(
        1,
        "delivered",
        "instagram",
        "999.000",
        "2025-03-01T10:00:00Z",
    )
    .await;
    b.usage(7777, 0, 77, "0.500000", "2025-03-01T10:00:00Z")
        .await;

    let (s, o) = get(
        &ta,
        &cookie,
        "/api/v1/dashboard?from=2025-03-01&to=2025-03-03",
    )
    .await;
    assert_eq!(s, 200, "{o}");
    assert_eq!(
        (&o["from"], &o["to"]),
        (&json!("2025-03-01"), &json!("2025-03-03"))
    );
    assert_eq!(o["conversations"], 2);
    assert_eq!(o["new_conversations"], 1);
    assert_eq!(o["messages_in"], 3);
    assert_eq!(o["ai_replies"], 1);
    assert_eq!(o["handoffs"], 2);
    assert_eq!(o["orders"]["total"], 3);
    assert_eq!(o["orders"]["not_cancelled"], 2);
    assert_eq!(
        o["orders"]["by_status"],
        json!({"pending": 1, "confirmed": 0, "shipped": 0, "delivered": 1, "cancelled": 1, "returned": 0})
    );
    assert_eq!(o["revenue_jod"], "30.500");
    assert_eq!(
        o["tokens"],
        json!({"prompt": 1500, "cached": 200, "completion": 70})
    );
    assert_eq!(o["cost_usd"], "0.001734");
    assert_eq!(
        o["days"],
        json!([
            {"day": "2025-03-01", "messages_in": 1, "ai_replies": 1, "orders": 1, "revenue_jod": "10.500"},
            {"day": "2025-03-02", "messages_in": 1, "ai_replies": 0, "orders": 1, "revenue_jod": "0.000"},
            {"day": "2025-03-03", "messages_in": 1, "ai_replies": 0, "orders": 1, "revenue_jod": "20.000"},
        ])
    );

    // The other shop sees only its own.
    let (s, theirs) = get(
        &ta,
        &other_cookie,
        "/api/v1/dashboard?from=2025-03-01&to=2025-03-01",
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        (&theirs["messages_in"], &theirs["revenue_jod"]),
        (&json!(1), &json!("999.000"))
    );
    assert_eq!(theirs["tokens"]["prompt"], 7777);

    // A quiet range: every day present, all zeros.
    let (s, quiet) = get(
        &ta,
        &cookie,
        "/api/v1/dashboard?from=2024-02-27&to=2024-03-01",
    )
    .await;
    assert_eq!(s, 200);
    let days = quiet["days"].as_array().unwrap();
    assert_eq!(days.len(), 4, "Feb 29 of a leap year included");
    assert!(days
        .iter()
        .all(|d| d["orders"] == 0 && d["revenue_jod"] == "0.000"));
    assert_eq!(
        (&quiet["revenue_jod"], &quiet["cost_usd"]),
        (&json!("0.000"), &json!("0.000000"))
    );

    // Default: the last 30 days up to today.
    let (s, recent) = get(&ta, &cookie, "/api/v1/dashboard").await;
    assert_eq!(s, 200);
    assert_eq!(recent["days"].as_array().unwrap().len(), 30);
}

#[tokio::test]
async fn bad_ranges_are_refused() {
    let ta = test_app(&[]).await;
    let (cookie, _) = sign_in(&ta, "jo.shop").await;
    for (query, status) in [
        ("from=2025-03-02&to=2025-03-01", 422),
        ("from=2024-01-01&to=2025-01-01", 422),
        ("from=2025-13-01", 400),
        ("from=yesterday", 400),
    ] {
        let (s, body) = get(&ta, &cookie, &format!("/api/v1/dashboard?{query}")).await;
        assert_eq!(s, status, "{query}: {body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let (s, body) = get(
        &ta,
        &cookie,
        "/api/v1/dashboard?from=2025-03-02&to=2025-03-01",
    )
    .await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("after the end date"),
        "{s} {body}"
    );
    let r = warp::test::request()
        .path("/api/v1/dashboard")
        .reply(&ta.service)
        .await;
    assert_eq!(r.status(), 401);
}
