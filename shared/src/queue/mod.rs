//! The `dm-inbound` queue between the webhook and the agent.
//!
//! In Azure, Service Bus carries the messages and the Functions host delivers them to the
//! `agent` function; we only send ([`ServiceBusSender`]). Locally a Postgres table does both
//! jobs ([`PostgresQueue`]): the webhook sends into it and `handler serve`'s poller leases from
//! it with the same semantics as Service Bus (visibility timeout, delivery count, dead letter).

mod postgres;
mod service_bus;

pub use postgres::{enqueue_in, AbandonOutcome, LeasedMessage, PostgresQueue};
pub use service_bus::{ServiceBusAuth, ServiceBusSender};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// One message for the queue. `message_id` makes sending idempotent: the Postgres queue
/// ignores a second message with the same id, and Service Bus does too when duplicate
/// detection is on (the infrastructure enables it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueMessage {
    pub message_id: String,
    pub body: serde_json::Value,
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error(transparent)]
    Database(#[from] crate::db::DbError),
    #[error("Service Bus: {0}")]
    ServiceBus(String),
    #[error("the lease on message {0} was lost (it expired and another consumer may have it)")]
    LeaseLost(String),
}

impl From<tokio_postgres::Error> for QueueError {
    fn from(e: tokio_postgres::Error) -> Self {
        QueueError::Database(e.into())
    }
}

#[async_trait]
pub trait Queue: Send + Sync {
    async fn send(&self, message: &QueueMessage) -> Result<(), QueueError>;
    async fn check_ready(&self) -> Result<(), QueueError>;
    /// "postgres" or "servicebus", for health output.
    fn backend(&self) -> &'static str;
}
