//! Sending to a customer: text, quick replies, product cards (generic template) and sender
//! actions, all through `POST /{account_id}/messages` with the token as a Bearer header.
//! Limits are checked before any call, so an oversized message never reaches Instagram.

use super::{wire, GraphClient, GraphError};
use crate::instagram::split::MAX_TEXT_BYTES;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

pub const MAX_QUICK_REPLIES: usize = 13;
pub const MAX_QUICK_REPLY_TITLE_CHARS: usize = 20;
pub const MAX_CARDS: usize = 10;
pub const MAX_CARD_BUTTONS: usize = 3;
/// For a card's title and for its subtitle.
pub const MAX_CARD_TEXT_CHARS: usize = 80;

/// Instagram's answer to a send.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SentMessage {
    #[serde(deserialize_with = "wire::id")]
    pub recipient_id: String,
    /// The `mid` the echo webhook will carry.
    #[serde(deserialize_with = "wire::id")]
    pub message_id: String,
}

/// A button under a message; tapping it sends `payload` back as `quick_reply.payload`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuickReply {
    pub title: String,
    pub payload: String,
}

/// One element of a generic template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductCard {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtitle: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<CardButton>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CardButton {
    /// Opens `url` in the browser.
    WebUrl { url: String, title: String },
    /// Sends `payload` back in a `postback` webhook event.
    Postback { title: String, payload: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SenderAction {
    TypingOn,
    TypingOff,
    MarkSeen,
}

impl SenderAction {
    pub fn as_str(self) -> &'static str {
        match self {
            SenderAction::TypingOn => "typing_on",
            SenderAction::TypingOff => "typing_off",
            SenderAction::MarkSeen => "mark_seen",
        }
    }
}

fn invalid(reason: String) -> GraphError {
    GraphError::InvalidRequest(reason)
}

fn check_text(text: &str) -> Result<(), GraphError> {
    if text.trim().is_empty() {
        return Err(invalid("the message text is empty".into()));
    }
    if text.len() > MAX_TEXT_BYTES {
        return Err(invalid(format!(
            "the message text is {} bytes, Instagram takes at most {MAX_TEXT_BYTES}: split it first",
            text.len()
        )));
    }
    Ok(())
}

fn check_quick_replies(replies: &[QuickReply]) -> Result<(), GraphError> {
    if replies.is_empty() || replies.len() > MAX_QUICK_REPLIES {
        return Err(invalid(format!(
            "{} quick replies: Instagram takes 1 to {MAX_QUICK_REPLIES}",
            replies.len()
        )));
    }
    for reply in replies {
        let chars = reply.title.chars().count();
        if reply.title.trim().is_empty() || chars > MAX_QUICK_REPLY_TITLE_CHARS {
            return Err(invalid(format!(
                "quick reply title {:?} has {chars} characters: Instagram takes 1 to {MAX_QUICK_REPLY_TITLE_CHARS}",
                reply.title
            )));
        }
        if reply.payload.is_empty() {
            return Err(invalid(format!(
                "quick reply {:?} has an empty payload",
                reply.title
            )));
        }
    }
    Ok(())
}

fn check_cards(cards: &[ProductCard]) -> Result<(), GraphError> {
    if cards.is_empty() || cards.len() > MAX_CARDS {
        return Err(invalid(format!(
            "{} cards: Instagram takes 1 to {MAX_CARDS}",
            cards.len()
        )));
    }
    for card in cards {
        let title = card.title.chars().count();
        if card.title.trim().is_empty() || title > MAX_CARD_TEXT_CHARS {
            return Err(invalid(format!("card title {:?} has {title} characters: Instagram takes 1 to {MAX_CARD_TEXT_CHARS}", card.title)));
        }
        if let Some(subtitle) = &card.subtitle {
            let n = subtitle.chars().count();
            if n > MAX_CARD_TEXT_CHARS {
                return Err(invalid(format!(
                    "card {:?} has a subtitle of {n} characters, more than {MAX_CARD_TEXT_CHARS}",
                    card.title
                )));
            }
        }
        if card.buttons.len() > MAX_CARD_BUTTONS {
            return Err(invalid(format!(
                "card {:?} has {} buttons, more than {MAX_CARD_BUTTONS}",
                card.title,
                card.buttons.len()
            )));
        }
    }
    Ok(())
}

