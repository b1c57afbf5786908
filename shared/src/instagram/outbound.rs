//! Sending to a customer through the Graph API, exactly once. Every send is first recorded in
//! `outbound_messages` under an idempotency key (a retried agent turn uses the same keys and
//! finds them sent), text is split at 1000 bytes, each account is held to its send rate, and
//! errors are handled by class: an invalid token marks the shop "reconnect needed", a closed
//! window or unavailable user stops, rate limits and temporary errors are left for a retry.

use super::graph::{ErrorClass, GraphError, ProductCard, QuickReply, SenderAction};
use super::split::split_message;
use super::tokens;
use crate::app::App;
use crate::db::{begin_for_tenant, DbError};
use crate::tenants::{self, TenantId};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;
use uuid::Uuid;

pub const MAX_TEXT_BYTES: usize = 1000;

/// Spaces sends per Instagram account so no account exceeds its rate.
#[derive(Debug)]
pub struct SendRate {
    interval: Duration,
    next_slot: Mutex<HashMap<String, Instant>>,
}

impl SendRate {
    pub fn per_second(rate: u32) -> Self {
        SendRate {
            interval: Duration::from_secs(1) / rate.max(1),
            next_slot: Mutex::new(HashMap::new()),
        }
    }

    /// Waits for this account's next free slot.
    pub async fn wait_turn(&self, account: &str) {
        let wait = {
            let mut slots = self.next_slot.lock().expect("rate table lock");
            let now = Instant::now();
            let slot = slots
                .get(account)
                .copied()
                .filter(|s| *s > now)
                .unwrap_or(now);
            slots.insert(account.to_owned(), slot + self.interval);
            if slots.len() > 10_000 {
                slots.retain(|_, s| *s > now);
            }
            slot.saturating_duration_since(now)
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

/// Who a send goes to, for whom.
#[derive(Debug, Clone)]
pub struct Recipient {
    pub tenant: TenantId,
    pub conversation: Uuid,
    pub customer_igsid: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// Sent now (the mids), or earlier under the same key (`already` counts those parts).
    Sent { mids: Vec<String>, already: usize },
    /// Instagram refused and a retry would not help (closed window, user unavailable,
    /// invalid token, malformed request).
    Refused { class: ErrorClass, reason: String },
    /// Rate limited or temporary failure: recorded for the sweeper to retry.
    RetryLater { after: Duration, reason: String },
    /// The shop has no usable Instagram connection.
    NotConnected,
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error(transparent)]
    Database(#[from] DbError),
    #[error("Instagram is not configured on this server")]
    NotConfigured,
}

impl From<tokio_postgres::Error> for SendError {
    fn from(e: tokio_postgres::Error) -> Self {
        SendError::Database(e.into())
    }
}

enum Part {
    Text(String),
    QuickReplies {
        text: String,
        replies: Vec<QuickReply>,
    },
    Cards(Vec<ProductCard>),
    Action(SenderAction),
}

impl Part {
    fn kind(&self) -> &'static str {
        match self {
            Part::Text(_) => "text",
            Part::QuickReplies { .. } => "quick_replies",
            Part::Cards(_) => "cards",
            Part::Action(_) => "sender_action",
        }
    }
    fn payload(&self, to: &str) -> serde_json::Value {
        match self {
            Part::Text(t) => json!({ "recipient": to, "text": t }),
            Part::QuickReplies { text, replies } => json!({ "recipient": to, "text": text,
                "quick_replies": replies.iter().map(|r| json!({"title": r.title, "payload": r.payload})).collect::<Vec<_>>() }),
            Part::Cards(cards) => {
                json!({ "recipient": to, "cards": cards.iter().map(|c| json!({"title": c.title})).collect::<Vec<_>>() })
            }
            Part::Action(a) => json!({ "recipient": to, "sender_action": a.as_str() }),
        }
    }
    fn text(&self) -> Option<&str> {
        match self {
            Part::Text(t) => Some(t),
            Part::QuickReplies { text, .. } => Some(text),
            _ => None,
        }
    }
}

/// Sends `text` (split at 1000 bytes) once under `key`; `author` is who the dashboard shows
/// as the writer: "ai" or "merchant".
pub async fn send_text(
    app: &App,
    to: &Recipient,
    key: &str,
    text: &str,
    author: &str,
) -> Result<SendOutcome, SendError> {
    let parts: Vec<Part> = split_message(text, MAX_TEXT_BYTES)
        .into_iter()
        .map(Part::Text)
        .collect();
    send_parts(app, to, key, parts, author).await
}

pub async fn send_quick_replies(
    app: &App,
    to: &Recipient,
    key: &str,
    text: &str,
    replies: Vec<QuickReply>,
    author: &str,
) -> Result<SendOutcome, SendError> {
    send_parts(
        app,
        to,
        key,
        vec![Part::QuickReplies {
            text: text.to_owned(),
            replies,
        }],
        author,
    )
    .await
}

pub async fn send_product_cards(
    app: &App,
    to: &Recipient,
    key: &str,
    cards: Vec<ProductCard>,
) -> Result<SendOutcome, SendError> {
    send_parts(app, to, key, vec![Part::Cards(cards)], "ai").await
}

pub async fn send_action(
    app: &App,
    to: &Recipient,
    key: &str,
    action: SenderAction,
) -> Result<SendOutcome, SendError> {
    send_parts(app, to, key, vec![Part::Action(action)], "ai").await
}

async fn send_parts(
    app: &App,
    to: &Recipient,
    key: &str,
    parts: Vec<Part>,
    author: &str,
) -> Result<SendOutcome, SendError> {
    let graph = app.graph.as_ref().ok_or(SendError::NotConfigured)?;
    let t = to.tenant.as_uuid();
    let token = {
        let mut c = app.db.app().await?;
        let tx = begin_for_tenant(&mut c, to.tenant).await?;
        let token = tokens::load(&tx, &app.keys, to.tenant).await?;
        tx.commit().await?;
        token
    };
    let Some(token) = token else {
        return Ok(SendOutcome::NotConnected);
    };
    let total = parts.len();
    let mut mids = Vec::new();
    let mut already = 0;
    for (i, part) in parts.iter().enumerate() {
        let part_key = if total == 1 {
            key.to_owned()
        } else {
            format!("{key}#{}/{total}", i + 1)
        };
        // Record first; a send recorded as done (or whose echo already came back) is skipped.
        let prior = {
            let mut c = app.db.app().await?;
            let tx = begin_for_tenant(&mut c, to.tenant).await?;
            tx.execute(
                "INSERT INTO outbound_messages (tenant_id, conversation_id, idempotency_key, kind, payload)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, idempotency_key) DO NOTHING",
                &[&t, &to.conversation, &part_key, &part.kind(), &part.payload(&to.customer_igsid)],
            )
            .await?;
            let row = tx
                .query_one("SELECT status, mid FROM outbound_messages WHERE tenant_id = $1 AND idempotency_key = $2", &[&t, &part_key])
                .await?;
            tx.commit().await?;
            (row.get::<_, String>(0), row.get::<_, Option<String>>(1))
        };
        match prior {
            (status, Some(mid)) if status != "failed" => {
                already += 1;
                mids.push(mid);
                continue;
            }
            (status, None) if status == "sent" => {
                already += 1;
                continue;
            }
            (status, _) if status == "failed" => {
                return Ok(SendOutcome::Refused {
                    class: ErrorClass::Permanent,
                    reason: "an earlier attempt under this key was refused".into(),
                });
            }
            _ => {}
        }

        app.send_rate.wait_turn(&token.ig_user_id).await;
        let result = match part {
            Part::Text(text) => graph
                .send_text(&token.ig_user_id, &token.token, &to.customer_igsid, text)
                .await
                .map(|m| Some(m.message_id)),
            Part::QuickReplies { text, replies } => graph
                .send_quick_replies(
                    &token.ig_user_id,
                    &token.token,
                    &to.customer_igsid,
                    text,
                    replies,
                )
                .await
                .map(|m| Some(m.message_id)),
            Part::Cards(cards) => graph
                .send_product_cards(&token.ig_user_id, &token.token, &to.customer_igsid, cards)
                .await
                .map(|m| Some(m.message_id)),
            Part::Action(action) => graph
                .sender_action(&token.ig_user_id, &token.token, &to.customer_igsid, *action)
                .await
                .map(|()| None),
        };
        let mut c = app.db.app().await?;
        let tx = begin_for_tenant(&mut c, to.tenant).await?;
        match result {
            Ok(mid) => {
                tx.execute(
                    "UPDATE outbound_messages SET status = 'sent', mid = coalesce(mid, $3), sent_at = now(), attempts = attempts + 1,
                            error_class = NULL, last_error = NULL, next_attempt_at = NULL
                      WHERE tenant_id = $1 AND idempotency_key = $2",
                    &[&t, &part_key, &mid],
                )
                .await?;
                if let (Some(mid), Some(text)) = (&mid, part.text()) {
                    tx.execute(
                        "INSERT INTO messages (tenant_id, conversation_id, direction, author, mid, text, sent_at)
                         VALUES ($1, $2, 'outbound', $3, $4, $5, now())
                         ON CONFLICT (tenant_id, mid) WHERE mid IS NOT NULL DO NOTHING",
                        &[&t, &to.conversation, &author, mid, &text],
                    )
                    .await?;
                    tx.execute(
                        "UPDATE conversations SET last_message_at = now(), updated_at = now() WHERE id = $1",
                        &[&to.conversation],
                    )
                    .await?;
                }
                tx.commit().await?;
                if let Some(mid) = mid {
                    mids.push(mid);
                }
            }
            Err(e) => {
                let outcome = failure(&tx, to.tenant, &part_key, &e).await?;
                tx.commit().await?;
                return Ok(outcome);
            }
        }
    }
    Ok(SendOutcome::Sent { mids, already })
}

async fn failure(
    tx: &deadpool_postgres::Transaction<'_>,
    tenant: TenantId,
    key: &str,
    e: &GraphError,
) -> Result<SendOutcome, SendError> {
    let class = e.class();
    let reason = e.to_string();
    let class_name = format!("{class:?}");
    if e.is_retryable() {
        let after = e.retry_after().unwrap_or(Duration::from_secs(30));
        tx.execute(
            "UPDATE outbound_messages SET attempts = attempts + 1, error_class = $3, last_error = $4,
                    next_attempt_at = now() + make_interval(secs => $5)
              WHERE tenant_id = $1 AND idempotency_key = $2",
            &[&tenant.as_uuid(), &key, &class_name, &reason, &after.as_secs_f64()],
        )
        .await?;
        return Ok(SendOutcome::RetryLater { after, reason });
    }
    tx.execute(
        "UPDATE outbound_messages SET status = 'failed', attempts = attempts + 1, error_class = $3, last_error = $4, next_attempt_at = NULL
          WHERE tenant_id = $1 AND idempotency_key = $2",
        &[&tenant.as_uuid(), &key, &class_name, &reason],
    )
    .await?;
    if class == ErrorClass::InvalidToken {
        tenants::mark_reconnect_needed(tx, tenant, "Instagram rejected the access token").await?;
    }
    Ok(SendOutcome::Refused { class, reason })
}

#[cfg(test)]
mod tests {
    use super::SendRate;
    use std::time::Duration;
    use tokio::time::Instant;

    #[tokio::test(start_paused = true)]
    async fn each_account_is_held_to_its_rate_and_accounts_do_not_wait_for_each_other() {
        let rate = SendRate::per_second(10);
        let start = Instant::now();
        for _ in 0..5 {
            rate.wait_turn("shop-a").await;
        }
        // Five sends at 10/s: the fifth goes at 400 ms.
        assert_eq!(start.elapsed(), Duration::from_millis(400));
        let b = Instant::now();
        rate.wait_turn("shop-b").await;
        assert_eq!(
            b.elapsed(),
            Duration::ZERO,
            "another account is not slowed down"
        );
        tokio::time::advance(Duration::from_secs(5)).await;
        let later = Instant::now();
        rate.wait_turn("shop-a").await;
        assert_eq!(
            later.elapsed(),
            Duration::ZERO,
            "an idle account does not bank a backlog"
        );
    }
}
