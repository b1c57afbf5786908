//! Sending exactly once with error classes, the token lifecycle, Meta's callbacks and resync.

use crate::support::app::{test_app, TestApp, IG_SECRET};
use crate::support::fake_instagram::ACCOUNT_ID;
use secrecy::SecretString;
use serde_json::{json, Value};
use shared::instagram::graph::ErrorClass;
use shared::instagram::outbound::{send_text, Recipient, SendOutcome};
use shared::instagram::signed_request::make_signed_request;
use shared::tenants::{InstagramHandle, TenantId};

async fn shop_with_customer(
    ta: &TestApp,
    token_age_days: i64,
    expires_in_days: i64,
) -> (TenantId, Recipient) {
    let (tenant, _) = shared::tenants::upsert_for_instagram_account(
        &ta.app.db,
        ACCOUNT_ID,
        &InstagramHandle::parse("jo.shop").unwrap(),
    )
    .await
    .unwrap();
    let mut c = ta.app.db.app().await.unwrap();
    let tx = shared::db::begin_for_tenant(&mut c, tenant).await.unwrap();
    shared::instagram::tokens::store(
        &tx,
        &ta.app.keys,
        tenant,
        ACCOUNT_ID,
        &SecretString::from("IGAA-test-token".to_owned()),
        chrono::Utc::now() + chrono::Duration::days(expires_in_days),
        &[],
    )
    .await
    .unwrap();
    tx.execute(
        "UPDATE meta_tokens SET obtained_at = now() - make_interval(days => $1::int)",
        &[&(token_age_days as i32)],
    )
    .await
    .unwrap();
    let conv: uuid::Uuid = tx
        .query_one("INSERT INTO conversations (tenant_id, customer_ig_id) VALUES ($1, 'cust-42') RETURNING id", &[&tenant.as_uuid()])
        .await
        .unwrap()
        .get(0);
    tx.commit().await.unwrap();
    (
        tenant,
        Recipient {
            tenant,
            conversation: conv,
            customer_igsid: "cust-42".into(),
        },
    )
}

