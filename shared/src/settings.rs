//! The one typed settings struct. Values come from, lowest priority first: built-in defaults,
//! the `Values` of `local.settings.json` (the Functions host's local file, if present), and the
//! process environment. Names are the same everywhere: `local.settings.example.json` lists them.
//! Secrets are `SecretString`s: `Debug` prints `[REDACTED]`, and connection strings are shown
//! without their password.

use secrecy::{ExposeSecret, SecretString};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Local,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueBackend {
    /// A Postgres table with leases (local runs and tests).
    Postgres,
    /// Azure Service Bus; the Functions host receives, we only send.
    ServiceBus,
}

/// How database logins without a password in their URL sign in (`DATABASE_AUTH`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseAuth {
    /// The URL's password (the default).
    Password,
    /// A Microsoft Entra token of the managed identity (`AZURE_CLIENT_ID`) as the password.
    Entra,
}

#[derive(Clone)]
pub struct Settings {
    pub environment: Environment,
    /// `handler serve` listens here (default 7071).
    pub port: u16,
    /// `handler serve`'s interface (default 127.0.0.1; 0.0.0.0 to reach it from elsewhere).
    pub bind_address: String,
    /// Set by the Functions host when it starts us as a custom handler.
    pub customhandler_port: Option<u16>,
    pub database_url: SecretString,
    pub database_admin_url: SecretString,
    pub database_pool_size: usize,
    pub database_auth: DatabaseAuth,
    pub queue: QueueSettings,
    pub blob: BlobSettings,
    /// Folder of the built SPA that `serve` hands out at `/`.
    pub frontend_dist: PathBuf,
    /// Where `serve`'s local timers fire; NCRONTAB with seconds, UTC (as in function.json).
    pub nightly_schedule: String,
    pub sweeper_schedule: String,
    /// Where the product is reached from outside, e.g. `https://shop-agent.example.com`:
    /// OAuth redirect URIs, the data-deletion status URL and redirects into the SPA use it.
    pub public_base_url: String,
    /// 32 bytes (base64) for AES-256-GCM of Meta tokens and tenants' API keys, and for
    /// signing OAuth state. In Azure it comes from Key Vault through an app-setting reference.
    pub token_encryption_key: SecretString,
    pub session_ttl_hours: u64,
    pub instagram: InstagramSettings,
    /// SEARCH_BACKEND and the Azure AI Search connection.
    pub search: crate::search::SearchSettings,
    /// The platform's model provider (a tenant's own key overrides it).
    pub llm: LlmSettings,
    pub agent: AgentSettings,
    /// whitelist.sig: where it is, the key that verifies it, and optionally the key that signs it.
    pub licence: crate::licence::book::LicenceSettings,
    /// Admin console session lifetime (shorter than a merchant's).
    pub admin_session_ttl_hours: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LlmProvider {
    /// OpenAI or any server speaking its API (`OPENAI_BASE_URL`: Ollama, vLLM...).
    OpenAi,
    /// Azure OpenAI deployments.
    Azure,
}

/// The platform's model provider. `configured()` is false when no key or endpoint is set: the
/// agent then answers with the fallback and hands over, and documents are indexed without
/// embeddings.
#[derive(Clone)]
pub struct LlmSettings {
    pub provider: LlmProvider,
    pub openai_api_key: Option<SecretString>,
    /// Default `https://api.openai.com/v1`.
    pub openai_base_url: String,
    /// Whether OPENAI_BASE_URL was given (an OpenAI-compatible server that may need no key).
    pub openai_base_url_set: bool,
    pub openai_chat_model: String,
    /// `None` when OPENAI_EMBEDDING_MODEL is `none`.
    pub openai_embedding_model: Option<String>,
    pub azure_endpoint: Option<String>,
    /// `None`: managed identity.
    pub azure_api_key: Option<SecretString>,
    pub azure_chat_deployment: String,
    /// The model the chat deployment runs (`AZURE_OPENAI_CHAT_MODEL`, e.g. gpt-5.4-mini):
    /// decides the parameters sent (reasoning models take no temperature).
    pub azure_chat_model: Option<String>,
    /// `None` when AZURE_OPENAI_EMBEDDING_DEPLOYMENT is `none`.
    pub azure_embedding_deployment: Option<String>,
    pub azure_api_version: String,
    /// User-assigned identity for Azure OpenAI without a key.
    pub managed_identity_client_id: Option<String>,
    pub timeout_secs: u64,
    /// Retries after the first attempt on 429/5xx/timeouts.
    pub max_retries: u32,
    /// USD per million tokens, by model or deployment name.
    pub prices: crate::llm::PriceTable,
}

impl LlmSettings {
    pub fn configured(&self) -> bool {
        match self.provider {
            LlmProvider::OpenAi => self.openai_api_key.is_some() || self.openai_base_url_set,
            LlmProvider::Azure => self.azure_endpoint.is_some(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct AgentSettings {
    /// How long a conversation must be quiet before its turn runs (customers send bursts).
    pub quiet_ms: u64,
    /// Most model calls with tool results in one turn.
    pub max_tool_rounds: u32,
    /// Turns `handler serve` runs side by side (one at a time per conversation).
    pub concurrency: usize,
}

#[derive(Clone)]
pub struct InstagramSettings {
    pub app_id: Option<String>,
    pub app_secret: Option<SecretString>,
    /// Either secret may sign webhooks, depending on how the Meta app is set up.
    pub meta_app_secret: Option<SecretString>,
    pub verify_token: Option<SecretString>,
    pub authorize_url: String,
    pub api_base: String,
    pub graph_base: String,
    pub graph_version: String,
    /// Sends per second per Instagram account.
    pub send_rate_per_second: u32,
    /// Per Graph call; a send that times out has an unknown outcome (settled by evidence).
    pub timeout_secs: u64,
    /// How long a send whose outcome is unknown waits for its echo before the conversation is
    /// looked up through the Graph API (and only then, if not there, sent again).
    pub echo_wait_ms: u64,
}

impl InstagramSettings {
    /// Sign-in needs the app id and secret; without them it answers that it is not configured.
    pub fn oauth_configured(&self) -> bool {
        self.app_id.is_some() && self.app_secret.is_some()
    }
    /// The secrets that may sign a webhook or a signed_request.
    pub fn signing_secrets(&self) -> Vec<&SecretString> {
        self.app_secret
            .iter()
            .chain(self.meta_app_secret.iter())
            .collect()
    }
}

#[derive(Clone)]
pub struct QueueSettings {
    pub backend: QueueBackend,
    pub name: String,
    pub visibility_timeout_secs: u64,
    pub max_deliveries: i32,
    /// Fully qualified namespace, e.g. `myns.servicebus.windows.net` (managed identity).
    pub servicebus_namespace: Option<String>,
    /// Alternative to managed identity: a SAS connection string.
    pub servicebus_connection_string: Option<SecretString>,
}

#[derive(Clone)]
pub struct BlobSettings {
    /// Azurite or a storage account by connection string (local).
    pub connection_string: Option<SecretString>,
    /// `https://<account>.blob.core.windows.net` with managed identity (Azure).
    pub account_url: Option<String>,
    pub container: String,
    /// Client id of a user-assigned managed identity, if one is used.
    pub managed_identity_client_id: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SettingsError {
    #[error("setting {name} is missing: {hint}")]
    Missing {
        name: &'static str,
        hint: &'static str,
    },
    #[error("setting {name} is malformed: {reason}")]
    Malformed { name: &'static str, reason: String },
    #[error("could not read {path}: {reason}")]
    File { path: String, reason: String },
}

/// Where values are looked up: the environment over the settings file over defaults.
pub struct Source {
    values: HashMap<String, String>,
}

impl Source {
    /// The process environment over `local.settings.json` (or the file named by
    /// `IGSHOP_SETTINGS_FILE`) in the working directory, if it exists.
    pub fn from_process() -> Result<Self, SettingsError> {
        let file = std::env::var("IGSHOP_SETTINGS_FILE")
            .map(PathBuf::from)
            .unwrap_or_else(|_| PathBuf::from("local.settings.json"));
        let mut values = if file.exists() {
            read_settings_file(&file)?
        } else {
            HashMap::new()
        };
        values.extend(std::env::vars());
        Ok(Source { values })
    }

    /// These values over the ones already there.
    pub fn overridden<I: IntoIterator<Item = (String, String)>>(mut self, pairs: I) -> Self {
        self.values.extend(pairs);
        self
    }

    pub fn from_map<I: IntoIterator<Item = (String, String)>>(pairs: I) -> Self {
        Source {
            values: pairs.into_iter().collect(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }
}

fn read_settings_file(path: &Path) -> Result<HashMap<String, String>, SettingsError> {
    let err = |reason: String| SettingsError::File {
        path: path.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    let doc: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| err(format!("not valid JSON: {e}")))?;
    let values = doc
        .get("Values")
        .and_then(|v| v.as_object())
        .ok_or_else(|| {
            err(
                "expected an object with a \"Values\" object, as in local.settings.example.json"
                    .into(),
            )
        })?;
    Ok(values
        .iter()
        .filter_map(|(k, v)| match v {
            serde_json::Value::String(s) => Some((k.clone(), s.clone())),
            serde_json::Value::Number(n) => Some((k.clone(), n.to_string())),
            serde_json::Value::Bool(b) => Some((k.clone(), b.to_string())),
            _ => None,
        })
        .collect())
}

const DB_HINT: &str = "set it in the environment or local.settings.json (see local.settings.example.json); ./scripts/dev sets it for the local Postgres";

impl Settings {
    pub fn load() -> Result<Self, SettingsError> {
        Self::from_source(&Source::from_process()?)
    }

    /// Only the two database URLs, for `handler migrate` (a deploy step that needs nothing else).
    pub fn database_urls(src: &Source) -> Result<(SecretString, SecretString), SettingsError> {
        Ok((
            postgres_url(src, "DATABASE_URL")?,
            postgres_url(src, "DATABASE_ADMIN_URL")?,
        ))
    }

    /// DATABASE_AUTH, and the identity it uses (AZURE_CLIENT_ID), for `handler migrate`.
    pub fn database_auth(src: &Source) -> Result<(DatabaseAuth, Option<String>), SettingsError> {
        let auth = match src.get("DATABASE_AUTH").unwrap_or("password") {
            "password" => DatabaseAuth::Password,
            "entra" => DatabaseAuth::Entra,
            other => {
                return Err(SettingsError::Malformed {
                    name: "DATABASE_AUTH",
                    reason: format!("expected \"password\" or \"entra\", got {other:?}"),
                })
            }
        };
        Ok((auth, src.get("AZURE_CLIENT_ID").map(str::to_owned)))
    }

    /// Only the blob store's settings, for `handler licence publish` (needs nothing else).
    pub fn blob_settings(src: &Source) -> Result<BlobSettings, SettingsError> {
        let blob = BlobSettings {
            connection_string: src.get("AZURE_STORAGE_CONNECTION_STRING").map(secret),
            account_url: src.get("AZURE_STORAGE_BLOB_ENDPOINT").map(str::to_owned),
            container: src.get("BLOB_CONTAINER").unwrap_or("igshop").to_owned(),
            managed_identity_client_id: src.get("AZURE_CLIENT_ID").map(str::to_owned),
        };
        if blob.connection_string.is_none() && blob.account_url.is_none() {
            return Err(SettingsError::Missing {
                name: "AZURE_STORAGE_CONNECTION_STRING",
                hint: "set AZURE_STORAGE_CONNECTION_STRING (Azurite locally; ./scripts/dev sets it) or AZURE_STORAGE_BLOB_ENDPOINT (managed identity)",
            });
        }
        if let Some(url) = &blob.account_url {
            url::Url::parse(url).map_err(|e| SettingsError::Malformed {
                name: "AZURE_STORAGE_BLOB_ENDPOINT",
                reason: format!("not a URL: {e}"),
            })?;
        }
        if !valid_container_name(&blob.container) {
            return Err(SettingsError::Malformed {
                name: "BLOB_CONTAINER",
                reason: "3-63 characters: lower-case letters, digits and single hyphens".into(),
            });
        }
        Ok(blob)
    }

    pub fn from_source(src: &Source) -> Result<Self, SettingsError> {
        let environment = match src.get("IGSHOP_ENV").unwrap_or("local") {
            "local" => Environment::Local,
            "production" => Environment::Production,
            other => {
                return Err(SettingsError::Malformed {
                    name: "IGSHOP_ENV",
                    reason: format!("expected \"local\" or \"production\", got {other:?}"),
                })
            }
        };
        let database_url = postgres_url(src, "DATABASE_URL")?;
        let database_admin_url = postgres_url(src, "DATABASE_ADMIN_URL")?;

        let queue_backend = match src.get("QUEUE_BACKEND").unwrap_or("postgres") {
            "postgres" => QueueBackend::Postgres,
            "servicebus" => QueueBackend::ServiceBus,
            other => {
                return Err(SettingsError::Malformed {
                    name: "QUEUE_BACKEND",
                    reason: format!("expected \"postgres\" or \"servicebus\", got {other:?}"),
                })
            }
        };
        let servicebus_namespace = src
            .get("SERVICEBUS_NAMESPACE")
            .or_else(|| src.get("ServiceBusConnection__fullyQualifiedNamespace"))
            .map(str::to_owned);
        let servicebus_connection_string = src.get("SERVICEBUS_CONNECTION_STRING").map(secret);
        if queue_backend == QueueBackend::ServiceBus
            && servicebus_namespace.is_none()
            && servicebus_connection_string.is_none()
        {
            return Err(SettingsError::Missing {
                name: "SERVICEBUS_NAMESPACE",
                hint: "QUEUE_BACKEND=servicebus needs SERVICEBUS_NAMESPACE (managed identity) or SERVICEBUS_CONNECTION_STRING",
            });
        }
        let queue = QueueSettings {
            backend: queue_backend,
            name: src.get("QUEUE_NAME").unwrap_or("dm-inbound").to_owned(),
            visibility_timeout_secs: number(
                src,
                "QUEUE_VISIBILITY_TIMEOUT_SECS",
                20u64,
                1,
                86_400,
            )?,
            max_deliveries: number(src, "QUEUE_MAX_DELIVERIES", 10i32, 1, 1000)?,
            servicebus_namespace,
            servicebus_connection_string,
        };

        let blob = Settings::blob_settings(src)?;

        let nightly_schedule = src
            .get("NIGHTLY_SCHEDULE")
            .unwrap_or("0 0 2 * * *")
            .to_owned();
        let sweeper_schedule = src
            .get("SWEEPER_SCHEDULE")
            .unwrap_or("0 */3 * * * *")
            .to_owned();
        for (name, value) in [
            ("NIGHTLY_SCHEDULE", &nightly_schedule),
            ("SWEEPER_SCHEDULE", &sweeper_schedule),
        ] {
            crate::schedule::Schedule::parse(value)
                .map_err(|reason| SettingsError::Malformed { name, reason })?;
        }

        let port = number(src, "PORT", 7071u16, 1, u16::MAX)?;
        let public_base_url = src
            .get("PUBLIC_BASE_URL")
            .map(|s| s.trim_end_matches('/').to_owned())
            .unwrap_or_else(|| format!("http://localhost:{port}"));
        match url::Url::parse(&public_base_url) {
            Ok(u) if u.scheme() == "https" || u.scheme() == "http" => {}
            _ => {
                return Err(SettingsError::Malformed {
                    name: "PUBLIC_BASE_URL",
                    reason: format!("expected an http(s) URL such as https://shop-agent.example.com, got {public_base_url:?}"),
                })
            }
        }
        if environment == Environment::Production && !public_base_url.starts_with("https://") {
            return Err(SettingsError::Malformed {
                name: "PUBLIC_BASE_URL",
                reason: "must be https in production".into(),
            });
        }
        let token_encryption_key = {
            let raw = src.get("TOKEN_ENCRYPTION_KEY").ok_or(SettingsError::Missing {
                name: "TOKEN_ENCRYPTION_KEY",
                hint: "32 random bytes in base64 (e.g. `openssl rand -base64 32`); ./scripts/dev makes a local one in .data/",
            })?;
            use base64::Engine;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(raw)
                .map_err(|_| SettingsError::Malformed {
                    name: "TOKEN_ENCRYPTION_KEY",
                    reason: "not base64; expected 32 random bytes in base64".into(),
                })?;
            if bytes.len() != 32 {
                return Err(SettingsError::Malformed {
                    name: "TOKEN_ENCRYPTION_KEY",
                    reason: format!(
                        "expected 32 bytes after base64 decoding, got {}",
                        bytes.len()
                    ),
                });
            }
            secret(raw)
        };
        let url_setting = |name: &'static str, default: &str| -> Result<String, SettingsError> {
            let v = src
                .get(name)
                .unwrap_or(default)
                .trim_end_matches('/')
                .to_owned();
            url::Url::parse(&v).map_err(|e| SettingsError::Malformed {
                name,
                reason: format!("not a URL: {e}"),
            })?;
            Ok(v)
        };
        let instagram = InstagramSettings {
            app_id: src.get("INSTAGRAM_APP_ID").map(str::to_owned),
            app_secret: src.get("INSTAGRAM_APP_SECRET").map(secret),
            meta_app_secret: src.get("META_APP_SECRET").map(secret),
            verify_token: src.get("META_VERIFY_TOKEN").map(secret),
            authorize_url: url_setting(
                "INSTAGRAM_AUTHORIZE_URL",
                "https://www.instagram.com/oauth/authorize",
            )?,
            api_base: url_setting("INSTAGRAM_API_BASE", "https://api.instagram.com")?,
            graph_base: url_setting("INSTAGRAM_GRAPH_BASE", "https://graph.instagram.com")?,
            graph_version: {
                let v = src.get("INSTAGRAM_GRAPH_VERSION").unwrap_or("v23.0");
                let ok = v.strip_prefix('v').is_some_and(|rest| {
                    let mut parts = rest.split('.');
                    parts.next().is_some_and(|a| a.parse::<u32>().is_ok())
                        && parts.next().is_some_and(|b| b.parse::<u32>().is_ok())
                        && parts.next().is_none()
                });
                if !ok {
                    return Err(SettingsError::Malformed {
                        name: "INSTAGRAM_GRAPH_VERSION",
                        reason: format!("expected a version like v23.0, got {v:?}"),
                    });
                }
                v.to_owned()
            },
            send_rate_per_second: number(src, "INSTAGRAM_SEND_RATE_PER_SECOND", 100u32, 1, 10_000)?,
            timeout_secs: number(src, "INSTAGRAM_TIMEOUT_SECS", 15u64, 1, 120)?,
            echo_wait_ms: number(src, "INSTAGRAM_ECHO_WAIT_MS", 5000u64, 0, 600_000)?,
        };

        let database_pool_size = number(src, "DATABASE_POOL_SIZE", 16usize, 1, 500)?;
        Ok(Settings {
            environment,
            port,
            bind_address: {
                let raw = src.get("BIND_ADDRESS").unwrap_or("127.0.0.1");
                raw.parse::<std::net::IpAddr>()
                    .map_err(|_| SettingsError::Malformed {
                        name: "BIND_ADDRESS",
                        reason: format!(
                            "expected an IP address such as 127.0.0.1 or 0.0.0.0, got {raw:?}"
                        ),
                    })?;
                raw.to_owned()
            },
            customhandler_port: match src.get("FUNCTIONS_CUSTOMHANDLER_PORT") {
                None => None,
                Some(_) => Some(number(
                    src,
                    "FUNCTIONS_CUSTOMHANDLER_PORT",
                    0u16,
                    1,
                    u16::MAX,
                )?),
            },
            database_url,
            database_admin_url,
            database_pool_size,
            queue,
            blob,
            database_auth: Self::database_auth(src)?.0,
            frontend_dist: PathBuf::from(src.get("FRONTEND_DIST").unwrap_or("frontend/dist")),
            nightly_schedule,
            sweeper_schedule,
            public_base_url,
            token_encryption_key,
            session_ttl_hours: number(src, "SESSION_TTL_HOURS", 336u64, 1, 24 * 365)?,
            instagram,
            search: crate::search::SearchSettings {
                backend: {
                    let b = src
                        .get("SEARCH_BACKEND")
                        .unwrap_or("postgres")
                        .to_ascii_lowercase();
                    if b != "postgres" && b != "azure" {
                        return Err(SettingsError::Malformed {
                            name: "SEARCH_BACKEND",
                            reason: format!("expected \"postgres\" or \"azure\", got {b:?}"),
                        });
                    }
                    if b == "azure" && src.get("AZURE_SEARCH_ENDPOINT").is_none() {
                        return Err(SettingsError::Missing {
                            name: "AZURE_SEARCH_ENDPOINT",
                            hint: "SEARCH_BACKEND=azure needs AZURE_SEARCH_ENDPOINT (https://<service>.search.windows.net)",
                        });
                    }
                    b
                },
                azure_endpoint: match src.get("AZURE_SEARCH_ENDPOINT") {
                    Some(_) => Some(url_setting("AZURE_SEARCH_ENDPOINT", "")?),
                    None => None,
                },
                azure_api_key: src.get("AZURE_SEARCH_API_KEY").map(secret),
                azure_index: Some(src.get("AZURE_SEARCH_INDEX").unwrap_or("igshop").to_owned()),
                managed_identity_client_id: src.get("AZURE_CLIENT_ID").map(str::to_owned),
                embedding_dimensions: number(
                    src,
                    "EMBEDDING_DIMENSIONS",
                    crate::search::DEFAULT_EMBEDDING_DIMENSIONS,
                    16,
                    4096,
                )?,
                vector_cache_bytes: number(
                    src,
                    "SEARCH_VECTOR_CACHE_MB",
                    (crate::search::DEFAULT_VECTOR_CACHE_BYTES >> 20) as u64,
                    0,
                    16_384,
                )? as usize
                    * 1024
                    * 1024,
            },
            llm: LlmSettings {
                provider: match src.get("LLM_PROVIDER").unwrap_or("openai") {
                    "openai" => LlmProvider::OpenAi,
                    "azure" => LlmProvider::Azure,
                    other => {
                        return Err(SettingsError::Malformed {
                            name: "LLM_PROVIDER",
                            reason: format!("expected \"openai\" or \"azure\", got {other:?}"),
                        })
                    }
                },
                openai_api_key: src.get("OPENAI_API_KEY").map(secret),
                openai_base_url: url_setting("OPENAI_BASE_URL", "https://api.openai.com/v1")?,
                openai_base_url_set: src.get("OPENAI_BASE_URL").is_some(),
                openai_chat_model: src
                    .get("OPENAI_CHAT_MODEL")
                    .unwrap_or("gpt-4o-mini")
                    .to_owned(),
                openai_embedding_model: optional_name(
                    src.get("OPENAI_EMBEDDING_MODEL")
                        .unwrap_or("text-embedding-3-small"),
                ),
                azure_endpoint: match src.get("AZURE_OPENAI_ENDPOINT") {
                    Some(_) => Some(url_setting("AZURE_OPENAI_ENDPOINT", "")?),
                    None => None,
                },
                azure_api_key: src.get("AZURE_OPENAI_API_KEY").map(secret),
                azure_chat_deployment: src
                    .get("AZURE_OPENAI_CHAT_DEPLOYMENT")
                    .unwrap_or("gpt4o")
                    .to_owned(),
                azure_chat_model: src
                    .get("AZURE_OPENAI_CHAT_MODEL")
                    .map(str::trim)
                    .filter(|m| !m.is_empty())
                    .map(str::to_owned),
                azure_embedding_deployment: optional_name(
                    src.get("AZURE_OPENAI_EMBEDDING_DEPLOYMENT")
                        .unwrap_or("embedding-small"),
                ),
                azure_api_version: src
                    .get("AZURE_OPENAI_API_VERSION")
                    .unwrap_or("2024-10-21")
                    .to_owned(),
                managed_identity_client_id: src.get("AZURE_CLIENT_ID").map(str::to_owned),
                timeout_secs: number(src, "LLM_TIMEOUT_SECS", 45u64, 1, 600)?,
                max_retries: number(src, "LLM_MAX_RETRIES", 3u32, 0, 10)?,
                prices: match src.get("LLM_PRICES") {
                    None => crate::llm::PriceTable::default(),
                    Some(raw) => crate::llm::PriceTable::parse(raw).map_err(|reason| {
                        SettingsError::Malformed {
                            name: "LLM_PRICES",
                            reason,
                        }
                    })?,
                },
            },
            agent: AgentSettings {
                quiet_ms: number(src, "AGENT_QUIET_MS", 2000u64, 0, 60_000)?,
                max_tool_rounds: number(src, "AGENT_MAX_TOOL_ROUNDS", 5u32, 1, 20)?,
                concurrency: number(
                    src,
                    "AGENT_CONCURRENCY",
                    default_concurrency(database_pool_size),
                    1,
                    256,
                )?,
            },
            licence: licence_settings(src)?,
            admin_session_ttl_hours: number(src, "ADMIN_SESSION_TTL_HOURS", 8u64, 1, 72)?,
        })
    }
}

/// Turns wait on the model most of the time, so a few per core; each holds a connection for
/// its conversation's lock and briefly needs a second, so at most half the pool.
fn default_concurrency(pool_size: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    (cores * 4).clamp(2, 16).min((pool_size / 2).max(1))
}

fn licence_settings(src: &Source) -> Result<crate::licence::book::LicenceSettings, SettingsError> {
    use crate::licence::book::WhitelistSource;
    let source = match (
        src.get("LICENCE_WHITELIST_BLOB"),
        src.get("LICENCE_WHITELIST_PATH"),
    ) {
        (Some(_), Some(_)) => {
            return Err(SettingsError::Malformed {
                name: "LICENCE_WHITELIST_BLOB",
                reason: "set either LICENCE_WHITELIST_BLOB or LICENCE_WHITELIST_PATH, not both"
                    .into(),
            })
        }
        (Some(blob), None) => {
            if blob.starts_with('/') || blob.contains("..") {
                return Err(SettingsError::Malformed {
                    name: "LICENCE_WHITELIST_BLOB",
                    reason: format!("expected a blob name inside BLOB_CONTAINER such as licence/whitelist.sig, got {blob:?}"),
                });
            }
            Some(WhitelistSource::Blob(blob.to_owned()))
        }
        (None, Some(path)) => Some(WhitelistSource::File(PathBuf::from(path))),
        (None, None) => None,
    };
    let public_key = match src.get("LICENCE_PUBLIC_KEY") {
        None => None,
        Some(raw) => Some(
            crate::licence::verifying_key_from_pem(raw, "LICENCE_PUBLIC_KEY").map_err(|e| {
                SettingsError::Malformed {
                    name: "LICENCE_PUBLIC_KEY",
                    reason: e.to_string(),
                }
            })?,
        ),
    };
    let signing_key = match src.get("LICENCE_SIGNING_KEY") {
        None => None,
        Some(raw) => Some(
            crate::licence::signing_key_from_pem(raw, "LICENCE_SIGNING_KEY").map_err(|_| {
                // Never echo a private key's parse error (it may quote the value).
                SettingsError::Malformed {
                    name: "LICENCE_SIGNING_KEY",
                    reason:
                        "not an Ed25519 private key in PEM (PKCS#8, -----BEGIN PRIVATE KEY-----)"
                            .into(),
                }
            })?,
        ),
    };
    if let (Some(p), Some(s)) = (&public_key, &signing_key) {
        if *p != s.verifying_key() {
            return Err(SettingsError::Malformed {
                name: "LICENCE_SIGNING_KEY",
                reason: "it is not the private key of LICENCE_PUBLIC_KEY".into(),
            });
        }
    }
    Ok(crate::licence::book::LicenceSettings {
        source,
        public_key,
        signing_key,
        reload: std::time::Duration::from_secs(number(src, "LICENCE_RELOAD_SECS", 30u64, 0, 60)?),
    })
}

/// A model or deployment name; `none` switches the feature off.
fn optional_name(v: &str) -> Option<String> {
    (!v.eq_ignore_ascii_case("none")).then(|| v.to_owned())
}

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

fn postgres_url(src: &Source, name: &'static str) -> Result<SecretString, SettingsError> {
    let value = src.get(name).ok_or(SettingsError::Missing {
        name,
        hint: DB_HINT,
    })?;
    value.parse::<tokio_postgres::Config>().map_err(|e| SettingsError::Malformed {
        name,
        // tokio-postgres errors do not echo the password.
        reason: format!("not a Postgres connection string ({e}); expected postgres://user:password@host:port/db"),
    })?;
    Ok(secret(value))
}

fn number<T>(
    src: &Source,
    name: &'static str,
    default: T,
    min: T,
    max: T,
) -> Result<T, SettingsError>
where
    T: std::str::FromStr + PartialOrd + fmt::Display + Copy,
{
    let Some(raw) = src.get(name) else {
        return Ok(default);
    };
    let value: T = raw.parse().map_err(|_| SettingsError::Malformed {
        name,
        reason: format!("expected a whole number, got {raw:?}"),
    })?;
    if value < min || value > max {
        return Err(SettingsError::Malformed {
            name,
            reason: format!("must be between {min} and {max}, got {value}"),
        });
    }
    Ok(value)
}

fn valid_container_name(name: &str) -> bool {
    (3..=63).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
}

/// A Postgres URL with the password replaced, for logs and `Debug`.
pub fn redact_url(url: &SecretString) -> String {
    match url::Url::parse(url.expose_secret()) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("REDACTED"));
            }
            u.to_string()
        }
        Err(_) => "[REDACTED]".into(),
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("environment", &self.environment)
            .field("port", &self.port)
            .field("bind_address", &self.bind_address)
            .field("customhandler_port", &self.customhandler_port)
            .field("database_url", &redact_url(&self.database_url))
            .field("database_admin_url", &redact_url(&self.database_admin_url))
            .field("database_pool_size", &self.database_pool_size)
            .field("database_auth", &self.database_auth)
            .field("queue", &self.queue)
            .field("blob", &self.blob)
            .field("frontend_dist", &self.frontend_dist)
            .field("nightly_schedule", &self.nightly_schedule)
            .field("sweeper_schedule", &self.sweeper_schedule)
            .field("public_base_url", &self.public_base_url)
            .field("token_encryption_key", &"[REDACTED]")
            .field("session_ttl_hours", &self.session_ttl_hours)
            .field("instagram", &self.instagram)
            .field("search", &self.search)
            .field("llm", &self.llm)
            .field("agent", &self.agent)
            .field("licence", &self.licence)
            .field("admin_session_ttl_hours", &self.admin_session_ttl_hours)
            .finish()
    }
}

impl fmt::Debug for LlmSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |s: &Option<SecretString>| s.as_ref().map(|_| "[REDACTED]");
        f.debug_struct("LlmSettings")
            .field("provider", &self.provider)
            .field("openai_api_key", &shown(&self.openai_api_key))
            .field("openai_base_url", &self.openai_base_url)
            .field("openai_chat_model", &self.openai_chat_model)
            .field("openai_embedding_model", &self.openai_embedding_model)
            .field("azure_endpoint", &self.azure_endpoint)
            .field("azure_api_key", &shown(&self.azure_api_key))
            .field("azure_chat_deployment", &self.azure_chat_deployment)
            .field(
                "azure_embedding_deployment",
                &self.azure_embedding_deployment,
            )
            .field("azure_api_version", &self.azure_api_version)
            .field("timeout_secs", &self.timeout_secs)
            .field("max_retries", &self.max_retries)
            .finish()
    }
}

impl fmt::Debug for InstagramSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |s: &Option<SecretString>| s.as_ref().map(|_| "[REDACTED]");
        f.debug_struct("InstagramSettings")
            .field("app_id", &self.app_id)
            .field("app_secret", &shown(&self.app_secret))
            .field("meta_app_secret", &shown(&self.meta_app_secret))
            .field("verify_token", &shown(&self.verify_token))
            .field("authorize_url", &self.authorize_url)
            .field("api_base", &self.api_base)
            .field("graph_base", &self.graph_base)
            .field("graph_version", &self.graph_version)
            .field("send_rate_per_second", &self.send_rate_per_second)
            .field("timeout_secs", &self.timeout_secs)
            .field("echo_wait_ms", &self.echo_wait_ms)
            .finish()
    }
}

