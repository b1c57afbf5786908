//! The thread's events that are not messages (`conversation_events`): internal notes,
//! handoffs, mode changes, closing and reopening — written by the inbox, by the agent when it
//! hands over, and by the webhook when a person answers from the Instagram app. Always inside
//! the caller's tenant transaction (the row takes that transaction's tenant).

use super::Author;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use uuid::Uuid;

/// Kinds stored in `conversation_events`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    Note,
    Handoff,
    ModeChange,
    Closed,
    Reopened,
}

impl Recorded {
    pub fn as_str(self) -> &'static str {
        match self {
            Recorded::Note => "note",
            Recorded::Handoff => "handoff",
            Recorded::ModeChange => "mode_change",
            Recorded::Closed => "closed",
            Recorded::Reopened => "reopened",
        }
    }
}

/// Records one event now; returns its id.
pub async fn record(
    tx: &impl GenericClient,
    conversation: Uuid,
    kind: Recorded,
    author: Author,
    text: Option<&str>,
) -> Result<Uuid, tokio_postgres::Error> {
    record_at(tx, conversation, kind, author, text, None).await
}

/// Records one event at `at` (default: now).
pub async fn record_at(
    tx: &impl GenericClient,
    conversation: Uuid,
    kind: Recorded,
    author: Author,
    text: Option<&str>,
    at: Option<DateTime<Utc>>,
) -> Result<Uuid, tokio_postgres::Error> {
    let row = tx
        .query_one(
            "INSERT INTO conversation_events (tenant_id, conversation_id, kind, author, text, at)
             VALUES (app_current_tenant(), $1, $2, $3, $4, coalesce($5, now())) RETURNING id",
            &[&conversation, &kind.as_str(), &author.as_str(), &text, &at],
        )
        .await?;
    Ok(row.get(0))
}

/// The AI handed the conversation to a person: it waits for one, and the thread says why.
pub async fn handed_off(
    tx: &impl GenericClient,
    conversation: Uuid,
    reason: &str,
) -> Result<(), tokio_postgres::Error> {
    tx.execute(
        "UPDATE conversations SET needs_human = true WHERE id = $1",
        &[&conversation],
    )
    .await?;
    record(
        tx,
        conversation,
        Recorded::Handoff,
        Author::Ai,
        Some(reason),
    )
    .await
    .map(drop)
}

/// A person of the shop answered (from the dashboard or the Instagram app): nobody is waiting
/// any more, and the handoff alert is settled.
pub async fn person_answered(
    tx: &impl GenericClient,
    conversation: Uuid,
) -> Result<(), tokio_postgres::Error> {
    let cleared = tx
        .execute(
            "UPDATE conversations SET needs_human = false, updated_at = now() WHERE id = $1 AND needs_human",
            &[&conversation],
        )
        .await?;
    if cleared > 0 {
        tx.execute(
            "UPDATE alerts SET acknowledged_at = now() WHERE dedupe_key = $1 AND acknowledged_at IS NULL",
            &[&format!("handoff:{conversation}")],
        )
        .await?;
    }
    Ok(())
}

/// The webhook stored an echo we did not send: a person answered from the Instagram app at
/// `sent_at`. `paused_the_ai` is whether that switched the conversation to human mode; the
/// thread shows the pause right after that message.
pub async fn answered_from_instagram_app(
    tx: &impl GenericClient,
    conversation: Uuid,
    paused_the_ai: bool,
    sent_at: DateTime<Utc>,
) -> Result<(), tokio_postgres::Error> {
    person_answered(tx, conversation).await?;
    if paused_the_ai {
        record_at(
            tx,
            conversation,
            Recorded::ModeChange,
            Author::MerchantApp,
            Some(
                "A person answered from the Instagram app: the AI is paused for this conversation.",
            ),
            Some(sent_at + chrono::Duration::microseconds(1)),
        )
        .await?;
    }
    Ok(())
}
