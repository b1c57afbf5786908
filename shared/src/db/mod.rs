//! PostgreSQL: connection pools for the two roles, migrations, and the one place that sets
//! the tenant on a transaction.
//!
//! * The **application pool** (`DATABASE_URL`) logs in as a role that is a member of
//!   `igshop_app_rw`: it sees a tenant-owned row only inside a transaction opened with
//!   [`begin_for_tenant`]. A query that forgets the tenant sees nothing.
//! * The **platform pool** (`DATABASE_ADMIN_URL`) logs in as the role that owns the schema and
//!   runs migrations; it is a member of `igshop_platform`, whose policies see every tenant.
//!   Only cross-tenant work uses it: the admin console, nightly jobs, tenant lookup by
//!   Instagram account.

pub mod entra;
mod tls;

use crate::tenants::TenantId;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Transaction};
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;
use std::time::Duration;

mod embedded {
    refinery::embed_migrations!("migrations");
}

/// Cluster-wide key for the advisory lock that serialises concurrent migrations.
const MIGRATION_LOCK_KEY: i64 = 0x1654_0001;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database error: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    #[error("database pool: {0}")]
    Pool(String),
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error("unsafe database role: {0}")]
    UnsafeRole(String),
    #[error("bad database setting: {0}")]
    Config(String),
}

impl From<deadpool_postgres::PoolError> for DbError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        match e {
            deadpool_postgres::PoolError::Backend(e) => DbError::Postgres(e),
            other => DbError::Pool(other.to_string()),
        }
    }
}

impl DbError {
    /// The SQLSTATE, when Postgres said no.
    pub fn code(&self) -> Option<&tokio_postgres::error::SqlState> {
        match self {
            DbError::Postgres(e) => e.code(),
            _ => None,
        }
    }
}

/// How a login whose URL carries no password signs in (`DATABASE_AUTH`).
#[derive(Clone, Default)]
pub enum Auth {
    /// The password in the URL.
    #[default]
    Password,
    /// A Microsoft Entra token of the managed identity (Azure Database for PostgreSQL).
    Entra(Arc<entra::EntraTokens>),
}

impl Auth {
    /// The tokens to use for this URL: Entra and no password in it.
    fn tokens_for(&self, cfg: &tokio_postgres::Config) -> Option<Arc<entra::EntraTokens>> {
        match self {
            Auth::Entra(tokens) if cfg.get_password().is_none() => Some(tokens.clone()),
            _ => None,
        }
    }
}

#[derive(Clone)]
pub struct Database {
    app: Pool,
    platform: Pool,
}

impl Database {
    /// Builds both pools; connections open lazily.
    pub fn connect(
        app_url: &SecretString,
        admin_url: &SecretString,
        pool_size: usize,
    ) -> Result<Self, DbError> {
        Self::connect_with(app_url, admin_url, pool_size, &Auth::Password)
    }

    /// [`Database::connect`], signing in URLs without a password as `auth` says.
    pub fn connect_with(
        app_url: &SecretString,
        admin_url: &SecretString,
        pool_size: usize,
        auth: &Auth,
    ) -> Result<Self, DbError> {
        Ok(Database {
            app: pool(app_url, pool_size, auth)?,
            platform: pool(admin_url, pool_size.div_ceil(4).max(2), auth)?,
        })
    }

    /// A connection of the application role. Tenant data needs [`begin_for_tenant`].
    pub async fn app(&self) -> Result<Object, DbError> {
        Ok(self.app.get().await?)
    }

    /// A connection of the platform role, for cross-tenant work only.
    pub async fn platform(&self) -> Result<Object, DbError> {
        Ok(self.platform.get().await?)
    }

    pub async fn check_ready(&self) -> Result<(), DbError> {
        let client = self.app().await?;
        client.query_one("SELECT 1", &[]).await?;
        Ok(())
    }

    /// Refuses to run if the application login could see across tenants.
    pub async fn verify_app_role(&self) -> Result<(), DbError> {
        let client = self.app().await?;
        let row = client
            .query_one(
                "SELECT r.rolname, r.rolsuper, r.rolbypassrls,
                        pg_has_role(current_user, 'igshop_platform', 'USAGE') AS platform,
                        pg_has_role(current_user, 'igshop_app_rw', 'USAGE') AS app_rw
                   FROM pg_roles r WHERE r.rolname = current_user",
                &[],
            )
            .await?;
        let name: String = row.get(0);
        if row.get::<_, bool>(1) || row.get::<_, bool>(2) || row.get::<_, bool>(3) {
            return Err(DbError::UnsafeRole(format!(
                "DATABASE_URL logs in as {name}, which bypasses row-level security (superuser, BYPASSRLS or member of igshop_platform); use a plain application role"
            )));
        }
        if !row.get::<_, bool>(4) {
            return Err(DbError::UnsafeRole(format!(
                "DATABASE_URL logs in as {name}, which is not a member of igshop_app_rw; run `handler migrate` (it grants the role)"
            )));
        }
        Ok(())
    }
}

