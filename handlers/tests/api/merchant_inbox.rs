//! The merchant's inbox, black-box: signed webhooks and the agent's queue (real Postgres,
//! real Graph client against the fake Instagram, a scripted model), then the API the web app
//! uses — the list, a thread, taking over, answering as a person inside Instagram's windows,
//! notes, closing, alerts, and nothing of another shop.

use crate::support::app::{connect_shop, sign_in, test_app, Merchant, TestApp, IG_SECRET};
use crate::support::fake_instagram::ACCOUNT_ID;
use crate::support::fake_openai::{text, FakeOpenAi};
use secrecy::SecretString;
use serde_json::{json, Value};
use shared::instagram::signature::sign_webhook_body;
use std::time::Duration;
use uuid::Uuid;

struct Inbox {
    ta: TestApp,
    llm: FakeOpenAi,
    m: Merchant,
}

async fn inbox() -> Inbox {
    let llm = FakeOpenAi::start().await;
    let base = llm.base();
    let ta = test_app(&[
        ("OPENAI_BASE_URL", &base),
        ("OPENAI_API_KEY", "sk-test-platform"),
        ("OPENAI_EMBEDDING_MODEL", "none"),
        ("AGENT_QUIET_MS", "0"),
        ("LLM_MAX_RETRIES", "1"),
    ])
    .await;
    let tenant = connect_shop(&ta, 50).await;
    let s = shared::sessions::start_merchant_session(&ta.app.db, &ta.app.keys, tenant, None, 1)
        .await
        .unwrap();
    let m = Merchant {
        cookie: s.token,
        csrf: s.csrf_token,
        tenant,
    };
    Inbox { ta, llm, m }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn dm(customer: &str, mid: &str, text: &str, ts: i64) -> Value {
    json!({ "sender": { "id": customer }, "recipient": { "id": ACCOUNT_ID }, "timestamp": ts, "message": { "mid": mid, "text": text } })
}

async fn webhook(ta: &TestApp, messaging: Vec<Value>) {
    let body = json!({ "object": "instagram", "entry": [{ "id": ACCOUNT_ID, "time": now_ms(), "messaging": messaging }] }).to_string();
    let sig = sign_webhook_body(body.as_bytes(), &SecretString::from(IG_SECRET.to_owned()));
    let r = warp::test::request()
        .method("POST")
        .path("/api/instagram/webhook")
        .header("x-hub-signature-256", sig)
        .body(body)
        .reply(&ta.service)
        .await;
    assert_eq!(r.status(), 200, "{:?}", r.body());
}

/// Every queued agent turn, run once as the queue trigger would.
async fn drain(ta: &TestApp) -> usize {
    let q = ta.app.local_queue.clone().unwrap();
    let mut n = 0;
    while let Some(m) = q.lease(Duration::from_secs(60)).await.unwrap() {
        shared::agent::handle_queue_message(&ta.app, &m.body, m.delivery_count)
            .await
            .unwrap();
        q.complete(&m).await.unwrap();
        n += 1;
    }
    n
}

async fn call(
    ta: &TestApp,
    m: &Merchant,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
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
    let r = r.reply(&ta.service).await;
    let v = serde_json::from_slice(r.body()).unwrap_or(Value::Null);
    (r.status().as_u16(), v)
}

async fn get(i: &Inbox, path: &str) -> Value {
    let (status, v) = call(&i.ta, &i.m, "GET", path, None).await;
    assert_eq!(status, 200, "{path}: {v}");
    v
}

async fn conversation_of(ta: &TestApp, customer: &str) -> Uuid {
    let c = ta.t.db.platform().await.unwrap();
    c.query_one(
        "SELECT id FROM conversations WHERE customer_ig_id = $1",
        &[&customer],
    )
    .await
    .unwrap()
    .get(0)
}

async fn sql(ta: &TestApp, statement: &str, id: Uuid) {
    let c = ta.t.db.platform().await.unwrap();
    c.execute(statement, &[&id]).await.unwrap();
}

/// What the fake Instagram was asked to send (sender actions left out).
fn sends(ta: &TestApp) -> Vec<Value> {
    ta.fake
        .requests_to("/messages")
        .into_iter()
        .map(|r| serde_json::from_str::<Value>(&r.body).unwrap())
        .filter(|b| b.get("sender_action").is_none())
        .collect()
}

fn ids(page: &Value) -> Vec<String> {
    page["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["customer"]["ig_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_list_puts_waiting_conversations_first_then_the_latest_and_filters_and_pages() {
    let i = inbox().await;
    let hour = 3_600_000;
    let t = now_ms();
    // The turns these queue are never run here: nobody answers.
    webhook(
        &i.ta,
        vec![
            dm("cust-old", "m-old", "السلام عليكم", t - 5 * hour),
            dm("cust-new", "m-new", "عندكم شنط جلد؟", t - hour),
            dm("cust-mid", "m-mid", "وين موقعكم", t - 3 * hour),
        ],
    )
    .await;
    let (old, mid) = (
        conversation_of(&i.ta, "cust-old").await,
        conversation_of(&i.ta, "cust-mid").await,
    );
    sql(
        &i.ta,
        "UPDATE conversations SET customer_username = 'laila.style' WHERE id = $1",
        mid,
    )
    .await;
    // The oldest one waits for a person; the middle one the merchant read and closed.
    sql(&i.ta, "UPDATE conversations SET needs_human = true, mode = 'human', mode_reason = 'the customer asked for a person' WHERE id = $1", old).await;
    let (s, _) = call(
        &i.ta,
        &i.m,
        "POST",
        &format!("/api/v1/conversations/{mid}/close"),
        None,
    )
    .await;
    assert_eq!(s, 200);
    // Test-chat conversations and another shop's conversations are never listed.
    let other = sign_in(&i.ta, "other.shop").await;
    let c = i.ta.t.db.platform().await.unwrap();
    c.execute(
        "INSERT INTO conversations (tenant_id, kind, customer_ig_id, last_message_at) VALUES ($1, 'playground', 'playground:x', now()), ($2, 'instagram', 'cust-elsewhere', now())",
        &[&i.m.tenant.as_uuid(), &other.tenant.as_uuid()],
    )
    .await
    .unwrap();

    let all = get(&i, "/api/v1/conversations").await;
    assert_eq!(ids(&all), ["cust-old", "cust-new", "cust-mid"], "{all}");
    assert_eq!(all["next_cursor"], Value::Null);
    let first = &all["conversations"][0];
    assert_eq!(first["needs_human"], true);
    assert_eq!(first["mode"], "human");
    assert_eq!(first["handoff_reason"], "the customer asked for a person");
    assert_eq!(
        first["last_message"],
        json!({ "author": "customer", "text": "السلام عليكم" })
    );
    assert_eq!(first["window"]["state"], "open");
    assert_eq!(all["conversations"][1]["unread_count"], 1);
    assert_eq!(all["conversations"][2]["state"], "closed");
    assert_eq!(
        all["conversations"][2]["unread_count"], 0,
        "closing reads it"
    );

    let i = &i;
    let only =
        |q: &'static str| async move { ids(&get(i, &format!("/api/v1/conversations?{q}")).await) };
    assert_eq!(only("needs_human=true").await, ["cust-old"]);
    assert_eq!(only("mode=ai").await, ["cust-new", "cust-mid"]);
    assert_eq!(only("unread=true").await, ["cust-old", "cust-new"]);
    assert_eq!(only("state=closed").await, ["cust-mid"]);
    assert_eq!(only("state=open").await, ["cust-old", "cust-new"]);
    assert_eq!(
        only("search=%D8%B4%D9%86%D8%B7").await,
        ["cust-new"],
        "words of a message"
    );
    assert_eq!(only("search=LAILA").await, ["cust-mid"], "the username");
    assert_eq!(only("search=100%25").await, Vec::<String>::new());

    // Pages of one, in the same order, ending with no cursor.
    let mut seen = vec![];
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/conversations?limit=1&cursor={c}"),
            None => "/api/v1/conversations?limit=1".into(),
        };
        let page = get(&i, &path).await;
        seen.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, ["cust-old", "cust-new", "cust-mid"]);

    // A new customer message opens a closed conversation again and puts it on top of the rest;
    // a poll for changes since before it brings it.
    let before = get(i, "/api/v1/conversations/changes").await;
    assert_eq!(
        before["conversations"].as_array().unwrap().len(),
        3,
        "{before}"
    );
    let since = before["cursor"].as_str().unwrap().to_owned();
    webhook(
        &i.ta,
        vec![dm("cust-mid", "m-mid-2", "لسا فاتحين؟", now_ms() + 2)],
    )
    .await;
    let changed = get(i, &format!("/api/v1/conversations/changes?since={since}")).await;
    let mid_now = changed["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["customer"]["ig_id"] == "cust-mid")
        .unwrap_or_else(|| panic!("{changed}"));
    assert_eq!(mid_now["last_message"]["text"], "لسا فاتحين؟");
    assert_eq!(mid_now["state"], "open");
    assert_ne!(changed["cursor"], before["cursor"]);
    let (s, _) = call(
        &i.ta,
        &i.m,
        "GET",
        "/api/v1/conversations/changes?since=zzz",
        None,
    )
    .await;
    assert_eq!(s, 400);
    let all = get(&i, "/api/v1/conversations").await;
    assert_eq!(ids(&all), ["cust-old", "cust-mid", "cust-new"]);
    assert_eq!(all["conversations"][1]["state"], "open");

    let (s, v) = call(
        &i.ta,
        &i.m,
        "GET",
        "/api/v1/conversations?cursor=not-ours",
        None,
    )
    .await;
    assert_eq!((s, v["error"].as_str()), (400, Some("bad_request")), "{v}");
    let (s, v) = call(&i.ta, &i.m, "GET", "/api/v1/conversations?limit=0", None).await;
    assert_eq!(s, 422, "{v}");
    assert!(v["message"].as_str().unwrap().contains("limit"), "{v}");
    let (s, _) = call(&i.ta, &i.m, "GET", "/api/v1/conversations?mode=robot", None).await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn the_thread_shows_the_customer_the_ai_an_instagram_app_reply_a_handoff_and_an_order() {
    let i = inbox().await;
    let c = i.ta.t.db.platform().await.unwrap();
    c.execute(
        "INSERT INTO business_rules (tenant_id, rules) VALUES ($1, '{\"handoff\": {\"keywords\": [\"شكوى\"]}}')",
        &[&i.m.tenant.as_uuid()],
    )
    .await
    .unwrap();
    let cust = "cust-thread";
    // A story reply with a photo; the AI answers.
    i.llm.script([text("أهلين! شو بتحبي تشوفي؟")]);
    webhook(
        &i.ta,
        vec![json!({ "sender": { "id": cust }, "recipient": { "id": ACCOUNT_ID }, "timestamp": now_ms() - 60_000,
            "message": { "mid": "m-story", "text": "قديش هاد؟",
                         "attachments": [{ "type": "image", "payload": { "url": "https://cdn.example/p.jpg" } }],
                         "reply_to": { "story": { "url": "https://cdn.example/story.mp4", "id": "st-1" } } } })],
    )
    .await;
    assert_eq!(drain(&i.ta).await, 1);
    let ai_mid: String = c
        .query_one("SELECT mid FROM messages WHERE author = 'ai'", &[])
        .await
        .unwrap()
        .get(0);
    // The customer loves the answer; a person of the shop answers from the Instagram app.
    let t = now_ms() + 2;
    webhook(
        &i.ta,
        vec![
            json!({ "sender": { "id": cust }, "recipient": { "id": ACCOUNT_ID }, "timestamp": t,
                    "reaction": { "mid": ai_mid, "action": "react", "reaction": "love", "emoji": "❤️" } }),
            json!({ "sender": { "id": ACCOUNT_ID }, "recipient": { "id": cust }, "timestamp": t + 1,
                    "message": { "mid": "m-from-app", "text": "أنا سارة من المحل، سعره ١٥ دينار", "is_echo": true } }),
        ],
    )
    .await;
    let id = conversation_of(&i.ta, cust).await;
    let summary = get(&i, &format!("/api/v1/conversations/{id}")).await;
    assert_eq!(
        summary["conversation"]["mode"], "human",
        "the Instagram app reply paused the AI"
    );

    // Back to the AI; an order of the conversation; then a complaint hands it over.
    let (s, back) = call(
        &i.ta,
        &i.m,
        "POST",
        &format!("/api/v1/conversations/{id}/handback"),
        None,
    )
    .await;
    assert_eq!((s, back["mode"].as_str()), (200, Some("ai")), "{back}");
    c.execute(
        "INSERT INTO orders (tenant_id, order_number, conversation_id, customer_ig_id, status, source, subtotal_jod, total_jod)
         VALUES ($1, 1042, $2, $3, 'pending', 'instagram', 15, 17.5)",
        &[&i.m.tenant.as_uuid(), &id, &cust],
    )
    .await
    .unwrap();
    webhook(
        &i.ta,
        vec![dm(cust, "m-complaint", "بدي اقدم شكوى", now_ms() + 2)],
    )
    .await;
    assert_eq!(drain(&i.ta).await, 1);

    let thread = get(&i, &format!("/api/v1/conversations/{id}")).await;
    let conv = &thread["conversation"];
    assert_eq!(conv["needs_human"], true);
    assert_eq!(conv["mode"], "human");
    assert!(
        conv["handoff_reason"].as_str().unwrap().contains("شكوى"),
        "{conv}"
    );
    assert_eq!(conv["customer"]["ig_id"], cust);
    assert!(conv["customer"].as_object().unwrap().contains_key("phone"));
    let all_events = thread["events"].as_array().unwrap();
    // The AI's tool actions are events too (here: the handoff, as a tool call).
    let tools: Vec<&Value> = all_events.iter().filter(|e| e["kind"] == "tool").collect();
    assert_eq!(tools.len(), 1, "{thread:#}");
    assert_eq!(tools[0]["tool"]["name"], "handoff_to_human");
    assert_eq!(tools[0]["author"], "ai");
    let events: Vec<&Value> = all_events.iter().filter(|e| e["kind"] != "tool").collect();
    let shape: Vec<(String, String)> = events
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_owned(),
                e["author"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("message", "customer"),
        ("message", "ai"),
        ("message", "merchant_app"),
        ("mode_change", "merchant_app"),
        ("mode_change", "merchant"),
        ("order", "ai"),
        ("message", "customer"),
        ("handoff", "ai"),
        ("message", "ai"),
    ]
    .iter()
    .map(|(k, a)| (k.to_string(), a.to_string()))
    .collect();
    assert_eq!(shape, expected, "{thread:#}");
    let story = &events[0];
    assert_eq!(story["text"], "قديش هاد؟");
    assert_eq!(
        story["attachments"],
        json!([{ "type": "image", "url": "https://cdn.example/p.jpg" }])
    );
    assert_eq!(
        story["reply_to"]["story_url"],
        "https://cdn.example/story.mp4"
    );
    assert_eq!(
        story["delivery"],
        Value::Null,
        "only our sends have a delivery"
    );
    assert_eq!(events[1]["text"], "أهلين! شو بتحبي تشوفي؟");
    assert_eq!(
        events[1]["delivery"],
        json!({ "status": "sent", "error": null })
    );
    assert_eq!(events[1]["reaction"], "❤️");
    assert_eq!(events[2]["text"], "أنا سارة من المحل، سعره ١٥ دينار");
    assert_eq!(
        events[5]["order"],
        json!({ "id": events[5]["order"]["id"], "number": "1042", "status": "pending", "total_jod": "17.500" })
    );
    assert_eq!(events[8]["text"], shared::agent::HANDOFF_REPLY);
    assert_eq!(thread["older_cursor"], Value::Null);

    // Older pages: the latest three, then the rest before them, oldest first each time.
    let page = get(&i, &format!("/api/v1/conversations/{id}?limit=3")).await;
    let last3: Vec<&Value> = all_events[all_events.len() - 3..]
        .iter()
        .map(|e| &e["id"])
        .collect();
    let got3: Vec<&Value> = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["id"])
        .collect();
    assert_eq!(got3, last3);
    let cursor = page["older_cursor"].as_str().unwrap();
    let before = get(&i, &format!("/api/v1/conversations/{id}?before={cursor}")).await;
    assert_eq!(
        before["events"].as_array().unwrap().len(),
        all_events.len() - 3
    );
    assert_eq!(before["events"][0]["id"], all_events[0]["id"]);

    // The handoff raised an alert; the merchant reads it.
    let alerts = get(&i, "/api/v1/alerts").await;
    let handoff = alerts["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "handoff")
        .cloned()
        .unwrap_or_else(|| panic!("{alerts}"));
    assert_eq!(handoff["severity"], "warning");
    assert_eq!(handoff["acknowledged_at"], Value::Null);
    let (s, _) = call(
        &i.ta,
        &i.m,
        "POST",
        &format!("/api/v1/alerts/{}/read", handoff["id"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(s, 204);
    let open = get(&i, "/api/v1/alerts").await;
    assert!(open["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["id"] != handoff["id"]));
    let all = get(&i, "/api/v1/alerts?state=all").await;
    assert!(all["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["id"] == handoff["id"] && a["acknowledged_at"].is_string()));
    let (s, _) = call(
        &i.ta,
        &i.m,
        "POST",
        &format!("/api/v1/alerts/{}/read", Uuid::new_v4()),
        None,
    )
    .await;
    assert_eq!(s, 404);

    // Read: nothing unread any more.
    let (s, _) = call(
        &i.ta,
        &i.m,
        "POST",
        &format!("/api/v1/conversations/{id}/read"),
        None,
    )
    .await;
    assert_eq!(s, 204);
    let thread = get(&i, &format!("/api/v1/conversations/{id}")).await;
    assert_eq!(thread["conversation"]["unread_count"], 0);
}

#[tokio::test]
async fn taking_over_pauses_the_ai_and_handing_back_lets_it_answer_again() {
    let i = inbox().await;
    let cust = "cust-takeover";
    i.llm.script([text("أهلا وسهلا!")]);
    webhook(&i.ta, vec![dm(cust, "m-1", "مرحبا", now_ms())]).await;
    assert_eq!(drain(&i.ta).await, 1);
    assert_eq!(sends(&i.ta).len(), 1);
    let id = conversation_of(&i.ta, cust).await;

    let (s, c) = call(
        &i.ta,
        &i.m,
        "POST",
        &format!("/api/v1/conversations/{id}/takeover"),
        None,
    )
    .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["mode"], "human");
    assert_eq!(c["id"], id.to_string());
    // A DM while a person has the conversation: no turn, no model call, nothing sent.
    webhook(&i.ta, vec![dm(cust, "m-2", "في حدا؟", now_ms())]).await;
    assert_eq!(drain(&i.ta).await, 0);
    assert_eq!(i.llm.chats().len(), 1, "the model was not asked");
    assert_eq!(sends(&i.ta).len(), 1, "nothing more was sent");

    let (s, c) = call(
        &i.ta,
        &i.m,
        "POST",
        &format!("/api/v1/conversations/{id}/handback"),
        None,
    )
    .await;
    assert_eq!(
        (s, c["mode"].as_str(), c["needs_human"].as_bool()),
        (200, Some("ai"), Some(false))
    );
    i.llm.script([text("أكيد، كيف بقدر أساعدك؟")]);
    webhook(&i.ta, vec![dm(cust, "m-3", "طيب عندي سؤال", now_ms())]).await;
    assert_eq!(drain(&i.ta).await, 1);
    assert_eq!(sends(&i.ta).len(), 2);

    let thread = get(&i, &format!("/api/v1/conversations/{id}")).await;
    let changes: Vec<&Value> = thread["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "mode_change")
        .map(|e| &e["text"])
        .collect();
    assert_eq!(
        changes,
        [
            &json!(shared::conversations::takeover::TAKEN_OVER),
            &json!(shared::conversations::takeover::HANDED_BACK)
        ]
    );
}

#[tokio::test]
async fn a_persons_reply_reaches_instagram_tagged_only_after_24_hours_and_never_after_7_days() {
    let i = inbox().await;
    let day = 86_400_000;
    webhook(
        &i.ta,
        vec![
            dm("cust-today", "m-today", "مرحبا", now_ms()),
            dm("cust-3days", "m-3days", "مرحبا", now_ms() - 3 * day),
            dm("cust-8days", "m-8days", "مرحبا", now_ms() - 8 * day),
        ],
    )
    .await;
    // Nobody answers these automatically: each conversation is with a person already.
    let c = i.ta.t.db.platform().await.unwrap();
    c.execute("UPDATE conversations SET mode = 'human'", &[])
        .await
        .unwrap();
    c.execute("DELETE FROM queue_messages", &[]).await.unwrap();
    let (today, three, eight) = (
        conversation_of(&i.ta, "cust-today").await,
        conversation_of(&i.ta, "cust-3days").await,
        conversation_of(&i.ta, "cust-8days").await,
    );
    sql(
        &i.ta,
        "UPDATE conversations SET mode = 'ai', needs_human = true WHERE id = $1",
        today,
    )
    .await;

    let list = get(&i, "/api/v1/conversations").await;
    let window_of = |cust: &str| {
        list["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["customer"]["ig_id"] == cust)
            .unwrap()["window"]["state"]
            .clone()
    };
    assert_eq!(window_of("cust-today"), "open");
    assert_eq!(window_of("cust-3days"), "human_agent_only");
    assert_eq!(window_of("cust-8days"), "closed");

    // Inside 24 hours: a normal message. Answering pauses the AI and settles the wait.
    let (s, ev) = call(
        &i.ta,
        &i.m,
        "POST",
        &format!("/api/v1/conversations/{today}/reply"),
        Some(json!({ "text": "  أهلين، معك سارة  " })),
    )
    .await;
    assert_eq!(s, 201, "{ev}");
    assert_eq!(ev["kind"], "message");
    assert_eq!(ev["author"], "merchant");
    assert_eq!(ev["text"], "أهلين، معك سارة");
    assert_eq!(ev["delivery"]["status"], "sent");
    let sent = sends(&i.ta);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["recipient"]["id"], "cust-today");
    assert_eq!(sent[0]["message"]["text"], "أهلين، معك سارة");
    assert!(
        sent[0].get("tag").is_none() && sent[0].get("messaging_type").is_none(),
        "{}",
        sent[0]
    );
    let conv = get(&i, &format!("/api/v1/conversations/{today}")).await;
    assert_eq!(
        (
            conv["conversation"]["mode"].as_str(),
            conv["conversation"]["needs_human"].as_bool()
        ),
        (Some("human"), Some(false))
    );
    assert!(conv["events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["id"] == ev["id"] && e["author"] == "merchant"));

    // Three days later: only with the HUMAN_AGENT tag.
    let (s, ev) = call(
        &i.ta,
        &i.m,
        "POST",
        &format!("/api/v1/conversations/{three}/reply"),
        Some(json!({ "text": "آسفين عالتأخير" })),
    )
    .await;
    assert_eq!(s, 201, "{ev}");
    let sent = sends(&i.ta);
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1]["tag"], "HUMAN_AGENT");
    assert_eq!(sent[1]["messaging_type"], "MESSAGE_TAG");
    assert_eq!(sent[1]["message"]["text"], "آسفين عالتأخير");

    // Eight days: refused in the merchant's words, nothing sent or recorded.
    let (s, v) = call(
        &i.ta,
        &i.m,
        "POST",
        &format!("/api/v1/conversations/{eight}/reply"),
        Some(json!({ "text": "مرحبا" })),
    )
    .await;
    assert_eq!(s, 422, "{v}");
    assert_eq!(v["error"], "window_closed");
    assert_eq!(
        v["message"],
        "The customer last wrote 8 days ago. Instagram only lets you answer within 7 days of their last message."
    );
    assert_eq!(sends(&i.ta).len(), 2);
    let (outbound,): (i64,) = {
        let r = c
            .query_one(
                "SELECT count(*) FROM outbound_messages WHERE conversation_id = $1",
                &[&eight],
            )
            .await
            .unwrap();
        (r.get(0),)
    };
    assert_eq!(outbound, 0);

    // Notes are for the team: recorded, never sent — even where Instagram would refuse.
    let (s, note) = call(
        &i.ta,
        &i.m,
        "POST",
        &format!("/api/v1/conversations/{eight}/notes"),
        Some(json!({ "text": "زبونة قديمة، بتحب الألوان الفاتحة" })),
    )
    .await;
    assert_eq!(s, 201, "{note}");
    assert_eq!(
        (note["kind"].as_str(), note["author"].as_str()),
        (Some("note"), Some("merchant"))
    );
    assert_eq!(note["delivery"], Value::Null);
    assert_eq!(sends(&i.ta).len(), 2);
    let thread = get(&i, &format!("/api/v1/conversations/{eight}")).await;
    assert_eq!(
        thread["events"].as_array().unwrap().last().unwrap()["text"],
        "زبونة قديمة، بتحب الألوان الفاتحة"
    );

    // Unusable text names the field; an unreadable body is a 400.
    for bad in [
        json!({ "text": "a\u{0}b" }),
        json!({ "text": "   " }),
        json!({ "text": "ب".repeat(4001) }),
    ] {
        for what in ["reply", "notes"] {
            let (s, v) = call(
                &i.ta,
                &i.m,
                "POST",
                &format!("/api/v1/conversations/{today}/{what}"),
                Some(bad.clone()),
            )
            .await;
            assert_eq!(s, 422, "{what}: {v}");
            assert_eq!(v["problems"][0]["field"], "text", "{v}");
        }
    }
    let (s, _) = call(
        &i.ta,
        &i.m,
        "POST",
        &format!("/api/v1/conversations/{today}/reply"),
        Some(json!({ "message": "hi" })),
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(sends(&i.ta).len(), 2);

    // Another shop sees none of it and changes nothing.
    let other = sign_in(&i.ta, "other.shop").await;
    for (method, path, body) in [
        ("GET", format!("/api/v1/conversations/{today}"), None),
        (
            "POST",
            format!("/api/v1/conversations/{today}/reply"),
            Some(json!({ "text": "hi" })),
        ),
        (
            "POST",
            format!("/api/v1/conversations/{today}/notes"),
            Some(json!({ "text": "hi" })),
        ),
        (
            "POST",
            format!("/api/v1/conversations/{today}/takeover"),
            None,
        ),
        (
            "POST",
            format!("/api/v1/conversations/{today}/handback"),
            None,
        ),
        ("POST", format!("/api/v1/conversations/{today}/read"), None),
        ("POST", format!("/api/v1/conversations/{today}/close"), None),
        (
            "POST",
            "/api/v1/conversations/not-a-uuid/close".to_owned(),
            None,
        ),
    ] {
        let (s, v) = call(&i.ta, &other, method, &path, body).await;
        assert_eq!(s, 404, "{method} {path}: {v}");
        assert_eq!(v["error"], "not_found");
    }
    assert_eq!(
        ids(&get_as(&i.ta, &other, "/api/v1/conversations").await),
        Vec::<String>::new()
    );
    assert_eq!(sends(&i.ta).len(), 2);
    let conv = get(&i, &format!("/api/v1/conversations/{today}")).await;
    assert_eq!(conv["conversation"]["mode"], "human");
}

async fn get_as(ta: &TestApp, m: &Merchant, path: &str) -> Value {
    let (s, v) = call(ta, m, "GET", path, None).await;
    assert_eq!(s, 200, "{v}");
    v
}
