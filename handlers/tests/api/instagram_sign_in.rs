//! Sign-in with Instagram, sessions, CSRF, logout and the local-only sign-in.

use crate::support::app::{session_cookie_of, test_app, TestApp};
use crate::support::fake_instagram::{ACCOUNT_ID, HANDLE};
use serde_json::{json, Value};

async fn start(ta: &TestApp) -> String {
    let r = warp::test::request()
        .method("GET")
        .path("/api/instagram/oauth/start")
        .reply(&ta.service)
        .await;
    assert_eq!(r.status(), 302);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let url = url::Url::parse(&location).unwrap();
    assert_eq!(url.path(), "/oauth/authorize");
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(q["client_id"], "1234567890");
    assert!(
        q["redirect_uri"].ends_with("://shop.test/api/instagram/oauth/callback"),
        "{}",
        q["redirect_uri"]
    );
    assert_eq!(q["response_type"], "code");
    assert_eq!(
        q["scope"],
        "instagram_business_basic,instagram_business_manage_messages"
    );
    q["state"].clone()
}

async fn callback(ta: &TestApp, query: &str) -> warp::http::Response<bytes::Bytes> {
    warp::test::request()
        .method("GET")
        .path(&format!("/api/instagram/oauth/callback?{query}"))
        .reply(&ta.service)
        .await
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn me(ta: &TestApp, cookie: &str) -> (u16, Value) {
    let r = warp::test::request()
        .method("GET")
        .path("/api/v1/me")
        .header("cookie", format!("igshop_session={cookie}"))
        .reply(&ta.service)
        .await;
    (
        r.status().as_u16(),
        serde_json::from_slice(r.body()).unwrap(),
    )
}

#[tokio::test]
async fn the_full_sign_in_creates_the_shop_stores_the_token_sealed_and_signs_in() {
    let ta = test_app(&[]).await;
    let state = start(&ta).await;
    // Instagram appends "#_" to the code.
    let r = callback(
        &ta,
        &format!("code={}&state={}", enc("AQD-code#_"), enc(&state)),
    )
    .await;
    assert_eq!(r.status(), 302, "{:?}", r.body());
    assert_eq!(r.headers()["location"], "http://shop.test/onboarding");
    let set_cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"),
        "{set_cookie}"
    );
    assert!(!set_cookie.contains("Secure"), "local runs are plain http");
    let cookie = session_cookie_of(&r).unwrap();

    // Instagram saw the right calls.
    let token_call = &ta.fake.requests_to("/oauth/access_token")[0];
    let form: std::collections::HashMap<_, _> =
        url::form_urlencoded::parse(token_call.body.as_bytes())
            .into_owned()
            .collect();
    assert_eq!(form["code"], "AQD-code", "the #_ suffix is stripped");
    assert_eq!(form["grant_type"], "authorization_code");
    assert_eq!(
        form["redirect_uri"],
        "http://shop.test/api/instagram/oauth/callback"
    );
    assert!(ta
        .fake
        .requests_to("/access_token")
        .iter()
        .any(|r| r.query.contains("grant_type=ig_exchange_token")));
    let sub = ta.fake.requests_to("/subscribed_apps");
    assert_eq!(sub.len(), 1);
    assert!(sub[0].path.contains(ACCOUNT_ID));
    assert!(sub[0].query.contains("messages"));

    let (status, body) = me(&ta, &cookie).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["tenant"]["ig_handle"], HANDLE);
    assert_eq!(body["tenant"]["ig_user_id"], ACCOUNT_ID);
    assert_eq!(body["connection"]["status"], "connected");
    assert!(body["csrf_token"].as_str().is_some_and(|s| s.len() > 20));

    // The token is sealed at rest.
    let p = ta.t.db.platform().await.unwrap();
    let row = p
        .query_one(
            "SELECT access_token_enc, expires_at > now() + interval '50 days' FROM meta_tokens",
            &[],
        )
        .await
        .unwrap();
    let sealed: Vec<u8> = row.get(0);
    assert!(
        !sealed.windows(10).any(|w| w == b"IGAA-long-"),
        "the token is stored in clear"
    );
    assert!(row.get::<_, bool>(1), "the long-lived expiry was stored");

    // Signing in again: same shop, straight to the dashboard.
    let state = start(&ta).await;
    let r = callback(&ta, &format!("code=again&state={}", enc(&state))).await;
    assert_eq!(r.headers()["location"], "http://shop.test/");
    let tenants: i64 = p
        .query_one("SELECT count(*) FROM tenants", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(tenants, 1);
}

