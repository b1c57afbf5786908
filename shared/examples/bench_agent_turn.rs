//! Benchmark (scripts/bench): the agent turn's own overhead, with an instant scripted model and
//! an instant Graph API on loopback, for a shop of 5,000 catalog items and 500 knowledge
//! chunks: p50/p99 milliseconds per turn and database statements per turn
//! (pg_stat_statements, when the server loads it). Then prompt tokens per turn (tiktoken
//! `o200k_base`, messages plus tool definitions) for catalogs of 10, 100 and 5,000 items.
//! Targets: p99 overhead under 20 ms; under 2,500 prompt tokens at 5,000 items.
//!
//! Usage: bench_agent_turn [turns]

#[path = "support/shop.rs"]
mod shop;

use shop::{customer_says, percentile};

use secrecy::SecretString;
use serde_json::{json, Value};
use shared::app::App;
use shared::db::begin_for_tenant;
use shared::settings::{Settings, Source};
use shared::tenants::{InstagramHandle, TenantId};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use uuid::Uuid;
use warp::Filter;

const MESSAGES: [&str; 4] = [
    "مرحبا، عندكم فستان أسود طويل؟",
    "قديش التوصيل لإربد؟",
    "بدي شنطة جلد بنية، قديش سعرها؟",
    "hi, do you have white sneakers?",
];

/// What the instant Azure AI Search stub answers: product and passage documents.
type SearchDocs = Arc<Mutex<(Vec<Value>, Vec<Value>)>>;

