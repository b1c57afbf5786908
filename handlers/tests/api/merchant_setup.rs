//! Business profile (YAML or JSON), AI instructions, business rules and onboarding progress.

use crate::support::app::{session_cookie_of, test_app, TestApp};
use serde_json::{json, Value};

async fn sign_in(ta: &TestApp) -> (String, String) {
    let r = warp::test::request()
        .method("POST")
        .path("/api/v1/auth/local")
        .body(r#"{"handle":"jo.shop"}"#)
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
    ct: &str,
    body: &str,
) -> (u16, Value) {
    let r = warp::test::request()
        .method(method)
        .path(path)
        .header("cookie", format!("igshop_session={cookie}"))
        .header("x-csrf-token", csrf)
        .header("content-type", ct)
        .body(body.to_owned())
        .reply(&ta.service)
        .await;
    (
        r.status().as_u16(),
        serde_json::from_slice(r.body()).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn profile_rules_instructions_and_onboarding() {
    let ta = test_app(&[]).await;
    let m = sign_in(&ta).await;

    let (s, start) = call(&ta, &m, "GET", "/api/v1/profile", "", "").await;
    assert_eq!((s, start["is_template"].as_bool()), (200, Some(true)));
    assert!(
        start["yaml"].as_str().unwrap().contains("@jo.shop"),
        "the template knows the handle"
    );

    let (s, onboarding) = call(&ta, &m, "GET", "/api/v1/onboarding", "", "").await;
    assert_eq!((s, onboarding["live"].as_bool()), (200, Some(false)));
    let (s, _) = call(&ta, &m, "POST", "/api/v1/onboarding/finish", "", "").await;
    assert_eq!(s, 422, "not ready without a catalog and a profile");

    let yaml = start["yaml"]
        .as_str()
        .unwrap()
        .replace("اسم المحل", "متجر جو")
        .replace("window_days: 7", "window_days: 14");
    let (s, saved) = call(&ta, &m, "PUT", "/api/v1/profile", "application/yaml", &yaml).await;
    assert_eq!(s, 200, "{saved}");
    assert_eq!(saved["profile"]["returns"]["window_days"], 14);
    let (s, bad) = call(
        &ta,
        &m,
        "PUT",
        "/api/v1/profile",
        "application/yaml",
        &yaml.replace("window_days: 14", "window_days: lots"),
    )
    .await;
    assert_eq!(s, 422);
    assert!(
        bad["problems"][0]["field"]
            .as_str()
            .unwrap()
            .starts_with("line "),
        "{bad}"
    );
    let (s, bad) = call(
        &ta,
        &m,
        "PUT",
        "/api/v1/profile",
        "application/json",
        &json!({ "shop_name": "x", "returns": { "window_days": 999 } }).to_string(),
    )
    .await;
    assert_eq!(
        (s, bad["problems"][0]["field"].as_str()),
        (422, Some("returns.window_days"))
    );
    let (_, kept) = call(&ta, &m, "GET", "/api/v1/profile", "", "").await;
    assert_eq!(
        kept["profile"]["shop_name"], "متجر جو",
        "a refused save keeps the last good profile"
    );

    let rules = json!({ "delivery_zones": [{ "city": "عمان", "fee_jod": "2.5" }], "minimum_order_jod": "10", "working_hours": { "friday": "closed" } });
    let (s, r) = call(
        &ta,
        &m,
        "PUT",
        "/api/v1/business-rules",
        "application/json",
        &rules.to_string(),
    )
    .await;
    assert_eq!(
        (s, r["delivery_zones"][0]["fee_jod"].as_str()),
        (200, Some("2.500"))
    );
    let (s, bad) = call(
        &ta,
        &m,
        "PUT",
        "/api/v1/business-rules",
        "application/json",
        r#"{"delivery_zones":[{"city":"x","fee_jod":"-2"}]}"#,
    )
    .await;
    assert_eq!(s, 400, "{bad}");
    let (s, bad) = call(
        &ta,
        &m,
        "PUT",
        "/api/v1/business-rules",
        "application/json",
        r#"{"working_hours":{"monday":"late"}}"#,
    )
    .await;
    assert_eq!(
        (s, bad["problems"][0]["field"].as_str()),
        (422, Some("working_hours.monday"))
    );

    let (s, _) = call(
        &ta,
        &m,
        "PUT",
        "/api/v1/ai-instructions",
        "application/json",
        r#"{"instructions":"لا تعطي خصومات."}"#,
    )
    .await;
    assert_eq!(s, 200);
    let (_, i) = call(&ta, &m, "GET", "/api/v1/ai-instructions", "", "").await;
    assert_eq!(i["instructions"], "لا تعطي خصومات.");

    call(
        &ta,
        &m,
        "POST",
        "/api/v1/catalog/items",
        "application/json",
        r#"{"sku":"A","name":"قميص","price_jod":"5"}"#,
    )
    .await;
    let (s, done) = call(&ta, &m, "POST", "/api/v1/onboarding/finish", "", "").await;
    assert_eq!((s, done["live"].as_bool()), (200, Some(true)), "{done}");
}
