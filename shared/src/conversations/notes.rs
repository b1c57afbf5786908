//! Internal notes on a conversation: for the shop's team only, never sent to the customer.

use super::events::{record, Recorded};
use super::thread::{event, ThreadEvent};
use super::{check_text, detail, Author, ConversationError};
use deadpool_postgres::GenericClient;
use uuid::Uuid;

pub async fn add_note(
    tx: &impl GenericClient,
    conversation: Uuid,
    text: &str,
) -> Result<ThreadEvent, ConversationError> {
    let text = check_text("text", text)?;
    detail(tx, conversation, true).await?;
    let id = record(
        tx,
        conversation,
        Recorded::Note,
        Author::Merchant,
        Some(&text),
    )
    .await?;
    tx.execute(
        "UPDATE conversations SET updated_at = now() WHERE id = $1",
        &[&conversation],
    )
    .await?;
    event(tx, conversation, id).await
}