impl fmt::Debug for QueueSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueueSettings")
            .field("backend", &self.backend)
            .field("name", &self.name)
            .field("visibility_timeout_secs", &self.visibility_timeout_secs)
            .field("max_deliveries", &self.max_deliveries)
            .field("servicebus_namespace", &self.servicebus_namespace)
            .field(
                "servicebus_connection_string",
                &self
                    .servicebus_connection_string
                    .as_ref()
                    .map(|_| "[REDACTED]"),
            )
            .finish()
    }
}

impl fmt::Debug for BlobSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlobSettings")
            .field(
                "connection_string",
                &self.connection_string.as_ref().map(|_| "[REDACTED]"),
            )
            .field("account_url", &self.account_url)
            .field("container", &self.container)
            .field(
                "managed_identity_client_id",
                &self.managed_identity_client_id,
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Vec<(String, String)> {
        vec![
            (
                "DATABASE_URL".into(),
                "postgres://igshop_app:s3cr3t-app@127.0.0.1:5432/igshop".into(),
            ),
            (
                "DATABASE_ADMIN_URL".into(),
                "postgres://igshop_admin:s3cr3t-admin@127.0.0.1:5432/igshop".into(),
            ),
            (
                "AZURE_STORAGE_CONNECTION_STRING".into(),
                "DefaultEndpointsProtocol=http;AccountName=a;AccountKey=S0meKey==;".into(),
            ),
            (
                "TOKEN_ENCRYPTION_KEY".into(),
                "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=".into(),
            ),
            ("INSTAGRAM_APP_SECRET".into(), "igappsecret-value".into()),
        ]
    }

    fn with(extra: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let mut pairs = base();
        for (k, v) in extra {
            pairs.retain(|(name, _)| name != k);
            pairs.push((k.to_string(), v.to_string()));
        }
        Settings::from_source(&Source::from_map(pairs))
    }

    #[test]
    fn defaults_apply() {
        let s = with(&[]).unwrap();
        assert_eq!(s.port, 7071);
        assert_eq!(s.environment, Environment::Local);
        assert_eq!(s.queue.backend, QueueBackend::Postgres);
        assert_eq!(s.queue.name, "dm-inbound");
        assert_eq!(s.queue.max_deliveries, 10);
        assert_eq!(s.blob.container, "igshop");
    }

    #[test]
    fn missing_database_url_is_named() {
        let pairs = base().into_iter().filter(|(k, _)| k != "DATABASE_URL");
        let err = Settings::from_source(&Source::from_map(pairs)).unwrap_err();
        assert!(
            matches!(
                err,
                SettingsError::Missing {
                    name: "DATABASE_URL",
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("DATABASE_URL"));
    }

    #[test]
    fn malformed_values_are_named() {
        let cases: &[(&str, &str)] = &[
            ("PORT", "seventy"),
            ("PORT", "0"),
            ("IGSHOP_ENV", "staging"),
            ("DATABASE_ADMIN_URL", "mysql://x"),
            ("QUEUE_BACKEND", "rabbit"),
            ("BLOB_CONTAINER", "Bad_Name"),
            ("SWEEPER_SCHEDULE", "every five minutes"),
            ("TOKEN_ENCRYPTION_KEY", "c2hvcnQ="),
            ("TOKEN_ENCRYPTION_KEY", "not base64!"),
            ("PUBLIC_BASE_URL", "ftp://x"),
            ("INSTAGRAM_GRAPH_BASE", "not a url"),
            ("INSTAGRAM_GRAPH_VERSION", "23"),
            ("DATABASE_AUTH", "token"),
        ];
        for (name, value) in cases {
            let err = with(&[(name, value)]).unwrap_err();
            assert!(err.to_string().contains(name), "{name}={value}: {err}");
        }
    }

    #[test]
    fn servicebus_needs_a_namespace() {
        let err = with(&[("QUEUE_BACKEND", "servicebus")]).unwrap_err();
        assert!(err.to_string().contains("SERVICEBUS_NAMESPACE"));
        let ok = with(&[
            ("QUEUE_BACKEND", "servicebus"),
            ("SERVICEBUS_NAMESPACE", "ns.servicebus.windows.net"),
        ])
        .unwrap();
        assert_eq!(
            ok.queue.servicebus_namespace.as_deref(),
            Some("ns.servicebus.windows.net")
        );
    }

    #[test]
    fn debug_output_hides_secrets() {
        let s = with(&[(
            "SERVICEBUS_CONNECTION_STRING",
            "Endpoint=sb://x/;SharedAccessKey=TOPSECRETKEY",
        )])
        .unwrap();
        let printed = format!("{s:?}");
        for secret in [
            "s3cr3t-app",
            "s3cr3t-admin",
            "S0meKey",
            "TOPSECRETKEY",
            "MDEyMzQ1Njc4OWFi",
            "igappsecret-value",
        ] {
            assert!(!printed.contains(secret), "{secret} leaked in {printed}");
        }
        assert!(
            printed.contains("igshop_app"),
            "user names stay visible: {printed}"
        );
    }

    #[test]
    fn environment_overrides_the_settings_file() {
        let dir = std::env::temp_dir().join(format!("igshop-settings-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("local.settings.json");
        std::fs::write(
            &file,
            r#"{"IsEncrypted":false,"Values":{"PORT":"8080","BLOB_CONTAINER":"fromfile"}}"#,
        )
        .unwrap();
        let mut values = read_settings_file(&file).unwrap();
        values.extend(base());
        values.insert("PORT".into(), "9090".into()); // as the environment would
        let s = Settings::from_source(&Source { values }).unwrap();
        assert_eq!(s.port, 9090);
        assert_eq!(s.blob.container, "fromfile");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
