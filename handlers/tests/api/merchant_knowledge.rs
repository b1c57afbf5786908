//! The knowledge base end to end: uploads (TXT, Markdown, Arabic PDF and DOCX) through the
//! API, the worker run from the real Postgres queue, search, embeddings from a local
//! OpenAI-compatible server, web pages fetched under the SSRF policy, bad input, deletion and
//! another shop's documents. Real Postgres, Azurite and loopback HTTP servers only.

use crate::support::app::{test_app, Merchant, TestApp};
use serde_json::{json, Value};
use shared::knowledge::documents::ingest_message;
use shared::knowledge::fetch::FetchPolicy;
use shared::knowledge::ingest::{self, IngestOptions, IngestRequest};
use shared::tenants::TenantId;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;
use warp::{Filter, Reply};

async fn sign_in(ta: &TestApp, handle: &str) -> Merchant {
    ta.app.blobs.ensure_container().await.unwrap();
    crate::support::app::sign_in(ta, handle).await
}

fn parse(body: &[u8]) -> Value {
    if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
    }
}

async fn call(
    ta: &TestApp,
    m: &Merchant,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> (u16, Value) {
    let mut req = warp::test::request()
        .method(method)
        .path(path)
        .header("cookie", format!("igshop_session={}", m.cookie))
        .header("x-csrf-token", &m.csrf);
    if let Some(b) = body {
        req = req.body(b.to_owned());
    }
    let r = req.reply(&ta.service).await;
    (r.status().as_u16(), parse(r.body()))
}

const BOUNDARY: &str = "----igshop-test-boundary";

/// A multipart/form-data body with a `file` part (and a `title` part when given).
fn form(file_name: &str, content_type: &str, bytes: &[u8], title: Option<&str>) -> Vec<u8> {
    let mut body = Vec::new();
    if let Some(t) = title {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n{t}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn upload(ta: &TestApp, m: &Merchant, body: Vec<u8>) -> (u16, Value) {
    upload_with(ta, m, body, true).await
}

async fn upload_with(ta: &TestApp, m: &Merchant, body: Vec<u8>, csrf: bool) -> (u16, Value) {
    let mut req = warp::test::request()
        .method("POST")
        .path("/api/v1/knowledge/documents")
        .header("cookie", format!("igshop_session={}", m.cookie))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        );
    if csrf {
        req = req.header("x-csrf-token", &m.csrf);
    }
    let r = req.body(body).reply(&ta.service).await;
    (r.status().as_u16(), parse(r.body()))
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../shared/tests/fixtures/knowledge/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Runs the worker over every message in the local queue, as `serve`'s poller does; returns
/// how many failed (were given back for redelivery).
async fn run_worker(ta: &TestApp) -> usize {
    let queue = ta.app.local_queue.clone().unwrap();
    let mut failed = 0;
    while let Some(message) = queue.lease(Duration::from_secs(60)).await.unwrap() {
        match shared::work::handle_queue_message(&ta.app, &message.body, message.delivery_count)
            .await
        {
            Ok(()) => queue.complete(&message).await.unwrap(),
            Err(e) => {
                failed += 1;
                queue
                    .abandon(&message, &e.to_string(), Duration::from_secs(3600))
                    .await
                    .unwrap();
            }
        }
    }
    failed
}

async fn sql_one(ta: &TestApp, sql: &str, id: Uuid) -> i64 {
    let c = ta.app.db.platform().await.unwrap();
    c.query_one(sql, &[&id]).await.unwrap().get(0)
}

async fn search(ta: &TestApp, m: &Merchant, q: &str) -> Vec<Value> {
    let path = format!(
        "/api/v1/knowledge/search?q={}",
        url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
    );
    let (s, body) = call(ta, m, "GET", &path, None).await;
    assert_eq!(s, 200, "{body}");
    body["hits"].as_array().unwrap().clone()
}

#[tokio::test]
async fn uploads_are_read_chunked_indexed_and_found() {
    let ta = test_app(&[]).await;
    let m = sign_in(&ta, "kb_shop").await;
    let txt = "ساعات العمل\n\nنفتح يومياً من العاشرة صباحاً حتى العاشرة مساءً.\n".as_bytes();
    let md =
        "# الضمان\n\nكل الساعات عليها ضمان سنة كاملة.\n\n## الشحن الدولي\n\nلا نشحن خارج الأردن.\n";
    let cases: Vec<(&str, &str, Vec<u8>, &str)> = vec![
        ("hours.txt", "text/plain", txt.to_vec(), "txt"),
        (
            "warranty.md",
            "text/markdown",
            md.as_bytes().to_vec(),
            "markdown",
        ),
        (
            "سياسة.pdf",
            "application/pdf",
            fixture("store-policy.pdf"),
            "pdf",
        ),
        (
            "faq.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            fixture("store-faq.docx"),
            "docx",
        ),
    ];
    let mut ids = Vec::new();
    for (name, ct, bytes, _) in &cases {
        let (s, doc) = upload(&ta, &m, form(name, ct, bytes, None)).await;
        assert_eq!(s, 202, "{name}: {doc}");
        assert_eq!(doc["status"], "queued");
        assert_eq!(doc["size_bytes"], bytes.len());
        assert_eq!(doc["sha256"].as_str().unwrap().len(), 64);
        ids.push(doc["id"].as_str().unwrap().to_owned());
    }
    // The originals are in blob storage under the shop's prefix before anything is read.
    let c = ta.app.db.platform().await.unwrap();
    for (id, (_, _, bytes, _)) in ids.iter().zip(&cases) {
        let path: String = c
            .query_one(
                "SELECT blob_path FROM kb_documents WHERE id = $1",
                &[&Uuid::parse_str(id).unwrap()],
            )
            .await
            .unwrap()
            .get(0);
        assert!(
            path.starts_with(&format!("tenants/{}/knowledge/{id}/", m.tenant)),
            "{path}"
        );
        assert_eq!(ta.app.blobs.get(&path).await.unwrap().unwrap(), &bytes[..]);
    }
    // A write without the CSRF token is refused and stores nothing.
    let (s, _) = upload_with(&ta, &m, form("x.txt", "text/plain", b"abc", None), false).await;
    assert_eq!(s, 403);

    assert_eq!(run_worker(&ta).await, 0);
    let (s, list) = call(&ta, &m, "GET", "/api/v1/knowledge/documents", None).await;
    assert_eq!(s, 200);
    let docs = list["documents"].as_array().unwrap();
    assert_eq!(docs.len(), 4, "{list}");
    for (id, (name, _, _, kind)) in ids.iter().zip(&cases) {
        let (s, doc) = call(
            &ta,
            &m,
            "GET",
            &format!("/api/v1/knowledge/documents/{id}"),
            None,
        )
        .await;
        assert_eq!(s, 200);
        assert_eq!(doc["status"], "indexed", "{name}: {doc}");
        assert_eq!(doc["kind"], *kind);
        assert!(doc["chunk_count"].as_i64().unwrap() > 0, "{doc}");
        assert!(doc["failure_reason"].is_null());
    }
    // What the agent would find, in Arabic, from each kind of file.
    let doc_of = |hits: &[Value]| -> Vec<String> {
        hits.iter()
            .map(|h| h["document_id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(doc_of(&search(&ta, &m, "العاشرة").await).contains(&ids[0]));
    assert!(doc_of(&search(&ta, &m, "ضمان").await).contains(&ids[1]));
    assert!(doc_of(&search(&ta, &m, "رسوم التوصيل").await).contains(&ids[2]));
    assert!(doc_of(&search(&ta, &m, "عبدون").await).contains(&ids[3]));
    // Headings travel with the chunks.
    let hits = search(&ta, &m, "الشحن الدولي").await;
    assert!(
        hits[0]["title"].as_str().unwrap().contains("الشحن الدولي"),
        "{hits:?}"
    );
    // No embedding model configured: no vectors, no usage.
    assert_eq!(
        sql_one(
            &ta,
            "SELECT count(*) FROM kb_chunks WHERE embedding IS NOT NULL AND tenant_id = $1",
            m.tenant.as_uuid()
        )
        .await,
        0
    );

    // Redelivering an indexed document's message does nothing: same chunks, same status.
    let before: Vec<Uuid> = c
        .query("SELECT id FROM kb_chunks ORDER BY id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let id0 = Uuid::parse_str(&ids[0]).unwrap();
    shared::work::handle_queue_message(&ta.app, &ingest_message(m.tenant, id0).body, 2)
        .await
        .unwrap();
    let after: Vec<Uuid> = c
        .query("SELECT id FROM kb_chunks ORDER BY id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(before, after);
}

#[tokio::test]
async fn bad_uploads_get_a_clear_4xx_and_write_nothing() {
    let ta = test_app(&[]).await;
    let m = sign_in(&ta, "kb_bad").await;
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    let (s, e) = upload(&ta, &m, form("photo.png", "image/png", png, None)).await;
    assert_eq!(s, 415, "{e}");
    assert!(e["message"].as_str().unwrap().contains("PDF"), "{e}");
    let (s, e) = upload(
        &ta,
        &m,
        form("fake.pdf", "application/pdf", b"not a pdf at all", None),
    )
    .await;
    assert_eq!(s, 415, "{e}");
    let (s, e) = upload(&ta, &m, form("empty.txt", "text/plain", b"", None)).await;
    assert_eq!(s, 422, "{e}");
    assert!(e["message"].as_str().unwrap().contains("empty"), "{e}");
    let big = vec![b'a'; 20 * 1024 * 1024 + 1];
    let (s, e) = upload(&ta, &m, form("big.txt", "text/plain", &big, None)).await;
    assert_eq!(s, 413, "{e}");
    assert!(e["message"].as_str().unwrap().contains("20 MB"), "{e}");
    let (s, e) = call(&ta, &m, "POST", "/api/v1/knowledge/documents", Some("{}")).await;
    assert_eq!(s, 400, "{e}");
    assert!(e["message"].as_str().unwrap().contains("multipart"), "{e}");
    let (s, e) = upload(
        &ta,
        &m,
        form("a.txt", "text/plain", b"x", Some(&"t".repeat(5000))),
    )
    .await;
    assert_eq!(s, 422, "{e}");

    // Web addresses: refused at once when they cannot be fetched.
    for (url, why) in [
        ("ftp://example.com/faq", "http"),
        ("https://user:pw@example.com/faq", "password"),
        ("http://127.0.0.1:8080/", "private"),
        ("http://[::1]/", "private"),
        ("http://localhost/", "private"),
        ("http://169.254.169.254/latest/meta-data/", "private"),
        ("not a link", "valid"),
    ] {
        let (s, e) = call(
            &ta,
            &m,
            "POST",
            "/api/v1/knowledge/documents/url",
            Some(&json!({ "url": url }).to_string()),
        )
        .await;
        assert_eq!(s, 422, "{url}: {e}");
        assert!(e["message"].as_str().unwrap().contains(why), "{url}: {e}");
    }
    let (s, _) = call(
        &ta,
        &m,
        "POST",
        "/api/v1/knowledge/documents/url",
        Some(r#"{"link":"x"}"#),
    )
    .await;
    assert_eq!(s, 400);
    let (s, _) = call(&ta, &m, "GET", "/api/v1/knowledge/search?q=", None).await;
    assert_eq!(s, 422);

    assert_eq!(
        sql_one(
            &ta,
            "SELECT count(*) FROM kb_documents WHERE tenant_id = $1",
            m.tenant.as_uuid()
        )
        .await,
        0
    );
    assert_eq!(
        ta.app.local_queue.as_ref().unwrap().depth().await.unwrap(),
        0
    );
}

#[tokio::test]
async fn delete_removes_blob_chunks_and_hits_and_other_shops_get_404() {
    let ta = test_app(&[]).await;
    let m = sign_in(&ta, "kb_owner").await;
    let other = sign_in(&ta, "kb_other").await;
    let text = "# التغليف\n\nنغلف كل هدية بورق ملون مجاناً.\n";
    let (s, doc) = upload(
        &ta,
        &m,
        form("gift.md", "text/markdown", text.as_bytes(), Some("التغليف")),
    )
    .await;
    assert_eq!(s, 202, "{doc}");
    assert_eq!(doc["title"], "التغليف");
    let id = doc["id"].as_str().unwrap().to_owned();
    let uuid = Uuid::parse_str(&id).unwrap();
    assert_eq!(run_worker(&ta).await, 0);
    assert_eq!(search(&ta, &m, "هدية").await.len(), 1);
    let path: String = ta
        .app
        .db
        .platform()
        .await
        .unwrap()
        .query_one("SELECT blob_path FROM kb_documents WHERE id = $1", &[&uuid])
        .await
        .unwrap()
        .get(0);

    // Another shop neither sees, finds, deletes nor retries it.
    let doc_path = format!("/api/v1/knowledge/documents/{id}");
    assert_eq!(call(&ta, &other, "GET", &doc_path, None).await.0, 404);
    assert_eq!(call(&ta, &other, "DELETE", &doc_path, None).await.0, 404);
    assert_eq!(
        call(&ta, &other, "POST", &format!("{doc_path}/retry"), None)
            .await
            .0,
        404
    );
    assert!(search(&ta, &other, "هدية").await.is_empty());
    let (_, list) = call(&ta, &other, "GET", "/api/v1/knowledge/documents", None).await;
    assert_eq!(list["documents"], json!([]));
    assert_eq!(
        call(
            &ta,
            &m,
            "GET",
            "/api/v1/knowledge/documents/not-a-uuid",
            None
        )
        .await
        .0,
        404
    );
    // Only a failed document can be retried.
    assert_eq!(
        call(&ta, &m, "POST", &format!("{doc_path}/retry"), None)
            .await
            .0,
        409
    );

    let (s, _) = call(&ta, &m, "DELETE", &doc_path, None).await;
    assert_eq!(s, 204);
    assert_eq!(call(&ta, &m, "GET", &doc_path, None).await.0, 404);
    assert!(search(&ta, &m, "هدية").await.is_empty());
    assert_eq!(
        sql_one(
            &ta,
            "SELECT count(*) FROM kb_chunks WHERE document_id = $1",
            uuid
        )
        .await,
        0
    );
    assert!(
        ta.app.blobs.get(&path).await.unwrap().is_none(),
        "blob left behind"
    );
    assert_eq!(call(&ta, &m, "DELETE", &doc_path, None).await.0, 404);

    // A document deleted while queued: its message is a no-op.
    let (_, doc) = upload(&ta, &m, form("x.txt", "text/plain", "نص".as_bytes(), None)).await;
    let id = doc["id"].as_str().unwrap();
    assert_eq!(
        call(
            &ta,
            &m,
            "DELETE",
            &format!("/api/v1/knowledge/documents/{id}"),
            None
        )
        .await
        .0,
        204
    );
    assert_eq!(run_worker(&ta).await, 0);
}

/// A local OpenAI-compatible embeddings server: a vector per input from its words, or 500s
/// while `failing` is set.
struct EmbeddingServer {
    addr: SocketAddr,
    calls: Arc<AtomicUsize>,
    failing: Arc<AtomicBool>,
}

impl EmbeddingServer {
    async fn start() -> EmbeddingServer {
        let calls = Arc::new(AtomicUsize::new(0));
        let failing = Arc::new(AtomicBool::new(false));
        let (c, f) = (calls.clone(), failing.clone());
        let route = warp::post()
            .and(warp::path("embeddings"))
            .and(warp::body::json())
            .map(move |body: Value| {
                c.fetch_add(1, Ordering::SeqCst);
                if f.load(Ordering::SeqCst) {
                    return warp::reply::with_status(
                        warp::reply::json(&json!({"error": {"message": "down"}})),
                        warp::http::StatusCode::INTERNAL_SERVER_ERROR,
                    )
                    .into_response();
                }
                let inputs = body["input"].as_array().cloned().unwrap_or_default();
                let data: Vec<Value> = inputs
                    .iter()
                    .enumerate()
                    .map(|(i, text)| {
                        let text = text.as_str().unwrap_or_default();
                        let mut v = [0.1f32; 8];
                        for (j, ch) in text.chars().enumerate() {
                            v[(ch as usize + j) % 8] += 1.0;
                        }
                        json!({ "index": i, "embedding": v })
                    })
                    .collect();
                warp::reply::json(&json!({
                    "data": data,
                    "usage": { "prompt_tokens": 7 * inputs.len(), "total_tokens": 7 * inputs.len() }
                }))
                .into_response()
            });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(warp::serve(route).incoming(listener).run());
        EmbeddingServer {
            addr,
            calls,
            failing,
        }
    }
}

#[tokio::test]
async fn embeddings_are_stored_billed_and_an_outage_means_try_again() {
    let server = EmbeddingServer::start().await;
    let base = format!("http://{}", server.addr);
    let ta = test_app(&[
        ("OPENAI_BASE_URL", &base),
        ("OPENAI_EMBEDDING_MODEL", "text-embedding-3-small"),
        ("LLM_MAX_RETRIES", "0"),
    ])
    .await;
    let m = sign_in(&ta, "kb_vectors").await;
    let text = "# المقاسات\n\nالمقاسات المتوفرة من S إلى XXL.\n";

    // The model is down: the message goes back to the queue, the document is not failed.
    server.failing.store(true, Ordering::SeqCst);
    let (_, doc) = upload(
        &ta,
        &m,
        form("sizes.md", "text/markdown", text.as_bytes(), None),
    )
    .await;
    let id = Uuid::parse_str(doc["id"].as_str().unwrap()).unwrap();
    assert_eq!(run_worker(&ta).await, 1);
    let (_, got) = call(
        &ta,
        &m,
        "GET",
        &format!("/api/v1/knowledge/documents/{id}"),
        None,
    )
    .await;
    assert_eq!(got["status"], "processing", "{got}");
    assert!(server.calls.load(Ordering::SeqCst) >= 1);

    // Back up: the redelivery indexes it with vectors and bills the tokens.
    server.failing.store(false, Ordering::SeqCst);
    shared::work::handle_queue_message(&ta.app, &ingest_message(m.tenant, id).body, 2)
        .await
        .unwrap();
    let (_, got) = call(
        &ta,
        &m,
        "GET",
        &format!("/api/v1/knowledge/documents/{id}"),
        None,
    )
    .await;
    assert_eq!(got["status"], "indexed", "{got}");
    assert_eq!(
        sql_one(
            &ta,
            "SELECT count(*) FROM kb_chunks WHERE document_id = $1 AND embedding IS NULL",
            id
        )
        .await,
        0
    );
    assert!(
        sql_one(
            &ta,
            "SELECT count(*) FROM kb_chunks WHERE document_id = $1 AND cardinality(embedding) = 8",
            id
        )
        .await
            > 0
    );
    assert!(
        sql_one(
            &ta,
            "SELECT count(*) FROM usage_events WHERE tenant_id = $1 AND kind = 'embedding' AND prompt_tokens > 0",
            m.tenant.as_uuid()
        )
        .await
            >= 1
    );
    // The merchant's search is hybrid (the query is embedded, and billed, too).
    let calls = server.calls.load(Ordering::SeqCst);
    assert!(!search(&ta, &m, "مقاسات").await.is_empty());
    assert_eq!(server.calls.load(Ordering::SeqCst), calls + 1);

    // On the last allowed delivery an outage fails the document with a reason instead.
    server.failing.store(true, Ordering::SeqCst);
    let (_, doc) = upload(
        &ta,
        &m,
        form("more.md", "text/markdown", text.as_bytes(), None),
    )
    .await;
    let id = Uuid::parse_str(doc["id"].as_str().unwrap()).unwrap();
    let last = ta.app.settings.queue.max_deliveries;
    shared::work::handle_queue_message(&ta.app, &ingest_message(m.tenant, id).body, last)
        .await
        .unwrap();
    let (_, got) = call(
        &ta,
        &m,
        "GET",
        &format!("/api/v1/knowledge/documents/{id}"),
        None,
    )
    .await;
    assert_eq!(got["status"], "failed", "{got}");
    assert!(
        got["failure_reason"]
            .as_str()
            .unwrap()
            .contains("try again"),
        "{got}"
    );
    // … and the merchant can retry it once the model is back.
    server.failing.store(false, Ordering::SeqCst);
    let (s, got) = call(
        &ta,
        &m,
        "POST",
        &format!("/api/v1/knowledge/documents/{id}/retry"),
        None,
    )
    .await;
    assert_eq!(s, 202, "{got}");
    assert_eq!(got["status"], "queued");
    assert_eq!(run_worker(&ta).await, 0);
    let (_, got) = call(
        &ta,
        &m,
        "GET",
        &format!("/api/v1/knowledge/documents/{id}"),
        None,
    )
    .await;
    assert_eq!(got["status"], "indexed", "{got}");
}

/// A loopback page server that counts its requests.
struct PageServer {
    addr: SocketAddr,
    hits: Arc<AtomicUsize>,
}

impl PageServer {
    async fn start<F>(bind: &str, answer: F) -> Option<PageServer>
    where
        F: Fn() -> warp::reply::Response + Clone + Send + Sync + 'static,
    {
        let listener = tokio::net::TcpListener::bind(bind).await.ok()?;
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(AtomicUsize::new(0));
        let h = hits.clone();
        let route = warp::any().map(move || {
            h.fetch_add(1, Ordering::SeqCst);
            answer()
        });
        tokio::spawn(warp::serve(route).incoming(listener).run());
        Some(PageServer { addr, hits })
    }
}

const PAGE: &str =
    "<!doctype html><html><head><title>سياسة الاستبدال</title><script>x()</script></head>\
    <body><h1>الاستبدال</h1><p>يمكن استبدال القطعة خلال أسبوع مع الفاتورة.</p></body></html>";

fn page() -> warp::reply::Response {
    warp::http::Response::builder()
        .header("content-type", "text/html; charset=utf-8")
        .body(PAGE.as_bytes().to_vec())
        .unwrap()
        .into_response()
}

/// A URL document as if its address had passed the request-time check (a public name whose
/// DNS answer changed later, say): the worker's own checks are what is tested.
async fn url_document(ta: &TestApp, tenant: TenantId, url: &str) -> Uuid {
    let mut c = ta.app.db.app().await.unwrap();
    let tx = shared::db::begin_for_tenant(&mut c, tenant).await.unwrap();
    let id: Uuid = tx
        .query_one(
            "INSERT INTO kb_documents (tenant_id, title, source_kind, source_url)
             VALUES ($1, 'page', 'url', $2) RETURNING id",
            &[&tenant.as_uuid(), &url],
        )
        .await
        .unwrap()
        .get(0);
    tx.commit().await.unwrap();
    id
}

async fn status_of(ta: &TestApp, id: Uuid) -> (String, Option<String>) {
    let row = ta
        .app
        .db
        .platform()
        .await
        .unwrap()
        .query_one(
            "SELECT status, failure_reason FROM kb_documents WHERE id = $1",
            &[&id],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1))
}

#[tokio::test]
async fn pages_on_private_addresses_are_refused_by_the_worker() {
    let ta = test_app(&[]).await;
    let m = sign_in(&ta, "kb_ssrf").await;
    let v4 = PageServer::start("127.0.0.1:0", page).await.unwrap();
    let port = v4.addr.port();
    let v6 = PageServer::start("[::1]:0", page).await;
    let mut urls = vec![
        format!("http://127.0.0.1:{port}/"),
        format!("http://localhost:{port}/"),
        format!("http://vm:{port}/"), // a name /etc/hosts resolves to 127.0.0.1
        format!("http://[::ffff:127.0.0.1]:{port}/"),
    ];
    urls.push(match &v6 {
        Some(s) => format!("http://[::1]:{}/", s.addr.port()),
        None => "http://[::1]:9/".into(),
    });
    for url in &urls {
        let id = url_document(&ta, m.tenant, url).await;
        // Through the product's own path: the default policy.
        shared::work::handle_queue_message(&ta.app, &ingest_message(m.tenant, id).body, 1)
            .await
            .unwrap();
        let (status, reason) = status_of(&ta, id).await;
        assert_eq!(status, "failed", "{url}");
        assert!(
            reason.unwrap().contains("private or internal address"),
            "{url}"
        );
    }
    assert_eq!(
        v4.hits.load(Ordering::SeqCst),
        0,
        "a refused fetch reached the server"
    );
    if let Some(s) = &v6 {
        assert_eq!(s.hits.load(Ordering::SeqCst), 0);
    }

    // A page we allow (tests only) that redirects to another loopback address: the redirect
    // is checked again and refused, and the second server never hears of it.
    let target = PageServer::start("127.0.0.2:0", page).await;
    let target_url = match &target {
        Some(t) => format!("http://127.0.0.2:{}/", t.addr.port()),
        None => "http://127.0.0.2:9/".into(),
    };
    let location = target_url.clone();
    let bouncer = PageServer::start("127.0.0.1:0", move || {
        warp::http::Response::builder()
            .status(302)
            .header("location", location.clone())
            .body(Vec::new())
            .unwrap()
            .into_response()
    })
    .await
    .unwrap();
    let id = url_document(
        &ta,
        m.tenant,
        &format!("http://127.0.0.1:{}/faq", bouncer.addr.port()),
    )
    .await;
    let options = IngestOptions {
        fetch: FetchPolicy {
            allow_exact: vec![bouncer.addr],
            ..FetchPolicy::default()
        },
    };
    ingest::handle(
        &ta.app,
        IngestRequest {
            tenant: m.tenant,
            document: id,
        },
        1,
        &options,
    )
    .await
    .unwrap();
    let (status, reason) = status_of(&ta, id).await;
    assert_eq!(status, "failed");
    assert!(reason.unwrap().contains("private or internal address"));
    assert_eq!(bouncer.hits.load(Ordering::SeqCst), 1);
    if let Some(t) = &target {
        assert_eq!(
            t.hits.load(Ordering::SeqCst),
            0,
            "the redirect target was reached"
        );
    }
}

#[tokio::test]
async fn an_allowed_page_is_fetched_kept_and_indexed() {
    let ta = test_app(&[]).await;
    let m = sign_in(&ta, "kb_pages").await;
    let server = PageServer::start("127.0.0.1:0", page).await.unwrap();
    let id = url_document(
        &ta,
        m.tenant,
        &format!("http://127.0.0.1:{}/policy", server.addr.port()),
    )
    .await;
    let options = IngestOptions {
        fetch: FetchPolicy {
            allow_exact: vec![server.addr],
            ..FetchPolicy::default()
        },
    };
    ingest::handle(
        &ta.app,
        IngestRequest {
            tenant: m.tenant,
            document: id,
        },
        1,
        &options,
    )
    .await
    .unwrap();
    let (_, doc) = call(
        &ta,
        &m,
        "GET",
        &format!("/api/v1/knowledge/documents/{id}"),
        None,
    )
    .await;
    assert_eq!(doc["status"], "indexed", "{doc}");
    assert_eq!(doc["kind"], "html");
    assert_eq!(doc["size_bytes"], PAGE.len());
    let path: String = ta
        .app
        .db
        .platform()
        .await
        .unwrap()
        .query_one("SELECT blob_path FROM kb_documents WHERE id = $1", &[&id])
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        path,
        format!("tenants/{}/knowledge/{id}/policy.html", m.tenant)
    );
    assert_eq!(
        ta.app.blobs.get(&path).await.unwrap().unwrap(),
        PAGE.as_bytes()
    );
    let hits = search(&ta, &m, "استبدال").await;
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert!(!hits[0]["snippet"].as_str().unwrap().contains("x()"));

    // The API takes a public address and queues it (no fetch at request time).
    let (s, doc) = call(
        &ta,
        &m,
        "POST",
        "/api/v1/knowledge/documents/url",
        Some(r#"{"url":"https://shop.example.com/returns","title":"الإرجاع"}"#),
    )
    .await;
    assert_eq!(s, 202, "{doc}");
    assert_eq!(doc["status"], "queued");
    assert_eq!(doc["source"], "url");
    assert_eq!(
        ta.app.local_queue.as_ref().unwrap().depth().await.unwrap(),
        1
    );
}

#[tokio::test]
async fn the_sweeper_queues_a_document_whose_message_was_lost() {
    let ta = test_app(&[]).await;
    let m = sign_in(&ta, "kb_sweep").await;
    let (_, doc) = upload(
        &ta,
        &m,
        form("lost.txt", "text/plain", "رسالة ضائعة".as_bytes(), None),
    )
    .await;
    let id = Uuid::parse_str(doc["id"].as_str().unwrap()).unwrap();
    let queue = ta.app.local_queue.clone().unwrap();
    // The message is lost (as a Service Bus send after the commit might be) …
    let c = ta.app.db.platform().await.unwrap();
    c.execute("DELETE FROM queue_messages", &[]).await.unwrap();
    // … a fresh document is left alone, a stale one is queued again.
    shared::jobs::sweeper(&ta.app).await.unwrap();
    assert_eq!(queue.depth().await.unwrap(), 0);
    c.execute(
        "UPDATE kb_documents SET updated_at = now() - interval '2 hours' WHERE id = $1",
        &[&id],
    )
    .await
    .unwrap();
    let report = shared::jobs::sweeper(&ta.app).await.unwrap();
    assert!(
        report
            .lines
            .iter()
            .any(|l| l == "knowledge documents queued again: 1"),
        "{:?}",
        report.lines
    );
    assert_eq!(queue.depth().await.unwrap(), 1);
    assert_eq!(run_worker(&ta).await, 0);
    assert_eq!(status_of(&ta, id).await.0, "indexed");
}
