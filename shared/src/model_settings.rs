//! A shop's own model settings (merchant settings): its LLM API key (sealed at rest, never
//! shown again), an OpenAI-compatible base URL and a model name, kept in `ai_settings` beside
//! the AI instructions. Also the "test connection" check, whose answer a merchant can act on.

use crate::crypto::{CryptoError, Keys};
use crate::llm::{ChatMessage, ChatRequest, LlmClient, LlmError, OwnModel};
use crate::profile::Problem;
use crate::settings::LlmSettings;
use crate::tenants::TenantId;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize};
use std::time::Instant;

pub const MAX_KEY_CHARS: usize = 500;
pub const MAX_BASE_URL_CHARS: usize = 500;
pub const MAX_MODEL_CHARS: usize = 100;

/// What the merchant sees: never the key itself, only whether there is one and its end.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ModelSettingsView {
    pub has_api_key: bool,
    /// The key's last 4 characters (`…abcd`), to tell keys apart.
    pub api_key_hint: Option<String>,
    pub base_url: Option<String>,
    pub model: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// A change: a field left out keeps what is saved, `null` clears it, a value replaces it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[derive(utoipa::ToSchema)]
pub struct ModelSettingsChange {
    /// The provider's API key; `null` removes the saved key, leaving it out keeps it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub api_key: Option<Option<String>>,
    /// An OpenAI-compatible base URL, e.g. `https://api.openai.com/v1`.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub base_url: Option<Option<String>>,
    /// A chat model name, e.g. `gpt-4o-mini`.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub model: Option<Option<String>>,
}

