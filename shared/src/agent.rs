//! The AI agent's turn, run for each `dm-inbound` queue message.

use crate::app::App;

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The only placeholder left in the product: the agent turn lands with its own issue.
    #[error("the AI agent is not built yet: queue messages stay queued (and dead-letter after the maximum delivery count) until it is")]
    NotBuilt,
}

/// Handles one queue message. An error makes the host (or the local poller) deliver it again.
pub async fn handle_queue_message(
    _app: &App,
    _body: &serde_json::Value,
    _delivery_count: i32,
) -> Result<(), AgentError> {
    Err(AgentError::NotBuilt)
}