#[tokio::test]
async fn a_bad_reused_or_missing_state_is_refused() {
    let ta = test_app(&[]).await;
    let state = start(&ta).await;
    let ok = callback(&ta, &format!("code=c1&state={}", enc(&state))).await;
    assert_eq!(ok.status(), 302);
    assert!(ok.headers()["location"]
        .to_str()
        .unwrap()
        .ends_with("/onboarding"));
    let forged = format!("{}x", &state[..state.len() - 1]);
    for query in [
        format!("code=c2&state={}", enc(&state)),
        format!("code=c3&state={}", enc(&forged)),
        "code=c4".to_string(),
    ] {
        let r = callback(&ta, &query).await;
        let location = r.headers()["location"].to_str().unwrap();
        assert!(
            location.starts_with("http://shop.test/signin?error=bad_state"),
            "{query}: {location}"
        );
        assert!(session_cookie_of(&r).is_none());
    }
    assert_eq!(
        ta.fake.requests_to("/oauth/access_token").len(),
        1,
        "no code was exchanged after a bad state"
    );
}

#[tokio::test]
async fn cancelled_consent_and_instagram_errors_land_on_the_sign_in_page() {
    let ta = test_app(&[]).await;
    let state = start(&ta).await;
    let r = callback(&ta, &format!("error=access_denied&error_reason=user_denied&error_description=Permissions+error&state={}", enc(&state))).await;
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        "http://shop.test/signin?error=cancelled"
    );
    // The state of an error callback is spent: it cannot finish a sign-in afterwards.
    let r = callback(&ta, &format!("code=late&state={}", enc(&state))).await;
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        "http://shop.test/signin?error=bad_state"
    );
    // Another error: only our code reaches the page, never Instagram's (or anyone's) text;
    // without a state of ours it is a bad state.
    let state = start(&ta).await;
    let r = callback(
        &ta,
        &format!(
            "error=server_error&error_description=Call+0790000000+to+fix&state={}",
            enc(&state)
        ),
    )
    .await;
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        "http://shop.test/signin?error=instagram_error"
    );
    let r = callback(&ta, "error=server_error&error_description=Call+0790000000").await;
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        "http://shop.test/signin?error=bad_state"
    );

    ta.fake.script("POST /oauth/access_token", 400, json!({ "error_type": "OAuthException", "code": 400, "error_message": "Invalid authorization code" }));
    let state = start(&ta).await;
    let r = callback(&ta, &format!("code=expired&state={}", enc(&state))).await;
    let location = r.headers()["location"].to_str().unwrap();
    assert_eq!(location, "http://shop.test/signin?error=instagram_error");
    let p = ta.t.db.platform().await.unwrap();
    assert_eq!(
        p.query_one("SELECT count(*) FROM tenants", &[])
            .await
            .unwrap()
            .get::<_, i64>(0),
        0
    );
}

#[tokio::test]
async fn starting_a_sign_in_writes_nothing() {
    let ta = test_app(&[]).await;
    for _ in 0..5 {
        start(&ta).await;
    }
    let p = ta.t.db.platform().await.unwrap();
    assert_eq!(
        p.query_one("SELECT count(*) FROM oauth_states", &[])
            .await
            .unwrap()
            .get::<_, i64>(0),
        0,
        "anonymous starts are stateless (signed, expiring state)"
    );
}

