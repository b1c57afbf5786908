//! The shop's own model settings (key sealed, never shown) and "test connection" against real
//! local HTTP servers speaking OpenAI's Chat Completions.

use crate::support::app::{session_cookie_of, test_app, TestApp};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use warp::Filter;

async fn sign_in(ta: &TestApp, handle: &str) -> (String, String) {
    let r = warp::test::request()
        .method("POST")
        .path("/api/v1/auth/local")
        .body(json!({ "handle": handle }).to_string())
        .reply(&ta.service)
        .await;
    let body: Value = serde_json::from_slice(r.body()).unwrap();
    (
        session_cookie_of(&r).unwrap(),
        body["csrf_token"].as_str().unwrap().to_owned(),
    )
}

async fn call(
    ta: &TestApp,
    (cookie, csrf): &(String, String),
    method: &str,
    path: &str,
    body: &str,
) -> (u16, Value) {
    let r = warp::test::request()
        .method(method)
        .path(path)
        .header("cookie", format!("igshop_session={cookie}"))
        .header("x-csrf-token", csrf)
        .body(body.to_owned())
        .reply(&ta.service)
        .await;
    (
        r.status().as_u16(),
        serde_json::from_slice(r.body()).unwrap_or(Value::Null),
    )
}

/// An OpenAI-compatible server answering every chat with `status` (200: "pong"), recording
/// the Authorization header and the model asked for.
async fn fake_openai(status: u16) -> (String, Arc<Mutex<Vec<(String, String)>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let route = warp::post()
        .and(warp::path!("v1" / "chat" / "completions"))
        .and(warp::header::optional::<String>("authorization"))
        .and(warp::body::json())
        .map(move |auth: Option<String>, body: Value| {
            s.lock().unwrap().push((
                auth.unwrap_or_default(),
                body["model"].as_str().unwrap_or_default().to_owned(),
            ));
            let answer = if status == 200 {
                json!({"choices":[{"message":{"role":"assistant","content":"pong"},"finish_reason":"stop"}],
                       "usage":{"prompt_tokens":3,"completion_tokens":1}})
            } else {
                json!({"error":{"message":"Incorrect API key provided","type":"invalid_request_error"}})
            };
            warp::reply::with_status(
                warp::reply::json(&answer),
                warp::http::StatusCode::from_u16(status).unwrap(),
            )
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(warp::serve(route).incoming(listener).run());
    (format!("http://{addr}/v1"), seen)
}

#[tokio::test]
async fn own_key_is_sealed_hidden_and_kept_per_shop() {
    let ta = test_app(&[]).await;
    let m = sign_in(&ta, "jo.shop").await;
    let other = sign_in(&ta, "other.shop").await;

    let (s, empty) = call(&ta, &m, "GET", "/api/v1/settings/model", "").await;
    assert_eq!(s, 200);
    assert_eq!(empty["has_api_key"], false);

    // The AI instructions live in the same row and must survive model changes.
    let (s, _) = call(
        &ta,
        &m,
        "PUT",
        "/api/v1/ai-instructions",
        r#"{"instructions":"كن لطيفا"}"#,
    )
    .await;
    assert_eq!(s, 200);

    let body = json!({"api_key": "sk-test-SECRET-1234wxyz", "base_url": "https://llm.example.com/v1/", "model": "gpt-4o-mini"});
    let (s, saved) = call(&ta, &m, "PUT", "/api/v1/settings/model", &body.to_string()).await;
    assert_eq!(s, 200, "{saved}");
    assert_eq!(saved["has_api_key"], true);
    assert_eq!(saved["api_key_hint"], "…wxyz");
    assert_eq!(saved["base_url"], "https://llm.example.com/v1");
    assert!(
        !saved.to_string().contains("SECRET"),
        "the key is never shown: {saved}"
    );

    let (_, got) = call(&ta, &m, "GET", "/api/v1/settings/model", "").await;
    assert_eq!(got["model"], "gpt-4o-mini");
    assert!(!got.to_string().contains("SECRET"));

    // Sealed at rest: the column holds no plaintext.
    let admin = ta.t.db.platform().await.unwrap();
    let row = admin
        .query_one(
            "SELECT llm_api_key_enc, llm_key_id, instructions FROM ai_settings",
            &[],
        )
        .await
        .unwrap();
    let enc: Vec<u8> = row.get(0);
    assert!(!String::from_utf8_lossy(&enc).contains("SECRET"));
    assert!(!enc.windows(4).any(|w| w == b"wxyz"));
    assert_eq!(row.get::<_, String>(1), ta.app.keys.key_id());
    assert_eq!(row.get::<_, String>(2), "كن لطيفا");

    // Absent keeps, null clears.
    let (s, kept) = call(
        &ta,
        &m,
        "PUT",
        "/api/v1/settings/model",
        r#"{"model": "gpt-4o"}"#,
    )
    .await;
    assert_eq!(
        (s, &kept["has_api_key"], &kept["model"]),
        (200, &json!(true), &json!("gpt-4o"))
    );
    let (s, cleared) = call(
        &ta,
        &m,
        "PUT",
        "/api/v1/settings/model",
        r#"{"base_url": null}"#,
    )
    .await;
    assert_eq!(
        (s, &cleared["base_url"], &cleared["has_api_key"]),
        (200, &Value::Null, &json!(true))
    );

    // Bad input: 422 naming the fields, nothing written.
    let (s, bad) = call(
        &ta,
        &m,
        "PUT",
        "/api/v1/settings/model",
        r#"{"api_key": "sk-new", "base_url": "ftp://x.example.com", "model": "gpt 4o"}"#,
    )
    .await;
    assert_eq!(s, 422, "{bad}");
    let fields: Vec<&str> = bad["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["base_url", "model"]);
    let (_, after) = call(&ta, &m, "GET", "/api/v1/settings/model", "").await;
    assert_eq!(
        (&after["api_key_hint"], &after["model"]),
        (&json!("…wxyz"), &json!("gpt-4o"))
    );
    let (s, _) = call(
        &ta,
        &m,
        "PUT",
        "/api/v1/settings/model",
        r#"{"apikey": "x"}"#,
    )
    .await;
    assert_eq!(s, 400, "unknown fields are refused");
    let (s, _) = call(
        &ta,
        &m,
        "PUT",
        "/api/v1/settings/model",
        &format!(r#"{{"api_key": "{}"}}"#, "k".repeat(5000)),
    )
    .await;
    assert_eq!(s, 413, "the body is capped");

    // Writes need the CSRF token.
    let no_csrf = (m.0.clone(), "wrong".to_owned());
    let (s, _) = call(
        &ta,
        &no_csrf,
        "PUT",
        "/api/v1/settings/model",
        r#"{"model": "x"}"#,
    )
    .await;
    assert_eq!(s, 403);

    // Another shop sees none of it.
    let (s, theirs) = call(&ta, &other, "GET", "/api/v1/settings/model", "").await;
    assert_eq!(
        (s, &theirs["has_api_key"], &theirs["model"]),
        (200, &json!(false), &Value::Null)
    );

    // The agent's view: the key opened again.
    let mut c = ta.app.db.app().await.unwrap();
    let me = shared::sessions::find_merchant_session(&ta.app.db, &m.0)
        .await
        .unwrap()
        .unwrap();
    let tx = shared::db::begin_for_tenant(&mut c, me.tenant)
        .await
        .unwrap();
    let own = shared::model_settings::load_own_model(&tx, &ta.app.keys)
        .await
        .unwrap()
        .unwrap();
    use secrecy::ExposeSecret;
    assert_eq!(
        own.api_key.unwrap().expose_secret(),
        "sk-test-SECRET-1234wxyz"
    );
    assert_eq!(own.model.as_deref(), Some("gpt-4o"));

    // Clearing everything: the platform's model applies again.
    let (s, _) = call(
        &ta,
        &m,
        "PUT",
        "/api/v1/settings/model",
        r#"{"api_key": null, "model": null}"#,
    )
    .await;
    assert_eq!(s, 200);
    let own = shared::model_settings::load_own_model(&tx, &ta.app.keys)
        .await
        .unwrap();
    assert!(own.is_none());
}

#[tokio::test]
async fn test_connection_reports_success_wrong_key_and_unreachable() {
    let ta = test_app(&[("LLM_MAX_RETRIES", "0")]).await;
    let m = sign_in(&ta, "jo.shop").await;

    // Nothing configured anywhere.
    let (s, none) = call(&ta, &m, "POST", "/api/v1/settings/model/test", "").await;
    assert_eq!((s, &none["ok"]), (200, &json!(false)), "{none}");
    assert!(none["error"]
        .as_str()
        .unwrap()
        .contains("No model is set up"));

    let (good, seen) = fake_openai(200).await;
    let body = json!({"api_key": "sk-good-key", "base_url": good, "model": "llama3.1"});
    let (s, _) = call(&ta, &m, "PUT", "/api/v1/settings/model", &body.to_string()).await;
    assert_eq!(s, 200);
    let (s, ok) = call(&ta, &m, "POST", "/api/v1/settings/model/test", "").await;
    assert_eq!(s, 200);
    assert_eq!(ok["ok"], true, "{ok}");
    assert_eq!(
        (&ok["provider"], &ok["model"], &ok["uses"]),
        (&json!("openai"), &json!("llama3.1"), &json!("own"))
    );
    assert!(ok["latency_ms"].is_u64());
    assert_eq!(
        seen.lock().unwrap().last().unwrap(),
        &("Bearer sk-good-key".to_owned(), "llama3.1".to_owned())
    );

    // A wrong key: the provider's 401 in the merchant's words.
    let (refusing, _) = fake_openai(401).await;
    let (s, wrong) = call(
        &ta,
        &m,
        "POST",
        "/api/v1/settings/model/test",
        &json!({"base_url": refusing}).to_string(),
    )
    .await;
    assert_eq!((s, &wrong["ok"]), (200, &json!(false)), "{wrong}");
    let why = wrong["error"].as_str().unwrap();
    assert!(why.contains("API key") && why.contains("401"), "{why}");

    // An address nobody answers at.
    let dead = crate::support::free_port();
    let (s, down) = call(
        &ta,
        &m,
        "POST",
        "/api/v1/settings/model/test",
        &json!({"base_url": format!("http://127.0.0.1:{dead}/v1")}).to_string(),
    )
    .await;
    assert_eq!((s, &down["ok"]), (200, &json!(false)), "{down}");
    assert!(
        down["error"]
            .as_str()
            .unwrap()
            .contains("could not be reached"),
        "{down}"
    );

    // A draft is only tried, not saved; a bad draft is 422.
    let (_, still) = call(&ta, &m, "GET", "/api/v1/settings/model", "").await;
    assert_eq!(still["base_url"], json!(good));
    let (s, _) = call(
        &ta,
        &m,
        "POST",
        "/api/v1/settings/model/test",
        r#"{"base_url": "nope"}"#,
    )
    .await;
    assert_eq!(s, 422);
    let (s, _) = call(&ta, &m, "POST", "/api/v1/settings/model/test", "not json").await;
    assert_eq!(s, 400);
}
