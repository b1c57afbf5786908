//! Sending to Azure Service Bus over its REST API (there is no maintained official Rust
//! crate; see docs/decisions.md). Receiving is the Functions host's job.
//!
//! `POST https://{namespace}/{queue}/messages` with a bearer token for
//! `https://servicebus.azure.net/.default` (managed identity) or a SAS token computed from a
//! connection string, and `BrokerProperties: {"MessageId": …}` for duplicate detection.

use super::{Queue, QueueError, QueueMessage};
use async_trait::async_trait;
use azure_core::credentials::TokenCredential;
use base64::Engine;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const SCOPE: &str = "https://servicebus.azure.net/.default";

pub enum ServiceBusAuth {
    ManagedIdentity(Arc<dyn TokenCredential>),
    SharedAccessKey { key_name: String, key: SecretString },
}

pub struct ServiceBusSender {
    http: reqwest::Client,
    /// e.g. `myns.servicebus.windows.net`
    namespace: String,
    queue: String,
    auth: ServiceBusAuth,
}

impl std::fmt::Debug for ServiceBusSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceBusSender")
            .field("namespace", &self.namespace)
            .field("queue", &self.queue)
            .finish()
    }
}

impl ServiceBusSender {
    pub fn new(
        namespace: impl Into<String>,
        queue: impl Into<String>,
        auth: ServiceBusAuth,
    ) -> Result<Self, QueueError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .build()
            .map_err(|e| QueueError::ServiceBus(format!("HTTP client: {e}")))?;
        let namespace = namespace
            .into()
            .trim_start_matches("sb://")
            .trim_start_matches("https://")
            .trim_end_matches('/')
            .to_owned();
        Ok(ServiceBusSender {
            http,
            namespace,
            queue: queue.into(),
            auth,
        })
    }

    /// From `Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=…;SharedAccessKey=…`.
    pub fn from_connection_string(
        conn: &SecretString,
        queue: impl Into<String>,
    ) -> Result<Self, QueueError> {
        let mut endpoint = None;
        let mut key_name = None;
        let mut key = None;
        for part in conn
            .expose_secret()
            .split(';')
            .filter(|p| !p.trim().is_empty())
        {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| QueueError::ServiceBus("SERVICEBUS_CONNECTION_STRING is malformed: expected Key=Value pairs separated by ';'".into()))?;
            match k.trim() {
                "Endpoint" => endpoint = Some(v.trim().to_owned()),
                "SharedAccessKeyName" => key_name = Some(v.trim().to_owned()),
                "SharedAccessKey" => key = Some(SecretString::from(v.trim().to_owned())),
                _ => {}
            }
        }
        match (endpoint, key_name, key) {
            (Some(endpoint), Some(key_name), Some(key)) => {
                Self::new(endpoint, queue, ServiceBusAuth::SharedAccessKey { key_name, key })
            }
            _ => Err(QueueError::ServiceBus(
                "SERVICEBUS_CONNECTION_STRING needs Endpoint, SharedAccessKeyName and SharedAccessKey".into(),
            )),
        }
    }

    fn messages_url(&self) -> String {
        format!("https://{}/{}/messages", self.namespace, self.queue)
    }

    async fn authorization(&self) -> Result<String, QueueError> {
        match &self.auth {
            ServiceBusAuth::ManagedIdentity(cred) => {
                let token = cred.get_token(&[SCOPE], None).await.map_err(|e| {
                    QueueError::ServiceBus(format!("could not get a managed-identity token: {e}"))
                })?;
                Ok(format!("Bearer {}", token.token.secret()))
            }
            ServiceBusAuth::SharedAccessKey { key_name, key } => {
                let resource = format!("https://{}/{}", self.namespace, self.queue);
                let expiry = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_secs()
                    + 3600;
                Ok(sas_token(&resource, key_name, key, expiry))
            }
        }
    }
}

/// `SharedAccessSignature sr=…&sig=…&se=…&skn=…`, signature = HMAC-SHA256(key, url-encoded
/// resource + "\n" + expiry) in base64, as Service Bus documents it.
pub(crate) fn sas_token(resource: &str, key_name: &str, key: &SecretString, expiry: u64) -> String {
    let encoded_resource =
        url::form_urlencoded::byte_serialize(resource.as_bytes()).collect::<String>();
    let to_sign = format!("{encoded_resource}\n{expiry}");
    let mut mac = Hmac::<Sha256>::new_from_slice(key.expose_secret().as_bytes())
        .expect("HMAC takes any key length");
    mac.update(to_sign.as_bytes());
    let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let sig = url::form_urlencoded::byte_serialize(sig.as_bytes()).collect::<String>();
    let skn = url::form_urlencoded::byte_serialize(key_name.as_bytes()).collect::<String>();
    format!("SharedAccessSignature sr={encoded_resource}&sig={sig}&se={expiry}&skn={skn}")
}

#[async_trait]
impl Queue for ServiceBusSender {
    async fn send(&self, message: &QueueMessage) -> Result<(), QueueError> {
        let broker = serde_json::json!({ "MessageId": message.message_id }).to_string();
        let response = self
            .http
            .post(self.messages_url())
            .header("Authorization", self.authorization().await?)
            .header("Content-Type", "application/json")
            .header("BrokerProperties", broker)
            .body(message.body.to_string())
            .send()
            .await
            .map_err(|e| {
                QueueError::ServiceBus(format!("send to queue {} failed: {e}", self.queue))
            })?;
        if response.status().is_success() {
            Ok(())
        } else {
            let status = response.status();
            let text = response.text().await.unwrap_or_default();
            Err(QueueError::ServiceBus(format!(
                "send to queue {} answered {status}: {}",
                self.queue,
                text.chars().take(300).collect::<String>()
            )))
        }
    }

    /// Ready when we can authenticate; sending itself is checked by every webhook.
    async fn check_ready(&self) -> Result<(), QueueError> {
        self.authorization().await.map(|_| ())
    }

    fn backend(&self) -> &'static str {
        "servicebus"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sas_token_has_the_documented_shape() {
        let key = SecretString::from("c2VjcmV0a2V5".to_owned());
        let token = sas_token(
            "https://ns.servicebus.windows.net/dm-inbound",
            "send",
            &key,
            1_700_000_000,
        );
        assert!(token.starts_with(
            "SharedAccessSignature sr=https%3A%2F%2Fns.servicebus.windows.net%2Fdm-inbound&sig="
        ));
        assert!(token.ends_with("&se=1700000000&skn=send"));
        // Independently computed signature for the same inputs.
        let mut mac = Hmac::<Sha256>::new_from_slice(b"c2VjcmV0a2V5").unwrap();
        mac.update(b"https%3A%2F%2Fns.servicebus.windows.net%2Fdm-inbound\n1700000000");
        let expected =
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        let expected =
            url::form_urlencoded::byte_serialize(expected.as_bytes()).collect::<String>();
        assert!(token.contains(&format!("&sig={expected}&")), "{token}");
    }

    #[test]
    fn connection_string_is_parsed_and_never_printed() {
        let conn = SecretString::from("Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=TOPSECRET=".to_owned());
        let sender = ServiceBusSender::from_connection_string(&conn, "dm-inbound").unwrap();
        assert_eq!(
            sender.messages_url(),
            "https://ns.servicebus.windows.net/dm-inbound/messages"
        );
        assert!(!format!("{sender:?}").contains("TOPSECRET"));
        let bad = SecretString::from("Endpoint=sb://x/".to_owned());
        assert!(ServiceBusSender::from_connection_string(&bad, "q")
            .unwrap_err()
            .to_string()
            .contains("SharedAccessKey"));
    }
}
