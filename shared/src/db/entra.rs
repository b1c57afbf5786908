//! Microsoft Entra sign-in for Azure Database for PostgreSQL: with `DATABASE_AUTH=entra`, a
//! database URL without a password logs in with an access token of the managed identity as
//! its password. Postgres checks the token only when a connection opens, so each new
//! connection takes the current token; a token is fetched again when it has less than five
//! minutes left (Entra tokens last about an hour).

use azure_core::credentials::{AccessToken, TokenCredential};
use azure_core::time::{Duration, OffsetDateTime};
use deadpool_postgres::Connect;
use secrecy::{ExposeSecret, SecretString};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// The token audience of Azure Database for PostgreSQL.
pub const SCOPE: &str = "https://ossrdbms-aad.database.windows.net/.default";

/// A token with less time left than this is replaced before it is used.
pub const REFRESH_MARGIN: Duration = Duration::minutes(5);

/// The managed identity's current token, shared by both pools.
#[derive(Debug)]
pub struct EntraTokens {
    credential: Arc<dyn TokenCredential>,
    current: tokio::sync::Mutex<Option<AccessToken>>,
}

impl EntraTokens {
    pub fn new(credential: Arc<dyn TokenCredential>) -> Self {
        EntraTokens {
            credential,
            current: tokio::sync::Mutex::new(None),
        }
    }

    /// The token to send as the password, fetched again when it is about to expire.
    pub async fn password(&self) -> Result<SecretString, String> {
        let mut current = self.current.lock().await;
        if let Some(t) = current.as_ref() {
            if t.expires_on - OffsetDateTime::now_utc() > REFRESH_MARGIN {
                return Ok(SecretString::from(t.token.secret().to_owned()));
            }
        }
        let fresh = self
            .credential
            .get_token(&[SCOPE], None)
            .await
            .map_err(|e| format!("could not get a Microsoft Entra token for PostgreSQL: {e}"))?;
        let password = SecretString::from(fresh.token.secret().to_owned());
        *current = Some(fresh);
        Ok(password)
    }

    /// `cfg` with the current token as its password.
    pub async fn apply(&self, cfg: &mut tokio_postgres::Config) -> Result<(), String> {
        let password = self.password().await?;
        cfg.password(password.expose_secret());
        Ok(())
    }
}

/// Opens pool connections with the current token as the password.
pub struct EntraConnect {
    pub tokens: Arc<EntraTokens>,
}

type ConnectFuture<'a> = Pin<
    Box<
        dyn Future<
                Output = Result<
                    (tokio_postgres::Client, tokio::task::JoinHandle<()>),
                    tokio_postgres::Error,
                >,
            > + Send
            + 'a,
    >,
>;

impl Connect for EntraConnect {
    fn connect(&self, pg_config: &tokio_postgres::Config) -> ConnectFuture<'_> {
        let mut cfg = pg_config.clone();
        Box::pin(async move {
            // Without a token the server refuses the login, and the pool reports that error;
            // this line says why.
            if let Err(e) = self.tokens.apply(&mut cfg).await {
                tracing::error!(error = %e, "database sign-in without a token");
            }
            let (client, connection) = cfg.connect(super::tls::connector()).await?;
            let task = tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::warn!(error = %e, "database connection ended with an error");
                }
            });
            Ok((client, task))
        })
    }
}
