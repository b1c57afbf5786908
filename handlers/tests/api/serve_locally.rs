//! `handler serve`: migrates, serves the API and the SPA on PORT, feeds the local queue to the
//! agent's code, and stops cleanly on SIGTERM.

use crate::support::{azurite, free_port, Running};
use serde_json::{json, Value};
use shared::queue::{PostgresQueue, Queue, QueueMessage};
use std::time::{Duration, Instant};
use testkit::TestDb;

#[tokio::test]
async fn serve_runs_the_product_and_stops_cleanly() {
    let t = TestDb::new().await;
    let dist = std::env::temp_dir().join(format!("igshop-dist-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(dist.join("assets")).unwrap();
    std::fs::write(
        dist.join("index.html"),
        "<!doctype html><title>IG-Shop-Agent</title><div id=root></div>",
    )
    .unwrap();
    std::fs::write(dist.join("assets/app.js"), "console.log('app')").unwrap();

    let port = free_port();
    let mut env = t.env();
    env.push(("PORT".into(), port.to_string()));
    env.push(("AZURE_STORAGE_CONNECTION_STRING".into(), azurite()));
    env.push((
        "BLOB_CONTAINER".into(),
        format!("serve-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]),
    ));
    env.push(("FRONTEND_DIST".into(), dist.display().to_string()));
    let mut running = Running::start(&["serve"], env);
    let base = format!("http://127.0.0.1:{port}");
    running
        .wait_until_answering(&format!("{base}/api/health?probe=live"))
        .await;

    let health: Value = reqwest::get(format!("{base}/api/health"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok", "{health}");

    // The SPA at /, its files, and index.html for client-side routes; the API keeps /api.
    let index = reqwest::get(format!("{base}/"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(index.contains("IG-Shop-Agent"));
    let js = reqwest::get(format!("{base}/assets/app.js"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(js.contains("console.log"));
    let deep = reqwest::get(format!("{base}/orders/1042"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(deep.contains("IG-Shop-Agent"));
    let api_miss = reqwest::get(format!("{base}/api/nope")).await.unwrap();
    assert_eq!(api_miss.status(), 404);
    assert_eq!(
        api_miss.json::<Value>().await.unwrap()["error"],
        "not_found"
    );

    // A message on the local queue reaches the agent function's code through the poller.
    let queue = PostgresQueue::new(t.db.clone(), "dm-inbound", 10);
    queue
        .send(&QueueMessage {
            message_id: "serve-m-1".into(),
            body: json!({ "conversation_id": "c" }),
        })
        .await
        .unwrap();
    let platform = t.db.platform().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let row = platform
            .query_one("SELECT delivery_count, coalesce(last_error, '') FROM queue_messages WHERE message_id = 'serve-m-1'", &[])
            .await
            .unwrap();
        let (count, error): (i32, String) = (row.get(0), row.get(1));
        if count >= 1 && !error.is_empty() {
            assert!(error.contains("not a conversation turn"), "{error}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the poller never picked the message up"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let status = running.terminate();
    assert!(status.success(), "serve exited with {status} after SIGTERM");
    assert!(running.output().contains("stopped"), "{}", running.output());
    std::fs::remove_dir_all(dist).unwrap();
}

#[tokio::test]
async fn package_builds_a_folder_func_start_can_run() {
    let out = std::env::temp_dir().join(format!("igshop-pkg-{}", uuid::Uuid::new_v4()));
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_handler"))
        .args(["package", "--out", out.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(status.success());
    let host: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("host.json")).unwrap()).unwrap();
    assert_eq!(
        host["customHandler"]["description"]["defaultExecutablePath"],
        "handler"
    );
    assert_eq!(host["customHandler"]["enableForwardingHttpRequest"], true);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(out.join("handler"))
        .unwrap()
        .permissions()
        .mode();
    assert!(mode & 0o111 != 0, "the handler must be executable");
    for f in handlers::functions::FUNCTIONS.iter() {
        let j: Value = serde_json::from_str(
            &std::fs::read_to_string(out.join(f.name).join("function.json")).unwrap(),
        )
        .unwrap();
        assert!(j["bindings"].is_array(), "{}", f.name);
    }
    // The packaged binary starts as a custom handler and answers the probe.
    let t = TestDb::new().await;
    let port = free_port();
    let mut env = t.env();
    env.push(("FUNCTIONS_CUSTOMHANDLER_PORT".into(), port.to_string()));
    env.push(("AZURE_STORAGE_CONNECTION_STRING".into(), azurite()));
    let mut cmd = std::process::Command::new(out.join("handler"));
    cmd.current_dir(&out)
        .env("IGSHOP_SETTINGS_FILE", "/nonexistent")
        .envs(env);
    let mut child = cmd.stdout(std::process::Stdio::null()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while reqwest::get(format!("http://127.0.0.1:{port}/"))
        .await
        .is_err()
    {
        assert!(
            Instant::now() < deadline,
            "the packaged handler never answered"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap();
    let _ = child.wait();
    std::fs::remove_dir_all(out).unwrap();
}

#[tokio::test]
async fn the_served_app_carries_security_headers_and_caches_only_hashed_assets_for_long() {
    let t = TestDb::new().await;
    let dist = std::env::temp_dir().join(format!("igshop-dist-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(dist.join("assets")).unwrap();
    std::fs::write(
        dist.join("index.html"),
        "<!doctype html><title>IG-Shop-Agent</title><script src=/assets/x-abc123.js></script>",
    )
    .unwrap();
    std::fs::write(dist.join("assets/x-abc123.js"), "console.log('app')").unwrap();
    std::fs::write(dist.join("favicon.svg"), "<svg/>").unwrap();
    let port = free_port();
    let mut env = t.env();
    env.push(("PORT".into(), port.to_string()));
    env.push(("AZURE_STORAGE_CONNECTION_STRING".into(), azurite()));
    env.push((
        "BLOB_CONTAINER".into(),
        format!("serve-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]),
    ));
    env.push(("FRONTEND_DIST".into(), dist.display().to_string()));
    let mut running = Running::start(&["serve"], env);
    let base = format!("http://127.0.0.1:{port}");
    running
        .wait_until_answering(&format!("{base}/api/health?probe=live"))
        .await;

    let fetch = |path: &'static str| {
        let url = format!("{base}{path}");
        async move { reqwest::get(url).await.unwrap() }
    };
    let header = |r: &reqwest::Response, name: &str| {
        r.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let mut answers = vec![];
    for path in [
        "/",
        "/index.html",
        "/assets/x-abc123.js",
        "/orders/1042",
        "/favicon.svg",
        "/assets/x-old999.js",
        "/api/nope",
        "/api/health?probe=live",
        "/api/v1/me",
    ] {
        answers.push((path, fetch(path).await));
    }
    for (path, r) in &answers {
        assert_eq!(
            header(r, "content-security-policy").as_deref(),
            Some(handlers::security_headers::CONTENT_SECURITY_POLICY),
            "{path}"
        );
        assert_eq!(
            header(r, "x-content-type-options").as_deref(),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(
            header(r, "referrer-policy").as_deref(),
            Some("strict-origin-when-cross-origin"),
            "{path}"
        );
        assert_eq!(
            header(r, "x-frame-options").as_deref(),
            Some("DENY"),
            "{path}"
        );
        assert_eq!(
            header(r, "permissions-policy").as_deref(),
            Some("camera=(), microphone=(), geolocation=()"),
            "{path}"
        );
        assert_eq!(
            header(r, "strict-transport-security"),
            None,
            "plain http locally: {path}"
        );
    }
    let status_and_cache = |i: usize| {
        let (_, r) = &answers[i];
        (r.status().as_u16(), header(r, "cache-control"))
    };
    let revalidate = Some("no-cache".to_owned());
    assert_eq!(
        status_and_cache(0),
        (200, revalidate.clone()),
        "index.html at /"
    );
    assert_eq!(status_and_cache(1), (200, revalidate.clone()));
    assert_eq!(
        status_and_cache(2),
        (200, Some("public, max-age=31536000, immutable".to_owned())),
        "hashed assets"
    );
    assert_eq!(
        status_and_cache(3),
        (200, revalidate.clone()),
        "a client-side route"
    );
    assert_eq!(
        status_and_cache(4),
        (200, revalidate),
        "other files are revalidated"
    );
    assert_eq!(
        answers[5].1.status(),
        404,
        "a missing asset is not index.html"
    );
    assert_eq!(
        answers[6].1.status(),
        404,
        "unknown API paths never fall back"
    );
    assert_eq!(answers[8].1.status(), 401);
    let mut bodies = vec![];
    for (_, r) in answers.drain(..) {
        bodies.push(r.text().await.unwrap());
    }
    assert!(bodies[3].contains("IG-Shop-Agent"), "{}", bodies[3]);
    assert!(bodies[2].contains("console.log"));
    assert!(!bodies[5].contains("IG-Shop-Agent"));
    assert!(bodies[6].contains("not_found"), "{}", bodies[6]);

    // Outside the local environment the answers also pin HTTPS.
    let r = handlers::security_headers::apply(warp::reply::Response::default(), true);
    assert_eq!(
        r.headers()["strict-transport-security"],
        handlers::security_headers::HSTS
    );

    let status = running.terminate();
    assert!(status.success());
    std::fs::remove_dir_all(dist).unwrap();
}
