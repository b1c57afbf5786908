//! The one HTTP client for Instagram's APIs (Instagram API with Instagram Login): the OAuth
//! token calls on `api.instagram.com` and `graph.instagram.com`, the account and webhook
//! subscription calls, sending messages, and reading conversations back for a resync.
//!
//! Every failure is a [`GraphError`] whose [`ErrorClass`] tells the caller what to do next
//! (reconnect the tenant, give up on the conversation, back off, retry). No error text ever
//! carries an access token or the app secret: query strings are cut from URLs and both
//! secrets are scrubbed from whatever Instagram or the network stack said.

mod conversations;
mod error;
mod messaging;
mod oauth;
mod wire;

pub use conversations::{ConversationMessage, ConversationSummary, Participant};
pub use error::{classify, classify_code, ErrorClass, GraphError, DEFAULT_RATE_LIMIT_BACKOFF};
pub use messaging::{
    CardButton, ProductCard, QuickReply, SenderAction, SentMessage, MAX_CARDS, MAX_CARD_BUTTONS,
    MAX_CARD_TEXT_CHARS, MAX_QUICK_REPLIES, MAX_QUICK_REPLY_TITLE_CHARS,
};
pub use oauth::{LongLivedToken, Me, ShortLivedToken, SUBSCRIBED_FIELDS};

use reqwest::header::RETRY_AFTER;
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;
use std::time::Duration;
use url::Url;

pub const DEFAULT_API_BASE: &str = "https://api.instagram.com";
pub const DEFAULT_GRAPH_BASE: &str = "https://graph.instagram.com";
pub const DEFAULT_GRAPH_VERSION: &str = "v23.0";
/// Meta gives up on a webhook after 20 s; a send that takes longer is better retried later.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Clone, Debug)]
pub struct GraphConfig {
    pub app_id: String,
    /// `INSTAGRAM_APP_SECRET`
    pub app_secret: SecretString,
    /// `INSTAGRAM_API_BASE`, normally [`DEFAULT_API_BASE`]
    pub api_base: String,
    /// `INSTAGRAM_GRAPH_BASE`, normally [`DEFAULT_GRAPH_BASE`]
    pub graph_base: String,
    /// `INSTAGRAM_GRAPH_VERSION`, e.g. `v23.0`
    pub graph_version: String,
    pub timeout: Duration,
}

impl GraphConfig {
    /// Production hosts, [`DEFAULT_GRAPH_VERSION`] and [`DEFAULT_TIMEOUT`].
    pub fn new(app_id: impl Into<String>, app_secret: SecretString) -> Self {
        GraphConfig {
            app_id: app_id.into(),
            app_secret,
            api_base: DEFAULT_API_BASE.into(),
            graph_base: DEFAULT_GRAPH_BASE.into(),
            graph_version: DEFAULT_GRAPH_VERSION.into(),
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// Cheap to clone: clones share one connection pool.
#[derive(Clone)]
pub struct GraphClient {
    http: reqwest::Client,
    inner: Arc<Inner>,
}

struct Inner {
    app_id: String,
    app_secret: SecretString,
    api_base: Url,
    graph_base: Url,
    graph_version: String,
}

impl std::fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphClient")
            .field("app_id", &self.inner.app_id)
            .field("api_base", &self.inner.api_base.as_str())
            .field("graph_base", &self.inner.graph_base.as_str())
            .field("graph_version", &self.inner.graph_version)
            .finish_non_exhaustive()
    }
}

impl GraphClient {
    pub fn new(cfg: GraphConfig) -> Result<Self, GraphError> {
        let base = |name: &str, value: &str| {
            Url::parse(value.trim())
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && u.query().is_none())
                .ok_or_else(|| {
                    GraphError::Setup(format!(
                        "{name} is not an http(s) URL without a query: {}",
                        error::redact_url(value)
                    ))
                })
        };
        let api_base = base("INSTAGRAM_API_BASE", &cfg.api_base)?;
        let graph_base = base("INSTAGRAM_GRAPH_BASE", &cfg.graph_base)?;
        let http = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .connect_timeout(cfg.timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|e| GraphError::Setup(e.without_url().to_string()))?;
        Ok(GraphClient {
            http,
            inner: Arc::new(Inner {
                app_id: cfg.app_id,
                app_secret: cfg.app_secret,
                api_base,
                graph_base,
                graph_version: cfg.graph_version.trim().trim_matches('/').to_owned(),
            }),
        })
    }

