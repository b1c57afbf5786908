//! A person takes a conversation over from the AI (the AI pauses: the webhook queues no turn
//! for a conversation in human mode, and a turn already queued skips it) and hands it back;
//! marking read, closing and reopening. Each records what happened in the thread.

use super::events::{person_answered, record, Recorded};
use super::{detail, summary, Author, ConversationError, ConversationSummary, Mode, State};
use deadpool_postgres::GenericClient;
use uuid::Uuid;

pub const TAKEN_OVER: &str = "You took over: the AI is paused for this conversation.";
pub const HANDED_BACK: &str = "You handed the conversation back to the AI.";

/// Human mode, decided by the merchant. Taking over a conversation already in human mode
/// changes nothing.
pub async fn take_over(
    tx: &impl GenericClient,
    id: Uuid,
    reason: &str,
    note: &str,
) -> Result<ConversationSummary, ConversationError> {
    let c = detail(tx, id, true).await?;
    if c.mode == Mode::Ai {
        tx.execute(
            "UPDATE conversations SET mode = 'human', mode_changed_at = now(), mode_reason_key = NULL, mode_reason_params = '{}', mode_reason = $2, updated_at = now() WHERE id = $1",
            &[&id, &reason],
        )
        .await?;
        record(tx, id, Recorded::ModeChange, Author::Merchant, Some(note)).await?;
    }
    summary(tx, id).await
}

/// The AI answers again; nobody is waiting for a person any more.
pub async fn hand_back(
    tx: &impl GenericClient,
    id: Uuid,
) -> Result<ConversationSummary, ConversationError> {
    let c = detail(tx, id, true).await?;
    person_answered(tx, id).await?;
    if c.mode == Mode::Human {
        tx.execute(
            "UPDATE conversations SET mode = 'ai', mode_changed_at = now(), mode_reason_key = NULL, mode_reason_params = '{}', mode_reason = NULL, updated_at = now() WHERE id = $1",
            &[&id],
        )
        .await?;
        record(
            tx,
            id,
            Recorded::ModeChange,
            Author::Merchant,
            Some(HANDED_BACK),
        )
        .await?;
    }
    summary(tx, id).await
}

pub async fn mark_read(tx: &impl GenericClient, id: Uuid) -> Result<(), ConversationError> {
    let n = tx
        .execute(
            "UPDATE conversations SET unread_count = 0, updated_at = now() WHERE id = $1 AND kind = 'instagram'",
            &[&id],
        )
        .await?;
    if n == 0 {
        return Err(ConversationError::NotFound);
    }
    Ok(())
}

/// Closed until the customer writes again; closing settles a waiting handoff.
pub async fn close(
    tx: &impl GenericClient,
    id: Uuid,
) -> Result<ConversationSummary, ConversationError> {
    let c = detail(tx, id, true).await?;
    if c.state == State::Open {
        person_answered(tx, id).await?;
        tx.execute(
            "UPDATE conversations SET closed_at = greatest(now(), last_customer_message_at), unread_count = 0, updated_at = now() WHERE id = $1",
            &[&id],
        )
        .await?;
        record(tx, id, Recorded::Closed, Author::Merchant, None).await?;
    }
    summary(tx, id).await
}

pub async fn reopen(
    tx: &impl GenericClient,
    id: Uuid,
) -> Result<ConversationSummary, ConversationError> {
    let c = detail(tx, id, true).await?;
    if c.state == State::Closed {
        tx.execute(
            "UPDATE conversations SET closed_at = NULL, updated_at = now() WHERE id = $1",
            &[&id],
        )
        .await?;
        record(tx, id, Recorded::Reopened, Author::Merchant, None).await?;
    }
    summary(tx, id).await
}
