//! The one client for language models: Chat Completions with tools, and embeddings, against
//! Azure OpenAI (`{endpoint}/openai/deployments/{deployment}/...?api-version=`, `api-key` or
//! an Entra token) or anything speaking OpenAI's API (`{base}/chat/completions`, Bearer):
//! OpenAI itself, Ollama, vLLM.
//!
//! 429 and 5xx answers, timeouts and dropped connections are retried with exponential
//! back-off, honouring `retry-after` / `retry-after-ms`. Keys never appear in errors or logs.
//!
//! Parameters follow the model (see [`Capabilities`]): Azure and OpenAI get
//! `max_completion_tokens` (reasoning models such as gpt-5.x and the o-series refuse
//! `max_tokens`), other OpenAI-compatible servers `max_tokens`; reasoning models get no
//! `temperature`/`top_p` (they accept only the default). A model that still refuses one of
//! them (a 400 naming the parameter) is asked again without it, and the client remembers.

mod prices;
pub mod usage;

pub use prices::{Price, PriceTable};

use crate::settings::{LlmProvider, LlmSettings};
use azure_core::credentials::TokenCredential;
use rust_decimal::Decimal;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Entra scope of Azure OpenAI.
pub const COGNITIVE_SCOPE: &str = "https://cognitiveservices.azure.com/.default";
/// Longest wait between retries, whatever `retry-after` says.
const MAX_BACKOFF: Duration = Duration::from_secs(20);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
    Tool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    /// The arguments as the model wrote them: JSON text that may be malformed.
    pub arguments: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: Role,
    pub content: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

impl ChatMessage {
    pub fn system(text: impl Into<String>) -> Self {
        Self::plain(Role::System, text)
    }
    pub fn user(text: impl Into<String>) -> Self {
        Self::plain(Role::User, text)
    }
    pub fn assistant(text: impl Into<String>) -> Self {
        Self::plain(Role::Assistant, text)
    }
    pub fn tool_result(call_id: impl Into<String>, text: impl Into<String>) -> Self {
        ChatMessage {
            role: Role::Tool,
            content: Some(text.into()),
            tool_calls: vec![],
            tool_call_id: Some(call_id.into()),
        }
    }
    fn plain(role: Role, text: impl Into<String>) -> Self {
        ChatMessage {
            role,
            content: Some(text.into()),
            tool_calls: vec![],
            tool_call_id: None,
        }
    }