/// A model, a Graph API and an Azure AI Search that answer at once; the model's request
/// bodies are kept.
async fn instant_servers() -> (String, Arc<Mutex<Vec<Value>>>, SearchDocs) {
    let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
    let docs: SearchDocs = Arc::default();
    let d = docs.clone();
    let search = warp::post()
        .and(warp::path!("indexes" / String / "docs" / "search"))
        .and(warp::body::json())
        .map(move |_index: String, body: Value| {
            let docs = d.lock().unwrap();
            let products = body["filter"].as_str().unwrap_or("").contains("'product'");
            let value = if products {
                docs.0.clone()
            } else {
                docs.1.clone()
            };
            warp::reply::json(&json!({ "value": value }))
        });
    let s = seen.clone();
    let chat = warp::post()
        .and(warp::path!("chat" / "completions"))
        .and(warp::body::json())
        .map(move |body: Value| {
            s.lock().unwrap().push(body);
            warp::reply::json(&json!({
                "choices": [{ "index": 0, "finish_reason": "stop", "message": { "role": "assistant", "content": "أكيد! موجود وسعره 35 دينار." } }],
                "usage": { "prompt_tokens": 1500, "completion_tokens": 20, "prompt_tokens_details": { "cached_tokens": 1024 } }
            }))
        });
    let counter = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let send = warp::post()
        .and(warp::path::tail())
        .and(warp::body::json())
        .map(move |_tail: warp::path::Tail, body: Value| {
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            warp::reply::json(&json!({ "recipient_id": body["recipient"]["id"], "message_id": format!("m_bench_{n}") }))
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(
        warp::serve(chat.or(search).or(send))
            .incoming(listener)
            .run(),
    );
    (format!("http://{addr}"), seen, docs)
}

async fn connected(app: &App, account: &str, handle: &str) -> TenantId {
    testkit::license(app, handle).await;
    let (tenant, _) = shared::tenants::upsert_for_instagram_account(
        &app.db,
        account,
        &InstagramHandle::parse(handle).unwrap(),
    )
    .await
    .unwrap();
    let mut c = app.db.app().await.unwrap();
    let tx = begin_for_tenant(&mut c, tenant).await.unwrap();
    shared::instagram::tokens::store(
        &tx,
        &app.keys,
        tenant,
        account,
        &SecretString::from("IGAA-bench".to_owned()),
        chrono::Utc::now() + chrono::Duration::days(50),
        &[],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    tenant
}

/// Statements run in this database so far, from pg_stat_statements in the `postgres`
/// database (scripts/bench creates the extension there as the superuser).
async fn statements(stats: &Option<tokio_postgres::Client>, db: &str) -> Option<i64> {
    stats
        .as_ref()?
        .query_one(
            "SELECT sum(calls)::bigint FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = $1)",
            &[&db],
        )
        .await
        .ok()
        .and_then(|r| r.get::<_, Option<i64>>(0))
}

async fn stats_client(admin_url: &str) -> Option<tokio_postgres::Client> {
    let mut url = url::Url::parse(admin_url).ok()?;
    url.set_path("/postgres");
    let (client, conn) = tokio_postgres::connect(url.as_str(), tokio_postgres::NoTls)
        .await
        .ok()?;
    tokio::spawn(conn);
    client
        .query_one("SELECT 1 FROM pg_stat_statements LIMIT 1", &[])
        .await
        .ok()?;
    Some(client)
}

/// Runs `turns` measured turns (after 20 warm-up turns) and prints p50/p99 and statements.
async fn measure(
    app: &App,
    tenant: TenantId,
    turns: usize,
    stats: &Option<tokio_postgres::Client>,
    db_name: &str,
    label: &str,
    prefix: &str,
) {
    for i in 0..20 {
        let customer = format!("{prefix}-customer-{i}");
        let conv = customer_says(app, tenant, &customer, MESSAGES[i % MESSAGES.len()]).await;
        let body =
            json!({ "kind": "conversation_turn", "tenant_id": tenant, "conversation_id": conv });
        shared::agent::handle_queue_message(app, &body, 1)
            .await
            .unwrap();
    }
    let mut ms = Vec::with_capacity(turns);
    let mut stmt_total = 0i64;
    let mut stmt_known = true;
    for i in 0..turns {
        let customer = format!("{prefix}-customer-{}", i % 20);
        let conv = customer_says(app, tenant, &customer, MESSAGES[i % MESSAGES.len()]).await;
        let body =
            json!({ "kind": "conversation_turn", "tenant_id": tenant, "conversation_id": conv });
        let before = statements(stats, db_name).await;
        let started = Instant::now();
        shared::agent::handle_queue_message(app, &body, 1)
            .await
            .unwrap();
        ms.push(started.elapsed().as_secs_f64() * 1000.0);
        match (before, statements(stats, db_name).await) {
            (Some(a), Some(b)) => stmt_total += b - a,
            _ => stmt_known = false,
        }
    }
    ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "agent turn overhead, {label} ({turns} turns; instant model and Graph API): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (target p99 < 20 ms)",
        percentile(&ms, 0.5),
        percentile(&ms, 0.99),
        ms.last().unwrap()
    );
    if stmt_known {
        println!(
            "  database statements per turn: {:.1} (one round trip each when prepared, two otherwise)",
            stmt_total as f64 / turns as f64
        );
    } else {
        println!(
            "  database statements per turn: n/a (the server does not load pg_stat_statements)"
        );
    }
}

fn values_for(t: &testkit::TestDb, base: &str) -> Vec<(String, String)> {
    let mut values = t.env();
    for (k, v) in [
        ("OPENAI_BASE_URL", base),
        ("OPENAI_API_KEY", "sk-bench"),
        ("OPENAI_EMBEDDING_MODEL", "none"),
        ("AGENT_QUIET_MS", "0"),
        ("INSTAGRAM_APP_ID", "1"),
        ("INSTAGRAM_APP_SECRET", "bench-secret"),
        ("INSTAGRAM_GRAPH_BASE", base),
        ("INSTAGRAM_SEND_RATE_PER_SECOND", "10000"),
    ] {
        values.push((k.into(), v.into()));
    }
    values
}

/// One licence key pair and whitelist for both apps of the benchmark.
fn licence_values() -> &'static Vec<(String, String)> {
    static V: std::sync::OnceLock<Vec<(String, String)>> = std::sync::OnceLock::new();
    V.get_or_init(testkit::licence_env)
}

#[tokio::main]
async fn main() {
    let turns: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    let t = testkit::TestDb::new().await;
    let (base, seen, search_docs) = instant_servers().await;
    let values = values_for(&t, &base);
    let source = Source::from_process()
        .unwrap()
        .overridden(values.into_iter().chain(licence_values().clone()));
    let app = App::build(Settings::from_source(&source).unwrap()).unwrap();

    let setup = Instant::now();
    let big = connected(&app, "17841400000050000", "bench.big").await;
    shop::create(&app, big, 5000 - shop::ITEMS.len(), 499).await;
    // The steady state autovacuum reaches about a minute after a bulk import: GIN pending
    // lists merged, planner statistics present.
    let admin = app.db.platform().await.unwrap();
    for table in ["catalog_items", "kb_chunks", "messages"] {
        admin
            .batch_execute(&format!("VACUUM ANALYZE {table}"))
            .await
            .unwrap();
    }
    drop(admin);
    println!(
        "agent turn: shop of 5,000 items and 500 knowledge chunks set up in {:.1} s (then VACUUM ANALYZE, as autovacuum would)",
        setup.elapsed().as_secs_f64()
    );

    let db_name: String = app
        .db
        .platform()
        .await
        .unwrap()
        .query_one("SELECT current_database()", &[])
        .await
        .unwrap()
        .get(0);
    let admin_url = t
        .env()
        .into_iter()
        .find(|(k, _)| k == "DATABASE_ADMIN_URL")
        .unwrap()
        .1;
    let stats = stats_client(&admin_url).await;
    measure(
        &app,
        big,
        turns,
        &stats,
        &db_name,
        "local configuration: search in Postgres",
        "rc",
    )
    .await;
    // The last prompts of conversations with 20 messages of memory (Postgres search).
    let big_prompts: Vec<Value> = seen
        .lock()
        .unwrap()
        .iter()
        .rev()
        .take(MESSAGES.len())
        .cloned()
        .collect();

    // The production configuration: search is Azure AI Search (answering at once here, like
    // the model), so the figure is the turn's own work.
    {
        let c = app.db.platform().await.unwrap();
        let products: Vec<Value> = c
            .query("SELECT id, name, description FROM catalog_items WHERE tenant_id = $1 ORDER BY sku LIMIT 6", &[&big.as_uuid()])
            .await
            .unwrap()
            .iter()
            .map(|r| json!({ "@search.score": 1.0, "item_id": r.get::<_, Uuid>(0).to_string(), "kind": "product", "title": r.get::<_, String>(1), "content": r.get::<_, String>(2) }))
            .collect();
        let passages: Vec<Value> = c
            .query("SELECT id, document_id, heading, content FROM kb_chunks WHERE tenant_id = $1 ORDER BY ordinal LIMIT 3", &[&big.as_uuid()])
            .await
            .unwrap()
            .iter()
            .map(|r| json!({ "@search.score": 1.0, "item_id": r.get::<_, Uuid>(0).to_string(), "kind": "passage", "document_id": r.get::<_, Uuid>(1).to_string(), "title": r.get::<_, String>(2), "content": r.get::<_, String>(3) }))
            .collect();
        *search_docs.lock().unwrap() = (products, passages);
    }
    let azure_source = Source::from_process().unwrap().overridden(
        values_for(&t, &base)
            .into_iter()
            .chain(licence_values().clone())
            .chain([
                ("SEARCH_BACKEND".to_string(), "azure".to_string()),
                ("AZURE_SEARCH_ENDPOINT".to_string(), base.clone()),
                ("AZURE_SEARCH_API_KEY".to_string(), "bench".to_string()),
            ]),
    );
    let azure_app = App::build(Settings::from_source(&azure_source).unwrap()).unwrap();
    measure(
        &azure_app,
        big,
        turns,
        &stats,
        &db_name,
        "production configuration: SEARCH_BACKEND=azure",
        "az",
    )
    .await;

    // Prompt tokens against catalog size.
    let bpe = tiktoken_rs::o200k_base().unwrap();
    let tokens_of = |body: &Value| -> usize {
        let messages: usize = body["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                4 + bpe
                    .encode_with_special_tokens(m["content"].as_str().unwrap_or(""))
                    .len()
            })
            .sum();
        let tools = bpe
            .encode_with_special_tokens(&body["tools"].to_string())
            .len();
        messages + tools + 3
    };
    let big_tokens = big_prompts.iter().map(&tokens_of).max().unwrap();
    for (size, account) in [
        (10usize, "17841400000050010"),
        (100, "17841400000050100"),
        (5000, ""),
    ] {
        let tenant = if size == 5000 {
            big
        } else {
            let tenant = connected(&app, account, &format!("bench.s{size}")).await;
            shop::create(&app, tenant, size - shop::ITEMS.len(), 499).await;
            tenant
        };
        let mut worst = 0;
        for (i, m) in MESSAGES.iter().enumerate() {
            let conv = customer_says(&app, tenant, &format!("tok-{i}"), m).await;
            let body = json!({ "kind": "conversation_turn", "tenant_id": tenant, "conversation_id": conv });
            shared::agent::handle_queue_message(&app, &body, 1)
                .await
                .unwrap();
            worst = worst.max(tokens_of(seen.lock().unwrap().last().unwrap()));
        }
        println!("prompt tokens per turn (o200k_base, first message of a conversation, worst of {}): {size} items → {worst}", MESSAGES.len());
        if size == 10 {
            // The cacheable prefix (system prompt, shop block with the inline catalog, tools)
            // before and after an order-sized stock change.
            let prefix_of = |body: &Value| -> String {
                format!(
                    "{}\n{}\n{}",
                    body["messages"][0]["content"].as_str().unwrap_or(""),
                    body["messages"][1]["content"].as_str().unwrap_or(""),
                    body["tools"]
                )
            };
            let before = prefix_of(seen.lock().unwrap().last().unwrap());
            app.db
                .platform()
                .await
                .unwrap()
                .execute(
                    "UPDATE catalog_items SET stock = greatest(stock - 1, 0) WHERE tenant_id = $1",
                    &[&tenant.as_uuid()],
                )
                .await
                .unwrap();
            let conv = customer_says(&app, tenant, "tok-stock", MESSAGES[0]).await;
            let body = json!({ "kind": "conversation_turn", "tenant_id": tenant, "conversation_id": conv });
            shared::agent::handle_queue_message(&app, &body, 1)
                .await
                .unwrap();
            let after = prefix_of(seen.lock().unwrap().last().unwrap());
            println!(
                "cacheable prefix at 10 items (system prompt + shop block + tools, o200k_base): {} tokens; byte-identical before and after a stock change: {}",
                bpe.encode_with_special_tokens(&before).len(),
                if before == after { "yes" } else { "NO" }
            );
        }
    }
    println!(
        "prompt tokens per turn at 5,000 items (20 messages of memory, worst of the last {}): {big_tokens} (target < 2,500)",
        MESSAGES.len()
    );
}
