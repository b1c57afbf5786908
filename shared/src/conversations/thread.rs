//! One conversation's thread: every message (the customer's, the AI's, the shop's from here
//! or from the Instagram app, with attachments, story replies and reactions as the webhook
//! stored them), our sends that are still on their way or were refused, and the events
//! around them — notes, handoffs, mode changes, orders placed, the AI's tool actions,
//! closing and reopening. Newest page first, each page oldest first.

use super::{cursor, detail, Author, ConversationDetail, ConversationError};
use crate::money::Jod;
use crate::orders::OrderStatus;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const DEFAULT_LIMIT: u32 = 100;
pub const MAX_LIMIT: u32 = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Message,
    /// An internal note of the shop: never sent to the customer.
    Note,
    /// The AI handed the conversation to a person (`text` says why).
    Handoff,
    /// The AI was paused or resumed (`text` says by whom).
    ModeChange,
    Order,
    /// An action the AI took with a tool (`tool`).
    Tool,
    Closed,
    Reopened,
}

impl EventKind {
    fn parse(s: &str) -> EventKind {
        serde_json::from_value(serde_json::Value::String(s.to_owned()))
            .unwrap_or(EventKind::Message)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Attachment {
    /// image, video, audio, file, share, story_mention, reel, ig_reel, … as Instagram names it.
    #[serde(rename = "type")]
    pub kind: String,
    /// Meta's URL (never a copy); it may expire.
    #[serde(default)]
    #[schema(required = true)]
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ReplyTo {
    /// The story the customer answered.
    #[schema(required = true)]
    pub story_url: Option<String>,
    /// The message the customer answered.
    #[schema(required = true)]
    pub mid: Option<String>,
    /// That message's text, when we have it.
    #[schema(required = true)]
    pub text: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Sent,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Delivery {
    pub status: DeliveryStatus,
    /// What Instagram said, for a send that failed or is waiting for a retry.
    #[schema(required = true)]
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct OrderRef {
    pub id: Uuid,
    /// The order number the customer was given.
    pub number: String,
    pub status: OrderStatus,
    pub total_jod: Jod,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ToolRef {
    pub name: String,
    pub summary: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ThreadEvent {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub kind: EventKind,
    pub author: Author,
    #[schema(required = true)]
    pub text: Option<String>,
    pub attachments: Vec<Attachment>,
    #[schema(required = true)]
    pub reply_to: Option<ReplyTo>,
    /// The customer's reaction to this message (an emoji).
    #[schema(required = true)]
    pub reaction: Option<String>,
    /// For the shop's own sends (AI and dashboard replies).
    #[schema(required = true)]
    pub delivery: Option<Delivery>,
    #[schema(required = true)]
    pub order: Option<OrderRef>,
    #[schema(required = true)]
    pub tool: Option<ToolRef>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ThreadQuery {
    /// `older_cursor` of the previous answer: the events before those.
    pub before: Option<String>,
    /// 1..=200, default 100.
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Thread {
    pub conversation: ConversationDetail,
    /// Oldest first: the latest `limit` events (before `before`).
    pub events: Vec<ThreadEvent>,
    /// Pass as `before` for older events; null when there are none.
    #[schema(required = true)]
    pub older_cursor: Option<String>,
}

fn encode(at: DateTime<Utc>, id: Uuid) -> String {
    cursor::encode("t1", &[cursor::time(at), id.to_string()])
}

fn decode(raw: &str) -> Result<(DateTime<Utc>, Uuid), ConversationError> {
    cursor::fields(raw, "t1", 2)
        .and_then(|f| Some((cursor::parse_time(&f[0])?, cursor::parse_id(&f[1])?)))
        .ok_or_else(|| {
            ConversationError::BadCursor(
                "This cursor is not one the conversation gave out; open the conversation again."
                    .into(),
            )
        })
}

/// Every event of conversation `$1`, in one shape. Our sends are keyed by their
/// `outbound_messages` row, so an event keeps its id and place from "pending" to "sent".
const EVENTS: &str = "
    SELECT coalesce(o.id, m.id) AS id, coalesce(o.created_at, m.sent_at) AS at, 'message' AS kind, m.author,
           m.text, m.attachments, m.reply_to, m.mid,
           o.status AS delivery_status, o.last_error AS delivery_error, NULL::jsonb AS order_ref, NULL::jsonb AS tool
      FROM messages m
      LEFT JOIN outbound_messages o ON o.mid = m.mid AND m.author IN ('ai', 'merchant')
     WHERE m.conversation_id = $1
    UNION ALL
    SELECT o.id, o.created_at, 'message', coalesce(o.payload->>'author', 'ai'),
           o.payload->>'text', '[]'::jsonb, NULL, o.mid, o.status, o.last_error, NULL, NULL
      FROM outbound_messages o
     WHERE o.conversation_id = $1 AND o.kind IN ('text', 'quick_replies', 'cards')
       AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.mid = o.mid)
    UNION ALL
    SELECT e.id, e.at, e.kind, e.author, e.text, '[]'::jsonb, NULL, NULL, NULL, NULL, NULL, NULL
      FROM conversation_events e
     WHERE e.conversation_id = $1
    UNION ALL
    SELECT o.id, o.created_at, 'order', CASE o.source WHEN 'dashboard' THEN 'merchant' ELSE 'ai' END,
           NULL, '[]'::jsonb, NULL, NULL, NULL, NULL,
           jsonb_build_object('id', o.id, 'number', o.order_number::text, 'status', o.status, 'total_jod', o.total_jod::text),
           NULL
      FROM orders o
     WHERE o.conversation_id = $1
    UNION ALL
    SELECT md5(t.id::text || ':' || x.n)::uuid, t.started_at + x.n * interval '1 microsecond', 'tool', 'ai',
           NULL, '[]'::jsonb, NULL, NULL, NULL, NULL, NULL,
           jsonb_build_object('name', x.call->>'name', 'summary', coalesce(x.call->>'summary', ''))
      FROM agent_turns t, jsonb_array_elements(t.tool_calls) WITH ORDINALITY AS x(call, n)
     WHERE t.conversation_id = $1";

/// The event's columns, with the reaction and the replied-to text looked up.
const SELECT: &str = "id, at, kind, author, text, attachments, reply_to, delivery_status, delivery_error, order_ref, tool,
    (SELECT CASE WHEN r.payload->'kind'->'Reaction'->>'action' = 'unreact' THEN NULL
                 ELSE coalesce(r.payload->'kind'->'Reaction'->>'emoji', r.payload->'kind'->'Reaction'->>'reaction') END
       FROM inbound_events r
      WHERE ev.mid IS NOT NULL AND r.conversation_id = $1 AND r.kind = 'reaction'
        AND r.payload->'kind'->'Reaction'->>'mid' = ev.mid
      ORDER BY (r.payload->>'timestamp_ms')::bigint DESC LIMIT 1),
    (SELECT q.text FROM messages q WHERE ev.reply_to->>'mid' IS NOT NULL AND q.mid = ev.reply_to->>'mid')";

fn event_from_row(r: &tokio_postgres::Row) -> ThreadEvent {
    let attachments: serde_json::Value = r.get(5);
    let reply_to: Option<serde_json::Value> = r.get(6);
    let delivery_status: Option<&str> = r.get(7);
    let order: Option<serde_json::Value> = r.get(9);
    let tool: Option<serde_json::Value> = r.get(10);
    let reply_to = reply_to.and_then(|v| {
        let story_url = v["story"]["url"].as_str().map(str::to_owned);
        let mid = v["mid"].as_str().map(str::to_owned);
        (story_url.is_some() || mid.is_some()).then(|| ReplyTo {
            story_url,
            mid,
            text: r.get(12),
        })
    });
    ThreadEvent {
        id: r.get(0),
        at: r.get(1),
        kind: EventKind::parse(r.get(2)),
        author: Author::parse(r.get(3)),
        text: r.get(4),
        attachments: serde_json::from_value(attachments).unwrap_or_default(),
        reply_to,
        reaction: r.get(11),
        delivery: delivery_status.map(|s| Delivery {
            status: match s {
                "sent" => DeliveryStatus::Sent,
                "failed" => DeliveryStatus::Failed,
                _ => DeliveryStatus::Pending,
            },
            error: r.get(8),
        }),
        order: order.and_then(|o| {
            Some(OrderRef {
                id: Uuid::parse_str(o["id"].as_str()?).ok()?,
                number: o["number"].as_str()?.to_owned(),
                status: OrderStatus::parse(o["status"].as_str()?)?,
                total_jod: Jod::parse(o["total_jod"].as_str()?).ok()?,
            })
        }),
        tool: tool.and_then(|t| {
            Some(ToolRef {
                name: t["name"].as_str()?.to_owned(),
                summary: t["summary"].as_str()?.to_owned(),
            })
        }),
    }
}

pub async fn thread(
    tx: &impl GenericClient,
    id: Uuid,
    q: &ThreadQuery,
) -> Result<Thread, ConversationError> {
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ConversationError::Invalid {
            field: "limit",
            message: format!("must be 1 to {MAX_LIMIT}"),
        });
    }
    let before = q.before.as_deref().map(decode).transpose()?;
    let conversation = detail(tx, id, false).await?;
    let rows = tx
        .query(
            &format!(
                "WITH ev AS ({EVENTS}) SELECT {SELECT} FROM ev
                  WHERE ($2::timestamptz IS NULL OR (ev.at, ev.id) < ($2, $3))
                  ORDER BY ev.at DESC, ev.id DESC LIMIT $4"
            ),
            &[
                &id,
                &before.map(|b| b.0),
                &before.map(|b| b.1),
                &(i64::from(limit) + 1),
            ],
        )
        .await?;
    let more = rows.len() > limit as usize;
    let mut events: Vec<ThreadEvent> = rows
        .iter()
        .take(limit as usize)
        .map(event_from_row)
        .collect();
    let older_cursor = if more {
        events.last().map(|e| encode(e.at, e.id))
    } else {
        None
    };
    events.reverse();
    Ok(Thread {
        conversation,
        events,
        older_cursor,
    })
}

/// One event of the conversation by id (what a reply or a note answers with).
pub async fn event(
    tx: &impl GenericClient,
    conversation: Uuid,
    id: Uuid,
) -> Result<ThreadEvent, ConversationError> {
    let row = tx
        .query_opt(
            &format!("WITH ev AS ({EVENTS}) SELECT {SELECT} FROM ev WHERE ev.id = $2 LIMIT 1"),
            &[&conversation, &id],
        )
        .await?
        .ok_or(ConversationError::NotFound)?;
    Ok(event_from_row(&row))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_cursors_round_trip() {
        let at = DateTime::from_timestamp_micros(1_764_600_000_000_001).unwrap();
        let id = Uuid::new_v4();
        assert_eq!(decode(&encode(at, id)).unwrap(), (at, id));
        assert!(decode("dDF8eHw").is_err());
    }
}