async fn one<T: tokio_postgres::types::FromSqlOwned>(ta: &TestApp, sql: &str) -> T {
    ta.t.db
        .platform()
        .await
        .unwrap()
        .query_one(sql, &[])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn a_long_arabic_reply_is_split_sent_once_and_recorded() {
    let ta = test_app(&[]).await;
    let (_, to) = shop_with_customer(&ta, 1, 50).await;
    let sentence = "أهلين فيك! عنا قمصان قطن بألوان كتير حلوة، والسعر ١٢.٥٠٠ دينار. 😍👨‍👩‍👧 ";
    let text = sentence.repeat(30);
    assert!(text.len() > 3000);
    let first = send_text(&ta.app, &to, "turn-1:reply", &text, "ai")
        .await
        .unwrap();
    let SendOutcome::Sent { mids, already } = first else {
        panic!("{first:?}")
    };
    assert_eq!(already, 0);
    let sends = ta.fake.requests_to("/messages");
    assert_eq!(sends.len(), mids.len());
    assert!(sends.len() >= 4);
    let mut rebuilt = String::new();
    for s in &sends {
        assert_eq!(s.authorization.as_deref(), Some("Bearer IGAA-test-token"));
        let body: Value = serde_json::from_str(&s.body).unwrap();
        let part = body["message"]["text"].as_str().unwrap();
        assert!(part.len() <= 1000, "a part of {} bytes", part.len());
        rebuilt.push_str(part);
        assert_eq!(body["recipient"]["id"], "cust-42");
    }
    assert_eq!(
        rebuilt.replace(' ', ""),
        text.replace(' ', ""),
        "nothing lost or cut inside a character"
    );
    // A retried turn sends nothing again.
    let again = send_text(&ta.app, &to, "turn-1:reply", &text, "ai")
        .await
        .unwrap();
    assert!(
        matches!(again, SendOutcome::Sent { already, .. } if already == mids.len()),
        "{again:?}"
    );
    assert_eq!(ta.fake.requests_to("/messages").len(), sends.len());
    assert_eq!(
        one::<i64>(&ta, "SELECT count(*) FROM messages WHERE author = 'ai'").await,
        mids.len() as i64
    );
    assert_eq!(
        one::<i64>(
            &ta,
            "SELECT count(*) FROM outbound_messages WHERE status = 'sent'"
        )
        .await,
        mids.len() as i64
    );
}

#[tokio::test]
async fn each_error_class_is_handled_as_instagram_means_it() {
    let ta = test_app(&[]).await;
    let (_, to) = shop_with_customer(&ta, 1, 50).await;
    let err = |code: i64, sub: Option<i64>| json!({ "error": { "message": "x", "type": "OAuthException", "code": code, "error_subcode": sub, "fbtrace_id": "t" } });

    ta.fake
        .script("POST /messages", 400, err(10, Some(2534022)));
    let r = send_text(&ta.app, &to, "k-window", "hi", "ai")
        .await
        .unwrap();
    assert!(
        matches!(
            r,
            SendOutcome::Refused {
                class: ErrorClass::OutsideWindow,
                ..
            }
        ),
        "{r:?}"
    );
    let again = send_text(&ta.app, &to, "k-window", "hi", "ai")
        .await
        .unwrap();
    assert!(
        matches!(again, SendOutcome::Refused { .. }),
        "a refused send is not retried: {again:?}"
    );

    ta.fake.script("POST /messages", 400, err(551, None));
    assert!(matches!(
        send_text(&ta.app, &to, "k-gone", "hi", "ai").await.unwrap(),
        SendOutcome::Refused {
            class: ErrorClass::UserUnavailable,
            ..
        }
    ));

    ta.fake.script("POST /messages", 400, err(4, None));
    let limited = send_text(&ta.app, &to, "k-rate", "hi", "ai").await.unwrap();
    assert!(
        matches!(limited, SendOutcome::RetryLater { .. }),
        "{limited:?}"
    );
    // The retry goes through, once.
    assert!(matches!(
        send_text(&ta.app, &to, "k-rate", "hi", "ai").await.unwrap(),
        SendOutcome::Sent { already: 0, .. }
    ));

    // A passing failure (5xx) is retried within the call, after a short back-off: the
    // customer gets the part now, once.
    ta.fake.script(
        "POST /messages",
        500,
        json!({ "error": { "message": "oops", "code": 2 } }),
    );
    let before = ta.fake.delivered().len();
    let temp = send_text(&ta.app, &to, "k-temp", "hi again", "ai")
        .await
        .unwrap();
    assert!(
        matches!(temp, SendOutcome::Sent { already: 0, .. }),
        "{temp:?}"
    );
    assert_eq!(ta.fake.delivered().len(), before + 1);
    assert_eq!(
        one::<i32>(
            &ta,
            "SELECT attempts FROM outbound_messages WHERE idempotency_key = 'k-temp'"
        )
        .await,
        2
    );

    ta.fake.script("POST /messages", 401, err(190, None));
    assert!(matches!(
        send_text(&ta.app, &to, "k-token", "hi", "ai")
            .await
            .unwrap(),
        SendOutcome::Refused {
            class: ErrorClass::InvalidToken,
            ..
        }
    ));
    assert_eq!(
        one::<String>(&ta, "SELECT status FROM tenants").await,
        "reconnect_needed"
    );
    assert_eq!(
        one::<i64>(
            &ta,
            "SELECT count(*) FROM alerts WHERE kind = 'instagram_reconnect_needed'"
        )
        .await,
        1
    );
    let errors: Vec<String> =
        ta.t.db
            .platform()
            .await
            .unwrap()
            .query(
                "SELECT coalesce(last_error, '') FROM outbound_messages",
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
    assert!(
        errors.iter().all(|e| !e.contains("IGAA-test-token")),
        "a token reached the error log: {errors:?}"
    );
}

/// Instagram delivers the part but answers after the client's timeout: the outcome is
/// unknown, so the part is not sent again blindly — the conversation read back through the
/// Graph API shows it was delivered, and it is recorded as sent (in the history too).
#[tokio::test]
async fn a_send_delivered_after_the_client_timeout_is_not_sent_again() {
    let ta = test_app(&[
        ("INSTAGRAM_TIMEOUT_SECS", "1"),
        ("INSTAGRAM_ECHO_WAIT_MS", "300"),
    ])
    .await;
    let (_, to) = shop_with_customer(&ta, 1, 50).await;
    ta.fake
        .slow_next_sends(1, std::time::Duration::from_millis(2500));
    let r = send_text(&ta.app, &to, "turn-t:reply", "وصل طلبك 🎉", "ai")
        .await
        .unwrap();
    assert!(matches!(r, SendOutcome::Sent { .. }), "{r:?}");
    let delivered = ta.fake.delivered();
    assert_eq!(delivered.len(), 1, "delivered exactly once");
    assert_eq!(
        ta.fake.requests_to("/messages").len(),
        1,
        "never sent twice"
    );
    let row = ta.t.db.platform().await.unwrap()
        .query_one("SELECT status, mid, confirmed_by FROM outbound_messages WHERE idempotency_key = 'turn-t:reply'", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "sent");
    assert_eq!(
        row.get::<_, Option<String>>(1),
        Some(delivered[0].mid.clone())
    );
    assert_eq!(
        row.get::<_, Option<String>>(2).as_deref(),
        Some("conversation")
    );
    assert_eq!(
        one::<i64>(&ta, "SELECT count(*) FROM messages WHERE author = 'ai'").await,
        1
    );
    // A sweep finds nothing to do.
    assert_eq!(
        shared::instagram::outbound::retry_due(&ta.app, 100)
            .await
            .unwrap(),
        Default::default()
    );
    assert_eq!(ta.fake.requests_to("/messages").len(), 1);
}

#[tokio::test]
async fn the_nightly_refresh_renews_old_tokens_and_flags_dead_ones() {
    let ta = test_app(&[]).await;
    let (tenant, _) = shop_with_customer(&ta, 40, 5).await;
    let graph = ta.app.graph.clone().unwrap();
    let r = shared::instagram::tokens::refresh_expiring(&ta.app, &graph)
        .await
        .unwrap();
    assert_eq!(r.refreshed, 1, "{r:?}");
    assert!(
        one::<bool>(
            &ta,
            "SELECT expires_at > now() + interval '50 days' FROM meta_tokens"
        )
        .await
    );
    assert!(ta.fake.requests_to("/refresh_access_token")[0]
        .query
        .contains("grant_type=ig_refresh_token"));
    // Too young to refresh: left alone.
    let again = shared::instagram::tokens::refresh_expiring(&ta.app, &graph)
        .await
        .unwrap();
    assert_eq!(again.refreshed, 0);

    // Instagram refuses the token: reconnect needed.
    ta.t.db.platform().await.unwrap().execute("UPDATE meta_tokens SET expires_at = now() + interval '3 days', obtained_at = now() - interval '50 days', refreshed_at = NULL", &[]).await.unwrap();
    ta.fake.script(
        "GET /refresh_access_token",
        400,
        json!({ "error": { "message": "Error validating access token", "code": 190 } }),
    );
    let r = shared::instagram::tokens::refresh_expiring(&ta.app, &graph)
        .await
        .unwrap();
    assert_eq!(r.failed, 1);
    assert_eq!(
        one::<String>(&ta, "SELECT status FROM tenants").await,
        "reconnect_needed"
    );

    // Already expired: no call, reconnect needed.
    let p = ta.t.db.platform().await.unwrap();
    p.batch_execute("UPDATE tenants SET status = 'active'; UPDATE meta_tokens SET expires_at = now() - interval '1 hour'").await.unwrap();
    let calls = ta.fake.requests_to("/refresh_access_token").len();
    let r = shared::instagram::tokens::refresh_expiring(&ta.app, &graph)
        .await
        .unwrap();
    assert_eq!(r.expired, 1);
    assert_eq!(ta.fake.requests_to("/refresh_access_token").len(), calls);
    assert_eq!(
        one::<String>(&ta, "SELECT status FROM tenants").await,
        "reconnect_needed"
    );
    let _ = tenant;
}

async fn post_form(
    ta: &TestApp,
    path: &str,
    signed_request: &str,
) -> warp::http::Response<bytes::Bytes> {
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("signed_request", signed_request)
        .finish();
    warp::test::request()
        .method("POST")
        .path(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .reply(&ta.service)
        .await
}

#[tokio::test]
async fn data_deletion_needs_a_valid_signature_and_erases_the_customer_everywhere() {
    let ta = test_app(&[]).await;
    let (tenant, to) = shop_with_customer(&ta, 1, 50).await;
    let p = ta.t.db.platform().await.unwrap();
    p.execute(
        "INSERT INTO messages (tenant_id, conversation_id, direction, author, mid, text, sent_at) VALUES ($1, $2, 'inbound', 'customer', 'm-pii', 'رقمي 0791234567', now())",
        &[&tenant.as_uuid(), &to.conversation],
    )
    .await
    .unwrap();
    p.execute(
        "INSERT INTO orders (tenant_id, order_number, conversation_id, customer_ig_id, customer_name, customer_phone, city, address, subtotal_jod, total_jod)
         VALUES ($1, 1, $2, 'cust-42', 'سارة', '+962791234567', 'عمان', 'الصويفية', 20, 22)",
        &[&tenant.as_uuid(), &to.conversation],
    )
    .await
    .unwrap();
    let payload = json!({ "algorithm": "HMAC-SHA256", "issued_at": chrono::Utc::now().timestamp(), "user_id": "cust-42" });

    // Forged: signed with another secret, or tampered. Nothing is deleted.
    let forged = make_signed_request(&payload, &SecretString::from("not-our-secret".to_owned()));
    let valid = make_signed_request(&payload, &SecretString::from(IG_SECRET.to_owned()));
    let (sig, _) = valid.split_once('.').unwrap();
    let other_user = make_signed_request(
        &json!({ "algorithm": "HMAC-SHA256", "user_id": "cust-1" }),
        &SecretString::from(IG_SECRET.to_owned()),
    );
    let tampered = format!("{sig}.{}", other_user.split_once('.').unwrap().1);
    for bad in [forged.as_str(), tampered.as_str(), "garbage"] {
        let r = post_form(&ta, "/api/meta/data-deletion", bad).await;
        assert_eq!(r.status(), 400, "{bad}");
    }
    assert_eq!(one::<i64>(&ta, "SELECT count(*) FROM messages").await, 1);
    assert_eq!(
        one::<i64>(&ta, "SELECT count(*) FROM data_deletion_requests").await,
        0
    );

    let r = post_form(&ta, "/api/meta/data-deletion", &valid).await;
    assert_eq!(r.status(), 200, "{:?}", r.body());
    let receipt: Value = serde_json::from_slice(r.body()).unwrap();
    let code = receipt["confirmation_code"].as_str().unwrap().to_owned();
    assert_eq!(
        receipt["url"],
        format!("http://shop.test/api/meta/deletion-status?code={code}")
    );
    assert_eq!(
        one::<i64>(&ta, "SELECT count(*) FROM conversations").await,
        0
    );
    assert_eq!(one::<i64>(&ta, "SELECT count(*) FROM messages").await, 0);
    let order = p.query_one("SELECT customer_name, customer_phone, address, total_jod::text, personal_data_redacted_at IS NOT NULL FROM orders", &[]).await.unwrap();
    assert_eq!(order.get::<_, Option<String>>(0), None);
    assert_eq!(order.get::<_, Option<String>>(1), None);
    assert_eq!(order.get::<_, Option<String>>(2), None);
    assert_eq!(
        order.get::<_, String>(3),
        "22.000",
        "the order itself stays for the shop's books"
    );
    assert!(order.get::<_, bool>(4));
    // Delivered again: the same receipt, one record.
    let again = post_form(&ta, "/api/meta/data-deletion", &valid).await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.body(), r.body());
    assert_eq!(
        one::<i64>(&ta, "SELECT count(*) FROM data_deletion_requests").await,
        1
    );

    let page = warp::test::request()
        .path(&format!("/api/meta/deletion-status?code={code}"))
        .reply(&ta.service)
        .await;
    assert_eq!(page.status(), 200);
    let html = String::from_utf8_lossy(page.body()).into_owned();
    assert!(html.contains("completed") && html.contains(&code), "{html}");
    let missing = warp::test::request()
        .path("/api/meta/deletion-status?code=nope")
        .reply(&ta.service)
        .await;
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn deauthorize_disconnects_the_shop() {
    let ta = test_app(&[]).await;
    shop_with_customer(&ta, 1, 50).await;
    let forged = make_signed_request(
        &json!({ "algorithm": "HMAC-SHA256", "user_id": ACCOUNT_ID }),
        &SecretString::from("x".to_owned()),
    );
    assert_eq!(
        post_form(&ta, "/api/meta/deauthorize", &forged)
            .await
            .status(),
        400
    );
    assert_eq!(one::<i64>(&ta, "SELECT count(*) FROM meta_tokens").await, 1);
    let signed = |issued_at: Option<i64>| {
        let mut payload = json!({ "algorithm": "HMAC-SHA256", "user_id": ACCOUNT_ID });
        if let Some(at) = issued_at {
            payload["issued_at"] = json!(at);
        }
        make_signed_request(&payload, &SecretString::from(IG_SECRET.to_owned()))
    };
    // Authentic but old (a recorded request replayed later), or without a time: refused.
    let now = chrono::Utc::now().timestamp();
    for stale in [
        signed(Some(now - 11 * 60)),
        signed(Some(now - 365 * 24 * 3600)),
        signed(None),
    ] {
        let r = post_form(&ta, "/api/meta/deauthorize", &stale).await;
        assert_eq!(r.status(), 400, "{:?}", r.body());
        assert!(String::from_utf8_lossy(r.body()).contains("stale"));
    }
    assert_eq!(one::<i64>(&ta, "SELECT count(*) FROM meta_tokens").await, 1);
    let valid = signed(Some(now - 60));
    let first = post_form(&ta, "/api/meta/deauthorize", &valid).await;
    assert_eq!(first.status(), 200);
    assert_eq!(one::<i64>(&ta, "SELECT count(*) FROM meta_tokens").await, 0);
    assert_eq!(
        one::<String>(&ta, "SELECT status FROM tenants").await,
        "reconnect_needed"
    );
    // The shop reconnects; the same request again is answered from its record and does not
    // disconnect it a second time.
    ta.t.db
        .platform()
        .await
        .unwrap()
        .execute("UPDATE tenants SET status = 'active'", &[])
        .await
        .unwrap();
    let again = post_form(&ta, "/api/meta/deauthorize", &valid).await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.body(), first.body(), "the first confirmation code");
    assert_eq!(
        one::<String>(&ta, "SELECT status FROM tenants").await,
        "active"
    );
    assert_eq!(
        one::<i64>(&ta, "SELECT count(*) FROM data_deletion_requests").await,
        1
    );
    let missing = warp::test::request()
        .method("POST")
        .path("/api/meta/deauthorize")
        .body("x=1")
        .reply(&ta.service)
        .await;
    assert_eq!(missing.status(), 400);
}

#[tokio::test]
async fn resync_inserts_missed_messages_once() {
    let ta = test_app(&[]).await;
    let (tenant, _) = shop_with_customer(&ta, 1, 50).await;
    ta.fake.script(
        &format!("GET /v23.0/{ACCOUNT_ID}/conversations"),
        200,
        json!({ "data": [{ "id": "aWdfZAG06", "updated_time": "2026-11-23T10:15:30+0000",
                           "participants": { "data": [{ "id": ACCOUNT_ID, "username": "jo.shop" }, { "id": "cust-42", "username": "sara" }] } }] }),
    );
    let messages = json!({ "messages": { "data": [
        { "id": "m-missed-2", "created_time": "2026-11-23T10:15:30+0000", "from": { "id": "cust-42" }, "to": { "data": [{ "id": ACCOUNT_ID }] }, "message": "وينكم؟" },
        { "id": "m-missed-1", "created_time": "2026-11-23T10:14:00+0000", "from": { "id": "cust-42" }, "to": { "data": [{ "id": ACCOUNT_ID }] }, "message": "مرحبا" }
    ] }, "id": "aWdfZAG06" });
    ta.fake
        .script("GET /v23.0/aWdfZAG06", 200, messages.clone());
    let r = shared::instagram::resync::resync(&ta.app, tenant)
        .await
        .unwrap();
    assert_eq!(
        (r.conversations_read, r.messages_read, r.messages_added),
        (1, 2, 2),
        "{r:?}"
    );
    ta.fake.script(
        &format!("GET /v23.0/{ACCOUNT_ID}/conversations"),
        200,
        json!({ "data": [{ "id": "aWdfZAG06", "updated_time": "2026-11-23T10:15:30+0000" }] }),
    );
    ta.fake.script("GET /v23.0/aWdfZAG06", 200, messages);
    let again = shared::instagram::resync::resync(&ta.app, tenant)
        .await
        .unwrap();
    assert_eq!(again.messages_added, 0);
    assert_eq!(
        one::<i64>(
            &ta,
            "SELECT count(*) FROM messages WHERE author = 'customer'"
        )
        .await,
        2
    );
}

#[tokio::test]
async fn a_rate_limited_reply_is_finished_by_the_sweeper_in_order_and_once() {
    let ta = test_app(&[]).await;
    let (_, to) = shop_with_customer(&ta, 1, 50).await;
    let text = "أهلين فيك! عنا قمصان قطن بألوان كتير حلوة والسعر ١٢.٥٠٠ دينار. ".repeat(40);
    // Part 1 goes through, part 2 is rate limited: parts 2.. wait for the sweeper.
    ta.fake.script(
        "POST /messages",
        200,
        json!({ "recipient_id": "cust-42", "message_id": "m-part-1" }),
    );
    ta.fake.script(
        "POST /messages",
        400,
        json!({ "error": { "message": "slow down", "code": 4 } }),
    );
    let first = send_text(&ta.app, &to, "turn-9:reply", &text, "ai")
        .await
        .unwrap();
    assert!(matches!(first, SendOutcome::RetryLater { .. }), "{first:?}");
    let total: i64 = one(&ta, "SELECT count(*) FROM outbound_messages").await;
    assert!(total >= 3, "every part was recorded up front");

    // Not due yet: nothing is sent.
    let report = shared::instagram::outbound::retry_due(&ta.app, 100)
        .await
        .unwrap();
    assert_eq!(report, Default::default());
    ta.t.db.platform().await.unwrap().execute("UPDATE outbound_messages SET next_attempt_at = next_attempt_at - interval '1 hour' WHERE status = 'pending'", &[]).await.unwrap();
    let report = shared::instagram::outbound::retry_due(&ta.app, 100)
        .await
        .unwrap();
    assert_eq!(report.sent as i64, total - 1, "{report:?}");
    assert_eq!(
        one::<i64>(
            &ta,
            "SELECT count(*) FROM outbound_messages WHERE status = 'sent'"
        )
        .await,
        total
    );
    // The customer got every part once, in order.
    let sent: Vec<String> = ta
        .fake
        .requests_to("/messages")
        .iter()
        .map(|r| {
            serde_json::from_str::<Value>(&r.body).unwrap()["message"]["text"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        sent.len() as i64,
        total + 1,
        "one refused attempt plus each part once"
    );
    let mut delivered = vec![sent[0].clone()];
    delivered.extend(sent[2..].iter().cloned());
    assert_eq!(delivered.concat().replace(' ', ""), text.replace(' ', ""));
    // Nothing left: a second sweep sends nothing.
    assert_eq!(
        shared::instagram::outbound::retry_due(&ta.app, 100)
            .await
            .unwrap(),
        Default::default()
    );
}
