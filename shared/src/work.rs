//! The one entry point for queue messages, from the Functions queue trigger and from
//! `handler serve`'s local poller: a message's `kind` says whose work it is. Knowledge-base
//! documents (`kb_ingest`) go to [`crate::knowledge::ingest`]; everything else (Instagram
//! conversations) to the agent.

use crate::app::App;
use crate::knowledge::documents::INGEST_KIND;
use crate::knowledge::ingest::{self, IngestOptions, IngestRequest};

#[derive(Debug, thiserror::Error)]
pub enum WorkError {
    #[error("knowledge base: {0}")]
    Knowledge(#[from] ingest::IngestError),
    #[error("agent: {0}")]
    Agent(String),
}

/// Handles one queue message. An error makes the host (or the local poller) deliver it again.
pub async fn handle_queue_message(
    app: &App,
    body: &serde_json::Value,
    delivery_count: i32,
) -> Result<(), WorkError> {
    match body.get("kind").and_then(|k| k.as_str()) {
        Some(INGEST_KIND) => {
            let Some(request) = IngestRequest::from_body(body) else {
                // Retrying cannot make a malformed message valid.
                tracing::error!(%body, "malformed knowledge-base message dropped");
                return Ok(());
            };
            ingest::handle(app, request, delivery_count, &IngestOptions::default()).await?;
            Ok(())
        }
        _ => crate::agent::handle_queue_message(app, body, delivery_count)
            .await
            .map_err(|e| WorkError::Agent(e.to_string())),
    }
}
