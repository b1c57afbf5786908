//! DATABASE_AUTH=entra: a login whose URL has no password signs in with the managed identity's
//! token as the password; the token is reused while it has more than five minutes left and
//! fetched again after. The local Postgres checks passwords, so a test credential that hands
//! out the application role's password as its "token" exercises the real sign-in path.

use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use azure_core::time::{Duration, OffsetDateTime};
use secrecy::{ExposeSecret, SecretString};
use shared::db::entra::{EntraTokens, SCOPE};
use shared::db::{Auth, Database};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use testkit::TestDb;

#[derive(Debug)]
struct TestCredential {
    token: String,
    lifetime: Duration,
    calls: AtomicUsize,
}

#[async_trait::async_trait]
impl TokenCredential for TestCredential {
    async fn get_token(
        &self,
        scopes: &[&str],
        _options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        assert_eq!(scopes, [SCOPE]);
        self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(AccessToken::new(
            self.token.clone(),
            OffsetDateTime::now_utc() + self.lifetime,
        ))
    }
}

fn split_password(url: &SecretString) -> (SecretString, String) {
    let mut u = url::Url::parse(url.expose_secret()).unwrap();
    let password = u.password().unwrap().to_owned();
    u.set_password(None).unwrap();
    (SecretString::from(u.to_string()), password)
}

fn entra(token: &str, lifetime: Duration) -> (Auth, Arc<TestCredential>) {
    let credential = Arc::new(TestCredential {
        token: token.to_owned(),
        lifetime,
        calls: AtomicUsize::new(0),
    });
    let auth = Auth::Entra(Arc::new(EntraTokens::new(credential.clone())));
    (auth, credential)
}

#[tokio::test]
async fn a_url_without_password_signs_in_with_the_token_and_reuses_it() {
    let t = TestDb::new().await;
    let (app_url, password) = split_password(&t.app_url);
    let (auth, credential) = entra(&password, Duration::hours(1));
    let db = Database::connect_with(&app_url, &t.admin_url, 4, &auth).unwrap();

    let first = db.app().await.unwrap();
    let second = db.app().await.unwrap();
    let user: String = first
        .query_one("SELECT current_user::text", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(user, split_user(&t.app_url));
    second.query_one("SELECT 1", &[]).await.unwrap();
    assert_eq!(
        credential.calls.load(Ordering::SeqCst),
        1,
        "one token for both connections"
    );
    db.verify_app_role().await.unwrap();

    // The admin URL has its password: it signs in with it, no token asked for.
    db.platform()
        .await
        .unwrap()
        .query_one("SELECT 1", &[])
        .await
        .unwrap();
    assert_eq!(credential.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_token_about_to_expire_is_fetched_again() {
    let t = TestDb::new().await;
    let (app_url, password) = split_password(&t.app_url);
    let (auth, credential) = entra(&password, Duration::minutes(2));
    let db = Database::connect_with(&app_url, &t.admin_url, 4, &auth).unwrap();
    let _a = db.app().await.unwrap();
    let _b = db.app().await.unwrap();
    assert_eq!(
        credential.calls.load(Ordering::SeqCst),
        2,
        "2 minutes left is inside the 5-minute margin"
    );
}

#[tokio::test]
async fn the_token_is_what_signs_in() {
    let t = TestDb::new().await;
    let (app_url, _) = split_password(&t.app_url);
    let (auth, credential) = entra("not-the-password", Duration::hours(1));
    let db = Database::connect_with(&app_url, &t.admin_url, 4, &auth).unwrap();
    let err = db.app().await.err().expect("a wrong token is refused");
    assert_eq!(
        err.code(),
        Some(&tokio_postgres::error::SqlState::INVALID_PASSWORD),
        "{err:?}"
    );
    assert_eq!(credential.calls.load(Ordering::SeqCst), 1);

    // With password sign-in the same URL has nothing to log in with.
    let plain = Database::connect(&app_url, &t.admin_url, 4).unwrap();
    assert!(plain.app().await.is_err());
}

#[tokio::test]
async fn migrate_signs_in_with_the_token_too() {
    let t = TestDb::new().await;
    let (admin_url, password) = split_password(&t.admin_url);
    let (auth, credential) = entra(&password, Duration::hours(1));
    let report = shared::db::migrate_with(&admin_url, &t.app_url, &auth)
        .await
        .unwrap();
    assert!(report.applied.is_empty(), "TestDb migrated it already");
    assert_eq!(credential.calls.load(Ordering::SeqCst), 1);
}

fn split_user(url: &SecretString) -> String {
    url::Url::parse(url.expose_secret())
        .unwrap()
        .username()
        .to_owned()
}
