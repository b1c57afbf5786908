//! Reading conversations back (Conversations API), to resync after missed webhooks. Only the
//! first page is read: a resync wants the most recent conversations and messages.

use super::{wire, GraphClient, GraphError};
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ConversationSummary {
    #[serde(deserialize_with = "wire::id")]
    pub id: String,
    #[serde(deserialize_with = "wire::graph_time")]
    pub updated_time: DateTime<Utc>,
    /// The account itself and the customer.
    #[serde(default, deserialize_with = "participants")]
    pub participants: Vec<Participant>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Participant {
    #[serde(deserialize_with = "wire::id")]
    pub id: String,
    #[serde(default)]
    pub username: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConversationMessage {
    pub mid: String,
    pub created_time: DateTime<Utc>,
    pub from_id: String,
    pub to_id: String,
    /// `None` for a message that is only attachments.
    pub text: Option<String>,
    /// As Instagram sent them (`image_data`, `video_data`, `file_url`…): Meta's media URLs are
    /// kept, never copied.
    pub attachments: Vec<Value>,
}

/// `{"data":[…]}` or a bare array.
#[derive(Deserialize)]
#[serde(untagged)]
enum Listed<T> {
    Wrapped { data: Vec<T> },
    Bare(Vec<T>),
}

impl<T> Listed<T> {
    fn into_vec(self) -> Vec<T> {
        match self {
            Listed::Wrapped { data } | Listed::Bare(data) => data,
        }
    }
}

fn participants<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Participant>, D::Error> {
    Ok(Option::<Listed<Participant>>::deserialize(d)?
        .map(Listed::into_vec)
        .unwrap_or_default())
}

#[derive(Deserialize)]
struct ConversationList {
    #[serde(default)]
    data: Vec<ConversationSummary>,
}

#[derive(Deserialize)]
struct ConversationWithMessages {
    #[serde(default)]
    messages: Option<Listed<RawMessage>>,
}

#[derive(Deserialize)]
struct Party {
    #[serde(default, deserialize_with = "wire::optional_id")]
    id: Option<String>,
}

/// `to` arrives as `{"data":[{…}]}`; a single object is accepted too.
#[derive(Deserialize)]
#[serde(untagged)]
enum Parties {
    Listed(Listed<Party>),
    One(Party),
}

impl Parties {
    fn first_id(self) -> Option<String> {
        match self {
            Parties::Listed(list) => list.into_vec().into_iter().find_map(|p| p.id),
            Parties::One(p) => p.id,
        }
    }
}

#[derive(Deserialize)]
struct RawMessage {
    #[serde(deserialize_with = "wire::id")]
    id: String,
    #[serde(deserialize_with = "wire::graph_time")]
    created_time: DateTime<Utc>,
    #[serde(default)]
    from: Option<Party>,
    #[serde(default)]
    to: Option<Parties>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    attachments: Option<Listed<Value>>,
}

impl RawMessage {
    fn into_message(self) -> Option<ConversationMessage> {
        let from_id = self.from.and_then(|p| p.id);
        let to_id = self.to.and_then(Parties::first_id);
        let (Some(from_id), Some(to_id)) = (from_id, to_id) else {
            tracing::warn!(mid = %self.id, "conversation message without sender or recipient id: skipped");
            return None;
        };
        Some(ConversationMessage {
            mid: self.id,
            created_time: self.created_time,
            from_id,
            to_id,
            text: self.message.filter(|t| !t.is_empty()),
            attachments: self.attachments.map(Listed::into_vec).unwrap_or_default(),
        })
    }
}

impl GraphClient {
    /// The account's most recent Instagram conversations, newest first.
    pub async fn recent_conversations(
        &self,
        account_id: &str,
        token: &SecretString,
        limit: u32,
    ) -> Result<Vec<ConversationSummary>, GraphError> {
        let url = self.graph_url(&[account_id, "conversations"])?;
        let endpoint = format!("GET {url}");
        let limit = limit.max(1).to_string();
        let request = self.http.get(url).query(&[
            ("platform", "instagram"),
            ("fields", "id,updated_time,participants"),
            ("limit", limit.as_str()),
            ("access_token", token.expose_secret()),
        ]);
        let body = self.execute(request, Some(token)).await?;
        Ok(wire::decode::<ConversationList>(&endpoint, &body)?.data)
    }

    /// The account's conversation with one customer (`user_id` = the customer's IGSID), if
    /// there is one.
    pub async fn conversation_with(
        &self,
        account_id: &str,
        token: &SecretString,
        customer_igsid: &str,
    ) -> Result<Option<ConversationSummary>, GraphError> {
        let url = self.graph_url(&[account_id, "conversations"])?;
        let endpoint = format!("GET {url}");
        let request = self.http.get(url).query(&[
            ("platform", "instagram"),
            ("user_id", customer_igsid),
            ("fields", "id,updated_time,participants"),
            ("access_token", token.expose_secret()),
        ]);
        let body = self.execute(request, Some(token)).await?;
        Ok(wire::decode::<ConversationList>(&endpoint, &body)?
            .data
            .into_iter()
            .next())
    }

    /// The conversation's most recent messages, newest first, as Instagram orders them.
    pub async fn conversation_messages(
        &self,
        conversation_id: &str,
        token: &SecretString,
        limit: u32,
    ) -> Result<Vec<ConversationMessage>, GraphError> {
        let url = self.graph_url(&[conversation_id])?;
        let endpoint = format!("GET {url}");
        let fields = format!(
            "messages.limit({}){{id,created_time,from,to,message,attachments}}",
            limit.max(1)
        );
        let request = self.http.get(url).query(&[
            ("fields", fields.as_str()),
            ("access_token", token.expose_secret()),
        ]);
        let body = self.execute(request, Some(token)).await?;
        let conversation = wire::decode::<ConversationWithMessages>(&endpoint, &body)?;
        let messages = conversation
            .messages
            .map(Listed::into_vec)
            .unwrap_or_default();
        Ok(messages
            .into_iter()
            .filter_map(RawMessage::into_message)
            .collect())
    }
}
