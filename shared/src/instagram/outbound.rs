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

/// One message to send, stored with its row so the sweeper can send it again later.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
enum Part {
    Text(String),
    /// A person's text sent with the HUMAN_AGENT tag (24 hours to 7 days after the
    /// customer's last message).
    HumanAgentText(String),
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
            Part::Text(_) | Part::HumanAgentText(_) => "text",
            Part::QuickReplies { .. } => "quick_replies",
            Part::Cards(_) => "cards",
            Part::Action(_) => "sender_action",
        }
    }
    fn text(&self) -> Option<&str> {
        match self {
            Part::Text(t) | Part::HumanAgentText(t) => Some(t),
            Part::QuickReplies { text, .. } => Some(text),
            _ => None,
        }
    }
}

/// What `outbound_messages.payload` holds: everything needed to send the part again.
/// `text` stays at the top level: echoes are matched on it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Stored {
    recipient: String,
    author: String,
    /// The key of the whole message and this part's place in it (1-based), so a retry keeps
    /// the parts in order.
    message_key: String,
    seq: i32,
    text: Option<String>,
    part: Part,
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

/// A person's reply from the dashboard, like [`send_text`] with author "merchant"; with
/// `human_agent_tag` every part carries Meta's HUMAN_AGENT tag (for the 24-hour to 7-day
/// window; never for the AI).
pub async fn send_human_text(
    app: &App,
    to: &Recipient,
    key: &str,
    text: &str,
    human_agent_tag: bool,
) -> Result<SendOutcome, SendError> {
    let parts: Vec<Part> = split_message(text, MAX_TEXT_BYTES)
        .into_iter()
        .map(|t| {
            if human_agent_tag {
                Part::HumanAgentText(t)
            } else {
                Part::Text(t)
            }
        })
        .collect();
    send_parts(app, to, key, parts, "merchant").await
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

fn part_key(key: &str, seq: usize, total: usize) -> String {
    if total == 1 {
        key.to_owned()
    } else {
        format!("{key}#{seq}/{total}")
    }
}

async fn load_token(app: &App, tenant: TenantId) -> Result<Option<tokens::StoredToken>, SendError> {
    let mut c = app.db.app().await?;
    let tx = begin_for_tenant(&mut c, tenant).await?;
    let token = tokens::load(&tx, &app.keys, tenant).await?;
    tx.commit().await?;
    Ok(token)
}

async fn send_parts(
    app: &App,
    to: &Recipient,
    key: &str,
    parts: Vec<Part>,
    author: &str,
) -> Result<SendOutcome, SendError> {
    let graph = app.graph.as_ref().ok_or(SendError::NotConfigured)?;
    // Every part is recorded before the first is sent: if part 2 has to wait for a retry,
    // parts 3 and on are already there for the sweeper to send after it. The token is read
    // in the same transaction.
    let total = parts.len();
    let t = to.tenant.as_uuid();
    let keys: Vec<String> = (1..=total).map(|seq| part_key(key, seq, total)).collect();
    // Parts recorded just now (not by an earlier run under the same key) need no look at
    // what an earlier attempt did.
    let mut fresh = vec![false; total];
    let token = {
        let mut c = app.db.app().await?;
        let tx = begin_for_tenant(&mut c, to.tenant).await?;
        let Some(token) = tokens::load(&tx, &app.keys, to.tenant).await? else {
            return Ok(SendOutcome::NotConnected);
        };
        for (i, part) in parts.iter().enumerate() {
            let stored = Stored {
                recipient: to.customer_igsid.clone(),
                author: author.to_owned(),
                message_key: key.to_owned(),
                seq: i as i32 + 1,
                text: part.text().map(str::to_owned),
                part: part.clone(),
            };
            fresh[i] = tx.query_opt(&tx.prepare_cached("INSERT INTO outbound_messages (tenant_id, conversation_id, idempotency_key, kind, payload)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, idempotency_key) DO NOTHING RETURNING 1").await?,
                &[&t, &to.conversation, &keys[i], &part.kind(), &serde_json::to_value(&stored).expect("serialisable")],
            )
            .await?
            .is_some();
        }
        tx.commit().await?;
        token
    };
    let mut mids = Vec::new();
    let mut already = 0;
    for (i, part) in parts.iter().enumerate() {
        match send_part(
            app, graph, &token, to, &keys[i], key, part, author, fresh[i],
        )
        .await?
        {
            PartOutcome::Sent(mid) => mids.extend(mid),
            PartOutcome::Already(mid) => {
                already += 1;
                mids.extend(mid);
            }
            PartOutcome::Stop(outcome) => return Ok(outcome),
        }
    }
    Ok(SendOutcome::Sent { mids, already })
}

enum PartOutcome {
    Sent(Option<String>),
    Already(Option<String>),
    Stop(SendOutcome),
}

/// Sends one recorded part unless it was sent already (or its echo came back), and records
/// the outcome. Shared by the first attempt and the sweeper's retries.
#[allow(clippy::too_many_arguments)]
async fn send_part(
    app: &App,
    graph: &super::graph::GraphClient,
    token: &tokens::StoredToken,
    to: &Recipient,
    key: &str,
    message_key: &str,
    part: &Part,
    author: &str,
    fresh: bool,
) -> Result<PartOutcome, SendError> {
    let t = to.tenant.as_uuid();
    let prior = if fresh {
        ("pending".to_owned(), None)
    } else {
        let mut c = app.db.app().await?;
        let tx = begin_for_tenant(&mut c, to.tenant).await?;
        let row = tx
            .query_one(&tx.prepare_cached("SELECT status, mid FROM outbound_messages WHERE tenant_id = $1 AND idempotency_key = $2").await?, &[&t, &key])
            .await?;
        tx.commit().await?;
        (row.get::<_, String>(0), row.get::<_, Option<String>>(1))
    };
    match prior {
        (status, mid) if status == "sent" || (status != "failed" && mid.is_some()) => {
            return Ok(PartOutcome::Already(mid))
        }
        (status, _) if status == "failed" => {
            return Ok(PartOutcome::Stop(SendOutcome::Refused {
                class: ErrorClass::Permanent,
                reason: "an earlier attempt under this key was refused".into(),
            }))
        }
        _ => {}
    }

    app.send_rate.wait_turn(&token.ig_user_id).await;
    let (account, tok, customer) = (&token.ig_user_id, &token.token, &to.customer_igsid);
    let result = match part {
        Part::Text(text) => graph
            .send_text(account, tok, customer, text)
            .await
            .map(|m| Some(m.message_id)),
        Part::HumanAgentText(text) => graph
            .send_human_agent_text(account, tok, customer, text)
            .await
            .map(|m| Some(m.message_id)),
        Part::QuickReplies { text, replies } => graph
            .send_quick_replies(account, tok, customer, text, replies)
            .await
            .map(|m| Some(m.message_id)),
        Part::Cards(cards) => graph
            .send_product_cards(account, tok, customer, cards)
            .await
            .map(|m| Some(m.message_id)),
        Part::Action(action) => graph
            .sender_action(account, tok, customer, *action)
            .await
            .map(|()| None),
    };
    let mut c = app.db.app().await?;
    let tx = begin_for_tenant(&mut c, to.tenant).await?;
    let outcome = match result {
        Ok(mid) => {
            tx.execute(&tx.prepare_cached("UPDATE outbound_messages SET status = 'sent', mid = coalesce(mid, $3), sent_at = now(), attempts = attempts + 1,
                        error_class = NULL, last_error = NULL, next_attempt_at = NULL
                  WHERE tenant_id = $1 AND idempotency_key = $2").await?,
                &[&t, &key, &mid],
            )
            .await?;
            if let (Some(mid), Some(text)) = (&mid, part.text()) {
                tx.execute(&tx.prepare_cached("INSERT INTO messages (tenant_id, conversation_id, direction, author, mid, text, sent_at)
                     VALUES ($1, $2, 'outbound', $3, $4, $5, now())
                     ON CONFLICT (tenant_id, mid) WHERE mid IS NOT NULL DO NOTHING").await?,
                    &[&t, &to.conversation, &author, mid, &text],
                )
                .await?;
                tx.execute(&tx.prepare_cached("UPDATE conversations SET last_message_at = now(), updated_at = now() WHERE id = $1").await?, &[&to.conversation]).await?;
            }
            PartOutcome::Sent(mid)
        }
        Err(e) => PartOutcome::Stop(failure(&tx, to.tenant, key, message_key, &e).await?),
    };
    tx.commit().await?;
    Ok(outcome)
}

/// How often the sweeper tries a send before giving it up.
pub const MAX_ATTEMPTS: i32 = 8;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct RetryReport {
    pub sent: usize,
    pub retrying: usize,
    pub failed: usize,
}

/// The sweeper's part: sends that were rate-limited or hit a temporary error go again when
/// due, in order within each message, through the same code as the first attempt.
pub async fn retry_due(app: &App, batch: i64) -> Result<RetryReport, SendError> {
    let mut report = RetryReport::default();
    let Some(graph) = app.graph.as_ref() else {
        return Ok(report);
    };
    let due = {
        let c = app.db.platform().await?;
        c.query(&c.prepare_cached("SELECT tenant_id, conversation_id, idempotency_key, payload, attempts FROM outbound_messages
              WHERE status = 'pending' AND next_attempt_at <= now()
              ORDER BY next_attempt_at, (payload->>'seq')::int LIMIT $1").await?,
            &[&batch],
        )
        .await?
    };
    let mut tokens_of: HashMap<Uuid, Option<tokens::StoredToken>> = HashMap::new();
    let mut held_back: std::collections::HashSet<(Uuid, String)> = Default::default();
    for row in due {
        let tenant = TenantId::from_uuid(row.get(0));
        let conversation: Option<Uuid> = row.get(1);
        let key: String = row.get(2);
        let attempts: i32 = row.get(4);
        let Ok(stored) = serde_json::from_value::<Stored>(row.get(3)) else {
            tracing::warn!(
                key,
                "an outbound message without a stored part cannot be retried"
            );
            continue;
        };
        if held_back.contains(&(tenant.as_uuid(), stored.message_key.clone())) {
            continue;
        }
        let Some(conversation) = conversation else {
            continue;
        };
        if attempts >= MAX_ATTEMPTS {
            let mut c = app.db.app().await?;
            let tx = begin_for_tenant(&mut c, tenant).await?;
            tx.execute(&tx.prepare_cached("UPDATE outbound_messages SET status = 'failed', next_attempt_at = NULL,
                        last_error = coalesce(last_error, '') || ' (gave up after ' || attempts || ' attempts)'
                  WHERE tenant_id = $1 AND payload->>'message_key' = $2 AND status = 'pending'").await?,
                &[&tenant.as_uuid(), &stored.message_key],
            )
            .await?;
            tx.commit().await?;
            report.failed += 1;
            continue;
        }
        if !tokens_of.contains_key(&tenant.as_uuid()) {
            tokens_of.insert(tenant.as_uuid(), load_token(app, tenant).await?);
        }
        let Some(token) = tokens_of[&tenant.as_uuid()].as_ref() else {
            continue;
        };
        let to = Recipient {
            tenant,
            conversation,
            customer_igsid: stored.recipient.clone(),
        };
        match send_part(
            app,
            graph,
            token,
            &to,
            &key,
            &stored.message_key,
            &stored.part,
            &stored.author,
            false,
        )
        .await?
        {
            PartOutcome::Sent(_) | PartOutcome::Already(_) => report.sent += 1,
            PartOutcome::Stop(SendOutcome::RetryLater { .. }) => {
                report.retrying += 1;
                held_back.insert((tenant.as_uuid(), stored.message_key.clone()));
            }
            PartOutcome::Stop(_) => {
                report.failed += 1;
                held_back.insert((tenant.as_uuid(), stored.message_key.clone()));
            }
        }
    }
    Ok(report)
}

async fn failure(
    tx: &deadpool_postgres::Transaction<'_>,
    tenant: TenantId,
    key: &str,
    message_key: &str,
    e: &GraphError,
) -> Result<SendOutcome, SendError> {
    let class = e.class();
    let reason = e.to_string();
    let class_name = format!("{class:?}");
    if e.is_retryable() {
        let after = e.retry_after().unwrap_or(Duration::from_secs(30));
        tx.execute(&tx.prepare_cached("UPDATE outbound_messages SET attempts = attempts + 1, error_class = $3, last_error = $4
              WHERE tenant_id = $1 AND idempotency_key = $2").await?,
            &[&tenant.as_uuid(), &key, &class_name, &reason],
        )
        .await?;
        // This part and the ones after it wait, in order.
        tx.execute(&tx.prepare_cached("UPDATE outbound_messages
                SET next_attempt_at = now() + make_interval(secs => $3) + make_interval(secs => (payload->>'seq')::int / 1000.0)
              WHERE tenant_id = $1 AND payload->>'message_key' = $2 AND status = 'pending' AND mid IS NULL").await?,
            &[&tenant.as_uuid(), &message_key, &after.as_secs_f64()],
        )
        .await?;
        return Ok(SendOutcome::RetryLater { after, reason });
    }
    tx.execute(&tx.prepare_cached("UPDATE outbound_messages SET status = 'failed', attempts = attempts + 1, error_class = $3, last_error = $4, next_attempt_at = NULL
          WHERE tenant_id = $1 AND idempotency_key = $2").await?,
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