    /// The wire form of Chat Completions.
    fn to_wire(&self) -> Value {
        let mut m = json!({ "role": self.role, "content": self.content });
        if !self.tool_calls.is_empty() {
            m["tool_calls"] = self
                .tool_calls
                .iter()
                .map(|c| {
                    json!({
                        "id": c.id,
                        "type": "function",
                        "function": { "name": c.name, "arguments": c.arguments },
                    })
                })
                .collect();
        }
        if let Some(id) = &self.tool_call_id {
            m["tool_call_id"] = json!(id);
        }
        m
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub prompt_tokens: u32,
    pub cached_tokens: u32,
    pub completion_tokens: u32,
}

impl Usage {
    pub fn add(&mut self, other: Usage) {
        self.prompt_tokens += other.prompt_tokens;
        self.cached_tokens += other.cached_tokens;
        self.completion_tokens += other.completion_tokens;
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChatReply {
    pub content: Option<String>,
    pub tool_calls: Vec<ToolCall>,
    pub finish_reason: Option<String>,
    pub usage: Usage,
}

#[derive(Debug, Clone, Default)]
pub struct ChatRequest {
    pub messages: Vec<ChatMessage>,
    /// Tool definitions in Chat Completions form (`[{"type":"function","function":{...}}]`).
    pub tools: Option<Value>,
    /// Sent as written (an `f64`, so 0.4 goes out as 0.4); left out for models that accept
    /// only the default.
    pub temperature: Option<f64>,
    /// The answer's token limit: `max_completion_tokens` or `max_tokens` on the wire.
    pub max_tokens: Option<u32>,
}

/// What the configured model accepts, from its name (Azure: `AZURE_OPENAI_CHAT_MODEL`, the
/// model behind the deployment) and where it is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// `max_completion_tokens` (Azure, OpenAI) rather than the older `max_tokens`.
    pub completion_tokens_name: bool,
    /// Whether `temperature` / `top_p` other than the default are accepted.
    pub sampling: bool,
}

impl Capabilities {
    /// Reasoning models (gpt-5 family, o1/o3/o4…) take only the default sampling.
    pub fn of(model: &str, official: bool) -> Self {
        let m = model.trim().to_ascii_lowercase();
        let m = m.rsplit('/').next().unwrap_or(&m);
        let reasoning = m.starts_with("gpt-5")
            || m.starts_with("gpt5")
            || (m.starts_with('o') && m[1..].starts_with(|c: char| c.is_ascii_digit()));
        Capabilities {
            completion_tokens_name: official || reasoning,
            sampling: !reasoning,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// Still failing after the retries: 429, 5xx, timeouts, connection errors.
    #[error("the model is unavailable{}: {message}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
    Unavailable {
        status: Option<u16>,
        message: String,
    },
    /// 401/403: a wrong key, or an identity without access.
    #[error("the model provider refused the credentials (HTTP {status}): {message}")]
    Unauthorized { status: u16, message: String },
    /// Any other 4xx: a wrong model or deployment name, a request the provider rejects.
    #[error("the model provider answered HTTP {status}: {message}")]
    Refused {
        status: u16,
        /// The request parameter the provider named (`error.param`), if any.
        param: Option<String>,
        message: String,
    },
    /// A 2xx answer we could not read.
    #[error("the model's answer could not be read: {0}")]
    Malformed(String),
    #[error("model client configuration: {0}")]
    Config(String),
}

enum Auth {
    None,
    Bearer(SecretString),
    ApiKey(SecretString),
    Entra(Arc<dyn TokenCredential>),
}

enum Target {
    OpenAi {
        base_url: String,
    },
    Azure {
        endpoint: String,
        api_version: String,
    },
}

/// Who pays for the tokens: recorded with each usage event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BilledTo {
    Platform,
    TenantKey,
}

impl BilledTo {
    pub fn as_str(self) -> &'static str {
        match self {
            BilledTo::Platform => "platform",
            BilledTo::TenantKey => "tenant_key",
        }
    }
}

/// Where a shop's own base URL may point. In production a merchant's URL must not reach our
/// private network (SSRF); locally it may (Ollama on the same machine).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    Anywhere,
    PublicOnly,
}

/// A shop's own model settings (merchant settings), overriding the platform's.
#[derive(Clone)]
pub struct OwnModel {
    pub api_key: Option<SecretString>,
    pub base_url: Option<String>,
    pub model: Option<String>,
}

#[derive(Clone)]
pub struct LlmClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    target: Target,
    auth: Auth,
    chat_model: String,
    embedding_model: Option<String>,
    max_retries: u32,
    prices: PriceTable,
    billed_to: BilledTo,
    /// Learnt from the provider's refusals (a 400 naming the parameter), for later calls.
    completion_tokens_name: AtomicBool,
    sampling: AtomicBool,
}

impl LlmClient {
    /// The platform's client, or `None` when no provider is configured.
    pub fn from_settings(s: &LlmSettings) -> Result<Option<Self>, LlmError> {
        if !s.configured() {
            return Ok(None);
        }
        let (target, auth, chat_model, embedding_model) = match s.provider {
            LlmProvider::OpenAi => (
                Target::OpenAi {
                    base_url: s.openai_base_url.trim_end_matches('/').to_owned(),
                },
                s.openai_api_key.clone().map_or(Auth::None, Auth::Bearer),
                s.openai_chat_model.clone(),
                s.openai_embedding_model.clone(),
            ),
            LlmProvider::Azure => {
                let endpoint = s.azure_endpoint.clone().ok_or_else(|| {
                    LlmError::Config("LLM_PROVIDER=azure needs AZURE_OPENAI_ENDPOINT".into())
                })?;
                let auth = match &s.azure_api_key {
                    Some(k) => Auth::ApiKey(k.clone()),
                    None => Auth::Entra(
                        crate::azure_identity::managed_identity(
                            s.managed_identity_client_id.as_deref(),
                        )
                        .map_err(LlmError::Config)?,
                    ),
                };
                (
                    Target::Azure {
                        endpoint: endpoint.trim_end_matches('/').to_owned(),
                        api_version: s.azure_api_version.clone(),
                    },
                    auth,
                    s.azure_chat_deployment.clone(),
                    s.azure_embedding_deployment.clone(),
                )
            }
        };
        let caps = match s.provider {
            LlmProvider::Azure => Capabilities::of(
                s.azure_chat_model
                    .as_deref()
                    .unwrap_or(&s.azure_chat_deployment),
                true,
            ),
            LlmProvider::OpenAi => {
                Capabilities::of(&chat_model, is_official_openai(&s.openai_base_url))
            }
        };
        Ok(Some(Self::build(
            target,
            auth,
            chat_model,
            embedding_model,
            s,
            BilledTo::Platform,
            None,
            caps,
        )?))
    }