    /// `{base}/{segments…}`; each segment is percent-encoded, so an id cannot change the path.
    fn url(base: &Url, segments: &[&str]) -> Result<Url, GraphError> {
        if let Some(bad) = segments
            .iter()
            .find(|s| s.is_empty() || **s == "." || **s == "..")
        {
            return Err(GraphError::InvalidRequest(format!(
                "{bad:?} is not a valid id"
            )));
        }
        let mut url = base.clone();
        url.path_segments_mut()
            .map_err(|()| {
                GraphError::Setup(format!(
                    "{} cannot be a base URL",
                    error::redact_url(base.as_str())
                ))
            })?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    fn api_url(&self, segments: &[&str]) -> Result<Url, GraphError> {
        Self::url(&self.inner.api_base, segments)
    }

    /// `{graph_base}/{segments…}` without the API version (token exchange and refresh).
    fn graph_url_unversioned(&self, segments: &[&str]) -> Result<Url, GraphError> {
        Self::url(&self.inner.graph_base, segments)
    }

    /// `{graph_base}/{version}/{segments…}`
    fn graph_url(&self, segments: &[&str]) -> Result<Url, GraphError> {
        let version = self.inner.graph_version.as_str();
        let mut all = Vec::with_capacity(segments.len() + 1);
        if !version.is_empty() {
            all.push(version);
        }
        all.extend_from_slice(segments);
        Self::url(&self.inner.graph_base, &all)
    }

    /// Sends one request and returns the body of a successful answer. `token` is the access
    /// token the request carries, if any: it is scrubbed from every error.
    async fn execute(
        &self,
        request: reqwest::RequestBuilder,
        token: Option<&SecretString>,
    ) -> Result<String, GraphError> {
        // The DM's trace goes along (issue 11: one trace from webhook to send).
        let request = match crate::trace::current() {
            Some(t) => request.header("traceparent", t.child().as_str()),
            None => request,
        };
        let request = request
            .build()
            .map_err(|e| GraphError::Setup(self.scrub(&e.without_url().to_string(), token)))?;
        let endpoint = format!(
            "{} {}",
            request.method(),
            error::redact_url(request.url().as_str())
        );
        let response = match self.http.execute(request).await {
            Ok(response) => response,
            Err(e) => return Err(self.network_error(endpoint, e, token)),
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(error::parse_retry_after);
        let body = match response.text().await {
            Ok(body) => body,
            Err(e) => return Err(self.network_error(endpoint, e, token)),
        };
        tracing::debug!(%endpoint, status, "instagram call");
        let failed = !(200..300).contains(&status) || wire::has_error_object(&body);
        if failed {
            return Err(error::from_response(
                endpoint,
                status,
                retry_after,
                &body,
                |text| self.scrub(text, token),
            ));
        }
        Ok(body)
    }

    fn network_error(
        &self,
        endpoint: String,
        e: reqwest::Error,
        token: Option<&SecretString>,
    ) -> GraphError {
        let timed_out = e.is_timeout();
        let request_sent = !e.is_connect();
        // reqwest's message names the URL, query string (tokens) included: drop it.
        let e = e.without_url();
        let mut detail = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(cause) = source {
            let text = cause.to_string();
            if !detail.contains(&text) {
                detail.push_str(": ");
                detail.push_str(&text);
            }
            source = cause.source();
        }
        GraphError::Network {
            endpoint,
            detail: self.scrub(&detail, token),
            timed_out,
            request_sent,
        }
    }

    /// Removes both secrets and every URL query string from `text`.
    fn scrub(&self, text: &str, token: Option<&SecretString>) -> String {
        let secrets = [
            Some(self.inner.app_secret.expose_secret()),
            token.map(|t| t.expose_secret()),
        ];
        error::scrub(text, secrets.iter().flatten().copied())
    }

    fn app_secret(&self) -> &str {
        self.inner.app_secret.expose_secret()
    }
}
