//! The nightly job: the GDPR purge removes exactly the text older than 30 days (messages,
//! recorded replies, finished sends) and nothing else; the usage roll-up; licence-expiry
//! warnings; a second run gives the same result; an overlapping run does nothing.

use crate::support::app::{license, test_app, TestApp};
use serde_json::Value;

async fn snapshot(ta: &TestApp) -> Value {
    let c = ta.t.db.platform().await.unwrap();
    let q = |sql: &'static str| {
        let c = &c;
        async move {
            c.query_one(
                &format!(
                    "SELECT coalesce(json_agg(x ORDER BY x::text), '[]')::text FROM ({sql}) x"
                ),
                &[],
            )
            .await
            .unwrap()
            .get::<_, String>(0)
        }
    };
    serde_json::json!({
        "messages": serde_json::from_str::<Value>(&q("SELECT mid, direction, text, attachments, text_purged_at IS NOT NULL AS purged FROM messages").await).unwrap(),
        "turns": serde_json::from_str::<Value>(&q("SELECT status, reply_text FROM agent_turns").await).unwrap(),
        "sends": serde_json::from_str::<Value>(&q("SELECT idempotency_key, payload FROM outbound_messages").await).unwrap(),
        "orders": serde_json::from_str::<Value>(&q("SELECT order_number, total_jod::text, customer_name FROM orders").await).unwrap(),
        "conversations": serde_json::from_str::<Value>(&q("SELECT customer_ig_id, customer_username, last_message_at FROM conversations").await).unwrap(),
        "usage_daily": serde_json::from_str::<Value>(&q("SELECT day, messages_in, ai_replies, handoffs, orders, prompt_tokens, cost_usd::text FROM usage_daily").await).unwrap(),
        "alerts": serde_json::from_str::<Value>(&q("SELECT kind, severity, dedupe_key FROM alerts WHERE acknowledged_at IS NULL").await).unwrap(),
    })
}

