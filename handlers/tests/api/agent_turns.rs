//! The AI agent's turn, end to end: signed webhook → queue → turn (real Postgres, search and
//! Graph client) against a scripted OpenAI-compatible server and the fake Instagram.

use crate::support::app::{connect_shop, test_app, TestApp, IG_SECRET};
use crate::support::fake_instagram::ACCOUNT_ID;
use crate::support::fake_openai::{text, tool, FakeOpenAi, Step};
use secrecy::SecretString;
use serde_json::{json, Value};
use shared::agent::crash::{self, CrashPoint};
use shared::instagram::signature::sign_webhook_body;
use shared::tenants::TenantId;
use std::time::Duration;
use uuid::Uuid;

const CUSTOMER: &str = "998877665544";

struct Agent {
    ta: TestApp,
    llm: FakeOpenAi,
    tenant: TenantId,
}

async fn agent_with(extra: &[(&str, &str)], items: usize) -> Agent {
    let llm = FakeOpenAi::start().await;
    let base = llm.base();
    let mut settings: Vec<(&str, &str)> = vec![
        ("OPENAI_BASE_URL", &base),
        ("OPENAI_API_KEY", "sk-test-platform"),
        ("OPENAI_CHAT_MODEL", "gpt-4o-mini"),
        ("OPENAI_EMBEDDING_MODEL", "none"),
        ("AGENT_QUIET_MS", "0"),
        ("LLM_MAX_RETRIES", "1"),
        ("LLM_TIMEOUT_SECS", "1"),
    ];
    settings.extend_from_slice(extra);
    let ta = test_app(&settings).await;
    let tenant = connect_shop(&ta, 50).await;
    let mut c = ta.app.db.app().await.unwrap();
    let tx = shared::db::begin_for_tenant(&mut c, tenant).await.unwrap();
    let profile = json!({
        "shop_name": "بوتيك ليلى",
        "intro": "ملابس نسائية من عمّان",
        "instagram_handle": "jo.shop",
        "brand_voice": "ودودة وقريبة",
        "delivery": "التوصيل خلال يومين",
        "returns": { "policy": "الإرجاع خلال ٧ أيام من الاستلام", "window_days": 7 },
        "offers": ["شحن مجاني فوق ٥٠ دينار"],
        "working_hours": {}
    });
    tx.execute(
        "INSERT INTO profiles (tenant_id, yaml, data) VALUES ($1, '', $2)",
        &[&tenant.as_uuid(), &profile],
    )
    .await
    .unwrap();
    let rules = json!({
        "delivery_zones": [{ "city": "عمّان", "fee_jod": "2.000" }, { "city": "Irbid", "fee_jod": "3.500" }],
        "minimum_order_jod": "20.000",
        "handoff": { "keywords": ["شكوى"] }
    });
    tx.execute(
        "INSERT INTO business_rules (tenant_id, rules) VALUES ($1, $2)",
        &[&tenant.as_uuid(), &rules],
    )
    .await
    .unwrap();
    tx.execute(
        "INSERT INTO ai_settings (tenant_id, instructions) VALUES ($1, 'نادي الزبونة باسمها إذا بتعرفيه')",
        &[&tenant.as_uuid()],
    )
    .await
    .unwrap();
    add_item(&tx, tenant, "DRESS-BLUE", "فستان أزرق صيفي", "12.500", 3).await;
    add_item(&tx, tenant, "BAG-01", "شنتة جلد بنية", "25.000", 10).await;
    for i in 0..items {
        add_item(
            &tx,
            tenant,
            &format!("FILL-{i:04}"),
            &format!("بلوزة قطن موديل {i}"),
            "9.000",
            5,
        )
        .await;
    }
    tx.commit().await.unwrap();
    Agent { ta, llm, tenant }
}

async fn agent() -> Agent {
    agent_with(&[], 0).await
}