    /// The client a shop's turn uses: its own key / base URL / model when it set one
    /// (OpenAI-compatible), otherwise the platform's (`None` if neither exists).
    ///
    /// With [`Reach::PublicOnly`] the own base URL's host is resolved once, refused when any
    /// address is private, loopback, link-local or a metadata address, and the client is
    /// pinned to the checked address with redirects off, so neither a second lookup nor a
    /// redirect can lead it elsewhere.
    pub async fn for_shop(
        platform: Option<&LlmClient>,
        settings: &LlmSettings,
        own: Option<&OwnModel>,
        reach: Reach,
    ) -> Result<Option<LlmClient>, LlmError> {
        match own {
            Some(own) if own.api_key.is_some() || own.base_url.is_some() => {
                let base_url = own
                    .base_url
                    .clone()
                    .unwrap_or_else(|| "https://api.openai.com/v1".into());
                let model = own
                    .model
                    .clone()
                    .unwrap_or_else(|| settings.openai_chat_model.clone());
                let pin = match reach {
                    Reach::Anywhere => None,
                    Reach::PublicOnly => Some(public_address(&base_url).await?),
                };
                let caps = Capabilities::of(&model, is_official_openai(&base_url));
                Ok(Some(Self::build(
                    Target::OpenAi {
                        base_url: base_url.trim_end_matches('/').to_owned(),
                    },
                    own.api_key.clone().map_or(Auth::None, Auth::Bearer),
                    model,
                    None,
                    settings,
                    BilledTo::TenantKey,
                    pin,
                    caps,
                )?))
            }
            _ => Ok(platform.cloned()),
        }
    }

    fn build(
        target: Target,
        auth: Auth,
        chat_model: String,
        embedding_model: Option<String>,
        s: &LlmSettings,
        billed_to: BilledTo,
        pin: Option<(String, std::net::SocketAddr)>,
        caps: Capabilities,
    ) -> Result<Self, LlmError> {
        let mut http = reqwest::Client::builder()
            .timeout(Duration::from_secs(s.timeout_secs))
            .connect_timeout(Duration::from_secs(10));
        if let Some((host, addr)) = pin {
            // Only the checked address, and no redirects that could lead elsewhere.
            http = http
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .resolve(&host, addr);
        }
        let http = http.build().map_err(|e| LlmError::Config(e.to_string()))?;
        Ok(LlmClient {
            inner: Arc::new(Inner {
                http,
                target,
                auth,
                chat_model,
                embedding_model,
                max_retries: s.max_retries,
                prices: s.prices.clone(),
                billed_to,
                completion_tokens_name: AtomicBool::new(caps.completion_tokens_name),
                sampling: AtomicBool::new(caps.sampling),
            }),
        })
    }