/// Marks a field that was in the body (even as `null`) as `Some`.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[derive(Debug, thiserror::Error)]
pub enum ModelSettingsError {
    #[error(transparent)]
    Database(#[from] tokio_postgres::Error),
    #[error("the saved API key cannot be opened: {0}")]
    Key(#[from] CryptoError),
}

/// A change whose values have been checked (trimmed, URL normalised).
#[derive(Clone, Default)]
pub struct CheckedChange {
    api_key: Option<Option<SecretString>>,
    base_url: Option<Option<String>>,
    model: Option<Option<String>>,
}

impl CheckedChange {
    /// Whether this change sets or removes the API key.
    pub fn replaces_api_key(&self) -> bool {
        self.api_key.is_some()
    }
}

/// Checks a change. `allow_private` (local development only) admits http and addresses in
/// private networks, such as an Ollama on the same machine.
pub fn check(
    change: ModelSettingsChange,
    allow_private: bool,
) -> Result<CheckedChange, Vec<Problem>> {
    let mut problems = vec![];
    let mut problem = |field: &str, message: String| {
        problems.push(Problem {
            field: field.into(),
            message,
        })
    };
    let api_key = change.api_key.map(|k| {
        k.and_then(|k| {
            let k = k.trim().to_owned();
            if k.is_empty() {
                problem("api_key", "is empty; leave it out to keep the saved key, or send null to remove it".into());
                None
            } else if k.chars().count() > MAX_KEY_CHARS || k.chars().any(char::is_whitespace) {
                problem("api_key", format!("does not look like an API key (no spaces, at most {MAX_KEY_CHARS} characters)"));
                None
            } else {
                Some(SecretString::from(k))
            }
        })
    });
    let base_url = change.base_url.map(|u| {
        u.and_then(|u| match check_base_url(&u, allow_private) {
            Ok(u) => Some(u),
            Err(m) => {
                problem("base_url", m);
                None
            }
        })
    });
    let model = change.model.map(|m| {
        m.and_then(|m| {
            let m = m.trim().to_owned();
            let n = m.chars().count();
            if n == 0 || n > MAX_MODEL_CHARS || m.chars().any(|c| c.is_whitespace() || c.is_control()) {
                problem("model", format!("must be a model name of 1 to {MAX_MODEL_CHARS} characters without spaces, like gpt-4o-mini"));
                None
            } else {
                Some(m)
            }
        })
    });
    if problems.is_empty() {
        Ok(CheckedChange {
            api_key,
            base_url,
            model,
        })
    } else {
        Err(problems)
    }
}

fn check_base_url(raw: &str, allow_private: bool) -> Result<String, String> {
    let raw = raw.trim();
    if raw.chars().count() > MAX_BASE_URL_CHARS {
        return Err(format!("is longer than {MAX_BASE_URL_CHARS} characters"));
    }
    let url = url::Url::parse(raw).map_err(|_| {
        format!("{raw:?} is not a web address; write it like https://api.openai.com/v1")
    })?;
    match url.scheme() {
        "https" => {}
        "http" if allow_private => {}
        "http" => return Err("must start with https://".into()),
        _ => return Err("must be an http(s) address, like https://api.openai.com/v1".into()),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain a user name or password; put the key in api_key".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not have a query (?…) or fragment (#…)".into());
    }
    let Some(host) = url.host() else {
        return Err("has no host name".into());
    };
    if !allow_private {
        let private = match host {
            url::Host::Domain(d) => crate::knowledge::fetch::is_forbidden_host_name(d),
            url::Host::Ipv4(ip) => crate::knowledge::fetch::is_forbidden_ip(ip.into()),
            url::Host::Ipv6(ip) => crate::knowledge::fetch::is_forbidden_ip(ip.into()),
        };
        if private {
            return Err(
                "points into a private network, which the hosted service cannot reach".into(),
            );
        }
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

struct Saved {
    key: Option<(Vec<u8>, String)>,
    base_url: Option<String>,
    model: Option<String>,
    updated_at: DateTime<Utc>,
}

async fn saved(tx: &impl GenericClient) -> Result<Option<Saved>, tokio_postgres::Error> {
    Ok(tx
        .query_opt(&tx.prepare_cached("SELECT llm_api_key_enc, llm_key_id, llm_base_url, llm_model, updated_at FROM ai_settings").await?,
            &[],
        )
        .await?
        .map(|r| Saved {
            key: match (r.get::<_, Option<Vec<u8>>>(0), r.get::<_, Option<String>>(1)) {
                (Some(k), Some(id)) => Some((k, id)),
                _ => None,
            },
            base_url: r.get(2),
            model: r.get(3),
            updated_at: r.get(4),
        }))
}

/// The shop's model settings as the merchant sees them.
pub async fn view(
    tx: &impl GenericClient,
    keys: &Keys,
) -> Result<ModelSettingsView, tokio_postgres::Error> {
    let Some(s) = saved(tx).await? else {
        return Ok(ModelSettingsView::default());
    };
    let hint = s
        .key
        .as_ref()
        .map(|(sealed, id)| match keys.open_string(id, sealed) {
            Ok(k) => {
                let chars: Vec<char> = k.expose_secret().chars().collect();
                let tail: String = chars[chars.len().saturating_sub(4)..].iter().collect();
                format!("…{tail}")
            }
            Err(_) => "(cannot be read; enter the key again)".to_owned(),
        });
    Ok(ModelSettingsView {
        has_api_key: s.key.is_some(),
        api_key_hint: hint,
        base_url: s.base_url,
        model: s.model,
        updated_at: Some(s.updated_at),
    })
}

/// Saves a checked change, touching only the model columns of `ai_settings` (the AI
/// instructions stay as they are).
pub async fn save(
    tx: &impl GenericClient,
    keys: &Keys,
    tenant: TenantId,
    change: &CheckedChange,
) -> Result<(), tokio_postgres::Error> {
    let before = saved(tx).await?;
    let (mut key, mut base_url, mut model) = match before {
        Some(s) => (s.key, s.base_url, s.model),
        None => (None, None, None),
    };
    if let Some(k) = &change.api_key {
        key = k.as_ref().map(|k| {
            (
                keys.seal(k.expose_secret().as_bytes()),
                keys.key_id().to_owned(),
            )
        });
    }
    if let Some(u) = &change.base_url {
        base_url = u.clone();
    }
    if let Some(m) = &change.model {
        model = m.clone();
    }
    let (enc, key_id) = key.unzip();
    tx.execute(&tx.prepare_cached("INSERT INTO ai_settings (tenant_id, llm_api_key_enc, llm_key_id, llm_base_url, llm_model)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (tenant_id) DO UPDATE SET llm_api_key_enc = EXCLUDED.llm_api_key_enc,
                llm_key_id = EXCLUDED.llm_key_id, llm_base_url = EXCLUDED.llm_base_url,
                llm_model = EXCLUDED.llm_model, updated_at = now()").await?,
        &[&tenant.as_uuid(), &enc, &key_id, &base_url, &model],
    )
    .await?;
    Ok(())
}

/// The shop's own model for the agent, or `None` when it set nothing (the platform's applies).
pub async fn load_own_model(
    tx: &impl GenericClient,
    keys: &Keys,
) -> Result<Option<OwnModel>, ModelSettingsError> {
    let Some(s) = saved(tx).await? else {
        return Ok(None);
    };
    let api_key = match &s.key {
        Some((sealed, id)) => Some(keys.open_string(id, sealed)?),
        None => None,
    };
    if api_key.is_none() && s.base_url.is_none() && s.model.is_none() {
        return Ok(None);
    }
    Ok(Some(OwnModel {
        api_key,
        base_url: s.base_url,
        model: s.model,
    }))
}

/// The saved own model with a not-yet-saved change laid over it (to test before saving).
pub fn with_change(saved: Option<OwnModel>, change: &CheckedChange) -> Option<OwnModel> {
    let mut m = saved.unwrap_or(OwnModel {
        api_key: None,
        base_url: None,
        model: None,
    });
    if let Some(k) = &change.api_key {
        m.api_key = k.clone();
    }
    if let Some(u) = &change.base_url {
        m.base_url = u.clone();
    }
    if let Some(x) = &change.model {
        m.model = x.clone();
    }
    (m.api_key.is_some() || m.base_url.is_some() || m.model.is_some()).then_some(m)
}

/// The outcome of "test connection": `ok` with the provider, model and time taken, or the
/// reason in the merchant's words.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConnectionTest {
    pub ok: bool,
    /// `own` (the shop's key / base URL) or `platform`.
    pub uses: Option<&'static str>,
    pub provider: Option<&'static str>,
    pub model: Option<String>,
    pub latency_ms: Option<u64>,
    pub error: Option<String>,
}

impl ConnectionTest {
    pub fn failed(uses: Option<&'static str>, error: String) -> Self {
        ConnectionTest {
            ok: false,
            uses,
            provider: None,
            model: None,
            latency_ms: None,
            error: Some(error),
        }
    }
}

/// Sends a tiny chat ("ping", at most 5 tokens) through the client the shop's turns would use.
pub async fn test_connection(
    platform: Option<&LlmClient>,
    settings: &LlmSettings,
    own: Option<&OwnModel>,
    reach: crate::llm::Reach,
) -> ConnectionTest {
    let uses_own = own.is_some_and(|o| o.api_key.is_some() || o.base_url.is_some());
    let uses = Some(if uses_own { "own" } else { "platform" });
    let client = match LlmClient::for_shop(platform, settings, own, reach).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            return ConnectionTest::failed(
                None,
                "No model is set up: enter your own API key (and base URL if it is not OpenAI), or ask the platform to configure one.".into(),
            )
        }
        Err(e) => return ConnectionTest::failed(uses, explain(&e)),
    };
    let started = Instant::now();
    let req = ChatRequest {
        messages: vec![ChatMessage::user("ping")],
        max_tokens: Some(5),
        ..Default::default()
    };
    match client.chat(&req).await {
        Ok(_) => ConnectionTest {
            ok: true,
            uses,
            provider: Some(client.provider()),
            model: Some(client.chat_model().to_owned()),
            latency_ms: Some(started.elapsed().as_millis() as u64),
            error: None,
        },
        Err(e) => ConnectionTest {
            provider: Some(client.provider()),
            model: Some(client.chat_model().to_owned()),
            ..ConnectionTest::failed(uses, explain(&e))
        },
    }
}

/// A model error in words a merchant can act on (the provider's own message is kept short).
pub fn explain(e: &LlmError) -> String {
    match e {
        LlmError::Unauthorized { status, message } => format!(
            "The provider refused the API key (HTTP {status}): check that the key is right and active. Provider says: {message}"
        ),
        LlmError::Refused {
            status: 404,
            message,
            ..
        } => format!(
            "The model or address was not found (HTTP 404): check the model name and the base URL. Provider says: {message}"
        ),
        LlmError::Refused {
            status, message, ..
        } => {
            format!("The provider rejected the request (HTTP {status}): {message}")
        }
        LlmError::Unavailable { status: None, message } => format!(
            "The provider could not be reached ({message}): check the base URL, or try again later."
        ),
        LlmError::Unavailable { status: Some(429), .. } => {
            "The provider says the key is over its rate limit or quota (HTTP 429): check your plan and billing.".into()
        }
        LlmError::Unavailable { status: Some(s), message } => format!(
            "The provider is having trouble (HTTP {s}): {message}. Try again later."
        ),
        LlmError::Malformed(m) => format!(
            "The address answered, but not like an OpenAI-compatible API ({m}): check the base URL (it usually ends in /v1)."
        ),
        LlmError::Config(m) => format!("The model settings cannot be used: {m}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(json: &str) -> ModelSettingsChange {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn absent_keeps_null_clears_value_replaces() {
        let c = change(r#"{"api_key": null, "model": "gpt-4o"}"#);
        assert_eq!(c.api_key, Some(None));
        assert_eq!(c.base_url, None);
        assert_eq!(c.model, Some(Some("gpt-4o".into())));
        assert!(serde_json::from_str::<ModelSettingsChange>(r#"{"key": "x"}"#).is_err());
    }

    #[test]
    fn base_urls_are_checked() {
        assert_eq!(
            check_base_url(" https://api.openai.com/v1/ ", false).unwrap(),
            "https://api.openai.com/v1"
        );
        assert!(check_base_url("http://api.example.com/v1", false).is_err());
        assert!(check_base_url("http://127.0.0.1:11434/v1", true).is_ok());
        assert!(check_base_url("https://127.0.0.1/v1", false).is_err());
        assert!(check_base_url("https://user:pw@api.example.com/v1", true).is_err());
        assert!(check_base_url("ftp://api.example.com", true).is_err());
        assert!(check_base_url("not a url", true).is_err());
    }

    #[test]
    fn model_names_and_keys_are_checked() {
        let problems = check(change(r#"{"model": "gpt 4", "api_key": "  "}"#), true)
            .err()
            .unwrap();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["api_key", "model"]);
        assert!(check(
            change(&format!(r#"{{"model": "{}"}}"#, "m".repeat(101))),
            true
        )
        .is_err());
        assert!(check(
            change(r#"{"model": "llama3.1:8b", "api_key": "sk-abc"}"#),
            true
        )
        .is_ok());
    }

    #[test]
    fn errors_are_explained_in_merchant_words() {
        let wrong_key = explain(&LlmError::Unauthorized {
            status: 401,
            message: "bad key".into(),
        });
        assert!(
            wrong_key.contains("API key") && wrong_key.contains("401"),
            "{wrong_key}"
        );
        let missing = explain(&LlmError::Refused {
            status: 404,
            param: None,
            message: "no such model".into(),
        });
        assert!(missing.contains("model name"), "{missing}");
        let down = explain(&LlmError::Unavailable {
            status: None,
            message: "could not connect".into(),
        });
        assert!(down.contains("could not be reached"), "{down}");
    }
}
