//! The webhook: handshake, signatures, every event kind, deduplication, echoes, batches.

use crate::support::app::{connect_shop, test_app, TestApp, IG_SECRET, META_SECRET, VERIFY_TOKEN};
use crate::support::fake_instagram::ACCOUNT_ID;
use secrecy::SecretString;
use serde_json::{json, Value};
use shared::instagram::signature::sign_webhook_body;
use shared::tenants::TenantId;

async fn connected_shop(ta: &TestApp) -> TenantId {
    connect_shop(ta, 50).await
}

fn sign(body: &str, secret: &str) -> String {
    sign_webhook_body(body.as_bytes(), &SecretString::from(secret.to_owned()))
}

async fn post(
    ta: &TestApp,
    body: &str,
    signature: Option<&str>,
) -> warp::http::Response<bytes::Bytes> {
    let mut req = warp::test::request()
        .method("POST")
        .path("/api/instagram/webhook")
        .body(body.to_owned());
    if let Some(s) = signature {
        req = req.header("x-hub-signature-256", s);
    }
    req.reply(&ta.service).await
}

async fn count(ta: &TestApp, sql: &str) -> i64 {
    ta.t.db
        .platform()
        .await
        .unwrap()
        .query_one(sql, &[])
        .await
        .unwrap()
        .get(0)
}

fn text_event(customer: &str, mid: &str, text: &str, ts: i64) -> Value {
    json!({ "sender": { "id": customer }, "recipient": { "id": ACCOUNT_ID }, "timestamp": ts, "message": { "mid": mid, "text": text } })
}

fn batch(messaging: Vec<Value>) -> String {
    json!({ "object": "instagram", "entry": [{ "id": ACCOUNT_ID, "time": 1_763_900_000_000i64, "messaging": messaging }] }).to_string()
}

#[tokio::test]
async fn the_verification_handshake_answers_only_the_right_token() {
    let ta = test_app(&[]).await;
    let ok = warp::test::request()
        .path(&format!("/api/instagram/webhook?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1158201444"))
        .reply(&ta.service)
        .await;
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.body(), "1158201444");
    for q in [
        "hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1",
        "hub.mode=unsubscribe&hub.verify_token=test-verify-token&hub.challenge=1",
        "",
    ] {
        let r = warp::test::request()
            .path(&format!("/api/instagram/webhook?{q}"))
            .reply(&ta.service)
            .await;
        assert_eq!(r.status(), 403, "{q}");
    }
}

#[tokio::test]
async fn signatures_are_checked_on_the_raw_bytes_with_either_secret() {
    let ta = test_app(&[]).await;
    connected_shop(&ta).await;
    let body = batch(vec![text_event(
        "cust-1",
        "mid-sig-1",
        "مرحبا",
        1_763_900_000_000,
    )]);
    let mut tampered = body.clone().into_bytes();
    let i = tampered.iter().position(|b| *b == b'1').unwrap();
    tampered[i] = b'2';
    let tampered = String::from_utf8(tampered).unwrap();
    let good = sign(&body, IG_SECRET);
    let refused = [
        (body.clone(), None),
        (body.clone(), Some(sign(&body, "someone-else"))),
        (body.clone(), Some(good.replace("sha256=", "sha1="))),
        (body.clone(), Some("sha256=zz".to_string())),
        (tampered, Some(good.clone())),
    ];
    for (b, s) in refused {
        let r = post(&ta, &b, s.as_deref()).await;
        assert_eq!(r.status(), 401, "{s:?}");
    }
    assert_eq!(
        count(&ta, "SELECT count(*) FROM messages").await,
        0,
        "a refused webhook stored something"
    );
    assert_eq!(post(&ta, &body, Some(&good)).await.status(), 200);
    let second = batch(vec![text_event(
        "cust-1",
        "mid-sig-2",
        "hi",
        1_763_900_000_500,
    )]);
    assert_eq!(
        post(&ta, &second, Some(&sign(&second, META_SECRET)))
            .await
            .status(),
        200,
        "the Meta app secret signs too"
    );
    assert_eq!(count(&ta, "SELECT count(*) FROM messages").await, 2);
}

