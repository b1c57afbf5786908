//! The running application's parts, built once from the settings and shared by every
//! function: the database, the queue, the blob store.

use crate::blob::{AzureBlobStore, BlobConfig, BlobStore};
use crate::crypto::Keys;
use crate::db::Database;
use crate::instagram::graph::{GraphClient, GraphConfig};
use crate::instagram::outbound::SendRate;
use crate::llm::LlmClient;
use crate::queue::{PostgresQueue, Queue, ServiceBusAuth, ServiceBusSender};
use crate::search::Search;
use crate::settings::{QueueBackend, Settings};
use std::sync::Arc;

#[derive(Clone)]
pub struct App {
    pub settings: Arc<Settings>,
    pub db: Database,
    /// Where the webhook sends work for the agent.
    pub queue: Arc<dyn Queue>,
    /// The same queue seen as the local backend, for `serve`'s poller; `None` on Service Bus.
    pub local_queue: Option<PostgresQueue>,
    pub blobs: Arc<dyn BlobStore>,
    /// Sealing of tokens and keys, signing of OAuth state and CSRF tokens.
    pub keys: Keys,
    /// Instagram's APIs; `None` until INSTAGRAM_APP_ID and INSTAGRAM_APP_SECRET are set.
    pub graph: Option<GraphClient>,
    pub send_rate: Arc<SendRate>,
    /// Product and knowledge-base search (SEARCH_BACKEND).
    pub search: Arc<dyn Search>,
    /// The platform's model provider; `None` until one is configured.
    pub llm: Option<LlmClient>,
    /// whitelist.sig, verified and cached (reloaded within a minute).
    pub licences: Arc<crate::licence::book::LicenceBook>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Database(#[from] crate::db::DbError),
    #[error("queue: {0}")]
    Queue(String),
    #[error("blob store: {0}")]
    Blob(String),
    #[error("TOKEN_ENCRYPTION_KEY: {0}")]
    Keys(String),
    #[error("Instagram client: {0}")]
    Instagram(String),
    #[error("search: {0}")]
    Search(String),
    #[error("model provider: {0}")]
    Llm(String),
}

/// The database sign-in DATABASE_AUTH asks for (Entra: the managed identity's tokens).
pub fn database_auth(
    auth: crate::settings::DatabaseAuth,
    client_id: Option<&str>,
) -> Result<crate::db::Auth, crate::db::DbError> {
    Ok(match auth {
        crate::settings::DatabaseAuth::Password => crate::db::Auth::Password,
        crate::settings::DatabaseAuth::Entra => {
            let credential = crate::azure_identity::managed_identity(client_id)
                .map_err(crate::db::DbError::Config)?;
            crate::db::Auth::Entra(Arc::new(crate::db::entra::EntraTokens::new(credential)))
        }
    })
}

impl App {
    /// Builds every client without touching the network, so the handler answers the host's
    /// first probe at once; connections open on first use.
    pub fn build(settings: Settings) -> Result<Self, StartError> {
        let db = Database::connect_with(
            &settings.database_url,
            &settings.database_admin_url,
            settings.database_pool_size,
            &database_auth(
                settings.database_auth,
                settings.blob.managed_identity_client_id.as_deref(),
            )?,
        )?;
        let (queue, local_queue): (Arc<dyn Queue>, Option<PostgresQueue>) =
            match settings.queue.backend {
                QueueBackend::Postgres => {
                    let q = PostgresQueue::new(
                        db.clone(),
                        settings.queue.name.clone(),
                        settings.queue.max_deliveries,
                    );
                    (Arc::new(q.clone()), Some(q))
                }
                QueueBackend::ServiceBus => {
                    let sender = if let Some(conn) = &settings.queue.servicebus_connection_string {
                        ServiceBusSender::from_connection_string(conn, settings.queue.name.clone())
                    } else {
                        let namespace = settings
                            .queue
                            .servicebus_namespace
                            .clone()
                            .unwrap_or_default();
                        let credential = crate::azure_identity::managed_identity(
                            settings.blob.managed_identity_client_id.as_deref(),
                        )
                        .map_err(StartError::Queue)?;
                        ServiceBusSender::new(
                            namespace,
                            settings.queue.name.clone(),
                            ServiceBusAuth::ManagedIdentity(credential),
                        )
                    }
                    .map_err(|e| StartError::Queue(e.to_string()))?;
                    (Arc::new(sender), None)
                }
            };
        let blobs = AzureBlobStore::from_config(&BlobConfig {
            connection_string: settings.blob.connection_string.clone(),
            account_url: settings.blob.account_url.clone(),
            managed_identity_client_id: settings.blob.managed_identity_client_id.clone(),
            container: settings.blob.container.clone(),
        })
        .map_err(|e| StartError::Blob(e.to_string()))?;
        let keys = Keys::from_base64(&settings.token_encryption_key)
            .map_err(|e| StartError::Keys(e.to_string()))?;
        let ig = settings.instagram.clone();
        let graph = match (&ig.app_id, &ig.app_secret) {
            (Some(app_id), Some(secret)) => {
                let mut cfg = GraphConfig::new(app_id.clone(), secret.clone());
                cfg.api_base = ig.api_base.clone();
                cfg.graph_base = ig.graph_base.clone();
                cfg.graph_version = ig.graph_version.clone();
                cfg.timeout = std::time::Duration::from_secs(ig.timeout_secs);
                Some(GraphClient::new(cfg).map_err(|e| StartError::Instagram(e.to_string()))?)
            }
            _ => None,
        };
        let search = crate::search::from_settings(&settings.search, db.clone())
            .map_err(|e| StartError::Search(e.to_string()))?;
        let llm =
            LlmClient::from_settings(&settings.llm).map_err(|e| StartError::Llm(e.to_string()))?;
        let blobs: Arc<dyn BlobStore> = Arc::new(blobs);
        let licences = Arc::new(crate::licence::book::LicenceBook::new(
            settings.licence.clone(),
            blobs.clone(),
            db.clone(),
        ));
        Ok(App {
            licences,
            search,
            llm,
            settings: Arc::new(settings),
            db,
            queue,
            local_queue,
            blobs,
            keys,
            graph,
            send_rate: Arc::new(SendRate::per_second(ig.send_rate_per_second)),
        })
    }
}
