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

/// The test's own licence key pair and whitelist file (empty at first): the app verifies
/// with the public key and may sign with the private one, as `./scripts/dev` sets it up.
pub struct TestLicence {
    pub key: shared::licence::SigningKey,
    pub private_pem: String,
    pub public_pem: String,
    pub whitelist: std::path::PathBuf,
}

pub fn test_licence() -> TestLicence {
    let key = shared::licence::generate_key();
    let dir =
        std::env::temp_dir().join(format!("igshop-licence-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let whitelist = dir.join("whitelist.sig");
    std::fs::write(
        &whitelist,
        shared::licence::Whitelist::empty()
            .next(chrono::Utc::now())
            .sign(&key),
    )
    .unwrap();
    TestLicence {
        private_pem: shared::licence::private_key_pem(&key),
        public_pem: shared::licence::public_key_pem(&key.verifying_key()),
        key,
        whitelist,
    }
}

pub async fn test_app(extra: &[(&str, &str)]) -> TestApp {
    let t = TestDb::new().await;
    let fake = FakeInstagram::start().await;
    let mut env = t.env();
    let licence = test_licence();
    for (k, v) in [
        ("LICENCE_PUBLIC_KEY", licence.public_pem.as_str()),
        ("LICENCE_SIGNING_KEY", licence.private_pem.as_str()),
        (
            "LICENCE_WHITELIST_PATH",
            licence.whitelist.to_str().unwrap(),
        ),
    ] {
        env.push((k.into(), v.into()));
    }
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
    license(ta, super::fake_instagram::HANDLE, 30).await;
    tenant
}

/// Licenses a handle for `days` more days through the app's own signing key.
pub async fn license(ta: &TestApp, handle: &str, days: i64) {
    let handle = shared::tenants::InstagramHandle::parse(handle).unwrap();
    let expiry = shared::licence::ExpiryDate::from_date(
        shared::licence::amman_today(chrono::Utc::now()) + chrono::Duration::days(days),
    );
    ta.app
        .licences
        .publish_change(|w| w.set(&handle, expiry))
        .await
        .unwrap();
}
