//! `frontend/public/staticwebapp.config.json` (Azure Static Web Apps serves the SPA in
//! production) keeps the same security headers and caching as `handler serve`, and falls back
//! to `index.html` only for the app's own routes — never for `/api/*` or the hashed assets.

use handlers::security_headers::{ALWAYS, HSTS};
use serde_json::Value;

fn config() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../frontend/public/staticwebapp.config.json"
    );
    let text = std::fs::read_to_string(path).expect("the Static Web Apps config exists");
    serde_json::from_str(&text).expect("the Static Web Apps config is JSON")
}

fn header<'a>(headers: &'a Value, name: &str) -> Option<&'a str> {
    headers
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.as_str())
}

#[test]
fn static_web_apps_sends_the_same_security_headers_as_the_binary() {
    let config = config();
    let global = &config["globalHeaders"];
    for (name, value) in ALWAYS {
        assert_eq!(header(global, name), Some(value), "globalHeaders.{name}");
    }
    assert_eq!(header(global, "strict-transport-security"), Some(HSTS));
}

#[test]
fn static_web_apps_falls_back_to_the_app_but_not_for_the_api_or_assets() {
    let config = config();
    let fallback = &config["navigationFallback"];
    assert_eq!(fallback["rewrite"], "/index.html");
    let excluded: Vec<&str> = fallback["exclude"]
        .as_array()
        .expect("exclude list")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(excluded.contains(&"/api/*"), "{excluded:?}");
    assert!(excluded.contains(&"/assets/*"), "{excluded:?}");
    assert!(
        config
            .get("responseOverrides")
            .and_then(|o| o.get("404"))
            .is_none(),
        "a missing file must stay a 404"
    );
}

#[test]
fn static_web_apps_caches_hashed_assets_forever_and_index_never() {
    let config = config();
    let routes = config["routes"].as_array().expect("routes");
    let cache_of = |route: &str| {
        routes
            .iter()
            .find(|r| r["route"] == route)
            .and_then(|r| header(&r["headers"], "cache-control"))
            .map(str::to_owned)
    };
    assert_eq!(
        cache_of("/assets/*").as_deref(),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(cache_of("/index.html").as_deref(), Some("no-cache"));
}