    /// "azure" or "openai", as recorded in usage events.
    pub fn provider(&self) -> &'static str {
        match self.inner.target {
            Target::OpenAi { .. } => "openai",
            Target::Azure { .. } => "azure",
        }
    }
    pub fn chat_model(&self) -> &str {
        &self.inner.chat_model
    }
    pub fn embedding_model(&self) -> Option<&str> {
        self.inner.embedding_model.as_deref()
    }
    pub fn billed_to(&self) -> BilledTo {
        self.inner.billed_to
    }
    /// USD for `usage` of `model` (zero for a model missing from the price table).
    pub fn cost_usd(&self, model: &str, usage: Usage) -> Decimal {
        self.inner.prices.cost(model, usage)
    }

    fn url(&self, op: &str, model: &str) -> String {
        match &self.inner.target {
            Target::OpenAi { base_url } => format!("{base_url}/{op}"),
            Target::Azure {
                endpoint,
                api_version,
            } => format!("{endpoint}/openai/deployments/{model}/{op}?api-version={api_version}"),
        }
    }

    /// What this client sends now (see [`Capabilities`]).
    pub fn capabilities(&self) -> Capabilities {
        Capabilities {
            completion_tokens_name: self.inner.completion_tokens_name.load(Ordering::Relaxed),
            sampling: self.inner.sampling.load(Ordering::Relaxed),
        }
    }

    /// The Chat Completions body for `req` under `caps`.
    fn chat_body(&self, req: &ChatRequest, caps: Capabilities) -> Value {
        let mut body = json!({
            "messages": req.messages.iter().map(ChatMessage::to_wire).collect::<Vec<_>>(),
        });
        if matches!(self.inner.target, Target::OpenAi { .. }) {
            body["model"] = json!(self.inner.chat_model);
        }
        if let Some(tools) = &req.tools {
            body["tools"] = tools.clone();
            body["tool_choice"] = json!("auto");
        }
        if let (Some(t), true) = (req.temperature, caps.sampling) {
            body["temperature"] = json!(t);
        }
        if let Some(m) = req.max_tokens {
            let name = if caps.completion_tokens_name {
                "max_completion_tokens"
            } else {
                "max_tokens"
            };
            body[name] = json!(m);
        }
        body
    }

    /// One Chat Completions call (with retries). A 400 naming a parameter this model does
    /// not take (`temperature`, `top_p`, `max_tokens`, `max_completion_tokens`) is asked again
    /// once without it (or under the other name), and the client keeps that for later calls.
    pub async fn chat(&self, req: &ChatRequest) -> Result<ChatReply, LlmError> {
        let model = self.inner.chat_model.clone();
        let url = self.url("chat/completions", &model);
        let mut caps = self.capabilities();
        for _ in 0..3 {
            let body = self.chat_body(req, caps);
            match self.post_json(&url, &body).await {
                Ok(answer) => return parse_chat(&answer),
                Err(LlmError::Refused {
                    status: 400,
                    param: Some(param),
                    message,
                }) => {
                    let adapted = match param.as_str() {
                        "temperature" | "top_p" if caps.sampling && req.temperature.is_some() => {
                            caps.sampling = false;
                            self.inner.sampling.store(false, Ordering::Relaxed);
                            true
                        }
                        "max_tokens" if !caps.completion_tokens_name => {
                            caps.completion_tokens_name = true;
                            self.inner
                                .completion_tokens_name
                                .store(true, Ordering::Relaxed);
                            true
                        }
                        "max_completion_tokens" if caps.completion_tokens_name => {
                            caps.completion_tokens_name = false;
                            self.inner
                                .completion_tokens_name
                                .store(false, Ordering::Relaxed);
                            true
                        }
                        _ => false,
                    };
                    if !adapted {
                        return Err(LlmError::Refused {
                            status: 400,
                            param: Some(param),
                            message,
                        });
                    }
                    tracing::info!(model = %model, param = %param, "the model does not take this parameter; asking again without it");
                }
                Err(e) => return Err(e),
            }
        }
        Err(LlmError::Malformed(
            "the model kept refusing the request's parameters".into(),
        ))
    }

    /// Embeddings of `texts`, in order, with the tokens used. `Config` error when no embedding
    /// model is configured.
    pub async fn embed(&self, texts: &[String]) -> Result<(Vec<Vec<f32>>, Usage), LlmError> {
        let model = self
            .inner
            .embedding_model
            .clone()
            .ok_or_else(|| LlmError::Config("no embedding model is configured".into()))?;
        let mut body = json!({ "input": texts });
        if matches!(self.inner.target, Target::OpenAi { .. }) {
            body["model"] = json!(model);
        }
        let answer = self
            .post_json(&self.url("embeddings", &model), &body)
            .await?;
        let data = answer["data"].as_array().ok_or_else(|| {
            LlmError::Malformed("no \"data\" array in the embeddings answer".into())
        })?;
        let mut out: Vec<Option<Vec<f32>>> = vec![None; texts.len()];
        for (pos, item) in data.iter().enumerate() {
            let index = item["index"].as_u64().map_or(pos, |i| i as usize);
            let vector = item["embedding"]
                .as_array()
                .ok_or_else(|| LlmError::Malformed("an embedding is not an array".into()))?
                .iter()
                .map(|v| v.as_f64().map(|f| f as f32))
                .collect::<Option<Vec<f32>>>()
                .ok_or_else(|| LlmError::Malformed("an embedding holds a non-number".into()))?;
            if let Some(slot) = out.get_mut(index) {
                *slot = Some(vector);
            }
        }
        let vectors = out
            .into_iter()
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| LlmError::Malformed("fewer embeddings than inputs".into()))?;
        Ok((vectors, usage_of(&answer)))
    }

    async fn post_json(&self, url: &str, body: &Value) -> Result<Value, LlmError> {
        let mut attempt = 0u32;
        loop {
            let outcome = self.post_once(url, body).await;
            let (err, wait) = match outcome {
                Ok(v) => return Ok(v),
                Err(Failure::Final(e)) => return Err(e),
                Err(Failure::Retry(e, wait)) => (e, wait),
            };
            if attempt >= self.inner.max_retries {
                return Err(err);
            }
            let backoff = Duration::from_millis(250 * 2u64.pow(attempt.min(6)));
            let wait = wait.unwrap_or(backoff).min(MAX_BACKOFF);
            tracing::warn!(attempt = attempt + 1, wait_ms = wait.as_millis() as u64, error = %err, "model call failed; retrying");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    async fn post_once(&self, url: &str, body: &Value) -> Result<Value, Failure> {
        let mut req = self.inner.http.post(url).json(body);
        match &self.inner.auth {
            Auth::None => {}
            Auth::Bearer(k) => req = req.bearer_auth(k.expose_secret()),
            Auth::ApiKey(k) => req = req.header("api-key", k.expose_secret()),
            Auth::Entra(cred) => {
                let token = cred
                    .get_token(&[COGNITIVE_SCOPE], None)
                    .await
                    .map_err(|e| {
                        Failure::Retry(
                            LlmError::Unavailable {
                                status: None,
                                message: format!("could not get a managed-identity token: {e}"),
                            },
                            None,
                        )
                    })?;
                req = req.bearer_auth(token.token.secret());
            }
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                let what = if e.is_timeout() {
                    "timed out"
                } else {
                    "could not connect"
                };
                return Err(Failure::Retry(
                    LlmError::Unavailable {
                        status: None,
                        message: what.into(),
                    },
                    None,
                ));
            }
        };
        let status = resp.status().as_u16();
        let wait = retry_after(resp.headers());
        let text = match resp.text().await {
            Ok(t) => t,
            Err(e) => {
                let message = if e.is_timeout() {
                    "timed out reading the answer".to_owned()
                } else {
                    "the connection broke while reading the answer".to_owned()
                };
                return Err(Failure::Retry(
                    LlmError::Unavailable {
                        status: Some(status),
                        message,
                    },
                    None,
                ));
            }
        };
        if (200..300).contains(&status) {
            return serde_json::from_str(&text)
                .map_err(|e| Failure::Final(LlmError::Malformed(format!("not JSON: {e}"))));
        }
        let message = error_message(&text);
        match status {
            429 | 500..=599 | 408 => Err(Failure::Retry(
                LlmError::Unavailable {
                    status: Some(status),
                    message,
                },
                wait,
            )),
            401 | 403 => Err(Failure::Final(LlmError::Unauthorized { status, message })),
            _ => Err(Failure::Final(LlmError::Refused {
                status,
                param: error_param(&text),
                message,
            })),
        }
    }
}