async fn add_item(
    tx: &deadpool_postgres::Transaction<'_>,
    tenant: TenantId,
    sku: &str,
    name: &str,
    price: &str,
    stock: i32,
) {
    let input: shared::catalog::ItemInput = serde_json::from_value(json!({
        "sku": sku, "name": name, "price_jod": price, "stock": stock, "description": format!("{name} من أجود الخامات")
    }))
    .unwrap();
    shared::catalog::create_item(
        tx,
        tenant,
        &input,
        shared::catalog::ProductIndex::SearchText,
    )
    .await
    .unwrap();
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

async fn webhook(a: &Agent, messages: &[(&str, &str)], ts: i64) {
    let messaging: Vec<Value> = messages
        .iter()
        .enumerate()
        .map(|(i, (mid, t))| json!({ "sender": { "id": CUSTOMER }, "recipient": { "id": ACCOUNT_ID }, "timestamp": ts + i as i64, "message": { "mid": mid, "text": t } }))
        .collect();
    let body = json!({ "object": "instagram", "entry": [{ "id": ACCOUNT_ID, "time": ts, "messaging": messaging }] }).to_string();
    let sig = sign_webhook_body(body.as_bytes(), &SecretString::from(IG_SECRET.to_owned()));
    let r = warp::test::request()
        .method("POST")
        .path("/api/instagram/webhook")
        .header("x-hub-signature-256", sig)
        .body(body)
        .reply(&a.ta.service)
        .await;
    assert_eq!(r.status(), 200, "{:?}", r.body());
}

async fn say(a: &Agent, mid: &str, t: &str) {
    webhook(a, &[(mid, t)], now_ms()).await;
}

/// Every queued message, each handled once as the queue trigger would (errors are returned,
/// not retried).
async fn drain(a: &Agent) -> Vec<Result<(), String>> {
    let q = a.ta.app.local_queue.clone().unwrap();
    let mut out = vec![];
    while let Some(m) = q.lease(Duration::from_secs(60)).await.unwrap() {
        let r = shared::agent::handle_queue_message(&a.ta.app, &m.body, m.delivery_count)
            .await
            .map_err(|e| e.to_string());
        if r.is_ok() {
            q.complete(&m).await.unwrap();
        }
        out.push(r);
    }
    out
}

fn sends(a: &Agent) -> Vec<Value> {
    a.ta.fake
        .requests_to("/messages")
        .into_iter()
        .map(|r| serde_json::from_str::<Value>(&r.body).unwrap())
        .filter(|b| b.get("sender_action").is_none())
        .collect()
}

async fn one(a: &Agent, sql: &str) -> Value {
    let c = a.ta.t.db.platform().await.unwrap();
    let row = c
        .query_one(&format!("SELECT to_jsonb(x) FROM ({sql}) x"), &[])
        .await
        .unwrap();
    row.get::<_, Value>(0)
}

async fn count(a: &Agent, sql: &str) -> i64 {
    let c = a.ta.t.db.platform().await.unwrap();
    c.query_one(sql, &[]).await.unwrap().get(0)
}

async fn conversation_id(a: &Agent) -> Uuid {
    let c = a.ta.t.db.platform().await.unwrap();
    c.query_one(
        "SELECT id FROM conversations WHERE customer_ig_id = $1",
        &[&CUSTOMER],
    )
    .await
    .unwrap()
    .get(0)
}

fn order_args() -> Value {
    json!({
        "items": [{ "sku": "DRESS-BLUE", "quantity": 2 }],
        "customer_name": "ليلى أحمد",
        "phone": "079 123 4567",
        "city": "عمان",
        "address": "خلدا، شارع وصفي التل، عمارة ٥"
    })
}

#[tokio::test]
async fn a_customer_message_gets_one_reply_through_the_graph_api() {
    let a = agent().await;
    a.llm.script([
        tool("search_products", json!({ "query": "فستان أزرق" })),
        text("أكيد! الفستان الأزرق الصيفي سعره 12.500 دينار ومتوفر 😍"),
    ]);
    say(&a, "m1", "مرحبا، عندكم فستان أزرق؟").await;
    assert_eq!(drain(&a).await, vec![Ok(())]);

    let s = sends(&a);
    assert_eq!(s.len(), 1, "{s:?}");
    assert_eq!(s[0]["recipient"]["id"], CUSTOMER);
    assert!(s[0]["message"]["text"].as_str().unwrap().contains("12.500"));
    // The tool found the product, with the database's price.
    let found = &a.llm.tool_answers(1)[0];
    assert_eq!(found["products"][0]["sku"], "DRESS-BLUE");
    assert_eq!(found["products"][0]["price_jod"], "12.500");
    // The prompt: system prompt, the shop's profile, rules, instructions and (small) catalog.
    let prompt = a.llm.prompt_text(0);
    for needle in [
        "Jordanian",
        "بوتيك ليلى",
        "الإرجاع خلال ٧ أيام",
        "Return window: 7 days",
        "عمّان 2.000 JD",
        "Minimum order: 20.000 JD",
        "نادي الزبونة باسمها",
        "DRESS-BLUE | فستان أزرق صيفي | 12.500 JD | فستان أزرق صيفي من أجود الخامات",
        "Stock now (pieces): ",
        "DRESS-BLUE 3",
        "مرحبا، عندكم فستان أزرق؟",
    ] {
        assert!(
            prompt.contains(needle),
            "prompt lacks {needle:?}:\n{prompt}"
        );
    }
    assert_eq!(a.llm.chats()[0]["model"], "gpt-4o-mini");
    assert_eq!(a.llm.chats()[0]["tools"].as_array().unwrap().len(), 8);
    assert_eq!(
        a.llm.authorizations()[0].as_deref(),
        Some("Bearer sk-test-platform")
    );

    // Recorded: the turn, the AI's message, the customer's message answered, usage with cost.
    let turn = one(&a, "SELECT status, reply_text, jsonb_array_length(tool_calls) AS tools, model_calls FROM agent_turns").await;
    assert_eq!(turn["status"], "replied");
    assert_eq!(turn["tools"], 1);
    assert_eq!(turn["model_calls"], 2);
    assert_eq!(
        count(&a, "SELECT count(*) FROM messages WHERE direction = 'outbound' AND author = 'ai' AND mid IS NOT NULL").await,
        1
    );
    assert_eq!(
        count(&a, "SELECT count(*) FROM messages WHERE direction = 'inbound' AND answered_by_turn IS NULL").await,
        0
    );
    let usage = one(&a, "SELECT count(*) AS n, sum(prompt_tokens) AS p, sum(cached_tokens) AS c, sum(completion_tokens) AS o, sum(cost_usd)::text AS usd, min(billed_to) AS billed FROM usage_events WHERE kind = 'chat'").await;
    assert_eq!(usage["n"], 2);
    assert_eq!(usage["p"], 2400);
    assert_eq!(usage["c"], 2048);
    assert_eq!(usage["o"], 80);
    // gpt-4o-mini: (176 × 0.15 + 1024 × 0.075 + 40 × 0.60) / 1e6 per call = 0.0001272
    assert_eq!(usage["usd"], "0.000254");
    assert_eq!(usage["billed"], "platform");

    // The queue message delivered again: no second reply.
    let body = json!({ "kind": "conversation_turn", "tenant_id": a.tenant, "conversation_id": conversation_id(&a).await });
    shared::agent::handle_queue_message(&a.ta.app, &body, 2)
        .await
        .unwrap();
    assert_eq!(sends(&a).len(), 1);
    assert_eq!(a.llm.chats().len(), 2);
}

#[tokio::test]
async fn a_burst_of_three_messages_gets_one_reply() {
    let a = agent().await;
    a.llm.script([text("هلا! شو المقاس اللي بدك إياه؟")]);
    // Three webhooks, three queue messages.
    say(&a, "b1", "مرحبا").await;
    say(&a, "b2", "بدي الفستان الأزرق").await;
    say(&a, "b3", "في مقاس M؟").await;
    let results = drain(&a).await;
    assert_eq!(results.len(), 3);
    assert!(results.iter().all(|r| r.is_ok()));
    assert_eq!(sends(&a).len(), 1);
    assert_eq!(a.llm.chats().len(), 1);
    let users: Vec<String> = a.llm.chats()[0]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "user")
        .map(|m| m["content"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(users, ["مرحبا", "بدي الفستان الأزرق", "في مقاس M؟"]);
}

#[tokio::test]
async fn the_quiet_period_waits_for_the_end_of_a_burst() {
    let a = agent_with(&[("AGENT_QUIET_MS", "300")], 0).await;
    a.llm.script([text("أهلين")]);
    say(&a, "q1", "مرحبا").await;
    let q = a.ta.app.local_queue.clone().unwrap();
    let first = q.lease(Duration::from_secs(60)).await.unwrap().unwrap();
    let app = a.ta.app.clone();
    let body = first.body.clone();
    let worker = tokio::spawn(async move {
        shared::agent::handle_queue_message(&app, &body, 1)
            .await
            .map_err(|e| e.to_string())
    });
    // The second message arrives while the first worker waits out the quiet period.
    say(&a, "q2", "عندكم شنط؟").await;
    worker.await.unwrap().unwrap();
    assert_eq!(drain(&a).await, vec![Ok(())]);
    assert_eq!(sends(&a).len(), 1);
    assert_eq!(a.llm.chats().len(), 1);
    let prompt = a.llm.prompt_text(0);
    assert!(prompt.contains("مرحبا") && prompt.contains("عندكم شنط؟"));
}

#[tokio::test]
async fn two_workers_on_one_conversation_send_one_reply() {
    let a = agent().await;
    a.llm.script([
        Step::Hang(Duration::from_millis(300)),
        text("this second answer must never be asked for"),
    ]);
    say(&a, "w1", "مرحبا").await;
    let body = json!({ "kind": "conversation_turn", "tenant_id": a.tenant, "conversation_id": conversation_id(&a).await });
    let (r1, r2) = tokio::join!(
        shared::agent::handle_queue_message(&a.ta.app, &body, 1),
        shared::agent::handle_queue_message(&a.ta.app, &body, 1)
    );
    r1.unwrap();
    r2.unwrap();
    assert_eq!(a.llm.chats().len(), 1);
    let s = sends(&a);
    assert_eq!(s.len(), 1);
    assert_eq!(s[0]["message"]["text"], "too late");
    assert_eq!(count(&a, "SELECT count(*) FROM agent_turns").await, 1);
}

#[tokio::test]
async fn a_crash_after_the_order_is_written_gives_one_order_and_one_reply() {
    let a = agent().await;
    // The model's run of the turn, as it would go twice (the turn runs again after the crash).
    let run = [
        tool("create_order", order_args()),
        text("تم الطلب! رقم طلبك 1001 والمجموع 27.000 دينار"),
    ];
    a.llm.script(run.clone());
    a.llm.script(run);
    say(&a, "c1", "أكد الطلب لو سمحت").await;
    crash::arm(conversation_id(&a).await, CrashPoint::AfterTools);
    let first = drain(&a).await;
    assert!(first[0].as_ref().unwrap_err().contains("crash point"));
    assert_eq!(count(&a, "SELECT count(*) FROM orders").await, 1);
    assert_eq!(sends(&a).len(), 0);

    // Redelivery (the lease ran out): the same turn runs again.
    let body = json!({ "kind": "conversation_turn", "tenant_id": a.tenant, "conversation_id": conversation_id(&a).await });
    shared::agent::handle_queue_message(&a.ta.app, &body, 2)
        .await
        .unwrap();
    assert_eq!(count(&a, "SELECT count(*) FROM orders").await, 1);
    assert_eq!(sends(&a).len(), 1);
    // The second run's create_order found the first order.
    let again = &a.llm.tool_answers(3)[0];
    assert_eq!(again["order_number"], 1001);
    // Stock was taken once: 3 − 2.
    assert_eq!(
        count(
            &a,
            "SELECT stock::bigint FROM catalog_items WHERE sku = 'DRESS-BLUE'"
        )
        .await,
        1
    );
    let order = one(&a, "SELECT order_number, status, customer_phone, subtotal_jod::text AS sub, delivery_fee_jod::text AS fee, total_jod::text AS total, source FROM orders").await;
    assert_eq!(order["order_number"], 1001);
    assert_eq!(order["status"], "pending");
    assert_eq!(order["customer_phone"], "+962791234567");
    assert_eq!(order["sub"], "25.000");
    assert_eq!(order["fee"], "2.000");
    assert_eq!(order["total"], "27.000");
    assert_eq!(order["source"], "instagram");
    // The customer's details are remembered on the conversation.
    let conv = one(
        &a,
        "SELECT customer_name, customer_phone, customer_city FROM conversations",
    )
    .await;
    assert_eq!(conv["customer_phone"], "+962791234567");
    assert_eq!(conv["customer_name"], "ليلى أحمد");
}

#[tokio::test]
async fn a_crash_between_recording_and_sending_the_reply_sends_it_once() {
    let a = agent().await;
    a.llm.script([text("أهلا وسهلا!")]);
    say(&a, "s1", "مرحبا").await;
    let conv = conversation_id(&a).await;
    crash::arm(conv, CrashPoint::BeforeSend);
    assert!(drain(&a).await[0].is_err());
    assert_eq!(sends(&a).len(), 0);
    let body =
        json!({ "kind": "conversation_turn", "tenant_id": a.tenant, "conversation_id": conv });
    shared::agent::handle_queue_message(&a.ta.app, &body, 2)
        .await
        .unwrap();
    // The recorded reply was sent; the model was not asked again.
    assert_eq!(a.llm.chats().len(), 1);
    assert_eq!(sends(&a).len(), 1);
    assert_eq!(sends(&a)[0]["message"]["text"], "أهلا وسهلا!");

    // A crash after the send: the redelivery finds the part sent and sends nothing.
    a.llm.script([text("ثاني رد")]);
    say(&a, "s2", "شكرا").await;
    crash::arm(conv, CrashPoint::AfterSend);
    assert!(drain(&a).await[0].is_err());
    assert_eq!(sends(&a).len(), 2);
    shared::agent::handle_queue_message(&a.ta.app, &body, 2)
        .await
        .unwrap();
    assert_eq!(sends(&a).len(), 2);
    assert_eq!(
        count(
            &a,
            "SELECT count(*) FROM agent_turns WHERE status = 'replied'"
        )
        .await,
        2
    );
}

#[tokio::test]
async fn tool_calls_outside_the_rules_are_refused() {
    let a = agent().await;
    // Another shop's product and another customer's order.
    let other = a.ta.t.tenant("other.shop").await;
    {
        let mut c = a.ta.app.db.app().await.unwrap();
        let tx = shared::db::begin_for_tenant(&mut c, other).await.unwrap();
        add_item(&tx, other, "OTHER-1", "منتج محل ثاني", "1.000", 100).await;
        tx.commit().await.unwrap();
        let mut c = a.ta.app.db.app().await.unwrap();
        let tx = shared::db::begin_for_tenant(&mut c, a.tenant)
            .await
            .unwrap();
        tx.execute(
            "INSERT INTO orders (tenant_id, order_number, customer_ig_id, customer_name, subtotal_jod, total_jod, status)
             VALUES ($1, 1500, 'someone-else', 'زبون ثاني', 10, 10, 'pending')",
            &[&a.tenant.as_uuid()],
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    let with = |f: &dyn Fn(&mut Value)| {
        let mut v = order_args();
        f(&mut v);
        v
    };
    let calls = vec![
        (
            "create_order",
            with(&|v| v["items"][0]["sku"] = json!("OTHER-1")),
        ),
        (
            "create_order",
            with(&|v| v["items"][0]["quantity"] = json!(0)),
        ),
        (
            "create_order",
            with(&|v| v["items"][0]["quantity"] = json!(4)),
        ),
        (
            "create_order",
            with(&|v| v["items"][0]["unit_price_jod"] = json!("0.500")),
        ),
        ("create_order", with(&|v| v["total_jod"] = json!("1.000"))),
        ("create_order", with(&|v| v["phone"] = json!("065512345"))),
        ("create_order", with(&|v| v["city"] = json!("العقبة"))),
        (
            "create_order",
            with(&|v| v["items"] = json!([{ "sku": "DRESS-BLUE", "quantity": 1 }])),
        ),
        ("get_order_status", json!({ "order_number": 1500 })),
        ("cancel_order", json!({ "order_number": 1500 })),
        (
            "request_return",
            json!({ "order_number": 1500, "reason": "x" }),
        ),
        ("get_product", json!({ "sku": "OTHER-1" })),
    ];
    a.llm.script([
        Step::Tools(
            calls
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
        ),
        text("عذرا"),
    ]);
    say(&a, "r1", "بدي أطلب").await;
    assert_eq!(drain(&a).await, vec![Ok(())]);
    let answers = a.llm.tool_answers(1);
    assert_eq!(answers.len(), calls.len());
    let expect = [
        "no product with SKU OTHER-1",
        "at least 1",
        "only 3 left",
        "cannot be set",
        "cannot be set",
        "landline",
        "does not deliver to",
        "minimum order is 20.000",
        "no order number 1500",
        "no order number 1500",
        "no order number 1500",
        "no product with SKU OTHER-1",
    ];
    for (i, (answer, want)) in answers.iter().zip(expect).enumerate() {
        assert_eq!(answer["ok"], false, "call {i}: {answer}");
        let error = answer["error"].as_str().unwrap();
        assert!(error.contains(want), "call {i}: {error:?} lacks {want:?}");
    }
    // Nothing was written: no new order, stock untouched, the other order unchanged.
    assert_eq!(count(&a, "SELECT count(*) FROM orders").await, 1);
    assert_eq!(
        count(
            &a,
            "SELECT count(*) FROM orders WHERE status = 'pending' AND order_number = 1500"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &a,
            "SELECT stock::bigint FROM catalog_items WHERE sku = 'DRESS-BLUE'"
        )
        .await,
        3
    );
    assert_eq!(
        count(
            &a,
            "SELECT stock::bigint FROM catalog_items WHERE sku = 'OTHER-1'"
        )
        .await,
        100
    );
    assert_eq!(count(&a, "SELECT count(*) FROM return_requests").await, 0);
    // The model's refused calls are on the turn's record.
    let turn = one(&a, "SELECT tool_calls FROM agent_turns").await;
    assert_eq!(turn["tool_calls"].as_array().unwrap().len(), calls.len());
    assert!(turn["tool_calls"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["ok"] == false));
}

#[tokio::test]
async fn own_orders_can_be_checked_cancelled_and_returned_within_the_window() {
    let a = agent().await;
    a.llm
        .script([tool("create_order", order_args()), text("تم")]);
    say(&a, "o1", "أكد").await;
    drain(&a).await;
    let n = 1001;
    // Delivered 3 days ago: inside the 7-day window. A second order delivered 10 days ago.
    {
        let c = a.ta.t.db.platform().await.unwrap();
        c.execute("UPDATE orders SET status = 'delivered'", &[])
            .await
            .unwrap();
        c.execute(
            "INSERT INTO order_status_history (tenant_id, order_id, from_status, to_status, changed_by, changed_at)
             SELECT tenant_id, id, 'shipped', 'delivered', 'merchant', now() - interval '3 days' FROM orders",
            &[],
        )
        .await
        .unwrap();
        c.execute(
            "INSERT INTO orders (tenant_id, order_number, customer_ig_id, subtotal_jod, total_jod, status)
             SELECT tenant_id, 1002, $1, 10, 10, 'delivered' FROM orders WHERE order_number = 1001",
            &[&CUSTOMER],
        )
        .await
        .unwrap();
        c.execute(
            "INSERT INTO order_status_history (tenant_id, order_id, from_status, to_status, changed_by, changed_at)
             SELECT tenant_id, id, 'shipped', 'delivered', 'merchant', now() - interval '10 days' FROM orders WHERE order_number = 1002",
            &[],
        )
        .await
        .unwrap();
        c.execute(
            "INSERT INTO orders (tenant_id, order_number, customer_ig_id, subtotal_jod, total_jod, status)
             SELECT tenant_id, 1003, $1, 10, 10, 'pending' FROM orders WHERE order_number = 1001",
            &[&CUSTOMER],
        )
        .await
        .unwrap();
    }
    a.llm.script([
        Step::Tools(vec![
            (
                "get_order_status".into(),
                json!({ "order_number": n }).to_string(),
            ),
            (
                "request_return".into(),
                json!({ "order_number": n, "reason": "المقاس صغير" }).to_string(),
            ),
            (
                "request_return".into(),
                json!({ "order_number": n, "reason": "again" }).to_string(),
            ),
            (
                "request_return".into(),
                json!({ "order_number": 1002, "reason": "late" }).to_string(),
            ),
            (
                "cancel_order".into(),
                json!({ "order_number": 1003 }).to_string(),
            ),
            (
                "cancel_order".into(),
                json!({ "order_number": n }).to_string(),
            ),
        ]),
        text("تمام"),
    ]);
    say(&a, "o2", "بدي أرجع الطلب").await;
    assert_eq!(drain(&a).await, vec![Ok(())]);
    let answers = a.llm.tool_answers(3);
    assert_eq!(answers[0]["status"], "delivered");
    assert_eq!(answers[0]["total_jod"], "27.000");
    assert_eq!(answers[1]["ok"], true);
    assert_eq!(answers[2]["already_requested"], true);
    assert!(answers[3]["error"]
        .as_str()
        .unwrap()
        .contains("within 7 days"));
    assert_eq!(answers[4]["status"], "cancelled");
    assert!(answers[5]["error"].as_str().unwrap().contains("delivered"));
    assert_eq!(count(&a, "SELECT count(*) FROM return_requests").await, 1);
    assert_eq!(
        one(&a, "SELECT status FROM orders WHERE order_number = 1003").await["status"],
        "cancelled"
    );
    // Later turns are told what happened (summarised), not the tool internals.
    a.llm.script([text("أهلين")]);
    say(&a, "o3", "شكرا").await;
    drain(&a).await;
    let prompt = a.llm.prompt_text(4);
    assert!(prompt.contains("created_order #1001"), "{prompt}");
    assert!(prompt.contains("return requested for order #1001"));
    assert!(prompt.contains("Customer details given earlier"));
    assert!(prompt.contains("+962791234567"));
    assert!(!prompt.contains("\"tool_calls\""));
}

#[tokio::test]
async fn human_mode_closed_window_and_refused_licence_get_no_reply() {
    let a = agent().await;
    // Human mode.
    say(&a, "h1", "مرحبا").await;
    let c = a.ta.t.db.platform().await.unwrap();
    c.execute("UPDATE conversations SET mode = 'human'", &[])
        .await
        .unwrap();
    assert_eq!(drain(&a).await, vec![Ok(())]);
    assert_eq!(
        one(&a, "SELECT status, skip_reason FROM agent_turns").await,
        json!({ "status": "skipped", "skip_reason": "human_mode" })
    );
    // Back to AI, but the message is 25 hours old: the window is closed.
    c.execute("UPDATE conversations SET mode = 'ai'", &[])
        .await
        .unwrap();
    c.execute("DELETE FROM agent_turns", &[]).await.unwrap();
    let old = now_ms() - 25 * 3600 * 1000;
    webhook(&a, &[("h2", "في حدا؟")], old).await;
    c.execute(
        "UPDATE conversations SET last_customer_message_at = now() - interval '25 hours'",
        &[],
    )
    .await
    .unwrap();
    assert_eq!(drain(&a).await, vec![Ok(())]);
    assert_eq!(
        one(&a, "SELECT skip_reason FROM agent_turns").await["skip_reason"],
        "window_closed"
    );
    // A disabled shop: no AI replies, and the merchant is told why.
    c.execute("DELETE FROM agent_turns", &[]).await.unwrap();
    say(&a, "h3", "مرحبا؟").await;
    // Disabled after the message was queued.
    c.execute("UPDATE tenants SET status = 'disabled'", &[])
        .await
        .unwrap();
    assert_eq!(drain(&a).await, vec![Ok(())]);
    assert!(
        one(&a, "SELECT skip_reason FROM agent_turns").await["skip_reason"]
            .as_str()
            .unwrap()
            .starts_with("licence:")
    );
    assert_eq!(
        count(&a, "SELECT count(*) FROM alerts WHERE kind = 'licence'").await,
        1
    );
    assert!(a.llm.chats().is_empty());
    assert!(sends(&a).is_empty());
}

#[tokio::test]
async fn only_the_last_twenty_messages_are_remembered() {
    let a = agent().await;
    say(&a, "first", "مرحبا").await;
    let conv = conversation_id(&a).await;
    drain(&a).await;
    // 21 earlier answered messages: old-00 … old-20 (old-00 is the 21st from the end).
    {
        let c = a.ta.t.db.platform().await.unwrap();
        c.execute("DELETE FROM messages", &[]).await.unwrap();
        for i in 0..21 {
            let (dir, author) = if i % 2 == 0 {
                ("inbound", "customer")
            } else {
                ("outbound", "ai")
            };
            c.execute(
                "INSERT INTO messages (tenant_id, conversation_id, direction, author, text, sent_at, answered_by_turn)
                 VALUES ($1, $2, $3, $4, $5, now() - interval '1 hour' + $6 * interval '1 minute',
                         CASE WHEN $3 = 'inbound' THEN (SELECT id FROM agent_turns LIMIT 1) END)",
                &[&a.tenant.as_uuid(), &conv, &dir, &author, &format!("old-{i:02}"), &(i as f64)],
            )
            .await
            .unwrap();
        }
    }
    a.llm.script([text("أهلين")]);
    say(&a, "new", "رسالة جديدة").await;
    drain(&a).await;
    let n = a.llm.chats().len() - 1;
    let prompt = a.llm.prompt_text(n);
    assert!(
        !prompt.contains("old-00"),
        "the 21st message back is in the prompt"
    );
    for i in 1..21 {
        assert!(
            prompt.contains(&format!("old-{i:02}")),
            "old-{i:02} missing"
        );
    }
    // In order, with the roles kept.
    let msgs = a.llm.chats()[n]["messages"].as_array().unwrap().clone();
    let pos = |t: &str| msgs.iter().position(|m| m["content"] == t).unwrap();
    assert!(pos("old-01") < pos("old-02") && pos("old-20") < pos("رسالة جديدة"));
    assert_eq!(msgs[pos("old-01")]["role"], "assistant");
    assert_eq!(msgs[pos("old-02")]["role"], "user");
}

#[tokio::test]
async fn a_model_that_stays_down_gets_the_fallback_a_human_and_an_alert() {
    let a = agent().await;
    a.llm.script([Step::Fail(500, None), Step::Fail(503, None)]);
    say(&a, "f1", "مرحبا").await;
    assert_eq!(drain(&a).await, vec![Ok(())]);
    assert_eq!(a.llm.chats().len(), 2, "one try and one retry");
    let s = sends(&a);
    assert_eq!(s.len(), 1);
    assert_eq!(s[0]["message"]["text"], shared::agent::FALLBACK_REPLY);
    let conv = one(&a, "SELECT mode FROM conversations").await;
    assert_eq!(conv["mode"], "human");
    assert_eq!(
        count(
            &a,
            "SELECT count(*) FROM alerts WHERE kind = 'ai_unavailable' AND severity = 'critical'"
        )
        .await,
        1
    );
    assert_eq!(
        one(&a, "SELECT status FROM agent_turns").await["status"],
        "handed_off"
    );
}

#[tokio::test]
async fn rate_limits_and_timeouts_are_retried() {
    let a = agent_with(&[("LLM_MAX_RETRIES", "2")], 0).await;
    a.llm.script([
        Step::Fail(429, Some(0)),
        Step::Hang(Duration::from_secs(3)),
        text("وصلت!"),
    ]);
    say(&a, "t1", "مرحبا").await;
    assert_eq!(drain(&a).await, vec![Ok(())]);
    assert_eq!(a.llm.chats().len(), 3);
    assert_eq!(sends(&a)[0]["message"]["text"], "وصلت!");
    assert_eq!(
        one(&a, "SELECT mode FROM conversations").await["mode"],
        "ai"
    );
}

#[tokio::test]
async fn handoff_by_tool_or_by_the_shops_word() {
    let a = agent().await;
    a.llm.script([
        tool(
            "handoff_to_human",
            json!({ "reason": "asked for a person" }),
        ),
        text("أكيد، رح يرد عليك حدا من الفريق هلأ."),
    ]);
    say(&a, "x1", "بدي أحكي مع إنسان").await;
    drain(&a).await;
    assert_eq!(
        sends(&a)[0]["message"]["text"],
        "أكيد، رح يرد عليك حدا من الفريق هلأ."
    );
    assert_eq!(
        one(&a, "SELECT mode, mode_reason FROM conversations").await,
        json!({ "mode": "human", "mode_reason": "asked for a person" })
    );
    assert_eq!(
        count(&a, "SELECT count(*) FROM alerts WHERE kind = 'handoff'").await,
        1
    );
    assert_eq!(
        one(&a, "SELECT status FROM agent_turns").await["status"],
        "handed_off"
    );
    // Now human mode: the next message gets no AI reply.
    say(&a, "x2", "وينكم").await;
    drain(&a).await;
    assert_eq!(sends(&a).len(), 1);

    // The shop's handoff word needs no model at all.
    let b = agent().await;
    say(&b, "y1", "عندي شكوى على الطلب").await;
    drain(&b).await;
    assert!(b.llm.chats().is_empty());
    assert_eq!(
        sends(&b)[0]["message"]["text"],
        shared::agent::HANDOFF_REPLY
    );
    assert_eq!(
        one(&b, "SELECT mode FROM conversations").await["mode"],
        "human"
    );
}

#[tokio::test]
async fn a_large_catalog_is_retrieved_not_inlined() {
    let a = agent_with(&[], 40).await;
    a.llm.script([text("عنا شنتة جلد بنية بـ 25 دينار")]);
    say(&a, "l1", "بدي شنتة جلد").await;
    drain(&a).await;
    let prompt = a.llm.prompt_text(0);
    assert!(
        prompt.contains("More than 25 products; the ones that match"),
        "{prompt}"
    );
    assert!(prompt.contains("BAG-01 | شنتة جلد بنية | 25.000 JD | stock 10"));
    assert!(
        !prompt.contains("FILL-0039"),
        "unrelated products are not in the prompt"
    );
}

#[tokio::test]
async fn the_shops_own_key_is_used_and_billed_to_the_shop() {
    let a = agent().await;
    let own = FakeOpenAi::start().await;
    own.script([text("من مفتاح المحل")]);
    {
        let sealed = a.ta.app.keys.seal(b"sk-shop-own");
        let c = a.ta.t.db.platform().await.unwrap();
        c.execute(
            "UPDATE ai_settings SET llm_api_key_enc = $1, llm_key_id = $2, llm_base_url = $3, llm_model = 'shop-model'",
            &[&sealed, &a.ta.app.keys.key_id(), &own.base()],
        )
        .await
        .unwrap();
    }
    say(&a, "k1", "مرحبا").await;
    drain(&a).await;
    assert!(a.llm.chats().is_empty());
    assert_eq!(own.chats()[0]["model"], "shop-model");
    assert_eq!(
        own.authorizations()[0].as_deref(),
        Some("Bearer sk-shop-own")
    );
    assert_eq!(
        one(&a, "SELECT billed_to, model FROM usage_events").await,
        json!({ "billed_to": "tenant_key", "model": "shop-model" })
    );
}

#[tokio::test]
async fn the_test_chat_runs_the_same_turn_without_sending() {
    let a = agent().await;
    let session =
        shared::sessions::start_merchant_session(&a.ta.app.db, &a.ta.app.keys, a.tenant, None, 1)
            .await
            .unwrap();
    let (cookie, csrf) = (session.token, session.csrf_token);
    let post = |body: Value, csrf: Option<&str>| {
        let mut req = warp::test::request()
            .method("POST")
            .path("/api/v1/test-chat")
            .header("cookie", format!("igshop_session={cookie}"))
            .body(body.to_string());
        if let Some(c) = csrf {
            req = req.header("x-csrf-token", c);
        }
        req.reply(&a.ta.service)
    };
    a.llm.script([
        tool("get_product", json!({ "sku": "BAG-01" })),
        text("الشنتة البنية بـ 25 دينار"),
    ]);
    let r = post(json!({ "message": "قديش الشنتة؟" }), Some(&csrf)).await;
    assert_eq!(r.status(), 200, "{:?}", r.body());
    let body: Value = serde_json::from_slice(r.body()).unwrap();
    assert_eq!(body["reply"], "الشنتة البنية بـ 25 دينار");
    assert_eq!(body["status"], "replied");
    assert_eq!(body["tool_calls"][0]["name"], "get_product");
    assert_eq!(body["tool_calls"][0]["ok"], true, "{body}");
    assert!(sends(&a).is_empty(), "nothing goes to Instagram");
    // The conversation continues, with memory.
    a.llm.script([text("أكيد")]);
    let r = post(json!({ "message": "تمام بدي وحدة" }), Some(&csrf)).await;
    assert_eq!(r.status(), 200);
    assert!(a.llm.prompt_text(2).contains("قديش الشنتة؟"));
    // reset starts over.
    a.llm.script([text("هلا")]);
    post(json!({ "message": "مرحبا", "reset": true }), Some(&csrf)).await;
    assert!(!a.llm.prompt_text(3).contains("قديش الشنتة؟"));
    // Bad input.
    assert_eq!(
        post(json!({ "message": "  " }), Some(&csrf)).await.status(),
        422
    );
    assert_eq!(
        post(json!({ "message": "x".repeat(2001) }), Some(&csrf))
            .await
            .status(),
        422
    );
    assert_eq!(
        post(json!({ "text": "hi" }), Some(&csrf)).await.status(),
        400
    );
    assert_eq!(post(json!({ "message": "hi" }), None).await.status(), 403);
    assert_eq!(
        count(
            &a,
            "SELECT count(*) FROM conversations WHERE kind = 'playground'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn messages_the_agent_does_not_understand_go_back_to_the_queue() {
    let a = agent().await;
    for body in [
        json!({ "conversation_id": "c1" }),
        json!({ "kind": "conversation_turn", "tenant_id": "nope", "conversation_id": Uuid::new_v4() }),
        json!("text"),
    ] {
        let e = shared::agent::handle_queue_message(&a.ta.app, &body, 1)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("not a conversation turn"), "{e}");
    }
    // A turn for a conversation that does not exist (deleted meanwhile) is simply done.
    let gone = json!({ "kind": "conversation_turn", "tenant_id": a.tenant, "conversation_id": Uuid::new_v4() });
    shared::agent::handle_queue_message(&a.ta.app, &gone, 1)
        .await
        .unwrap();
    assert!(a.llm.chats().is_empty());
}

#[tokio::test]
async fn the_sweeper_queues_conversations_left_unanswered_again() {
    let a = agent().await;
    say(&a, "lost1", "مرحبا؟").await;
    // The queue message was lost (dead-lettered, say): only the stored message is left.
    let q = a.ta.app.local_queue.clone().unwrap();
    let m = q.lease(Duration::from_secs(60)).await.unwrap().unwrap();
    q.complete(&m).await.unwrap();
    let c = a.ta.t.db.platform().await.unwrap();
    // Too fresh to be called stuck.
    assert_eq!(shared::agent::requeue_stuck(&a.ta.app).await.unwrap(), 0);
    c.execute(
        "UPDATE messages SET created_at = now() - interval '5 minutes'",
        &[],
    )
    .await
    .unwrap();
    a.llm.script([text("آسفين عالتأخير! كيف بقدر أساعدك؟")]);
    let report = shared::jobs::sweeper(&a.ta.app).await.unwrap();
    assert!(
        report
            .lines
            .iter()
            .any(|l| l == "unanswered conversations queued again: 1"),
        "{:?}",
        report.lines
    );
    // Twice in the same ten minutes: one queue message.
    shared::agent::requeue_stuck(&a.ta.app).await.unwrap();
    assert_eq!(drain(&a).await, vec![Ok(())]);
    assert_eq!(sends(&a).len(), 1);
    // Answered now: nothing to queue.
    assert_eq!(shared::agent::requeue_stuck(&a.ta.app).await.unwrap(), 0);
    // Human mode and other shops' playgrounds are left alone.
    say(&a, "lost2", "وينكم").await;
    let m = q.lease(Duration::from_secs(60)).await.unwrap().unwrap();
    q.complete(&m).await.unwrap();
    c.execute(
        "UPDATE messages SET created_at = now() - interval '5 minutes'",
        &[],
    )
    .await
    .unwrap();
    c.execute("UPDATE conversations SET mode = 'human'", &[])
        .await
        .unwrap();
    assert_eq!(shared::agent::requeue_stuck(&a.ta.app).await.unwrap(), 0);
}

fn turn_body(a: &Agent, conv: Uuid) -> Value {
    json!({ "kind": "conversation_turn", "tenant_id": a.tenant, "conversation_id": conv })
}

fn delivered_texts(a: &Agent) -> Vec<String> {
    a.ta.fake
        .delivered()
        .into_iter()
        .filter_map(|d| d.text)
        .collect()
}

/// A crash right before the Graph call (the part is recorded as being sent; Instagram never
/// had it) and right after it (Instagram has it; its answer is not recorded): the resumed
/// turn settles the part from the conversation read back through the Graph API, and the
/// customer gets each reply exactly once.
#[tokio::test]
async fn a_crash_right_before_or_after_the_graph_call_delivers_the_reply_once() {
    let a = agent_with(&[("INSTAGRAM_ECHO_WAIT_MS", "200")], 0).await;
    a.llm.script([text("أهلا وسهلا!")]);
    say(&a, "g1", "مرحبا").await;
    let conv = conversation_id(&a).await;
    crash::arm(conv, CrashPoint::BeforeGraphCall);
    assert!(drain(&a).await[0]
        .as_ref()
        .unwrap_err()
        .contains("crash point"));
    assert!(delivered_texts(&a).is_empty());
    shared::agent::handle_queue_message(&a.ta.app, &turn_body(&a, conv), 2)
        .await
        .unwrap();
    assert_eq!(delivered_texts(&a), vec!["أهلا وسهلا!"]);

    a.llm.script([text("ثاني رد")]);
    say(&a, "g2", "شكرا").await;
    crash::arm(conv, CrashPoint::AfterGraphCall);
    assert!(drain(&a).await[0].is_err());
    assert_eq!(delivered_texts(&a).len(), 2, "Instagram has it");
    shared::agent::handle_queue_message(&a.ta.app, &turn_body(&a, conv), 2)
        .await
        .unwrap();
    assert_eq!(
        delivered_texts(&a),
        vec!["أهلا وسهلا!", "ثاني رد"],
        "each once"
    );
    assert_eq!(a.llm.chats().len(), 2);
    assert_eq!(
        count(
            &a,
            "SELECT count(*) FROM agent_turns WHERE status = 'replied'"
        )
        .await,
        2
    );
    assert_eq!(
        count(
            &a,
            "SELECT count(*) FROM outbound_messages WHERE status <> 'sent'"
        )
        .await,
        0
    );
    assert_eq!(
        count(&a, "SELECT count(*) FROM messages WHERE author = 'ai'").await,
        2,
        "both replies are in the history"
    );
}

/// A turn resumed after a crash sends the reply it had recorded, and the message that
/// arrived meanwhile is answered by the next turn in the same delivery — not minutes later
/// by the sweeper.
#[tokio::test]
async fn a_resumed_turn_also_answers_what_arrived_while_it_was_interrupted() {
    let a = agent().await;
    a.llm.script([text("أهلا!"), text("أكيد، عنا شنط جلد")]);
    say(&a, "r1", "مرحبا").await;
    let conv = conversation_id(&a).await;
    crash::arm(conv, CrashPoint::BeforeSend);
    assert!(drain(&a).await[0].is_err());
    say(&a, "r2", "عندكم شنط؟").await;
    shared::agent::handle_queue_message(&a.ta.app, &turn_body(&a, conv), 2)
        .await
        .unwrap();
    let texts: Vec<Value> = sends(&a)
        .iter()
        .map(|s| s["message"]["text"].clone())
        .collect();
    assert_eq!(texts, vec![json!("أهلا!"), json!("أكيد، عنا شنط جلد")]);
    assert_eq!(
        count(&a, "SELECT count(*) FROM messages WHERE direction = 'inbound' AND answered_by_turn IS NULL").await,
        0
    );
}

/// The sweeper queues a conversation whose turn was interrupted a moment ago (nothing holds
/// its lock), and leaves alone one whose turn is running right now.
#[tokio::test]
async fn the_sweeper_does_not_wait_out_an_interrupted_turn() {
    let a = agent().await;
    a.llm.script([text("أهلا!"), text("أهلا!")]);
    say(&a, "i1", "مرحبا").await;
    let conv = conversation_id(&a).await;
    crash::arm(conv, CrashPoint::AfterTools);
    assert!(drain(&a).await[0].is_err());
    let c = a.ta.t.db.platform().await.unwrap();
    // Its queue message is gone as well (dead-lettered, say).
    c.execute("DELETE FROM queue_messages", &[]).await.unwrap();
    c.execute(
        "UPDATE messages SET created_at = now() - interval '3 minutes'",
        &[],
    )
    .await
    .unwrap();
    // While a worker holds the conversation's lock, the turn is live: not queued.
    let mut held = a.ta.app.db.app().await.unwrap();
    let lock = held.transaction().await.unwrap();
    lock.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('turn:' || $1::text, 0))",
        &[&conv.to_string()],
    )
    .await
    .unwrap();
    assert_eq!(shared::agent::requeue_stuck(&a.ta.app).await.unwrap(), 0);
    lock.rollback().await.unwrap();
    // The crashed turn holds nothing: queued now, resumed, answered.
    assert_eq!(shared::agent::requeue_stuck(&a.ta.app).await.unwrap(), 1);
    assert_eq!(drain(&a).await, vec![Ok(())]);
    assert_eq!(sends(&a).len(), 1);
}

/// A webhook batch with an event that cannot be stored still gets the other customer
/// answered.
#[tokio::test]
async fn a_batch_with_a_poison_event_still_gets_the_customer_answered() {
    let a = agent().await;
    a.llm.script([text("أهلين! شو بتحب تطلب؟")]);
    let ts = now_ms();
    let messaging = vec![
        json!({ "sender": { "id": "poison-1" }, "recipient": { "id": ACCOUNT_ID }, "timestamp": ts, "message": { "mid": "p1", "text": "a\u{0000}b" } }),
        json!({ "sender": { "id": CUSTOMER }, "recipient": { "id": ACCOUNT_ID }, "timestamp": ts + 1, "message": { "mid": "ok1", "text": "مرحبا" } }),
    ];
    let body = json!({ "object": "instagram", "entry": [{ "id": ACCOUNT_ID, "time": ts, "messaging": messaging }] }).to_string();
    let sig = sign_webhook_body(body.as_bytes(), &SecretString::from(IG_SECRET.to_owned()));
    let r = warp::test::request()
        .method("POST")
        .path("/api/instagram/webhook")
        .header("x-hub-signature-256", sig)
        .body(body)
        .reply(&a.ta.service)
        .await;
    assert_eq!(r.status(), 200, "{:?}", r.body());
    assert_eq!(drain(&a).await, vec![Ok(())]);
    let s = sends(&a);
    assert_eq!(s.len(), 1);
    assert_eq!(s[0]["recipient"]["id"], CUSTOMER);
    assert_eq!(
        count(
            &a,
            "SELECT count(*) FROM inbound_events WHERE kind = 'failed'"
        )
        .await,
        1
    );
}

// ---------------------------------------------------------------- issue 13 and 11

/// Posts a signed webhook with raw `messaging` items (and `standby` ones), optionally with a
/// `traceparent` header as the Functions host sends.
async fn webhook_items(
    a: &Agent,
    messaging: Vec<Value>,
    standby: Vec<Value>,
    traceparent: Option<&str>,
) {
    let body = json!({ "object": "instagram", "entry": [{ "id": ACCOUNT_ID, "time": now_ms(), "messaging": messaging, "standby": standby }] }).to_string();
    let sig = sign_webhook_body(body.as_bytes(), &SecretString::from(IG_SECRET.to_owned()));
    let mut req = warp::test::request()
        .method("POST")
        .path("/api/instagram/webhook")
        .header("x-hub-signature-256", sig);
    if let Some(t) = traceparent {
        req = req.header("traceparent", t);
    }
    let r = req.body(body).reply(&a.ta.service).await;
    assert_eq!(r.status(), 200, "{:?}", r.body());
}

async fn get_json(a: &Agent, path: &str, session_token: &str) -> Value {
    let r = warp::test::request()
        .path(path)
        .header("cookie", format!("igshop_session={session_token}"))
        .reply(&a.ta.service)
        .await;
    assert_eq!(r.status(), 200, "{path}: {:?}", r.body());
    serde_json::from_slice(r.body()).unwrap()
}

fn item(message: Value) -> Value {
    json!({ "sender": { "id": CUSTOMER }, "recipient": { "id": ACCOUNT_ID }, "timestamp": now_ms(), "message": message })
}

fn user_messages(chat: &Value) -> Vec<String> {
    chat["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "user")
        .map(|m| m["content"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn standby_and_unsupported_messages_get_no_reply() {
    let a = agent().await;
    // Another app owns the thread: stored, never answered, nothing queued.
    webhook_items(
        &a,
        vec![],
        vec![item(json!({ "mid": "sb1", "text": "مرحبا من تطبيق ثاني" }))],
        None,
    )
    .await;
    assert_eq!(
        count(
            &a,
            "SELECT count(*) FROM messages WHERE mid = 'sb1' AND standby"
        )
        .await,
        1
    );
    assert_eq!(drain(&a).await, Vec::<Result<(), String>>::new());
    // Only something Instagram does not pass on: the turn ends without calling the model.
    webhook_items(
        &a,
        vec![item(json!({ "mid": "u1", "is_unsupported": true }))],
        vec![],
        None,
    )
    .await;
    assert_eq!(drain(&a).await, vec![Ok(())]);
    assert_eq!(
        one(&a, "SELECT status, skip_reason FROM agent_turns").await,
        json!({ "status": "skipped", "skip_reason": "nothing_to_answer" })
    );
    assert!(a.llm.chats().is_empty(), "the model was asked");
    assert!(sends(&a).is_empty());
    // The standby message stays out of later turns, too.
    a.llm.script([text("هلا")]);
    say(&a, "t1", "في حدا؟").await;
    drain(&a).await;
    let prompt = a.llm.prompt_text(0);
    assert!(!prompt.contains("تطبيق ثاني"), "{prompt}");
    assert!(!prompt.contains("with no text"), "{prompt}");
}

#[tokio::test]
async fn the_prompt_says_what_each_message_refers_to() {
    let a = agent().await;
    a.llm.script([text("أهلين")]);
    say(&a, "q0", "عندكم الفستان الأزرق بمقاس L؟").await;
    drain(&a).await;
    a.llm.script([text("أكيد")]);
    webhook_items(
        &a,
        vec![
            item(json!({ "mid": "r1", "text": "قديش سعره؟", "reply_to": { "story": { "id": "st1", "url": "https://cdn.example/story1.jpg" } } })),
            item(json!({ "mid": "r2", "text": "هاد", "reply_to": { "mid": "q0" } })),
            item(json!({ "mid": "r3", "text": "M", "quick_reply": { "payload": "SIZE_M" } })),
            item(json!({ "mid": "r4", "attachments": [{ "type": "image", "payload": { "url": "https://cdn.example/photo.jpg" } }] })),
            item(json!({ "mid": "r5", "attachments": [{ "type": "ig_reel", "payload": { "url": "https://cdn.example/reel.mp4" } }] })),
            item(json!({ "mid": "r6", "attachments": [{ "type": "share", "payload": { "url": "https://cdn.example/post" } }] })),
        ],
        vec![],
        None,
    )
    .await;
    drain(&a).await;
    let users = user_messages(&a.llm.chats()[1]);
    let all = users.join("\n");
    for needle in [
        "[replying to the shop's story: https://cdn.example/story1.jpg]\nقديش سعره؟",
        "[replying to the earlier message: \"عندكم الفستان الأزرق بمقاس L؟\"]\nهاد",
        "[tapped the quick reply: SIZE_M]\nM",
        "[sent an image: https://cdn.example/photo.jpg]",
        "[shared a reel: https://cdn.example/reel.mp4]",
        "[shared a post: https://cdn.example/post]",
    ] {
        assert!(all.contains(needle), "{needle:?} not in:\n{all}");
    }
}

#[tokio::test]
async fn a_long_burst_is_cut_to_the_latest_messages_with_a_note() {
    let a = agent().await;
    a.llm.script([text("هلا")]);
    let items: Vec<Value> = (0..30)
        .map(|i| {
            item(json!({ "mid": format!("burst-{i:02}"), "text": format!("رسالة رقم {i:02}") }))
        })
        .collect();
    webhook_items(&a, items, vec![], None).await;
    drain(&a).await;
    let chat = &a.llm.chats()[0];
    let users = user_messages(chat);
    assert_eq!(users.len(), 20, "{users:?}");
    assert_eq!(users[0], "رسالة رقم 10");
    assert_eq!(users[19], "رسالة رقم 29");
    assert!(
        a.llm
            .prompt_text(0)
            .contains("the 10 earliest are left out"),
        "{}",
        a.llm.prompt_text(0)
    );
    // A character budget too: 25 long messages do not all go in.
    a.llm.script([text("تمام")]);
    let long = "كلام طويل ".repeat(60);
    let items: Vec<Value> = (0..25)
        .map(|i| item(json!({ "mid": format!("long-{i:02}"), "text": format!("{long}{i}") })))
        .collect();
    webhook_items(&a, items, vec![], None).await;
    drain(&a).await;
    // The new messages: after the fresh context's system messages.
    let msgs = a.llm.chats()[1]["messages"].as_array().unwrap().clone();
    let last_system = msgs.iter().rposition(|m| m["role"] == "system").unwrap();
    let users: Vec<String> = msgs[last_system + 1..]
        .iter()
        .map(|m| m["content"].as_str().unwrap().to_owned())
        .collect();
    let chars: usize = users.iter().map(|u| u.chars().count()).sum();
    assert!(
        users.len() < 20 && chars <= 4000,
        "{} messages, {chars} characters",
        users.len()
    );
    assert!(users.last().unwrap().ends_with("24"));
}

#[tokio::test]
async fn a_reply_sent_in_parts_is_one_reply_in_memory_and_on_the_dashboard() {
    let a = agent().await;
    let long = "عنا قمصان قطن بألوان كتير حلوة والسعر ١٢.٥٠٠ دينار. ".repeat(40);
    a.llm.script([text(&long)]);
    say(&a, "p1", "شو عندكم؟").await;
    drain(&a).await;
    let parts = sends(&a).len();
    assert!(parts >= 3, "{parts} parts");
    a.llm.script([text("أكيد")]);
    say(&a, "p2", "تمام").await;
    drain(&a).await;
    let msgs = a.llm.chats()[1]["messages"].as_array().unwrap().clone();
    let assistant: Vec<&Value> = msgs.iter().filter(|m| m["role"] == "assistant").collect();
    assert_eq!(assistant.len(), 1, "one reply, one memory slot");
    assert!(
        assistant[0]["content"]
            .as_str()
            .unwrap()
            .matches("والسعر")
            .count()
            == 40
    );
    // The dashboard counts replies, not parts.
    let mut c = a.ta.app.db.app().await.unwrap();
    let tx = shared::db::begin_for_tenant(&mut c, a.tenant)
        .await
        .unwrap();
    let today = shared::dashboard::today_in_amman(&tx).await.unwrap();
    let range = shared::dashboard::DayRange {
        from: today,
        to: today,
    };
    let o = shared::dashboard::overview(&tx, range).await.unwrap();
    assert_eq!(o.ai_replies, 2, "{} parts were sent", parts + 1);
}

#[tokio::test]
async fn the_cacheable_prefix_stays_byte_identical_when_stock_changes() {
    let a = agent().await;
    {
        let c = a.ta.t.db.platform().await.unwrap();
        c.execute(
            "UPDATE profiles SET data = data || '{\"instagram_handle\": \"@jo.shop\", \"returns\": {\"policy\": \"\", \"window_days\": 1}, \"working_hours\": {\"friday\": \"closed\", \"monday\": \"10:00-18:00\", \"saturday\": \"10:00-22:00\", \"sunday\": \"10:00-22:00\"}}'::jsonb",
            &[],
        )
        .await
        .unwrap();
        c.execute(
            "UPDATE business_rules SET rules = jsonb_set(rules, '{delivery_zones,0,delivery_days}', '1')",
            &[],
        )
        .await
        .unwrap();
    }
    a.llm.script([text("أهلين")]);
    say(&a, "c1", "مرحبا").await;
    drain(&a).await;
    // An order elsewhere takes stock.
    {
        let c = a.ta.t.db.platform().await.unwrap();
        c.execute(
            "UPDATE catalog_items SET stock = 1 WHERE sku = 'DRESS-BLUE'",
            &[],
        )
        .await
        .unwrap();
    }
    a.llm.script([text("تمام")]);
    say(&a, "c2", "بدي فستان").await;
    drain(&a).await;
    let (first, second) = (&a.llm.chats()[0], &a.llm.chats()[1]);
    assert_eq!(first["messages"][0], second["messages"][0]);
    assert_eq!(
        first["messages"][1], second["messages"][1],
        "the shop block changed with the stock"
    );
    assert_eq!(first["tools"], second["tools"]);
    assert!(a.llm.prompt_text(1).contains("DRESS-BLUE 1"));
    assert!(a.llm.prompt_text(0).contains("DRESS-BLUE 3"));
    // What the shop block says.
    let shop = first["messages"][1]["content"].as_str().unwrap();
    assert!(
        shop.contains("Instagram: @jo.shop") && !shop.contains("@@"),
        "{shop}"
    );
    assert!(
        shop.contains("Return window: 1 day after delivery."),
        "{shop}"
    );
    assert!(shop.contains("عمّان 2.000 JD (1 day)"), "{shop}");
    assert!(
        shop.contains(
            "saturday 10:00-22:00, sunday 10:00-22:00, monday 10:00-18:00, friday closed"
        ),
        "{shop}"
    );
    assert!(shop.contains("شنتة جلد بنية من أجود الخامات"), "{shop}");
    // Sampling as written.
    assert_eq!(first["temperature"].to_string(), "0.4");
    assert_eq!(first["max_tokens"], 600);
}

#[tokio::test]
async fn a_reasoning_model_gets_max_completion_tokens_and_no_temperature() {
    let a = agent_with(&[("OPENAI_CHAT_MODEL", "gpt-5.4-mini")], 0).await;
    a.llm.script([text("أهلين")]);
    say(&a, "g1", "مرحبا").await;
    drain(&a).await;
    let body = &a.llm.chats()[0];
    assert_eq!(body["max_completion_tokens"], 600, "{body}");
    assert!(
        body.get("max_tokens").is_none() && body.get("temperature").is_none(),
        "{body}"
    );
    // A model that refuses a parameter by name is asked again without it, once.
    let b = agent().await;
    b.llm.script([
        Step::Refuse(400, json!({ "error": { "message": "Unsupported value: 'temperature' does not support 0.4 with this model. Only the default (1) value is supported.", "type": "invalid_request_error", "param": "temperature", "code": "unsupported_value" } })),
        text("هلا"),
        text("هلا مرة ثانية"),
    ]);
    say(&b, "g2", "مرحبا").await;
    drain(&b).await;
    say(&b, "g3", "كيفك").await;
    drain(&b).await;
    let chats = b.llm.chats();
    assert_eq!(chats.len(), 3);
    assert!(chats[0].get("temperature").is_some());
    assert!(chats[1].get("temperature").is_none() && chats[2].get("temperature").is_none());
    assert_eq!(sends(&b).len(), 2);
}

#[tokio::test]
async fn orders_match_city_spellings_and_test_chat_orders_touch_nothing_real() {
    let a = agent().await;
    // "3amman" is the zone عمّان; the order keeps the zone's name.
    let mut args = order_args();
    args["city"] = json!("3amman");
    a.llm
        .script([tool("create_order", args.clone()), text("تم")]);
    say(&a, "z1", "بدي أطلب").await;
    drain(&a).await;
    let o = one(
        &a,
        "SELECT order_number, city, delivery_fee_jod::text AS fee, is_test FROM orders",
    )
    .await;
    assert_eq!(
        o,
        json!({ "order_number": 1001, "city": "عمّان", "fee": "2.000", "is_test": false })
    );
    assert_eq!(
        count(
            &a,
            "SELECT stock::bigint FROM catalog_items WHERE sku = 'DRESS-BLUE'"
        )
        .await,
        1
    );

    // The test chat's order: no stock taken, its own numbers, not in Orders or totals.
    let session =
        shared::sessions::start_merchant_session(&a.ta.app.db, &a.ta.app.keys, a.tenant, None, 1)
            .await
            .unwrap();
    let mut small = order_args();
    small["items"] = json!([{ "sku": "BAG-01", "quantity": 1 }]);
    a.llm
        .script([tool("create_order", small), text("تم الطلب")]);
    let r = warp::test::request()
        .method("POST")
        .path("/api/v1/test-chat")
        .header("cookie", format!("igshop_session={}", session.token))
        .header("x-csrf-token", &session.csrf_token)
        .body(json!({ "message": "بدي الشنتة" }).to_string())
        .reply(&a.ta.service)
        .await;
    assert_eq!(r.status(), 200, "{:?}", r.body());
    let t = one(
        &a,
        "SELECT order_number, is_test FROM orders WHERE source = 'playground'",
    )
    .await;
    assert_eq!(t, json!({ "order_number": 1, "is_test": true }));
    assert_eq!(
        count(
            &a,
            "SELECT stock::bigint FROM catalog_items WHERE sku = 'BAG-01'"
        )
        .await,
        10
    );
    assert_eq!(
        get_json(&a, "/api/v1/orders", &session.token).await["total"],
        1
    );
    let with_tests = get_json(&a, "/api/v1/orders?include_tests=true", &session.token).await;
    assert_eq!(with_tests["total"], 2);
    assert!(with_tests["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["is_test"] == true));
    // The next real order still gets the next shop number.
    let mut bag = order_args();
    bag["items"] = json!([{ "sku": "BAG-01", "quantity": 1 }]);
    a.llm.script([tool("create_order", bag), text("تم")]);
    say(&a, "z2", "وكمان واحد").await;
    drain(&a).await;
    assert_eq!(
        count(&a, "SELECT max(order_number) FROM orders WHERE NOT is_test").await,
        1002
    );
    // Every total leaves it out.
    let mut c = a.ta.app.db.app().await.unwrap();
    let tx = shared::db::begin_for_tenant(&mut c, a.tenant)
        .await
        .unwrap();
    let today = shared::dashboard::today_in_amman(&tx).await.unwrap();
    let o = shared::dashboard::overview(
        &tx,
        shared::dashboard::DayRange {
            from: today,
            to: today,
        },
    )
    .await
    .unwrap();
    assert_eq!(o.revenue_jod.to_string(), "54.000");
}

#[tokio::test]
async fn every_forbidden_field_is_named_at_once_and_order_lines_say_their_status_now() {
    let a = agent().await;
    let mut bad = order_args();
    bad["total_jod"] = json!("1.000");
    bad["items"][0]["unit_price"] = json!(1);
    bad["discount"] = json!("50%");
    a.llm.script([
        tool("create_order", bad),
        tool("create_order", order_args()),
        text("تم"),
    ]);
    say(&a, "s1", "بدي أطلب").await;
    drain(&a).await;
    let refusal = a.llm.tool_answers(1)[0]["error"]
        .as_str()
        .unwrap()
        .to_owned();
    for k in ["total_jod", "items[0].unit_price", "discount"] {
        assert!(refusal.contains(k), "{k} not named: {refusal}");
    }
    // Shipped since: the next turn is told so.
    a.ta.t
        .db
        .platform()
        .await
        .unwrap()
        .execute("UPDATE orders SET status = 'shipped'", &[])
        .await
        .unwrap();
    a.llm.script([text("بالطريق")]);
    say(&a, "s2", "وين طلبي؟").await;
    drain(&a).await;
    let prompt = a.llm.prompt_text(3);
    assert!(
        prompt.contains("created_order #1001") && prompt.contains("its status now: shipped"),
        "{prompt}"
    );
    assert!(!prompt.contains("status pending"), "{prompt}");
}

#[tokio::test]
async fn alerts_and_handoff_reasons_are_message_keys() {
    let a = agent().await;
    a.llm.script([Step::Fail(429, None), Step::Fail(429, None)]);
    say(&a, "k1", "مرحبا").await;
    drain(&a).await;
    let alert = one(
        &a,
        "SELECT message_key, params FROM alerts WHERE kind = 'ai_unavailable'",
    )
    .await;
    assert_eq!(
        alert,
        json!({ "message_key": "ai_unavailable", "params": { "cause": "model_busy" } })
    );
    let handoff = one(
        &a,
        "SELECT message_key, params FROM alerts WHERE kind = 'handoff'",
    )
    .await;
    assert_eq!(handoff["message_key"], "handoff");
    assert_eq!(handoff["params"]["reason_key"], "ai_failed");
    assert_eq!(handoff["params"]["reason_params"]["cause"], "model_busy");
    let conv = one(&a, "SELECT mode_reason_key FROM conversations").await;
    assert_eq!(conv["mode_reason_key"], "ai_failed");
    // The API hands the key and parameters to the web app.
    let session =
        shared::sessions::start_merchant_session(&a.ta.app.db, &a.ta.app.keys, a.tenant, None, 1)
            .await
            .unwrap();
    let r = warp::test::request()
        .path("/api/v1/alerts")
        .header("cookie", format!("igshop_session={}", session.token))
        .reply(&a.ta.service)
        .await;
    let body: Value = serde_json::from_slice(r.body()).unwrap();
    let keys: Vec<&str> = body["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["message_key"].as_str().unwrap())
        .collect();
    assert!(
        keys.contains(&"ai_unavailable") && keys.contains(&"handoff"),
        "{body}"
    );
    // … and the inbox gives the conversation's handoff reason as the same key.
    let r = warp::test::request()
        .path("/api/v1/conversations")
        .header("cookie", format!("igshop_session={}", session.token))
        .reply(&a.ta.service)
        .await;
    let body: Value = serde_json::from_slice(r.body()).unwrap();
    let conv = &body["conversations"][0];
    assert_eq!(conv["handoff_reason_key"], "ai_failed", "{body}");
    assert_eq!(
        conv["handoff_reason_params"]["cause"], "model_busy",
        "{body}"
    );
}

#[tokio::test]
async fn one_dm_is_followed_from_the_webhook_to_the_graph_send() {
    let a = agent().await;
    a.llm.script([text("أهلين")]);
    let trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    webhook_items(
        &a,
        vec![item(json!({ "mid": "tr1", "text": "مرحبا" }))],
        vec![],
        Some(trace),
    )
    .await;
    // The queue message carries the trace …
    let c = a.ta.t.db.platform().await.unwrap();
    let body: Value = c
        .query_one(
            "SELECT body FROM queue_messages ORDER BY id DESC LIMIT 1",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(body["traceparent"], trace);
    drain(&a).await;
    // … and the reply's Graph request is part of it.
    let sent: Vec<_> =
        a.ta.fake
            .requests_to("/messages")
            .into_iter()
            .filter(|r| !r.body.contains("sender_action"))
            .collect();
    assert_eq!(sent.len(), 1);
    let header = sent[0]
        .traceparent
        .as_deref()
        .expect("the send carries a traceparent");
    assert!(
        header.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"),
        "{header}"
    );
    assert_ne!(header, trace, "a child of the webhook's span");
    // Without a host in front, a trace is made up at the webhook.
    a.llm.script([text("هلا")]);
    webhook_items(
        &a,
        vec![item(json!({ "mid": "tr2", "text": "كمان" }))],
        vec![],
        None,
    )
    .await;
    let body: Value = c
        .query_one(
            "SELECT body FROM queue_messages ORDER BY id DESC LIMIT 1",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(
        shared::trace::Traceparent::parse(body["traceparent"].as_str().unwrap()).is_some(),
        "{body}"
    );
}
