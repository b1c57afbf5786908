//! The real `handler` binary as the Functions host starts it: readiness probe, invocation
//! envelopes sent chunked without a Content-Length, error status for failed queue
//! invocations, body caps, health, and spans carrying the host's ids.

use crate::support::{azurite, free_port, Running};
use futures::stream;
use serde_json::{json, Value};
use testkit::TestDb;

async fn start_host(t: &TestDb) -> (Running, String) {
    let port = free_port();
    let mut env = t.env();
    env.push(("FUNCTIONS_CUSTOMHANDLER_PORT".into(), port.to_string()));
    env.push(("AZURE_STORAGE_CONNECTION_STRING".into(), azurite()));
    let mut running = Running::start(&[], env);
    let base = format!("http://127.0.0.1:{port}");
    running.wait_until_answering(&format!("{base}/")).await;
    (running, base)
}

/// A body sent in pieces with `Transfer-Encoding: chunked`, as the host does.
fn chunked(body: String) -> reqwest::Body {
    let bytes = body.into_bytes();
    let pieces: Vec<Result<Vec<u8>, std::io::Error>> =
        bytes.chunks(7).map(|c| Ok(c.to_vec())).collect();
    reqwest::Body::wrap_stream(stream::iter(pieces))
}

#[tokio::test]
async fn the_host_protocol_end_to_end() {
    let t = TestDb::new().await;
    let (running, base) = start_host(&t).await;
    let http = reqwest::Client::new();

    // Readiness probe.
    let probe = http.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(probe.status(), 200);

    // Timer invocation, chunked, ScheduleStatus null.
    let timer = json!({ "Data": { "timer": { "Schedule": { "AdjustForDST": true }, "ScheduleStatus": null, "IsPastDue": false } },
                        "Metadata": { "sys": { "MethodName": "nightly", "UtcNow": "2026-11-23T02:00:00Z", "RandGuid": "r" } } });
    let r = http
        .post(format!("{base}/nightly"))
        .header("X-Azure-Functions-InvocationId", "inv-nightly-7f3a")
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .body(chunked(timer.to_string()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["Outputs"], json!({}));
    assert!(body["ReturnValue"].is_null());
    assert!(
        body["Logs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l.as_str().unwrap().contains("Instagram tokens")),
        "{body}"
    );

    // A queue invocation that fails answers non-2xx, so the host retries the message.
    let sb = json!({ "Data": { "msg": json!({"conversation_id": "c1"}).to_string() },
                     "Metadata": { "DeliveryCount": "1", "MessageId": "\"m-1\"" } });
    let r = http
        .post(format!("{base}/agent"))
        .body(chunked(sb.to_string()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["Logs"][0]
            .as_str()
            .unwrap()
            .contains("not a conversation turn"),
        "{body}"
    );

    // Malformed envelope: a clear 400.
    let r = http
        .post(format!("{base}/agent"))
        .body(chunked("{\"Data\": 42".into()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "bad_request");

    // Over the cap, chunked (no Content-Length to check up front): refused, not buffered.
    let huge = format!(
        "{{\"Data\":{{\"msg\":\"{}\"}}}}",
        "a".repeat(2 * 1024 * 1024)
    );
    let r = http
        .post(format!("{base}/agent"))
        .body(chunked(huge))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    // The unread rest of the body makes the connection unusable: the answer closes it, so
    // the client's next request goes on a fresh connection instead of failing.
    assert_eq!(r.headers()["connection"], "close");

    // Forwarded HTTP keeps its /api prefix; health is ready against real Postgres and Azurite
    // (the container is created in the background at start, so allow it a moment).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let health: Value = loop {
        let r = http.get(format!("{base}/api/health")).send().await.unwrap();
        let status = r.status();
        let health: Value = r.json().await.unwrap();
        if status == 200 {
            break health;
        }
        assert_eq!(status, 503, "{health}");
        assert!(
            std::time::Instant::now() < deadline,
            "never ready: {health}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    for dep in ["database", "queue", "blob"] {
        assert_eq!(health[dep]["ready"], true, "{dep}: {health}");
    }
    assert_eq!(health["queue"]["backend"], "postgres");

    // Every log line of a request carries the host's invocation id and traceparent.
    let output = running.output();
    let traced = output
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| l["span"]["invocation_id"] == "inv-nightly-7f3a");
    let traced =
        traced.unwrap_or_else(|| panic!("no log line carried the invocation id:\n{output}"));
    assert_eq!(
        traced["span"]["traceparent"],
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    );
    for secret in [&t.env()[0].1, &t.env()[1].1] {
        let password = url::Url::parse(secret)
            .unwrap()
            .password()
            .unwrap()
            .to_owned();
        assert!(
            !output.contains(&password),
            "a database password reached the logs"
        );
    }
}

#[tokio::test]
async fn health_reports_a_dependency_that_is_down() {
    let t = TestDb::new().await;
    let port = free_port();
    let mut env = t.env();
    env.push(("FUNCTIONS_CUSTOMHANDLER_PORT".into(), port.to_string()));
    // Blob storage pointing at a port where nothing listens.
    let dead = free_port();
    env.push((
        "AZURE_STORAGE_CONNECTION_STRING".into(),
        azurite().replace(&format!(":{}", azurite_port()), &format!(":{dead}")),
    ));
    let mut running = Running::start(&[], env);
    let base = format!("http://127.0.0.1:{port}");
    running.wait_until_answering(&format!("{base}/")).await;
    let r = reqwest::get(format!("{base}/api/health")).await.unwrap();
    assert_eq!(r.status(), 503);
    let health: Value = r.json().await.unwrap();
    assert_eq!(health["status"], "degraded");
    assert_eq!(health["database"]["ready"], true);
    assert_eq!(health["blob"]["ready"], false);
    assert!(health["blob"]["error"]
        .as_str()
        .is_some_and(|e| !e.is_empty()));
    // Liveness does not depend on it.
    let live = reqwest::get(format!("{base}/api/health?probe=live"))
        .await
        .unwrap();
    assert_eq!(live.status(), 200);
}

fn azurite_port() -> String {
    let conn = azurite();
    let endpoint = conn
        .split(';')
        .find_map(|p| p.strip_prefix("BlobEndpoint="))
        .expect("BlobEndpoint in the Azurite connection string");
    url::Url::parse(endpoint)
        .unwrap()
        .port()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_missing_setting_stops_start_up_and_is_named() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_handler"))
        .env_clear()
        .env("FUNCTIONS_CUSTOMHANDLER_PORT", free_port().to_string())
        .env("IGSHOP_SETTINGS_FILE", "/nonexistent/local.settings.json")
        .env("DATABASE_ADMIN_URL", "postgres://a:b@127.0.0.1:1/x")
        .env(
            "AZURE_STORAGE_CONNECTION_STRING",
            "UseDevelopmentStorage=true",
        )
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("DATABASE_URL"), "{stderr}");
}
