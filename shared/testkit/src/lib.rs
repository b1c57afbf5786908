//! Test support. Every test gets its own database, created on the Postgres server that
//! `scripts/test` starts (named by `DATABASE_ADMIN_URL` / `DATABASE_URL`) and migrated with the
//! real migrations, so tests run in parallel without seeing each other. Nothing is faked.

use secrecy::{ExposeSecret, SecretString};
use shared::db::Database;
use shared::tenants::TenantId;

pub struct TestDb {
    pub name: String,
    pub admin_url: SecretString,
    pub app_url: SecretString,
    pub db: Database,
}

fn env_url(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: these tests need the local Postgres; run them with ./scripts/test"
        )
    })
}

fn with_database(url: &str, db: &str) -> String {
    let mut u = url::Url::parse(url).expect("a postgres:// URL");
    u.set_path(&format!("/{db}"));
    u.to_string()
}

impl TestDb {
    pub async fn new() -> TestDb {
        let admin_base = env_url("DATABASE_ADMIN_URL");
        let app_base = env_url("DATABASE_URL");
        let name = format!("igshop_t_{}", uuid::Uuid::new_v4().simple());
        let (client, conn) = tokio_postgres::connect(&admin_base, tokio_postgres::NoTls)
            .await
            .expect("connect to the test Postgres as admin (is ./scripts/test running it?)");
        tokio::spawn(conn);
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create a test database");
        let admin_url = SecretString::from(with_database(&admin_base, &name));
        let app_url = SecretString::from(with_database(&app_base, &name));
        shared::db::migrate(&admin_url, &app_url)
            .await
            .expect("migrations apply to a fresh database");
        let db = Database::connect(&app_url, &admin_url, 8).expect("pools");
        TestDb {
            name,
            admin_url,
            app_url,
            db,
        }
    }

    /// A tenant row, created as the platform (tenants cannot create themselves).
    pub async fn tenant(&self, handle: &str) -> TenantId {
        let client = self.db.platform().await.unwrap();
        let row = client
            .query_one(
                "INSERT INTO tenants (ig_user_id, ig_handle) VALUES ($1, $2) RETURNING id",
                &[
                    &format!("1784{}", &uuid::Uuid::new_v4().simple().to_string()[..12]),
                    &handle,
                ],
            )
            .await
            .unwrap();
        TenantId::from_uuid(row.get(0))
    }

    /// The settings a handler under test would load, pointing at this database.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            (
                "DATABASE_URL".into(),
                self.app_url.expose_secret().to_owned(),
            ),
            (
                "DATABASE_ADMIN_URL".into(),
                self.admin_url.expose_secret().to_owned(),
            ),
            ("TOKEN_ENCRYPTION_KEY".into(), test_key()),
        ]
    }
}

/// A fresh 32-byte key in base64, as TOKEN_ENCRYPTION_KEY wants: tests make their own keys.
pub fn test_key() -> String {
    let a = uuid::Uuid::new_v4();
    let b = uuid::Uuid::new_v4();
    let mut bytes = a.as_bytes().to_vec();
    bytes.extend_from_slice(b.as_bytes());
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Licence settings of a tool or test that runs agent turns on its own database: a fresh key
/// pair (the app may sign) and an empty whitelist file. Shops get licences with [`license`].
pub fn licence_env() -> Vec<(String, String)> {
    let key = shared::licence::generate_key();
    let dir =
        std::env::temp_dir().join(format!("igshop-licence-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    let path = dir.join("whitelist.sig");
    let empty = shared::licence::Whitelist::empty().next(chrono::Utc::now());
    std::fs::write(&path, empty.sign(&key)).expect("the whitelist is written");
    vec![
        (
            "LICENCE_PUBLIC_KEY".into(),
            shared::licence::public_key_pem(&key.verifying_key()),
        ),
        (
            "LICENCE_SIGNING_KEY".into(),
            shared::licence::private_key_pem(&key),
        ),
        ("LICENCE_WHITELIST_PATH".into(), path.display().to_string()),
        ("LICENCE_WHITELIST_BLOB".into(), String::new()),
    ]
}

/// Licenses a handle for a year through the app's own signing key (see [`licence_env`]).
pub async fn license(app: &shared::app::App, handle: &str) {
    let handle = shared::tenants::InstagramHandle::parse(handle).expect("a handle");
    let expiry = shared::licence::ExpiryDate::from_date(
        shared::licence::amman_today(chrono::Utc::now()) + chrono::Duration::days(365),
    );
    app.licences
        .publish_change(|w| w.set(&handle, expiry))
        .await
        .expect("the licence is published");
}