/// The host of `base_url` and the one address it is pinned to, or why it may not be used.
async fn public_address(base_url: &str) -> Result<(String, std::net::SocketAddr), LlmError> {
    let url = url::Url::parse(base_url)
        .map_err(|e| LlmError::Config(format!("the base URL is not a URL: {e}")))?;
    let host = url
        .host_str()
        .ok_or_else(|| LlmError::Config("the base URL has no host".into()))?
        .to_owned();
    let bare = host.trim_matches(['[', ']']);
    if crate::knowledge::fetch::is_forbidden_host_name(bare) {
        return Err(private_refusal());
    }
    let port = url.port_or_known_default().unwrap_or(443);
    let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host((bare, port))
        .await
        .map_err(|e| LlmError::Unavailable {
            status: None,
            message: format!("the base URL's host could not be resolved ({e})"),
        })?
        .collect();
    let first = *addrs.first().ok_or_else(|| LlmError::Unavailable {
        status: None,
        message: "the base URL's host resolves to nothing".into(),
    })?;
    if addrs
        .iter()
        .any(|a| crate::knowledge::fetch::is_forbidden_ip(a.ip()))
    {
        return Err(private_refusal());
    }
    Ok((host, first))
}

fn private_refusal() -> LlmError {
    LlmError::Config(
        "the base URL points into a private or internal network, which this server does not call"
            .into(),
    )
}

