//! The inbox list: waiting-for-a-person first, then the latest activity, with filters and a
//! cursor that keeps its place while new messages arrive (keyset on the sort key, not an
//! offset).

use super::{
    cursor, detail_from_row, ConversationError, ConversationSummary, Mode, State, ACTIVITY,
    COLUMNS, COLUMN_COUNT,
};
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const DEFAULT_LIMIT: u32 = 30;
pub const MAX_LIMIT: u32 = 100;

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConversationFilter {
    /// Only conversations waiting for a person (true) or not (false).
    pub needs_human: Option<bool>,
    #[param(inline)]
    pub mode: Option<Mode>,
    /// Only conversations with unread customer messages (true) or without (false).
    pub unread: Option<bool>,
    /// Default: both.
    #[param(inline)]
    pub state: Option<State>,
    /// Customer name, username or Instagram id, or words of a message.
    pub search: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1..=100, default 30.
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConversationPage {
    pub conversations: Vec<ConversationSummary>,
    /// Pass as `cursor` for the next page; null on the last page.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// Where a page ends: the sort key of its last conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Position {
    needs_human: bool,
    activity: DateTime<Utc>,
    id: Uuid,
}

fn encode(p: Position) -> String {
    cursor::encode(
        "c1",
        &[
            u8::from(p.needs_human).to_string(),
            cursor::time(p.activity),
            p.id.to_string(),
        ],
    )
}

fn decode(raw: &str) -> Result<Position, ConversationError> {
    let position = cursor::fields(raw, "c1", 3).and_then(|f| {
        Some(Position {
            needs_human: match f[0].as_str() {
                "1" => true,
                "0" => false,
                _ => return None,
            },
            activity: cursor::parse_time(&f[1])?,
            id: cursor::parse_id(&f[2])?,
        })
    });
    position.ok_or_else(|| {
        ConversationError::BadCursor(
            "This cursor is not one the conversation list gave out; load the list again.".into(),
        )
    })
}

/// `%text%` for ILIKE, with the pattern characters taken literally.
fn like_pattern(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

pub async fn list(
    tx: &impl GenericClient,
    f: &ConversationFilter,
) -> Result<ConversationPage, ConversationError> {
    let limit = f.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ConversationError::Invalid {
            field: "limit",
            message: format!("must be 1 to {MAX_LIMIT}"),
        });
    }
    let search = f.search.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if search.is_some_and(|s| s.contains('\0')) {
        return Err(ConversationError::Invalid {
            field: "search",
            message: "must not contain NUL characters".into(),
        });
    }
    let search: Option<String> = search.map(|s| s.chars().take(200).collect());
    let pattern = search.as_deref().map(like_pattern);
    let after = f.cursor.as_deref().map(decode).transpose()?;
    let (after_nh, after_at, after_id) = match after {
        Some(p) => (Some(p.needs_human), Some(p.activity), Some(p.id)),
        None => (None, None, None),
    };
    let closed = "(c.closed_at IS NOT NULL AND (c.last_customer_message_at IS NULL OR c.last_customer_message_at <= c.closed_at))";
    let sql = format!(
        "SELECT {COLUMNS}, now() FROM conversations c
          WHERE c.kind = 'instagram'
            AND ($1::bool IS NULL OR c.needs_human = $1)
            AND ($2::text IS NULL OR c.mode = $2)
            AND ($3::bool IS NULL OR (c.unread_count > 0) = $3)
            AND ($4::bool IS NULL OR {closed} = $4)
            AND ($5::text IS NULL OR c.customer_name ILIKE $5 OR c.customer_username ILIKE $5
                 OR c.customer_ig_id = $6
                 OR EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.text ILIKE $5))
            AND ($7::bool IS NULL OR (c.needs_human, {ACTIVITY}, c.id) < ($7, $8, $9))
          ORDER BY c.needs_human DESC, {ACTIVITY} DESC, c.id DESC
          LIMIT $10"
    );
    let rows = tx
        .query(
            &sql,
            &[
                &f.needs_human,
                &f.mode.map(Mode::as_str),
                &f.unread,
                &f.state.map(|s| s == State::Closed),
                &pattern,
                &search,
                &after_nh,
                &after_at,
                &after_id,
                &(i64::from(limit) + 1),
            ],
        )
        .await?;
    let more = rows.len() > limit as usize;
    let rows = &rows[..rows.len().min(limit as usize)];
    let next_cursor = if more {
        rows.last().map(|r| {
            encode(Position {
                needs_human: r.get(5),
                activity: r.get(16),
                id: r.get(0),
            })
        })
    } else {
        None
    };
    let conversations = rows
        .iter()
        .map(|r| detail_from_row(r, r.get(COLUMN_COUNT)).into())
        .collect();
    Ok(ConversationPage {
        conversations,
        next_cursor,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_strangers_are_refused() {
        let p = Position {
            needs_human: true,
            activity: DateTime::from_timestamp_micros(1_764_600_000_123_456).unwrap(),
            id: Uuid::new_v4(),
        };
        assert_eq!(decode(&encode(p)).unwrap(), p);
        for bad in ["", "nope", "YzF8MXx4eHh8eQ", &encode(p)[1..]] {
            assert!(
                matches!(decode(bad), Err(ConversationError::BadCursor(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn search_patterns_take_wildcards_literally() {
        assert_eq!(like_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }
}

/// How far back a `changes` poll looks before its cursor: a write that started before the
/// previous poll but committed after it is still seen.
const CHANGES_OVERLAP_SECS: i64 = 5;
/// Most conversations one `changes` answer carries; the cursor continues from the last.
pub const CHANGES_LIMIT: i64 = 200;

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChangesQuery {
    /// `cursor` of the previous answer; without it, the conversations active lately.
    pub since: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConversationChanges {
    /// Conversations changed since the cursor, oldest change first. A conversation may come
    /// again in the next answer: merge by id.
    pub conversations: Vec<ConversationSummary>,
    /// Pass as `since` next time.
    pub cursor: String,
}

fn encode_since(at: DateTime<Utc>) -> String {
    cursor::encode("s1", &[cursor::time(at)])
}

fn decode_since(raw: &str) -> Result<DateTime<Utc>, ConversationError> {
    cursor::fields(raw, "s1", 1)
        .and_then(|f| cursor::parse_time(&f[0]))
        .ok_or_else(|| {
            ConversationError::BadCursor(
                "This cursor is not one the conversation changes gave out; load the list again."
                    .into(),
            )
        })
}

/// For polling: the conversations whose activity changed since the cursor (new messages,
/// sends, mode changes, reads, notes, closing).
pub async fn changes(
    tx: &impl GenericClient,
    q: &ChangesQuery,
) -> Result<ConversationChanges, ConversationError> {
    let since = q.since.as_deref().map(decode_since).transpose()?;
    let rows = tx
        .query(
            &format!(
                "SELECT {COLUMNS}, now(), c.updated_at FROM conversations c
                  WHERE c.kind = 'instagram'
                    AND ($1::timestamptz IS NULL OR c.updated_at >= $1 - make_interval(secs => $2))
                  ORDER BY c.updated_at, c.id
                  LIMIT $3"
            ),
            &[&since, &(CHANGES_OVERLAP_SECS as f64), &CHANGES_LIMIT],
        )
        .await?;
    let now: DateTime<Utc> = match rows.first() {
        Some(r) => r.get(COLUMN_COUNT),
        None => tx.query_one("SELECT now()", &[]).await?.get(0),
    };
    let cursor = if rows.len() as i64 == CHANGES_LIMIT {
        encode_since(rows.last().map(|r| r.get(COLUMN_COUNT + 1)).unwrap_or(now))
    } else {
        encode_since(now)
    };
    Ok(ConversationChanges {
        conversations: rows
            .iter()
            .map(|r| detail_from_row(r, now).into())
            .collect(),
        cursor,
    })
}
