//! An in-process app on a fresh database, with Instagram pointed at the fake server.

#![allow(dead_code)]

use super::fake_instagram::FakeInstagram;
use handlers::functions::host_service;
use shared::app::App;
use shared::settings::{Settings, Source};
use testkit::TestDb;
use warp::filters::BoxedFilter;

pub const IG_SECRET: &str = "test-instagram-app-secret";
pub const META_SECRET: &str = "test-meta-app-secret";
pub const VERIFY_TOKEN: &str = "test-verify-token";

pub struct TestApp {
    pub t: TestDb,
    pub app: App,
    pub fake: FakeInstagram,
    pub service: BoxedFilter<(warp::reply::Response,)>,
}

pub async fn test_app(extra: &[(&str, &str)]) -> TestApp {
    let t = TestDb::new().await;
    let fake = FakeInstagram::start().await;
    let mut env = t.env();
    for (k, v) in [
        ("AZURE_STORAGE_CONNECTION_STRING", super::azurite().as_str()),
        ("INSTAGRAM_APP_ID", "1234567890"),
        ("INSTAGRAM_APP_SECRET", IG_SECRET),
        ("META_APP_SECRET", META_SECRET),
        ("META_VERIFY_TOKEN", VERIFY_TOKEN),
        (
            "INSTAGRAM_AUTHORIZE_URL",
            &format!("{}/oauth/authorize", fake.base()),
        ),
        ("INSTAGRAM_API_BASE", &fake.base()),
        ("INSTAGRAM_GRAPH_BASE", &fake.base()),
        ("PUBLIC_BASE_URL", "http://shop.test"),
    ] {
        env.push((k.into(), v.into()));
    }
    for (k, v) in extra {
        env.retain(|(name, _)| name != k);
        env.push((k.to_string(), v.to_string()));
    }
    let settings = Settings::from_source(&Source::from_map(env)).unwrap();
    let app = App::build(settings).unwrap();
    let service = host_service(app.clone());
    TestApp {
        t,
        app,
        fake,
        service,
    }
}

/// The cookie value from a Set-Cookie header.
pub fn session_cookie_of(r: &warp::http::Response<bytes::Bytes>) -> Option<String> {
    r.headers().get_all("set-cookie").iter().find_map(|v| {
        let v = v.to_str().ok()?;
        let pair = v.split(';').next()?;
        let (name, value) = pair.split_once('=')?;
        (name == shared::sessions::COOKIE_NAME && !value.is_empty()).then(|| value.to_owned())
    })
}

/// A merchant signed in through the local sign-in: the session cookie, its CSRF token and
/// the shop.
pub struct Merchant {
    pub cookie: String,
    pub csrf: String,
    pub tenant: shared::tenants::TenantId,
}

pub async fn sign_in(ta: &TestApp, handle: &str) -> Merchant {
    let r = warp::test::request()
        .method("POST")
        .path("/api/v1/auth/local")
        .body(serde_json::json!({ "handle": handle }).to_string())
        .reply(&ta.service)
        .await;
    assert_eq!(r.status(), 200, "{:?}", r.body());
    let body: serde_json::Value = serde_json::from_slice(r.body()).unwrap();
    Merchant {
        cookie: session_cookie_of(&r).unwrap(),
        csrf: body["csrf_token"].as_str().unwrap().to_owned(),
        tenant: shared::tenants::TenantId::from_uuid(
            body["tenant_id"].as_str().unwrap().parse().unwrap(),
        ),
    }
}

/// The fake Instagram account connected as the shop `jo.shop`, with a token that expires in
/// `expires_in_days`.
pub async fn connect_shop(ta: &TestApp, expires_in_days: i64) -> shared::tenants::TenantId {
    let (tenant, _) = shared::tenants::upsert_for_instagram_account(
        &ta.app.db,
        super::fake_instagram::ACCOUNT_ID,
        &shared::tenants::InstagramHandle::parse(super::fake_instagram::HANDLE).unwrap(),
    )
    .await
    .unwrap();
    let mut c = ta.app.db.app().await.unwrap();
    let tx = shared::db::begin_for_tenant(&mut c, tenant).await.unwrap();
    shared::instagram::tokens::store(
        &tx,
        &ta.app.keys,
        tenant,
        super::fake_instagram::ACCOUNT_ID,
        &secrecy::SecretString::from("IGAA-test-token".to_owned()),
        chrono::Utc::now() + chrono::Duration::days(expires_in_days),
        &[],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    tenant
}
