//! Every trigger route has a `function.json` and every `function.json` has a route, with the
//! same names; and the files are what the host expects.

use handlers::functions::{host_service, FUNCTIONS};
use serde_json::{json, Value};
use shared::app::App;
use shared::settings::{Settings, Source};
use std::collections::BTreeSet;
use std::path::PathBuf;

fn functions_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("functions")
}

/// An app whose clients point nowhere: building it opens no connection, and the routes
/// exercised here answer before touching a dependency.
fn offline_app() -> App {
    let settings = Settings::from_source(&Source::from_map([
        (
            "DATABASE_URL".to_string(),
            "postgres://app:x@127.0.0.1:9/none".to_string(),
        ),
        (
            "DATABASE_ADMIN_URL".to_string(),
            "postgres://admin:x@127.0.0.1:9/none".to_string(),
        ),
        (
            "AZURE_STORAGE_CONNECTION_STRING".to_string(),
            "UseDevelopmentStorage=true".to_string(),
        ),
        ("TOKEN_ENCRYPTION_KEY".to_string(), testkit::test_key()),
    ]))
    .unwrap();
    App::build(settings).unwrap()
}

fn bindings(f: &str) -> Vec<Value> {
    let doc: Value = serde_json::from_str(f).unwrap();
    doc["bindings"].as_array().unwrap().clone()
}

#[test]
fn function_folders_and_the_function_table_name_the_same_functions() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(functions_dir())
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().join("function.json").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let in_code: BTreeSet<String> = FUNCTIONS.iter().map(|f| f.name.to_string()).collect();
    assert_eq!(on_disk, in_code);
    let expected: BTreeSet<String> = [
        "api",
        "admin",
        "instagram-webhook",
        "instagram-oauth",
        "meta-callbacks",
        "health",
        "agent",
        "nightly",
        "sweeper",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(
        in_code, expected,
        "the eight functions of ARCHITECTURE.md and `admin` (the console's API)"
    );
    for f in FUNCTIONS.iter() {
        let file =
            std::fs::read_to_string(functions_dir().join(f.name).join("function.json")).unwrap();
        assert_eq!(
            file, f.function_json,
            "{}: the embedded copy differs from the file",
            f.name
        );
    }
}

#[test]
fn function_json_files_have_the_shapes_the_host_expects() {
    for f in FUNCTIONS.iter() {
        let b = bindings(f.function_json);
        match b[0]["type"].as_str().unwrap() {
            "httpTrigger" => {
                // Forwarding needs exactly one httpTrigger in and one http out.
                assert_eq!(b.len(), 2, "{}", f.name);
                assert_eq!(
                    b[1],
                    json!({"type": "http", "direction": "out", "name": "res"}),
                    "{}",
                    f.name
                );
                assert_eq!(b[0]["authLevel"], "anonymous", "{}", f.name);
                assert!(
                    b[0]["route"]
                        .as_str()
                        .is_some_and(|r| !r.starts_with('/') && !r.starts_with("api/")),
                    "{}",
                    f.name
                );
            }
            "serviceBusTrigger" => {
                assert_eq!(b[0]["queueName"], "dm-inbound");
                assert_eq!(b[0]["connection"], "ServiceBusConnection");
                assert_eq!(b[0]["name"], handlers::functions::agent::BINDING);
            }
            "timerTrigger" => {
                assert_eq!(b[0]["name"], "timer");
                shared::schedule::Schedule::parse(b[0]["schedule"].as_str().unwrap()).unwrap();
            }
            other => panic!("{}: unexpected trigger {other}", f.name),
        }
    }
}

#[tokio::test]
async fn every_function_json_has_a_route() {
    let service = host_service(offline_app());
    for f in FUNCTIONS.iter() {
        let b = bindings(f.function_json);
        let trigger = b[0]["type"].as_str().unwrap();
        let response = if trigger == "httpTrigger" {
            // A path each catch-all route really serves.
            let tail = match f.name {
                "instagram-oauth" => "start",
                "meta-callbacks" => "deauthorize",
                _ => "me",
            };
            let path = format!(
                "/api/{}",
                b[0]["route"].as_str().unwrap().replace("{*path}", tail)
            );
            let methods: Vec<String> = b[0]["methods"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m.as_str().unwrap().to_uppercase())
                .collect();
            let method = if f.name == "meta-callbacks" {
                "POST".to_string()
            } else {
                methods[0].clone()
            };
            assert!(methods.contains(&method), "{}", f.name);
            if f.name == "health" {
                // Readiness would try the (absent) database; liveness answers from the route itself.
                warp::test::request()
                    .method(&method)
                    .path(&format!("{path}?probe=live"))
                    .reply(&service)
                    .await
            } else {
                warp::test::request()
                    .method(&method)
                    .path(&path)
                    .reply(&service)
                    .await
            }
        } else {
            let data = if trigger == "timerTrigger" {
                json!({ "timer": { "Schedule": { "AdjustForDST": true }, "ScheduleStatus": null, "IsPastDue": false } })
            } else {
                json!({ "msg": "{\"conversation_id\":\"c\"}" })
            };
            let body = json!({ "Data": data, "Metadata": {} }).to_string();
            warp::test::request()
                .method("POST")
                .path(&format!("/{}", f.name))
                .body(body)
                .reply(&service)
                .await
        };
        assert_ne!(
            response.status(),
            404,
            "{} ({trigger}) has no route",
            f.name
        );
        assert_ne!(
            response.status(),
            405,
            "{} ({trigger}) refuses its own method",
            f.name
        );
    }
}

#[tokio::test]
async fn a_route_without_a_function_is_a_json_404() {
    let service = host_service(offline_app());
    for (method, path) in [("POST", "/no-such-function"), ("GET", "/api/nowhere")] {
        let r = warp::test::request()
            .method(method)
            .path(path)
            .reply(&service)
            .await;
        assert_eq!(r.status(), 404, "{path}");
        let body: Value = serde_json::from_slice(r.body()).unwrap();
        assert_eq!(body["error"], "not_found");
    }
}

#[tokio::test]
async fn unbuilt_features_say_so() {
    let service = host_service(offline_app());
    for path in ["/api/v1/not-a-feature", "/api/v1/no-such-part"] {
        let r = warp::test::request()
            .method("GET")
            .path(path)
            .reply(&service)
            .await;
        assert_eq!(r.status(), 501, "{path}");
        let body: Value = serde_json::from_slice(r.body()).unwrap();
        assert_eq!(body["error"], "not_built_yet");
        assert!(
            body["message"].as_str().unwrap().contains("not built yet"),
            "{body}"
        );
    }
}
