//! The local queue: a Postgres table leased with `FOR UPDATE SKIP LOCKED`.

use super::{Queue, QueueError, QueueMessage};
use crate::db::Database;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::time::Duration;
use uuid::Uuid;

#[derive(Clone)]
pub struct PostgresQueue {
    db: Database,
    queue: String,
    max_deliveries: i32,
}

/// A message held by one consumer until it completes or abandons it, or the lease expires.
#[derive(Debug, Clone)]
pub struct LeasedMessage {
    pub id: i64,
    pub message_id: String,
    pub body: serde_json::Value,
    /// 1 on the first delivery, as Service Bus counts.
    pub delivery_count: i32,
    pub enqueued_at: DateTime<Utc>,
    lease_token: Uuid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AbandonOutcome {
    /// It will be delivered again.
    Requeued,
    /// It reached the maximum delivery count and was moved aside.
    DeadLettered,
}

/// Sends inside a caller's transaction, so a message and the rows it refers to commit
/// together (the webhook stores the batch and its queue messages in one commit).
pub async fn enqueue_in(
    tx: &impl deadpool_postgres::GenericClient,
    queue: &str,
    message: &QueueMessage,
) -> Result<bool, QueueError> {
    let inserted = tx
        .execute(
            "INSERT INTO queue_messages (queue, message_id, body) VALUES ($1, $2, $3)
             ON CONFLICT (queue, message_id) DO NOTHING",
            &[&queue, &message.message_id, &message.body],
        )
        .await?;
    Ok(inserted == 1)
}

impl PostgresQueue {
    pub fn new(db: Database, queue: impl Into<String>, max_deliveries: i32) -> Self {
        PostgresQueue {
            db,
            queue: queue.into(),
            max_deliveries,
        }
    }

    pub fn name(&self) -> &str {
        &self.queue
    }

    /// Takes the oldest visible message for `visibility`; `None` when there is none.
    pub async fn lease(&self, visibility: Duration) -> Result<Option<LeasedMessage>, QueueError> {
        let client = self.db.app().await?;
        // A consumer that died after its last allowed delivery leaves the message leased;
        // once that lease runs out the message goes to the dead letters instead of round again.
        client
            .execute(
                "UPDATE queue_messages
                    SET dead_lettered_at = now(), dead_letter_reason = 'MaxDeliveryCountExceeded',
                        lease_token = NULL, leased_until = NULL
                  WHERE queue = $1 AND dead_lettered_at IS NULL AND delivery_count >= $2
                    AND leased_until IS NOT NULL AND leased_until <= now()",
                &[&self.queue, &self.max_deliveries],
            )
            .await?;
        let token = Uuid::new_v4();
        let row = client
            .query_opt(
                "UPDATE queue_messages q
                    SET lease_token = $3,
                        leased_until = clock_timestamp() + make_interval(secs => $4),
                        delivery_count = q.delivery_count + 1
                   FROM (SELECT id FROM queue_messages
                          WHERE queue = $1 AND dead_lettered_at IS NULL AND delivery_count < $2
                            AND visible_at <= now()
                            AND (leased_until IS NULL OR leased_until <= now())
                          ORDER BY id
                          LIMIT 1
                          FOR UPDATE SKIP LOCKED) c
                  WHERE q.id = c.id
              RETURNING q.id, q.message_id, q.body, q.delivery_count, q.enqueued_at",
                &[
                    &self.queue,
                    &self.max_deliveries,
                    &token,
                    &visibility.as_secs_f64(),
                ],
            )
            .await?;
        Ok(row.map(|r| LeasedMessage {
            id: r.get(0),
            message_id: r.get(1),
            body: r.get(2),
            delivery_count: r.get(3),
            enqueued_at: r.get(4),
            lease_token: token,
        }))
    }

    /// Extends a lease still held to `visibility` from now (a consumer renews while it works,
    /// so a short lease covers a long turn and a dead consumer's message comes back soon).
    /// Fails with `LeaseLost` if the lease expired and another consumer took the message.
    pub async fn renew(
        &self,
        message: &LeasedMessage,
        visibility: Duration,
    ) -> Result<(), QueueError> {
        let client = self.db.app().await?;
        let renewed = client
            .execute(
                "UPDATE queue_messages SET leased_until = clock_timestamp() + make_interval(secs => $3)
                  WHERE id = $1 AND lease_token = $2",
                &[&message.id, &message.lease_token, &visibility.as_secs_f64()],
            )
            .await?;
        if renewed == 1 {
            Ok(())
        } else {
            Err(QueueError::LeaseLost(message.message_id.clone()))
        }
    }

    /// Removes a processed message. Fails with `LeaseLost` if the lease had expired and the
    /// message was leased again (the other consumer's outcome stands).
    pub async fn complete(&self, message: &LeasedMessage) -> Result<(), QueueError> {
        let client = self.db.app().await?;
        let deleted = client
            .execute(
                "DELETE FROM queue_messages WHERE id = $1 AND lease_token = $2",
                &[&message.id, &message.lease_token],
            )
            .await?;
        if deleted == 1 {
            Ok(())
        } else {
            Err(QueueError::LeaseLost(message.message_id.clone()))
        }
    }

    /// Gives a message back after a failure: visible again after `retry_after`, or dead-lettered
    /// when this was its last allowed delivery.
    pub async fn abandon(
        &self,
        message: &LeasedMessage,
        error: &str,
        retry_after: Duration,
    ) -> Result<AbandonOutcome, QueueError> {
        let client = self.db.app().await?;
        let row = client
            .query_opt(
                "UPDATE queue_messages
                    SET lease_token = NULL, leased_until = NULL, last_error = $3,
                        visible_at = clock_timestamp() + make_interval(secs => $4),
                        dead_lettered_at = CASE WHEN delivery_count >= $5 THEN now() END,
                        dead_letter_reason = CASE WHEN delivery_count >= $5 THEN 'MaxDeliveryCountExceeded' END
                  WHERE id = $1 AND lease_token = $2
              RETURNING dead_lettered_at IS NOT NULL",
                &[&message.id, &message.lease_token, &truncate(error, 2000), &retry_after.as_secs_f64(), &self.max_deliveries],
            )
            .await?;
        match row {
            None => Err(QueueError::LeaseLost(message.message_id.clone())),
            Some(r) if r.get::<_, bool>(0) => Ok(AbandonOutcome::DeadLettered),
            Some(_) => Ok(AbandonOutcome::Requeued),
        }
    }

    /// Messages waiting or in flight (not dead-lettered).
    pub async fn depth(&self) -> Result<i64, QueueError> {
        let client = self.db.app().await?;
        let row = client
            .query_one(
                "SELECT count(*) FROM queue_messages WHERE queue = $1 AND dead_lettered_at IS NULL",
                &[&self.queue],
            )
            .await?;
        Ok(row.get(0))
    }

    pub async fn dead_letter_count(&self) -> Result<i64, QueueError> {
        let client = self.db.app().await?;
        let row = client
            .query_one(
                "SELECT count(*) FROM queue_messages WHERE queue = $1 AND dead_lettered_at IS NOT NULL",
                &[&self.queue],
            )
            .await?;
        Ok(row.get(0))
    }
}

#[async_trait]
impl Queue for PostgresQueue {
    async fn send(&self, message: &QueueMessage) -> Result<(), QueueError> {
        let client = self.db.app().await?;
        enqueue_in(&client, &self.queue, message).await?;
        Ok(())
    }

    async fn check_ready(&self) -> Result<(), QueueError> {
        self.depth().await.map(|_| ())
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}