#[tokio::test]
async fn the_same_batch_twice_stores_one_message_and_one_queue_message() {
    let ta = test_app(&[]).await;
    connected_shop(&ta).await;
    let body = batch(vec![
        text_event("cust-7", "mid-a", "بدي أسأل عن القميص", 1_763_900_000_000),
        text_event("cust-7", "mid-b", "قديش سعره؟", 1_763_900_001_000),
    ]);
    let sig = sign(&body, IG_SECRET);
    for _ in 0..2 {
        assert_eq!(post(&ta, &body, Some(&sig)).await.status(), 200);
    }
    assert_eq!(count(&ta, "SELECT count(*) FROM messages").await, 2);
    assert_eq!(
        count(&ta, "SELECT count(*) FROM queue_messages").await,
        1,
        "one turn for the conversation"
    );
    let p = ta.t.db.platform().await.unwrap();
    let row = p
        .query_one("SELECT body, message_id FROM queue_messages", &[])
        .await
        .unwrap();
    let body: Value = row.get(0);
    assert_eq!(body["kind"], "conversation_turn");
    assert!(
        row.get::<_, String>(1).ends_with(":mid-b"),
        "keyed by the latest message"
    );
    let conv = p
        .query_one(
            "SELECT unread_count, last_customer_message_at IS NOT NULL FROM conversations",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(conv.get::<_, i32>(0), 2);
    assert!(conv.get::<_, bool>(1));
}

#[tokio::test]
async fn a_thousand_event_batch_is_stored_in_one_go() {
    let ta = test_app(&[]).await;
    connected_shop(&ta).await;
    let events: Vec<Value> = (0..1000)
        .map(|i| {
            text_event(
                &format!("cust-{}", i % 50),
                &format!("mid-bulk-{i}"),
                &format!("رسالة رقم {i}"),
                1_763_900_000_000 + i,
            )
        })
        .collect();
    let body = batch(events);
    let r = post(&ta, &body, Some(&sign(&body, IG_SECRET))).await;
    assert_eq!(r.status(), 200);
    assert_eq!(count(&ta, "SELECT count(*) FROM messages").await, 1000);
    assert_eq!(count(&ta, "SELECT count(*) FROM conversations").await, 50);
    assert_eq!(count(&ta, "SELECT count(*) FROM queue_messages").await, 50);
}

#[tokio::test]
async fn every_event_kind_is_recorded() {
    let ta = test_app(&[]).await;
    connected_shop(&ta).await;
    let t0 = 1_763_900_000_000i64;
    let messaging = vec![
        text_event("c-text", "m-text", "شو عندكم؟", t0),
        json!({ "sender": {"id": "c-img"}, "recipient": {"id": ACCOUNT_ID}, "timestamp": t0 + 1,
                "message": { "mid": "m-img", "attachments": [{ "type": "image", "payload": { "url": "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1" } }] } }),
        json!({ "sender": {"id": "c-story"}, "recipient": {"id": ACCOUNT_ID}, "timestamp": t0 + 2,
                "message": { "mid": "m-story", "text": "حلو كتير", "reply_to": { "story": { "url": "https://cdn/story.jpg", "id": "1799" } } } }),
        json!({ "sender": {"id": "c-text"}, "recipient": {"id": ACCOUNT_ID}, "timestamp": t0 + 3,
                "reaction": { "mid": "m-text", "action": "react", "reaction": "love", "emoji": "❤️" } }),
        json!({ "sender": {"id": "c-text"}, "recipient": {"id": ACCOUNT_ID}, "timestamp": t0 + 4, "read": { "mid": "m_sent_1" } }),
        json!({ "sender": {"id": "c-post"}, "recipient": {"id": ACCOUNT_ID}, "timestamp": t0 + 5,
                "postback": { "mid": "m-post", "title": "اطلب هذا", "payload": "ORDER:SKU-1" } }),
        json!({ "sender": {"id": "c-text"}, "recipient": {"id": ACCOUNT_ID}, "timestamp": t0 + 6,
                "message_edit": { "mid": "m-text", "text": "شو عندكم اليوم؟", "num_edit": 1 } }),
        json!({ "sender": {"id": "c-img"}, "recipient": {"id": ACCOUNT_ID}, "timestamp": t0 + 7, "message": { "mid": "m-img", "is_deleted": true } }),
        json!({ "sender": {"id": "c-x"}, "recipient": {"id": ACCOUNT_ID}, "timestamp": t0 + 8, "something_new": { "x": 1 } }),
    ];
    let body = json!({ "object": "instagram", "entry": [
        { "id": ACCOUNT_ID, "time": t0, "messaging": messaging },
        { "id": ACCOUNT_ID, "time": t0, "standby": [ text_event("c-standby", "m-standby", "hello from standby", t0 + 9) ] },
        { "id": ACCOUNT_ID, "time": t0, "changes": [ { "field": "messages", "value": { "sender": {"id": "c-change"}, "recipient": {"id": ACCOUNT_ID}, "timestamp": "1763900000", "message": { "mid": "m-change", "text": "test event" } } } ] }
    ] })
    .to_string();
    let r = post(&ta, &body, Some(&sign(&body, IG_SECRET))).await;
    assert_eq!(r.status(), 200);

    let p = ta.t.db.platform().await.unwrap();
    let text = |mid: &'static str| {
        let p = &p;
        async move {
            p.query_one("SELECT text FROM messages WHERE mid = $1", &[&mid])
                .await
                .unwrap()
                .get::<_, Option<String>>(0)
        }
    };
    assert_eq!(
        text("m-text").await.as_deref(),
        Some("شو عندكم اليوم؟"),
        "the edit applied"
    );
    assert_eq!(
        text("m-img").await,
        None,
        "the unsent message lost its content"
    );
    let deleted: bool = p
        .query_one(
            "SELECT deleted_at IS NOT NULL FROM messages WHERE mid = 'm-img'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(deleted);
    let story: Value = p
        .query_one("SELECT reply_to FROM messages WHERE mid = 'm-story'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(story["story"]["url"], "https://cdn/story.jpg");
    assert_eq!(text("m-post").await.as_deref(), Some("اطلب هذا"));
    assert_eq!(
        text("m-standby").await.as_deref(),
        Some("hello from standby")
    );
    assert_eq!(text("m-change").await.as_deref(), Some("test event"));
    let kinds: Vec<String> = p
        .query("SELECT kind FROM inbound_events ORDER BY kind", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(kinds, vec!["deleted", "edit", "reaction", "read"]);
    // The same again changes nothing.
    let before = count(&ta, "SELECT count(*) FROM inbound_events").await;
    post(&ta, &body, Some(&sign(&body, IG_SECRET))).await;
    assert_eq!(
        count(&ta, "SELECT count(*) FROM inbound_events").await,
        before
    );
    assert_eq!(count(&ta, "SELECT count(*) FROM messages").await, 6);
}

#[tokio::test]
async fn echoes_of_our_sends_are_recognised_and_a_human_reply_pauses_the_ai() {
    let ta = test_app(&[]).await;
    let tenant = connected_shop(&ta).await;
    let t0 = 1_763_900_000_000i64;
    let first = batch(vec![
        text_event("c-1", "m-in-1", "مرحبا", t0),
        text_event("c-2", "m-in-2", "hello", t0),
    ]);
    post(&ta, &first, Some(&sign(&first, IG_SECRET))).await;
    let p = ta.t.db.platform().await.unwrap();
    let conv1: uuid::Uuid = p
        .query_one(
            "SELECT id FROM conversations WHERE customer_ig_id = 'c-1'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    // One send recorded with its mid, one still waiting for the API's answer (no mid yet).
    p.execute(
        "INSERT INTO outbound_messages (tenant_id, conversation_id, idempotency_key, kind, payload, status, mid)
         VALUES ($1, $2, 'k1', 'text', '{\"text\":\"أهلين!\"}', 'sent', 'm-ours-1'),
                ($1, $2, 'k2', 'text', '{\"text\":\"شو بتحب تطلب؟\"}', 'sending', NULL)",
        &[&tenant.as_uuid(), &conv1],
    )
    .await
    .unwrap();
    p.execute(
        "UPDATE outbound_messages SET attempt_started_at = to_timestamp($1::float8 / 1000) WHERE idempotency_key = 'k2'",
        &[&(t0 as f64)],
    )
    .await
    .unwrap();
    let echo = |customer: &str, mid: &str, text: &str| json!({ "sender": {"id": ACCOUNT_ID}, "recipient": {"id": customer}, "timestamp": t0 + 10, "message": { "mid": mid, "text": text, "is_echo": true } });
    let echoes = batch(vec![
        echo("c-1", "m-ours-1", "أهلين!"),
        echo("c-1", "m-ours-2", "شو بتحب تطلب؟"),
    ]);
    assert_eq!(
        post(&ta, &echoes, Some(&sign(&echoes, IG_SECRET)))
            .await
            .status(),
        200
    );
    let mode: String = p
        .query_one("SELECT mode FROM conversations WHERE id = $1", &[&conv1])
        .await
        .unwrap()
        .get(0);
    assert_eq!(mode, "ai", "our own echoes must not pause the AI");
    let mid: Option<String> = p
        .query_one(
            "SELECT mid FROM outbound_messages WHERE idempotency_key = 'k2'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        mid.as_deref(),
        Some("m-ours-2"),
        "the early echo was matched to the pending send"
    );

    // The shop owner answers c-2 from the Instagram app.
    let human = batch(vec![echo("c-2", "m-human-1", "أنا صاحب المحل، بخدمك هلأ")]);
    post(&ta, &human, Some(&sign(&human, IG_SECRET))).await;
    let row = p
        .query_one(
            "SELECT mode, mode_reason FROM conversations WHERE customer_ig_id = 'c-2'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "human");
    assert!(row.get::<_, String>(1).contains("Instagram app"));
    let author: String = p
        .query_one("SELECT author FROM messages WHERE mid = 'm-human-1'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(author, "merchant_app");
    // A new customer message in a human-mode conversation queues no AI turn.
    let before = count(
        &ta,
        "SELECT count(*) FROM queue_messages WHERE message_id LIKE '%m-in-3'",
    )
    .await;
    let more = batch(vec![text_event("c-2", "m-in-3", "تمام", t0 + 20)]);
    post(&ta, &more, Some(&sign(&more, IG_SECRET))).await;
    assert_eq!(
        count(
            &ta,
            "SELECT count(*) FROM queue_messages WHERE message_id LIKE '%m-in-3'"
        )
        .await,
        before
    );
}

/// An echo is matched by its mid when the send's answer gave one, otherwise only to a part
/// whose outcome is unknown (same recipient, same text, attempt in the window) — never to an
/// older part of the same text waiting for a retry — and one mid never goes to two parts. A
/// part confirmed by its echo is sent: in the history, and no sweep touches it again.
#[tokio::test]
async fn an_echo_settles_exactly_the_send_whose_outcome_is_unknown() {
    let ta = test_app(&[
        ("INSTAGRAM_TIMEOUT_SECS", "1"),
        // Longer than a call waits: the part stays unknown until its echo.
        ("INSTAGRAM_ECHO_WAIT_MS", "60000"),
    ])
    .await;
    let tenant = connected_shop(&ta).await;
    let now = chrono::Utc::now().timestamp_millis();
    let hello = batch(vec![text_event("c-9", "m-in-9", "مرحبا", now)]);
    assert_eq!(
        post(&ta, &hello, Some(&sign(&hello, IG_SECRET)))
            .await
            .status(),
        200
    );
    let p = ta.t.db.platform().await.unwrap();
    let conv: uuid::Uuid = p
        .query_one(
            "SELECT id FROM conversations WHERE customer_ig_id = 'c-9'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let to = shared::instagram::outbound::Recipient {
        tenant,
        conversation: conv,
        customer_igsid: "c-9".into(),
    };
    // An older reply of the same words is rate limited (waits for the sweeper, never reached
    // Instagram)…
    ta.fake.script(
        "POST /messages",
        400,
        json!({ "error": { "message": "slow down", "code": 4 } }),
    );
    let first = shared::instagram::outbound::send_text(&ta.app, &to, "reply:a", "تمام 👍", "ai")
        .await
        .unwrap();
    assert!(
        matches!(
            first,
            shared::instagram::outbound::SendOutcome::RetryLater { .. }
        ),
        "{first:?}"
    );
    // …and a newer one is delivered, but its answer comes after the client's timeout.
    ta.fake
        .slow_next_sends(1, std::time::Duration::from_millis(2500));
    let second = shared::instagram::outbound::send_text(&ta.app, &to, "reply:b", "تمام 👍", "ai")
        .await
        .unwrap();
    assert!(
        matches!(
            second,
            shared::instagram::outbound::SendOutcome::RetryLater { .. }
        ),
        "{second:?}"
    );
    let delivered = ta.fake.delivered();
    assert_eq!(delivered.len(), 1);
    let row = |key: &'static str| {
        let p = &p;
        async move {
            let r = p
                .query_one(
                    "SELECT status, mid FROM outbound_messages WHERE idempotency_key = $1",
                    &[&key],
                )
                .await
                .unwrap();
            (r.get::<_, String>(0), r.get::<_, Option<String>>(1))
        }
    };
    assert_eq!(
        row("reply:b").await,
        ("sending".to_owned(), None),
        "outcome unknown"
    );

    // The echo, delivered twice as Meta does.
    let echo = batch(vec![ta.fake.echo_event(&delivered[0])]);
    for _ in 0..2 {
        assert_eq!(
            post(&ta, &echo, Some(&sign(&echo, IG_SECRET)))
                .await
                .status(),
            200
        );
    }
    assert_eq!(
        row("reply:b").await,
        ("sent".to_owned(), Some(delivered[0].mid.clone()))
    );
    assert_eq!(
        row("reply:a").await,
        ("pending".to_owned(), None),
        "the older part is not the echo's"
    );
    assert_eq!(
        count(
            &ta,
            "SELECT count(*) FROM messages WHERE author = 'ai' AND text = 'تمام 👍'"
        )
        .await,
        1,
        "the confirmed part is in the conversation's history"
    );
    let mode: String = p
        .query_one("SELECT mode FROM conversations WHERE id = $1", &[&conv])
        .await
        .unwrap()
        .get(0);
    assert_eq!(mode, "ai", "our own echo is no human takeover");
    // A second part can never take the same mid.
    let dup = p
        .execute(
            "UPDATE outbound_messages SET mid = $1 WHERE idempotency_key = 'reply:a'",
            &[&delivered[0].mid],
        )
        .await;
    assert!(dup.is_err(), "one mid on two parts");

    // The sweeper sends the waiting part once and counts only that; the confirmed part is
    // never picked again.
    p.execute("UPDATE outbound_messages SET next_attempt_at = now() - interval '1 second' WHERE status <> 'sent'", &[])
        .await
        .unwrap();
    let report = shared::instagram::outbound::retry_due(&ta.app, 100)
        .await
        .unwrap();
    assert_eq!(
        (
            report.sent,
            report.confirmed,
            report.retrying,
            report.failed
        ),
        (1, 0, 0, 0),
        "{report:?}"
    );
    assert_eq!(
        shared::instagram::outbound::retry_due(&ta.app, 100)
            .await
            .unwrap(),
        Default::default()
    );
    assert_eq!(ta.fake.delivered().len(), 2, "each part delivered once");
    assert_eq!(
        count(
            &ta,
            "SELECT count(*) FROM outbound_messages WHERE status <> 'sent'"
        )
        .await,
        0
    );
}

/// One event that cannot be stored (a NUL in its text, which Postgres refuses) does not fail
/// its batch: the other customer's message is stored and queued, the bad one is kept raw
/// with its error and an alert, and Meta gets 200 (no retry storm).
#[tokio::test]
async fn a_poison_event_does_not_fail_its_batch() {
    let ta = test_app(&[]).await;
    connected_shop(&ta).await;
    let now = chrono::Utc::now().timestamp_millis();
    let body = batch(vec![
        text_event("c-bad", "m-bad-1", "bad\u{0000}text", now),
        text_event("c-good", "m-good-1", "عندكم فستان أزرق؟", now + 1),
    ]);
    for _ in 0..2 {
        let r = post(&ta, &body, Some(&sign(&body, IG_SECRET))).await;
        assert_eq!(r.status(), 200, "{:?}", r.body());
    }
    assert_eq!(
        count(&ta, "SELECT count(*) FROM messages WHERE mid = 'm-good-1'").await,
        1
    );
    assert_eq!(
        count(
            &ta,
            "SELECT count(*) FROM queue_messages WHERE message_id LIKE '%m-good-1'"
        )
        .await,
        1
    );
    assert_eq!(
        count(&ta, "SELECT count(*) FROM messages WHERE mid = 'm-bad-1'").await,
        0
    );
    assert_eq!(
        count(&ta, "SELECT count(*) FROM inbound_events WHERE kind = 'failed' AND payload->>'event' LIKE '%m-bad-1%' AND payload->>'error' <> ''").await,
        1,
        "kept raw, once, with its error"
    );
    assert_eq!(
        count(
            &ta,
            "SELECT count(*) FROM alerts WHERE kind = 'webhook_event_failed'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn unknown_accounts_are_answered_and_ignored_and_bad_bodies_refused() {
    let ta = test_app(&[]).await;
    let body = json!({ "object": "instagram", "entry": [{ "id": "999", "time": 1, "messaging": [text_event("c", "m-x", "hi", 1_763_900_000_000)] }] }).to_string();
    assert_eq!(
        post(&ta, &body, Some(&sign(&body, IG_SECRET)))
            .await
            .status(),
        200
    );
    assert_eq!(count(&ta, "SELECT count(*) FROM messages").await, 0);
    let not_json = "{{{";
    assert_eq!(
        post(&ta, not_json, Some(&sign(not_json, IG_SECRET)))
            .await
            .status(),
        400
    );
    let page = json!({ "object": "page", "entry": [] }).to_string();
    assert_eq!(
        post(&ta, &page, Some(&sign(&page, IG_SECRET)))
            .await
            .status(),
        400
    );
    let huge = "x".repeat(5 * 1024 * 1024);
    assert_eq!(
        post(&ta, &huge, Some(&sign(&huge, IG_SECRET)))
            .await
            .status(),
        413
    );
}