#[tokio::test]
async fn the_purge_removes_exactly_the_old_text_and_a_second_run_changes_nothing() {
    let ta = test_app(&[]).await;
    let tenant = ta.t.tenant("jo.shop").await;
    license(&ta, "jo.shop", 1).await; // ends tomorrow: the 1-day warning
    let c = ta.t.db.platform().await.unwrap();
    let conv: uuid::Uuid = c
        .query_one("INSERT INTO conversations (tenant_id, customer_ig_id, customer_username, last_message_at) VALUES ($1, 'igsid', 'layla', now() - interval '31 days') RETURNING id", &[&tenant.as_uuid()])
        .await
        .unwrap()
        .get(0);
    c.batch_execute(&format!(
        "INSERT INTO messages (tenant_id, conversation_id, direction, author, mid, text, attachments, sent_at) VALUES
           ('{tenant}', '{conv}', 'inbound', 'customer', 'old-in', 'رقمي 0791234567', '[{{\"type\":\"image\",\"url\":\"https://x\"}}]', now() - interval '31 days'),
           ('{tenant}', '{conv}', 'outbound', 'ai', 'old-out', 'تم الطلب', '[]', now() - interval '30 days 1 minute'),
           ('{tenant}', '{conv}', 'inbound', 'customer', 'edge', 'بعد ٢٩ يوم', '[]', now() - interval '29 days 23 hours'),
           ('{tenant}', '{conv}', 'inbound', 'customer', 'new', 'مرحبا', '[]', now() - interval '1 hour');
         INSERT INTO agent_turns (tenant_id, conversation_id, status, reply_text, started_at) VALUES
           ('{tenant}', '{conv}', 'replied', 'تم الطلب', now() - interval '31 days'),
           ('{tenant}', '{conv}', 'replied', 'أهلا', now() - interval '1 hour');
         INSERT INTO outbound_messages (tenant_id, conversation_id, idempotency_key, kind, payload, status, created_at) VALUES
           ('{tenant}', '{conv}', 'old', 'text', '{{\"text\":\"تم الطلب\"}}', 'sent', now() - interval '31 days'),
           ('{tenant}', '{conv}', 'new', 'text', '{{\"text\":\"أهلا\"}}', 'sent', now() - interval '1 hour');
         INSERT INTO orders (tenant_id, order_number, conversation_id, customer_name, subtotal_jod, total_jod, created_at) VALUES
           ('{tenant}', 1, '{conv}', 'ليلى', 10, 12, now() - interval '31 days');
         INSERT INTO usage_events (tenant_id, kind, provider, model, prompt_tokens, cost_usd, created_at) VALUES
           ('{tenant}', 'chat', 'openai', 'gpt-4o-mini', 100, 0.5, now() - interval '2 days'),
           ('{tenant}', 'chat', 'openai', 'gpt-4o-mini', 300, 1.5, now() - interval '2 days');"
    ))
    .await
    .unwrap();
    let before = snapshot(&ta).await;

    let report = shared::jobs::nightly(&ta.app).await.unwrap();
    let text = report.lines.join("\n");
    assert!(
        text.contains("text of 2 messages, 1 recorded replies, 1 sent payloads"),
        "{text}"
    );
    let after = snapshot(&ta).await;

    // Exactly the two old messages lost their text and attachments; the rows stay.
    let msgs = after["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 4);
    for m in msgs {
        let old = m["mid"] == "old-in" || m["mid"] == "old-out";
        assert_eq!(m["purged"], old, "{m}");
        assert_eq!(m["text"].is_null(), old, "{m}");
        if old {
            assert_eq!(m["attachments"], serde_json::json!([]));
        }
    }
    let before_texts: Vec<&Value> = before["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["mid"] == "edge" || m["mid"] == "new")
        .collect();
    let after_texts: Vec<&Value> = msgs
        .iter()
        .filter(|m| m["mid"] == "edge" || m["mid"] == "new")
        .collect();
    assert_eq!(before_texts, after_texts, "newer text untouched");
    assert!(after["turns"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["reply_text"] == "أهلا"));
    assert_eq!(
        after["turns"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["reply_text"].is_null())
            .count(),
        1
    );
    assert!(after["sends"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["idempotency_key"] == "old" && s["payload"] == serde_json::json!({})));
    assert!(after["sends"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["idempotency_key"] == "new" && s["payload"]["text"] == "أهلا"));
    // Orders and conversation metadata stay as they were.
    assert_eq!(before["orders"], after["orders"]);
    assert_eq!(before["conversations"], after["conversations"]);
    // The roll-up: two usage events on one day, messages and orders on theirs.
    let days = after["usage_daily"].as_array().unwrap();
    assert!(
        days.iter()
            .any(|d| d["prompt_tokens"] == 400 && d["cost_usd"] == "2.000000"),
        "{days:?}"
    );
    assert_eq!(
        days.iter()
            .map(|d| d["messages_in"].as_i64().unwrap())
            .sum::<i64>(),
        3
    );
    assert_eq!(
        days.iter()
            .map(|d| d["orders"].as_i64().unwrap())
            .sum::<i64>(),
        1
    );
    // The licence ends tomorrow: one critical warning for the merchant.
    let alerts = after["alerts"].as_array().unwrap();
    assert_eq!(
        alerts
            .iter()
            .filter(|a| a["kind"] == "licence_expiring")
            .count(),
        1,
        "{alerts:?}"
    );

    // Twice: the same result.
    let again = shared::jobs::nightly(&ta.app).await.unwrap();
    assert!(
        again
            .lines
            .join("\n")
            .contains("text of 0 messages, 0 recorded replies, 0 sent payloads"),
        "{:?}",
        again.lines
    );
    assert_eq!(snapshot(&ta).await, after);

    // Overlapping: while another run holds the lock, this one does nothing.
    let other = ta.t.db.platform().await.unwrap();
    other
        .execute(
            "SELECT pg_advisory_lock($1)",
            &[&shared::jobs::nightly::NIGHTLY_LOCK_KEY],
        )
        .await
        .unwrap();
    c.execute("INSERT INTO messages (tenant_id, conversation_id, direction, author, mid, text, sent_at) VALUES ($1, $2, 'inbound', 'customer', 'late', 'x', now() - interval '40 days')", &[&tenant.as_uuid(), &conv]).await.unwrap();
    let skipped = shared::jobs::nightly(&ta.app).await.unwrap();
    assert!(
        skipped.lines[0].contains("in progress"),
        "{:?}",
        skipped.lines
    );
    let late: Option<String> = c
        .query_one("SELECT text FROM messages WHERE mid = 'late'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(late.as_deref(), Some("x"));
    other
        .execute(
            "SELECT pg_advisory_unlock($1)",
            &[&shared::jobs::nightly::NIGHTLY_LOCK_KEY],
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn the_purge_works_in_bounded_batches() {
    let ta = test_app(&[]).await;
    let tenant = ta.t.tenant("batch.shop").await;
    let c = ta.t.db.platform().await.unwrap();
    let conv: uuid::Uuid = c
        .query_one("INSERT INTO conversations (tenant_id, customer_ig_id) VALUES ($1, 'igsid') RETURNING id", &[&tenant.as_uuid()])
        .await
        .unwrap()
        .get(0);
    c.execute(
        "INSERT INTO messages (tenant_id, conversation_id, direction, author, text, sent_at)
         SELECT $1, $2, 'inbound', 'customer', 'old ' || i, now() - interval '40 days' FROM generate_series(1, 25) i",
        &[&tenant.as_uuid(), &conv],
    )
    .await
    .unwrap();
    let cutoff = chrono::Utc::now() - chrono::Duration::days(30);
    let r = shared::jobs::nightly::purge_message_text(&ta.app, cutoff, 10)
        .await
        .unwrap();
    assert_eq!((r.messages, r.batches), (25, 3));
    let left: i64 = c
        .query_one("SELECT count(*) FROM messages WHERE text IS NOT NULL", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 0);
}