/// Opens a transaction in which the application role sees exactly one tenant's rows.
/// This is the only place in the code base that sets `app.tenant_id`.
pub async fn begin_for_tenant(
    client: &mut Object,
    tenant: TenantId,
) -> Result<Transaction<'_>, DbError> {
    let tx = client.transaction().await?;
    // Prepared once per connection: every request begins here.
    let set = tx
        .prepare_cached("SELECT set_config('app.tenant_id', $1, true)")
        .await?;
    tx.execute(&set, &[&tenant.to_string()]).await?;
    Ok(tx)
}

fn pg_config(url: &SecretString) -> Result<tokio_postgres::Config, DbError> {
    let mut cfg: tokio_postgres::Config = url
        .expose_secret()
        .parse()
        .map_err(|e| DbError::Config(format!("not a Postgres connection string: {e}")))?;
    if cfg.get_connect_timeout().is_none() {
        cfg.connect_timeout(Duration::from_secs(10));
    }
    if cfg.get_application_name().is_none() {
        cfg.application_name("igshop-handler");
    }
    Ok(cfg)
}

fn pool(url: &SecretString, size: usize, auth: &Auth) -> Result<Pool, DbError> {
    let cfg = pg_config(url)?;
    let manager_config = ManagerConfig {
        recycling_method: RecyclingMethod::Fast,
    };
    let manager = match auth.tokens_for(&cfg) {
        Some(tokens) => Manager::from_connect(cfg, entra::EntraConnect { tokens }, manager_config),
        None => Manager::from_config(cfg, tls::connector(), manager_config),
    };
    Pool::builder(manager)
        .max_size(size)
        .wait_timeout(Some(Duration::from_secs(15)))
        .create_timeout(Some(Duration::from_secs(15)))
        .runtime(deadpool_postgres::Runtime::Tokio1)
        .build()
        .map_err(|e| DbError::Pool(e.to_string()))
}

async fn connect_once(url: &SecretString, auth: &Auth) -> Result<tokio_postgres::Client, DbError> {
    let mut cfg = pg_config(url)?;
    if let Some(tokens) = auth.tokens_for(&cfg) {
        tokens.apply(&mut cfg).await.map_err(DbError::Config)?;
    }
    let (client, connection) = cfg.connect(tls::connector()).await?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %e, "migration connection ended with an error");
        }
    });
    Ok(client)
}

#[derive(Debug)]
pub struct MigrationReport {
    pub applied: Vec<String>,
}

/// Applies pending migrations as the admin role (serialised by an advisory lock, so several
/// instances may start at once), then makes sure both logins hold their group roles.
pub async fn migrate(
    admin_url: &SecretString,
    app_url: &SecretString,
) -> Result<MigrationReport, DbError> {
    migrate_with(admin_url, app_url, &Auth::Password).await
}

/// [`migrate`], signing in as `auth` says.
pub async fn migrate_with(
    admin_url: &SecretString,
    app_url: &SecretString,
    auth: &Auth,
) -> Result<MigrationReport, DbError> {
    let mut client = connect_once(admin_url, auth).await?;
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK_KEY])
        .await?;
    let outcome = async {
        let report = embedded::migrations::runner()
            .run_async(&mut client)
            .await
            .map_err(|e| DbError::Migration(error_chain(&e)))?;
        grant_roles(&client, app_url).await?;
        Ok(MigrationReport {
            applied: report
                .applied_migrations()
                .iter()
                .map(|m| m.to_string())
                .collect(),
        })
    }
    .await;
    // The lock also ends with the session; unlocking early lets the next instance go on.
    let _ = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK_KEY])
        .await;
    outcome
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

async fn grant_roles(
    admin: &tokio_postgres::Client,
    app_url: &SecretString,
) -> Result<(), DbError> {
    let app_user = pg_config(app_url)?
        .get_user()
        .map(str::to_owned)
        .ok_or_else(|| DbError::Config("DATABASE_URL names no user".into()))?;
    let admin_user: String = admin
        .query_one("SELECT current_user::text", &[])
        .await?
        .get(0);
    if app_user == admin_user {
        return Err(DbError::UnsafeRole(
            "DATABASE_URL and DATABASE_ADMIN_URL log in as the same role; the application needs its own role so row-level security applies".into(),
        ));
    }
    for (role, member) in [
        ("igshop_platform", admin_user.as_str()),
        ("igshop_app_rw", app_user.as_str()),
    ] {
        let row = admin
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $2)
                        AND pg_has_role($2, $1, 'MEMBER'),
                        EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $2)",
                &[&role, &member],
            )
            .await?;
        let (already, exists): (bool, bool) = (row.get(0), row.get(1));
        if !exists {
            return Err(DbError::Config(format!(
                "the role {member} named in the database settings does not exist; create it first (./scripts/dev does this locally)"
            )));
        }
        if !already {
            let sql: String = admin
                .query_one(
                    "SELECT format('GRANT %I TO %I', $1::text, $2::text)",
                    &[&role, &member],
                )
                .await?
                .get(0);
            admin.batch_execute(&sql).await?;
        }
    }
    Ok(())
}