enum Failure {
    Retry(LlmError, Option<Duration>),
    Final(LlmError),
}

/// `retry-after-ms`, or `retry-after` in seconds (an HTTP date is not worth parsing: the
/// back-off applies instead).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(ms) = get("retry-after-ms").and_then(|v| v.trim().parse::<f64>().ok()) {
        return Some(Duration::from_millis(ms.max(0.0) as u64));
    }
    get("retry-after")
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|s| Duration::from_millis((s.max(0.0) * 1000.0) as u64))
}

/// The provider's own words (`{"error":{"message":...}}`), short, never the request.
fn error_message(body: &str) -> String {
    let from_json = serde_json::from_str::<Value>(body).ok().and_then(|v| {
        v["error"]["message"]
            .as_str()
            .or_else(|| v["error"].as_str())
            .or_else(|| v["message"].as_str())
            .map(str::to_owned)
    });
    let text = from_json.unwrap_or_else(|| body.to_owned());
    let text = text.trim();
    match text.char_indices().nth(300) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None if text.is_empty() => "no details given".into(),
        None => text.to_owned(),
    }
}

/// `error.param` of a provider's refusal.
fn error_param(body: &str) -> Option<String> {
    serde_json::from_str::<Value>(body)
        .ok()?
        .get("error")?
        .get("param")?
        .as_str()
        .map(str::to_owned)
}

/// OpenAI's own API (which takes `max_completion_tokens`), not a compatible server.
fn is_official_openai(base_url: &str) -> bool {
    url::Url::parse(base_url)
        .ok()
        .and_then(|u| u.host_str().map(|h| h == "api.openai.com"))
        .unwrap_or(false)
}

fn usage_of(answer: &Value) -> Usage {
    let u = &answer["usage"];
    let n = |v: &Value| v.as_u64().unwrap_or(0).min(u32::MAX as u64) as u32;
    Usage {
        prompt_tokens: n(&u["prompt_tokens"]),
        cached_tokens: n(&u["prompt_tokens_details"]["cached_tokens"]),
        completion_tokens: n(&u["completion_tokens"]),
    }
}

