//! The merchant's inbox: the Instagram conversations of a shop (never the test chat's), who
//! is waiting for a person, one conversation's thread, taking over from the AI and handing
//! back, answering as a person within Instagram's windows, internal notes, closing.
//!
//! Every function here runs inside the caller's tenant transaction (row-level security
//! applies), except [`human_reply::reply`], which sends through the outbound path.

mod cursor;
pub mod events;
pub mod human_reply;
pub mod list;
pub mod notes;
pub mod takeover;
pub mod thread;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Longest reply or note, in characters (after trimming).
pub const MAX_TEXT_CHARS: usize = 4000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// The AI answers.
    Ai,
    /// A person answers; the AI is paused.
    Human,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Ai => "ai",
            Mode::Human => "human",
        }
    }
    fn parse(s: &str) -> Mode {
        if s == "human" {
            Mode::Human
        } else {
            Mode::Ai
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Open,
    /// Closed by the merchant; a new customer message opens it again.
    Closed,
}

/// Who wrote a message or caused an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Author {
    Customer,
    Ai,
    /// A person of the shop, from this dashboard.
    Merchant,
    /// A person of the shop, from the Instagram app.
    MerchantApp,
    System,
}

impl Author {
    pub fn as_str(self) -> &'static str {
        match self {
            Author::Customer => "customer",
            Author::Ai => "ai",
            Author::Merchant => "merchant",
            Author::MerchantApp => "merchant_app",
            Author::System => "system",
        }
    }
    pub fn parse(s: &str) -> Author {
        match s {
            "customer" => Author::Customer,
            "ai" => Author::Ai,
            "merchant" => Author::Merchant,
            "merchant_app" => Author::MerchantApp,
            _ => Author::System,
        }
    }
}

/// What Instagram lets the shop send now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WindowState {
    /// Less than 24 hours since the customer's last message: any reply.
    Open,
    /// 24 hours to 7 days: only a person's reply, sent with the HUMAN_AGENT tag.
    HumanAgentOnly,
    /// More than 7 days, or the customer never wrote: nothing can be sent.
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Window {
    pub state: WindowState,
    /// When the current state ends (null when closed).
    #[schema(required = true)]
    pub closes_at: Option<DateTime<Utc>>,
}

/// Meta's standard messaging window.
pub const STANDARD_WINDOW_HOURS: i64 = 24;
/// The HUMAN_AGENT tag's window.
pub const HUMAN_AGENT_WINDOW_DAYS: i64 = 7;