#[tokio::test]
async fn logout_needs_the_csrf_token_and_ends_the_session() {
    let ta = test_app(&[]).await;
    let r = warp::test::request()
        .method("POST")
        .path("/api/v1/auth/local")
        .body(r#"{"handle":"@Local.Shop"}"#)
        .reply(&ta.service)
        .await;
    assert_eq!(r.status(), 200, "{:?}", r.body());
    let cookie = session_cookie_of(&r).unwrap();
    let (status, body) = me(&ta, &cookie).await;
    assert_eq!(status, 200);
    assert_eq!(body["tenant"]["ig_handle"], "local.shop");
    assert_eq!(body["connection"]["status"], "local");
    assert_eq!(body["local_environment"], true);
    let csrf = body["csrf_token"].as_str().unwrap().to_owned();

    let no_csrf = warp::test::request()
        .method("POST")
        .path("/api/v1/session/logout")
        .header("cookie", format!("igshop_session={cookie}"))
        .reply(&ta.service)
        .await;
    assert_eq!(no_csrf.status(), 403);
    let wrong = warp::test::request()
        .method("POST")
        .path("/api/v1/session/logout")
        .header("cookie", format!("igshop_session={cookie}"))
        .header("x-csrf-token", "forged")
        .reply(&ta.service)
        .await;
    assert_eq!(wrong.status(), 403);
    assert_eq!(
        me(&ta, &cookie).await.0,
        200,
        "a refused logout leaves the session alone"
    );

    let out = warp::test::request()
        .method("POST")
        .path("/api/v1/session/logout")
        .header("cookie", format!("igshop_session={cookie}"))
        .header("x-csrf-token", &csrf)
        .reply(&ta.service)
        .await;
    assert_eq!(out.status(), 204);
    assert!(out.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    assert_eq!(me(&ta, &cookie).await.0, 401);
    assert_eq!(me(&ta, "not-a-session").await.0, 401);
}

#[tokio::test]
async fn local_sign_in_is_refused_outside_the_local_environment() {
    let ta = test_app(&[
        ("IGSHOP_ENV", "production"),
        ("PUBLIC_BASE_URL", "https://shop.test"),
    ])
    .await;
    let r = warp::test::request()
        .method("POST")
        .path("/api/v1/auth/local")
        .body(r#"{"handle":"sneaky"}"#)
        .reply(&ta.service)
        .await;
    assert_eq!(r.status(), 403);
    assert!(session_cookie_of(&r).is_none());
    let p = ta.t.db.platform().await.unwrap();
    assert_eq!(
        p.query_one("SELECT count(*) FROM tenants", &[])
            .await
            .unwrap()
            .get::<_, i64>(0),
        0
    );
    let options: Value = serde_json::from_slice(
        warp::test::request()
            .path("/api/v1/auth/options")
            .reply(&ta.service)
            .await
            .body(),
    )
    .unwrap();
    assert_eq!(options, json!({ "instagram": true, "local": false }));
    // Production cookies are Secure.
    let state = start(&ta).await;
    let r = callback(&ta, &format!("code=c&state={}", enc(&state))).await;
    assert!(r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("; Secure"));
}

#[tokio::test]
async fn bad_local_sign_in_input_gets_a_clear_error() {
    let ta = test_app(&[]).await;
    // Unreadable: 400; readable but not a handle: 422 naming the field.
    for (body, status) in [
        ("not json", 400),
        (r#"{"handle":"has space"}"#, 422),
        (r#"{"name":"x"}"#, 400),
    ] {
        let r = warp::test::request()
            .method("POST")
            .path("/api/v1/auth/local")
            .body(body)
            .reply(&ta.service)
            .await;
        assert_eq!(r.status(), status, "{body}");
        let v: Value = serde_json::from_slice(r.body()).unwrap();
        assert!(!v["message"].as_str().unwrap().is_empty());
    }
    let big = format!(r#"{{"handle":"{}"}}"#, "a".repeat(10_000));
    let r = warp::test::request()
        .method("POST")
        .path("/api/v1/auth/local")
        .body(big)
        .reply(&ta.service)
        .await;
    assert_eq!(r.status(), 413);
}