impl GraphClient {
    /// Sends one text message of at most 1000 UTF-8 bytes; longer text is refused without a
    /// call (split it with [`crate::instagram::split::split_message`]).
    pub async fn send_text(
        &self,
        account_id: &str,
        token: &SecretString,
        recipient_igsid: &str,
        text: &str,
    ) -> Result<SentMessage, GraphError> {
        check_text(text)?;
        self.send_message(account_id, token, recipient_igsid, json!({ "text": text }))
            .await
    }

    /// A person's reply 24 hours to 7 days after the customer's last message: Meta's
    /// `HUMAN_AGENT` message tag (`messaging_type: MESSAGE_TAG`). Never for the AI.
    pub async fn send_human_agent_text(
        &self,
        account_id: &str,
        token: &SecretString,
        recipient_igsid: &str,
        text: &str,
    ) -> Result<SentMessage, GraphError> {
        check_text(text)?;
        let body = json!({
            "recipient": { "id": recipient_igsid },
            "messaging_type": "MESSAGE_TAG",
            "tag": "HUMAN_AGENT",
            "message": { "text": text },
        });
        let (endpoint, answer) = self
            .post_messages(account_id, token, recipient_igsid, &body)
            .await?;
        wire::decode(&endpoint, &answer)
    }

    pub async fn send_quick_replies(
        &self,
        account_id: &str,
        token: &SecretString,
        recipient_igsid: &str,
        text: &str,
        replies: &[QuickReply],
    ) -> Result<SentMessage, GraphError> {
        check_text(text)?;
        check_quick_replies(replies)?;
        let quick_replies: Vec<Value> = replies
            .iter()
            .map(|r| json!({ "content_type": "text", "title": r.title, "payload": r.payload }))
            .collect();
        self.send_message(
            account_id,
            token,
            recipient_igsid,
            json!({ "text": text, "quick_replies": quick_replies }),
        )
        .await
    }

    /// Sends up to ten cards as one generic template (a carousel).
    pub async fn send_product_cards(
        &self,
        account_id: &str,
        token: &SecretString,
        recipient_igsid: &str,
        cards: &[ProductCard],
    ) -> Result<SentMessage, GraphError> {
        check_cards(cards)?;
        let message = json!({
            "attachment": {
                "type": "template",
                "payload": { "template_type": "generic", "elements": cards },
            }
        });
        self.send_message(account_id, token, recipient_igsid, message)
            .await
    }

    pub async fn sender_action(
        &self,
        account_id: &str,
        token: &SecretString,
        recipient_igsid: &str,
        action: SenderAction,
    ) -> Result<(), GraphError> {
        let body =
            json!({ "recipient": { "id": recipient_igsid }, "sender_action": action.as_str() });
        self.post_messages(account_id, token, recipient_igsid, &body)
            .await
            .map(drop)
    }

    async fn send_message(
        &self,
        account_id: &str,
        token: &SecretString,
        recipient_igsid: &str,
        message: Value,
    ) -> Result<SentMessage, GraphError> {
        let body = json!({ "recipient": { "id": recipient_igsid }, "message": message });
        let (endpoint, answer) = self
            .post_messages(account_id, token, recipient_igsid, &body)
            .await?;
        wire::decode(&endpoint, &answer)
    }

    /// Returns the endpoint label and the answer's body.
    async fn post_messages(
        &self,
        account_id: &str,
        token: &SecretString,
        recipient_igsid: &str,
        body: &Value,
    ) -> Result<(String, String), GraphError> {
        if recipient_igsid.trim().is_empty() {
            return Err(invalid("the recipient id is empty".into()));
        }
        let url = self.graph_url(&[account_id, "messages"])?;
        let endpoint = format!("POST {url}");
        let request = self
            .http
            .post(url)
            .bearer_auth(token.expose_secret())
            .json(body);
        let answer = self.execute(request, Some(token)).await?;
        Ok((endpoint, answer))
    }
}