fn parse_chat(answer: &Value) -> Result<ChatReply, LlmError> {
    let choice = answer["choices"]
        .get(0)
        .ok_or_else(|| LlmError::Malformed("no choices in the answer".into()))?;
    let message = &choice["message"];
    let tool_calls = match message["tool_calls"].as_array() {
        None => vec![],
        Some(calls) => calls
            .iter()
            .enumerate()
            .map(|(i, c)| ToolCall {
                id: c["id"]
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| format!("call_{i}")),
                name: c["function"]["name"].as_str().unwrap_or("").to_owned(),
                arguments: match &c["function"]["arguments"] {
                    Value::String(s) => s.clone(),
                    Value::Null => "{}".into(),
                    // Some compatible servers send an object instead of its JSON text.
                    other => other.to_string(),
                },
            })
            .collect(),
    };
    Ok(ChatReply {
        content: message["content"]
            .as_str()
            .map(str::to_owned)
            .filter(|s| !s.trim().is_empty()),
        tool_calls,
        finish_reason: choice["finish_reason"].as_str().map(str::to_owned),
        usage: usage_of(answer),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_answers_with_tool_calls_are_read() {
        let answer = json!({
            "choices": [{ "finish_reason": "tool_calls", "message": {
                "role": "assistant", "content": null,
                "tool_calls": [
                    { "id": "c1", "type": "function", "function": { "name": "get_product", "arguments": "{\"sku\":\"A1\"}" } },
                    { "type": "function", "function": { "name": "search_products", "arguments": { "query": "x" } } }
                ]}}],
            "usage": { "prompt_tokens": 1200, "completion_tokens": 30, "prompt_tokens_details": { "cached_tokens": 1024 } }
        });
        let r = parse_chat(&answer).unwrap();
        assert_eq!(r.content, None);
        assert_eq!(r.tool_calls.len(), 2);
        assert_eq!(r.tool_calls[0].arguments, "{\"sku\":\"A1\"}");
        assert_eq!(r.tool_calls[1].id, "call_1");
        assert_eq!(r.tool_calls[1].arguments, "{\"query\":\"x\"}");
        assert_eq!(
            r.usage,
            Usage {
                prompt_tokens: 1200,
                cached_tokens: 1024,
                completion_tokens: 30
            }
        );
        assert!(matches!(
            parse_chat(&json!({"choices": []})),
            Err(LlmError::Malformed(_))
        ));
    }

    #[test]
    fn reasoning_models_get_completion_tokens_and_no_sampling() {
        for m in [
            "gpt-5.4-mini",
            "GPT-5",
            "o3-mini",
            "o4-mini",
            "azure/gpt-5.4-mini",
        ] {
            assert_eq!(
                Capabilities::of(m, false),
                Capabilities {
                    completion_tokens_name: true,
                    sampling: false
                },
                "{m}"
            );
        }
        assert_eq!(
            Capabilities::of("gpt-4o-mini", true),
            Capabilities {
                completion_tokens_name: true,
                sampling: true
            }
        );
        // A compatible server (Ollama, vLLM) keeps the older name.
        assert_eq!(
            Capabilities::of("llama3.1", false),
            Capabilities {
                completion_tokens_name: false,
                sampling: true
            }
        );
        assert!(is_official_openai("https://api.openai.com/v1"));
        assert!(!is_official_openai("http://127.0.0.1:11434/v1"));
        assert_eq!(
            error_param(r#"{"error":{"message":"Unsupported parameter","param":"max_tokens","code":"unsupported_parameter"}}"#).as_deref(),
            Some("max_tokens")
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_milliseconds() {
        let mut h = reqwest::header::HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert("retry-after", "2".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert("retry-after-ms", "150".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_millis(150)));
    }

    #[test]
    fn provider_error_text_is_short_and_from_the_error_object() {
        assert_eq!(
            error_message(r#"{"error":{"message":"Rate limit reached","type":"requests"}}"#),
            "Rate limit reached"
        );
        assert_eq!(error_message(""), "no details given");
        assert!(error_message(&"x".repeat(1000)).chars().count() <= 301);
    }

    #[tokio::test]
    async fn a_shops_base_url_into_a_private_network_is_refused_before_any_connection() {
        let settings =
            crate::settings::Settings::from_source(&crate::settings::Source::from_map([
                (
                    "DATABASE_URL".to_string(),
                    "postgres://a:b@127.0.0.1:1/x".to_string(),
                ),
                (
                    "DATABASE_ADMIN_URL".to_string(),
                    "postgres://a:b@127.0.0.1:1/x".to_string(),
                ),
                (
                    "TOKEN_ENCRYPTION_KEY".to_string(),
                    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".to_string(),
                ),
                (
                    "AZURE_STORAGE_CONNECTION_STRING".to_string(),
                    "UseDevelopmentStorage=true".to_string(),
                ),
            ]))
            .unwrap()
            .llm;
        // Address literals and internal names: checked without a lookup or a connection.
        for base in [
            "http://10.1.2.3/v1",
            "http://172.16.0.9/v1",
            "http://192.168.1.10:11434/v1",
            "http://169.254.169.254/latest",
            "http://[fd00::1]/v1",
            "http://127.0.0.1:11434/v1",
            "http://[::1]/v1",
            "http://localhost:11434/v1",
            "http://metadata.google.internal/v1",
        ] {
            let own = OwnModel {
                api_key: None,
                base_url: Some(base.into()),
                model: None,
            };
            let refused = LlmClient::for_shop(None, &settings, Some(&own), Reach::PublicOnly)
                .await
                .err()
                .unwrap_or_else(|| panic!("{base} was allowed"));
            assert!(
                refused.to_string().contains("private or internal network"),
                "{base}: {refused}"
            );
            // Locally the same URL is fine (e.g. Ollama on this machine).
            let local = LlmClient::for_shop(None, &settings, Some(&own), Reach::Anywhere)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(local.billed_to(), BilledTo::TenantKey);
        }
    }

    #[test]
    fn tool_messages_keep_their_call_ids_on_the_wire() {
        let m = ChatMessage {
            role: Role::Assistant,
            content: None,
            tool_calls: vec![ToolCall {
                id: "c9".into(),
                name: "get_product".into(),
                arguments: "{}".into(),
            }],
            tool_call_id: None,
        };
        let w = m.to_wire();
        assert_eq!(w["tool_calls"][0]["id"], "c9");
        assert_eq!(w["tool_calls"][0]["type"], "function");
        let t = ChatMessage::tool_result("c9", "ok").to_wire();
        assert_eq!(t["role"], "tool");
        assert_eq!(t["tool_call_id"], "c9");
    }
}
