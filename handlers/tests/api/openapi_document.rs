//! The OpenAPI document: served without a session, generated from the code's list of
//! endpoints and types, and every endpoint it names is really routed.

use crate::support::app::{session_cookie_of, test_app, TestApp};
use handlers::functions::api::openapi;
use serde_json::{json, Value};

async fn fetch_document(ta: &TestApp) -> Value {
    let r = warp::test::request()
        .method("GET")
        .path(openapi::DOCUMENT_PATH)
        .reply(&ta.service)
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    serde_json::from_slice(r.body()).expect("the document is JSON")
}

fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                out.push(r.clone());
            }
            m.values().for_each(|x| refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

#[tokio::test]
async fn the_document_is_openapi_3_generated_from_the_code() {
    let ta = test_app(&[]).await;
    let doc = fetch_document(&ta).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3."),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["info"]["title"], "IG-Shop-Agent API");
    let paths = doc["paths"].as_object().unwrap();

    // Built from the one list in code: the same (method, path) pairs, nothing else.
    let mut listed: Vec<(String, String)> = openapi::endpoints()
        .iter()
        .map(|e| (e.method_name().to_owned(), e.path.to_owned()))
        .collect();
    let mut documented: Vec<(String, String)> = paths
        .iter()
        .flat_map(|(p, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|k| ["get", "post", "put", "patch", "delete"].contains(&k.as_str()))
                .map(move |m| (m.clone(), p.clone()))
        })
        .collect();
    listed.sort();
    documented.sort();
    assert_eq!(listed, documented);
    for must in [
        "/api/v1/dashboard",
        "/api/v1/settings/model/test",
        "/api/v1/openapi.json",
        "/api/instagram/webhook",
        "/api/health",
    ] {
        assert!(paths.contains_key(must), "{must} is documented");
    }

    // Schemas come from the Rust types: the view's fields are exactly what it serialises to.
    let schemas = &doc["components"]["schemas"];
    let mut fields: Vec<&String> = schemas["ModelSettingsView"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    let real = serde_json::to_value(shared::model_settings::ModelSettingsView::default()).unwrap();
    let mut real_fields: Vec<&String> = real.as_object().unwrap().keys().collect();
    fields.sort();
    real_fields.sort();
    assert_eq!(fields, real_fields);
    assert_eq!(schemas["Jod"]["type"], "string", "money is a string");
    assert_eq!(schemas["Jod"]["examples"][0], "12.500");
    // The served document is the generated one, and every reference resolves.
    assert_eq!(
        doc,
        serde_json::from_str::<Value>(&openapi::document().to_json().unwrap()).unwrap()
    );
    let mut all = vec![];
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in all {
        let name = r.strip_prefix("#/components/schemas/").unwrap();
        assert!(schemas.get(name).is_some(), "{r} resolves");
    }
    // Writes declare the session and the CSRF header.
    let put = &doc["paths"]["/api/v1/settings/model"]["put"];
    assert_eq!(put["security"], json!([{ "session": [], "csrf": [] }]));
    assert_eq!(
        doc["components"]["securitySchemes"]["csrf"]["name"],
        "X-CSRF-Token"
    );
}

#[tokio::test]
async fn every_documented_endpoint_is_routed() {
    let ta = test_app(&[]).await;
    let r = warp::test::request()
        .method("POST")
        .path("/api/v1/auth/local")
        .body(r#"{"handle":"jo.shop"}"#)
        .reply(&ta.service)
        .await;
    let cookie = session_cookie_of(&r).unwrap();
    let csrf = serde_json::from_slice::<Value>(r.body()).unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let doc = fetch_document(&ta).await;
    let mut calls: Vec<(String, String)> = vec![];
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            calls.push((method.to_uppercase(), path.clone()));
        }
    }
    // Signing out last, so every other call has a session.
    calls.sort_by_key(|(_, p)| p.ends_with("/logout"));
    assert!(calls.len() >= 45, "{} endpoints", calls.len());
    for (method, path) in calls {
        let concrete: String = path
            .split('/')
            .map(|s| {
                if s.starts_with('{') {
                    uuid::Uuid::new_v4().to_string()
                } else {
                    s.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let r = warp::test::request()
            .method(&method)
            .path(&concrete)
            .header("cookie", format!("igshop_session={cookie}"))
            .header("x-csrf-token", &csrf)
            .header("content-type", "application/json")
            .body("{}")
            .reply(&ta.service)
            .await;
        let status = r.status().as_u16();
        let body: Value = serde_json::from_slice(r.body()).unwrap_or(Value::Null);
        let what = format!("{method} {path} → {status} {body}");
        assert_ne!(status, 501, "not built: {what}");
        assert_ne!(status, 405, "method not routed: {what}");
        if status == 404 {
            // An unknown id is fine; a missing route is not.
            assert_ne!(
                body["message"], "There is nothing at this address.",
                "not routed: {what}"
            );
            assert!(
                path.contains('{') || path.contains("deletion-status"),
                "{what}"
            );
        }
        if path.starts_with("/api/v1/") {
            assert_ne!(status, 401, "the session was accepted: {what}");
            assert_ne!(status, 403, "the CSRF token was accepted: {what}");
        }
    }
}