impl Window {
    pub fn at(last_customer_message_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Window {
        let Some(last) = last_customer_message_at else {
            return Window {
                state: WindowState::Closed,
                closes_at: None,
            };
        };
        let standard = last + Duration::hours(STANDARD_WINDOW_HOURS);
        let human = last + Duration::days(HUMAN_AGENT_WINDOW_DAYS);
        if now < standard {
            Window {
                state: WindowState::Open,
                closes_at: Some(standard),
            }
        } else if now < human {
            Window {
                state: WindowState::HumanAgentOnly,
                closes_at: Some(human),
            }
        } else {
            Window {
                state: WindowState::Closed,
                closes_at: None,
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Customer {
    /// The customer's Instagram-scoped id.
    pub ig_id: String,
    #[schema(required = true)]
    pub username: Option<String>,
    #[schema(required = true)]
    pub name: Option<String>,
}

/// The customer with the delivery details given in the conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CustomerDetails {
    pub ig_id: String,
    #[schema(required = true)]
    pub username: Option<String>,
    #[schema(required = true)]
    pub name: Option<String>,
    #[schema(required = true)]
    pub phone: Option<String>,
    #[schema(required = true)]
    pub city: Option<String>,
    #[schema(required = true)]
    pub address: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LastMessage {
    pub author: Author,
    /// None for an attachment without text, or text removed after 30 days.
    #[schema(required = true)]
    pub text: Option<String>,
}

/// One conversation as the inbox lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ConversationSummary {
    pub id: Uuid,
    pub customer: Customer,
    pub mode: Mode,
    /// The AI handed over and no person has answered yet.
    pub needs_human: bool,
    /// Why the AI is paused (set while the mode is human), in English.
    #[schema(required = true)]
    pub handoff_reason: Option<String>,
    /// The same reason as a message key (`reason.<key>` in the web app's alerts texts) when
    /// the AI handed over, so the merchant reads it in their language.
    #[schema(required = true)]
    pub handoff_reason_key: Option<String>,
    /// The key's parameters (e.g. `cause` for a model failure).
    #[schema(value_type = Object)]
    pub handoff_reason_params: serde_json::Value,
    pub state: State,
    pub unread_count: i32,
    #[schema(required = true)]
    pub last_message_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub last_customer_message_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub last_message: Option<LastMessage>,
    pub window: Window,
}

/// One conversation as its thread shows it: the summary with the customer's details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ConversationDetail {
    pub id: Uuid,
    pub customer: CustomerDetails,
    pub mode: Mode,
    pub needs_human: bool,
    #[schema(required = true)]
    pub handoff_reason: Option<String>,
    #[schema(required = true)]
    pub handoff_reason_key: Option<String>,
    #[schema(value_type = Object)]
    pub handoff_reason_params: serde_json::Value,
    pub state: State,
    pub unread_count: i32,
    #[schema(required = true)]
    pub last_message_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub last_customer_message_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub last_message: Option<LastMessage>,
    pub window: Window,
}

#[derive(Debug, thiserror::Error)]
pub enum ConversationError {
    #[error("not found")]
    NotFound,
    /// A well-formed but refused value: the field and what is wrong, in the merchant's words.
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// Instagram does not let the shop answer any more.
    #[error("{0}")]
    WindowClosed(String),
    /// A cursor this API did not give out.
    #[error("{0}")]
    BadCursor(String),
    /// The shop has no working Instagram connection.
    #[error("{0}")]
    NotConnected(String),
    #[error(transparent)]
    Database(#[from] crate::db::DbError),
}

impl From<tokio_postgres::Error> for ConversationError {
    fn from(e: tokio_postgres::Error) -> Self {
        ConversationError::Database(e.into())
    }
}

/// A reply's or note's text: trimmed, 1..=[`MAX_TEXT_CHARS`] characters, no NUL.
pub fn check_text(field: &'static str, raw: &str) -> Result<String, ConversationError> {
    let invalid = |message: String| ConversationError::Invalid { field, message };
    if raw.contains('\0') {
        return Err(invalid("must not contain NUL characters".into()));
    }
    let text = raw.trim();
    if text.is_empty() {
        return Err(invalid("write something first".into()));
    }
    let n = text.chars().count();
    if n > MAX_TEXT_CHARS {
        return Err(invalid(format!(
            "is {n} characters long; at most {MAX_TEXT_CHARS} fit"
        )));
    }
    Ok(text.to_owned())
}

/// The columns [`from_row`] reads, for a query over `conversations c`.
pub(crate) const COLUMNS: &str = "c.id, c.customer_ig_id, c.customer_username, c.customer_name, c.mode, c.needs_human, c.mode_reason,
    (c.closed_at IS NOT NULL AND (c.last_customer_message_at IS NULL OR c.last_customer_message_at <= c.closed_at)),
    c.unread_count, c.last_message_at, c.last_customer_message_at,
    (SELECT m.author FROM messages m WHERE m.conversation_id = c.id ORDER BY m.sent_at DESC, m.id DESC LIMIT 1),
    (SELECT m.text FROM messages m WHERE m.conversation_id = c.id ORDER BY m.sent_at DESC, m.id DESC LIMIT 1),
    c.customer_phone, c.customer_city, c.customer_address,
    coalesce(c.last_message_at, c.created_at), c.mode_reason_key, c.mode_reason_params";

/// How many columns [`COLUMNS`] has: a query's own columns after it start at this index.
pub(crate) const COLUMN_COUNT: usize = 19;

/// The sort key of a conversation in the inbox (column 16 of [`COLUMNS`]).
pub(crate) const ACTIVITY: &str = "coalesce(c.last_message_at, c.created_at)";

pub(crate) fn detail_from_row(r: &tokio_postgres::Row, now: DateTime<Utc>) -> ConversationDetail {
    let mode = Mode::parse(r.get(4));
    let last_customer: Option<DateTime<Utc>> = r.get(10);
    let last_author: Option<&str> = r.get(11);
    ConversationDetail {
        id: r.get(0),
        customer: CustomerDetails {
            ig_id: r.get(1),
            username: r.get(2),
            name: r.get(3),
            phone: r.get(13),
            city: r.get(14),
            address: r.get(15),
        },
        mode,
        needs_human: r.get(5),
        handoff_reason: if mode == Mode::Human { r.get(6) } else { None },
        handoff_reason_key: if mode == Mode::Human { r.get(17) } else { None },
        handoff_reason_params: if mode == Mode::Human {
            r.get(18)
        } else {
            serde_json::Value::Object(Default::default())
        },
        state: if r.get(7) { State::Closed } else { State::Open },
        unread_count: r.get(8),
        last_message_at: r.get(9),
        last_customer_message_at: last_customer,
        last_message: last_author.map(|a| LastMessage {
            author: Author::parse(a),
            text: r.get(12),
        }),
        window: Window::at(last_customer, now),
    }
}

impl From<ConversationDetail> for ConversationSummary {
    fn from(d: ConversationDetail) -> Self {
        ConversationSummary {
            id: d.id,
            customer: Customer {
                ig_id: d.customer.ig_id,
                username: d.customer.username,
                name: d.customer.name,
            },
            mode: d.mode,
            needs_human: d.needs_human,
            handoff_reason: d.handoff_reason,
            handoff_reason_key: d.handoff_reason_key,
            handoff_reason_params: d.handoff_reason_params,
            state: d.state,
            unread_count: d.unread_count,
            last_message_at: d.last_message_at,
            last_customer_message_at: d.last_customer_message_at,
            last_message: d.last_message,
            window: d.window,
        }
    }
}

/// One Instagram conversation of the shop (the test chat's are not found), locked for the
/// rest of the transaction when `lock` is set.
pub async fn detail(
    tx: &impl deadpool_postgres::GenericClient,
    id: Uuid,
    lock: bool,
) -> Result<ConversationDetail, ConversationError> {
    if lock {
        tx.query_opt(
            "SELECT 1 FROM conversations WHERE id = $1 AND kind = 'instagram' FOR UPDATE",
            &[&id],
        )
        .await?
        .ok_or(ConversationError::NotFound)?;
    }
    let row = tx
        .query_opt(
            &format!("SELECT {COLUMNS}, now() FROM conversations c WHERE c.id = $1 AND c.kind = 'instagram'"),
            &[&id],
        )
        .await?
        .ok_or(ConversationError::NotFound)?;
    Ok(detail_from_row(&row, row.get(COLUMN_COUNT)))
}

pub async fn summary(
    tx: &impl deadpool_postgres::GenericClient,
    id: Uuid,
) -> Result<ConversationSummary, ConversationError> {
    detail(tx, id, false).await.map(Into::into)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_follows_the_customers_last_message() {
        let now = Utc::now();
        let w = Window::at(Some(now - Duration::hours(2)), now);
        assert_eq!(w.state, WindowState::Open);
        assert_eq!(w.closes_at, Some(now + Duration::hours(22)));
        let w = Window::at(Some(now - Duration::days(3)), now);
        assert_eq!(w.state, WindowState::HumanAgentOnly);
        assert_eq!(w.closes_at, Some(now + Duration::days(4)));
        assert_eq!(
            Window::at(Some(now - Duration::days(8)), now).state,
            WindowState::Closed
        );
        assert_eq!(Window::at(None, now).closes_at, None);
    }

    #[test]
    fn texts_are_trimmed_and_checked() {
        assert_eq!(check_text("text", "  hi ").unwrap(), "hi");
        assert!(
            matches!(check_text("text", "a\0b"), Err(ConversationError::Invalid { field: "text", message }) if message.contains("NUL"))
        );
        assert!(check_text("text", "   ").is_err());
        assert!(check_text("text", &"ب".repeat(4000)).is_ok());
        assert!(check_text("text", &"ب".repeat(4001)).is_err());
    }
}
