//! Storing what a webhook delivered: each message once (unique per shop and `mid`), one queue
//! message per conversation that now has unanswered customer messages, echoes told apart
//! (our own send vs a human replying from the Instagram app), and the rest of the event
//! kinds recorded. A shop's part of a batch is one transaction, so Meta's retries and
//! duplicate deliveries change nothing.
//!
//! One bad event never fails a batch: when the shop's part cannot be stored at once, each
//! event is stored on its own, and one that still fails is kept raw (in `inbound_events`,
//! kind `failed`, with its error, for replay) with an alert, while the others are stored and
//! answered. Only a database that cannot store anything makes the batch fail (Meta delivers
//! it again).

use super::events::{EventKind, EventSource, InstagramEvent, MessageEvent, WebhookBatch};
use crate::app::App;
use crate::db::{begin_for_tenant, DbError};
use crate::queue::{enqueue_in, QueueMessage};
use crate::tenants::{self, TenantId};
use chrono::{DateTime, TimeZone, Utc};
use deadpool_postgres::Transaction;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct IngestReport {
    pub stored_messages: usize,
    pub duplicate_messages: usize,
    pub queued_conversations: usize,
    pub echoes_of_our_sends: usize,
    pub human_takeovers: usize,
    pub other_events: usize,
    pub unknown_accounts: Vec<String>,
    /// Events that could not be processed: kept raw with their error and an alert.
    pub failed_events: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Database(#[from] DbError),
    #[error("queue: {0}")]
    Queue(String),
}

impl From<tokio_postgres::Error> for IngestError {
    fn from(e: tokio_postgres::Error) -> Self {
        IngestError::Database(e.into())
    }
}

/// What the agent's queue message carries.
/// The webhook's trace context goes with it (see [`crate::trace`]).
pub fn turn_message(tenant: TenantId, conversation: Uuid, latest_mid: &str) -> QueueMessage {
    let mut body = json!({ "kind": "conversation_turn", "tenant_id": tenant, "conversation_id": conversation });
    if let Some(t) = crate::trace::current() {
        body["traceparent"] = json!(t.as_str());
    }
    QueueMessage {
        message_id: format!("turn:{conversation}:{latest_mid}"),
        body,
    }
}

pub async fn ingest(app: &App, batch: &WebhookBatch) -> Result<IngestReport, IngestError> {
    let mut report = IngestReport::default();
    // Events per account, in delivery order.
    let mut by_account: BTreeMap<&str, Vec<&InstagramEvent>> = BTreeMap::new();
    for entry in &batch.entries {
        for skipped in &entry.skipped {
            tracing::info!(account = %entry.account_id, reason = %skipped.reason, "skipped a webhook item");
        }
        if entry.account_id.is_empty() {
            continue;
        }
        by_account
            .entry(entry.account_id.as_str())
            .or_default()
            .extend(entry.events.iter());
    }
    for (account, events) in by_account {
        let Some(tenant) = tenants::for_instagram_account(&app.db, account).await? else {
            tracing::warn!(
                account,
                events = events.len(),
                "webhook for an Instagram account no shop has connected; ignored"
            );
            report.unknown_accounts.push(account.to_owned());
            continue;
        };
        let queued = ingest_for_tenant(app, tenant, account, &events, &mut report).await?;
        if app.local_queue.is_none() {
            // Service Bus: sent after the commit. If a send fails we answer non-2xx, Meta
            // delivers again, and the still-unanswered messages are queued again (the
            // message id makes Service Bus drop the duplicate).
            for m in &queued {
                app.queue
                    .send(m)
                    .await
                    .map_err(|e| IngestError::Queue(e.to_string()))?;
            }
        }
        report.queued_conversations += queued.len();
    }
    Ok(report)
}

struct CustomerMessage<'a> {
    customer: &'a str,
    mid: String,
    text: Option<String>,
    attachments: serde_json::Value,
    reply_to: Option<serde_json::Value>,
    sent_at: DateTime<Utc>,
    /// From `standby[]`: another app owns the thread; stored, never answered.
    standby: bool,
}

fn at(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or_else(Utc::now)
}

fn attachments_json(m: &MessageEvent) -> serde_json::Value {
    serde_json::Value::Array(
        m.attachments
            .iter()
            .map(|a| json!({ "type": a.kind, "url": a.url }))
            .collect(),
    )
}

fn reply_json(m: &MessageEvent) -> Option<serde_json::Value> {
    let mut o = serde_json::Map::new();
    if let Some(mid) = &m.reply_to_mid {
        o.insert("mid".into(), json!(mid));
    }
    if let Some(story) = &m.reply_to_story {
        o.insert("story".into(), json!({ "id": story.id, "url": story.url }));
    }
    if let Some(p) = &m.quick_reply_payload {
        o.insert("quick_reply_payload".into(), json!(p));
    }
    if let Some(r) = &m.referral {
        o.insert("referral".into(), r.clone());
    }
    if m.is_unsupported {
        o.insert("unsupported".into(), json!(true));
    }
    (!o.is_empty()).then_some(serde_json::Value::Object(o))
}

/// Whether a failure says something about the event (it will fail the same way every time)
/// rather than about the database being unavailable right now.
fn is_poison(e: &IngestError) -> bool {
    let IngestError::Database(DbError::Postgres(e)) = e else {
        return false;
    };
    let Some(code) = e.code() else {
        return false;
    };
    let class = &code.code()[..2];
    !matches!(class, "08" | "40" | "53" | "57" | "58" | "55" | "XX")
}

async fn ingest_for_tenant(
    app: &App,
    tenant: TenantId,
    account: &str,
    events: &[&InstagramEvent],
    report: &mut IngestReport,
) -> Result<Vec<QueueMessage>, IngestError> {
    let mut c = app.db.app().await?;
    let mut tx = begin_for_tenant(&mut c, tenant).await?;
    let mut whole = report.clone();
    let first = {
        let sp = tx.savepoint("batch").await?;
        match store_events(app, &sp, tenant, account, events, &mut whole).await {
            Ok(queued) => {
                sp.commit().await?;
                Ok(queued)
            }
            Err(e) => {
                sp.rollback().await?;
                Err(e)
            }
        }
    };
    let queued = match first {
        Ok(queued) => {
            *report = whole;
            queued
        }
        Err(e) if is_poison(&e) => {
            tracing::warn!(tenant = %tenant, error = %e, "a webhook batch failed as a whole; storing its events one by one");
            let mut queued = Vec::new();
            for (i, event) in events.iter().enumerate() {
                let mut one = report.clone();
                let sp = tx.savepoint(format!("event_{i}")).await?;
                match store_events(app, &sp, tenant, account, &[*event], &mut one).await {
                    Ok(q) => {
                        sp.commit().await?;
                        *report = one;
                        queued.extend(q);
                    }
                    Err(e) if is_poison(&e) => {
                        sp.rollback().await?;
                        record_failed(&tx, tenant, event, &e).await?;
                        report.failed_events += 1;
                    }
                    Err(e) => return Err(e),
                }
            }
            queued
        }
        Err(e) => return Err(e),
    };
    tx.commit().await.map_err(DbError::from)?;
    Ok(queued)
}

/// Keeps an event that cannot be processed, raw and with its error, and tells the shop.
async fn record_failed(
    tx: &Transaction<'_>,
    tenant: TenantId,
    e: &InstagramEvent,
    error: &IngestError,
) -> Result<(), IngestError> {
    use sha2::Digest;
    // As JSON text: a NUL or other value Postgres refuses in jsonb stays escaped.
    let raw = serde_json::to_string(e).unwrap_or_default();
    let digest = sha2::Sha256::digest(raw.as_bytes());
    let key = format!(
        "failed:{}",
        digest[..12]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let error = match error {
        IngestError::Database(DbError::Postgres(e)) => match e.as_db_error() {
            Some(db) => format!("{}: {}", db.code().code(), db.message()),
            None => e.to_string(),
        },
        other => other.to_string(),
    };
    tracing::error!(tenant = %tenant, key, error, "a webhook event could not be processed; kept for replay");
    tx.execute(
        "INSERT INTO inbound_events (tenant_id, kind, dedupe_key, payload) VALUES ($1, 'failed', $2, $3)
         ON CONFLICT (tenant_id, dedupe_key) DO NOTHING",
        &[&tenant.as_uuid(), &key, &json!({ "event": raw, "error": error })],
    )
    .await?;
    crate::alerts::raise_said(
        tx,
        Some(tenant),
        "webhook_event_failed",
        crate::alerts::Severity::Warning,
        &crate::alerts::Said::new(
            "webhook_event_failed",
            json!({}),
            "An Instagram event could not be processed; it is kept for replay and the rest of its batch was stored.",
        ),
        Some("webhook_event_failed"),
    )
    .await?;
    Ok(())
}

/// Stores events of one shop in `tx` (see the module docs).
async fn store_events(
    app: &App,
    tx: &Transaction<'_>,
    tenant: TenantId,
    account: &str,
    events: &[&InstagramEvent],
    report: &mut IngestReport,
) -> Result<Vec<QueueMessage>, IngestError> {
    let mut customer_messages = Vec::new();
    let mut others = Vec::new();
    for e in events {
        match &e.kind {
            EventKind::Message(m) if e.sender_id != account => {
                customer_messages.push(CustomerMessage {
                    customer: &e.sender_id,
                    mid: m.mid.clone(),
                    text: m.text.clone(),
                    attachments: attachments_json(m),
                    reply_to: reply_json(m),
                    sent_at: at(e.timestamp_ms),
                    standby: e.source == EventSource::Standby,
                })
            }
            EventKind::Postback {
                mid,
                title,
                payload,
            } if e.sender_id != account => customer_messages.push(CustomerMessage {
                customer: &e.sender_id,
                mid: mid
                    .clone()
                    .unwrap_or_else(|| format!("postback:{}:{}", e.sender_id, e.timestamp_ms)),
                text: title.clone().or_else(|| payload.clone()),
                attachments: json!([]),
                reply_to: Some(json!({ "postback_payload": payload })),
                sent_at: at(e.timestamp_ms),
                standby: e.source == EventSource::Standby,
            }),
            _ => others.push(*e),
        }
    }

    let t = tenant.as_uuid();

    // Conversations of every customer in the batch.
    let mut customers: Vec<&str> = customer_messages.iter().map(|m| m.customer).collect();
    for e in &others {
        customers.push(customer_of(e, account));
    }
    customers.sort_unstable();
    customers.dedup();
    let conversations = conversations_for(tx, t, &customers).await?;

    // Customer messages, once each.
    if !customer_messages.is_empty() {
        let conv_ids: Vec<Uuid> = customer_messages
            .iter()
            .map(|m| conversations[m.customer].0)
            .collect();
        let mids: Vec<&str> = customer_messages.iter().map(|m| m.mid.as_str()).collect();
        let texts: Vec<Option<&str>> = customer_messages
            .iter()
            .map(|m| m.text.as_deref())
            .collect();
        let atts: Vec<String> = customer_messages
            .iter()
            .map(|m| m.attachments.to_string())
            .collect();
        let replies: Vec<Option<String>> = customer_messages
            .iter()
            .map(|m| m.reply_to.as_ref().map(|r| r.to_string()))
            .collect();
        let times: Vec<DateTime<Utc>> = customer_messages.iter().map(|m| m.sent_at).collect();
        let standby: Vec<bool> = customer_messages.iter().map(|m| m.standby).collect();
        let inserted = tx
            .query(
                "INSERT INTO messages (tenant_id, conversation_id, direction, author, mid, text, attachments, reply_to, sent_at, standby)
                 SELECT $1, c, 'inbound', 'customer', m, t, a::jsonb, r::jsonb, s, sb
                   FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::bool[]) AS x(c, m, t, a, r, s, sb)
                 ON CONFLICT (tenant_id, mid) WHERE mid IS NOT NULL DO NOTHING
                 RETURNING conversation_id, sent_at",
                &[&t, &conv_ids, &mids, &texts, &atts, &replies, &times, &standby],
            )
            .await?;
        report.stored_messages += inserted.len();
        report.duplicate_messages += customer_messages.len() - inserted.len();
        let mut touched: HashMap<Uuid, (DateTime<Utc>, i32)> = HashMap::new();
        for r in &inserted {
            let e = touched.entry(r.get(0)).or_insert((r.get(1), 0));
            e.0 = e.0.max(r.get(1));
            e.1 += 1;
        }
        if !touched.is_empty() {
            let ids: Vec<Uuid> = touched.keys().copied().collect();
            let last: Vec<DateTime<Utc>> = ids.iter().map(|i| touched[i].0).collect();
            let counts: Vec<i32> = ids.iter().map(|i| touched[i].1).collect();
            tx.execute(
                "UPDATE conversations c
                    SET last_customer_message_at = greatest(c.last_customer_message_at, x.s),
                        last_message_at = greatest(c.last_message_at, x.s),
                        unread_count = c.unread_count + x.n,
                        updated_at = now()
                   FROM unnest($1::uuid[], $2::timestamptz[], $3::int[]) AS x(id, s, n)
                  WHERE c.id = x.id",
                &[&ids, &last, &counts],
            )
            .await?;
        }
    }

    for e in &others {
        handle_other(tx, tenant, account, e, &conversations, report).await?;
    }

    // One turn per conversation that has customer messages from this batch still unanswered
    // (new ones, or ones a failed earlier delivery stored but never queued).
    let mut queued = Vec::new();
    if !customer_messages.is_empty() {
        let mids: Vec<&str> = customer_messages.iter().map(|m| m.mid.as_str()).collect();
        let rows = tx
            .query(
                "SELECT DISTINCT ON (m.conversation_id) m.conversation_id, m.mid
                   FROM messages m JOIN conversations c ON c.id = m.conversation_id
                  WHERE m.tenant_id = $1 AND m.mid = ANY($2) AND m.direction = 'inbound'
                    AND m.answered_by_turn IS NULL AND NOT m.standby AND c.mode = 'ai'
                  ORDER BY m.conversation_id, m.sent_at DESC, m.mid DESC",
                &[&t, &mids],
            )
            .await?;
        for r in rows {
            let message = turn_message(tenant, r.get(0), r.get::<_, &str>(1));
            if app.local_queue.is_some() {
                enqueue_in(tx, &app.settings.queue.name, &message)
                    .await
                    .map_err(|e| IngestError::Queue(e.to_string()))?;
            }
            queued.push(message);
        }
    }
    Ok(queued)
}

/// The customer's side of an event: the sender, unless the account itself sent it.
fn customer_of<'a>(e: &'a InstagramEvent, account: &str) -> &'a str {
    if e.sender_id == account {
        &e.recipient_id
    } else {
        &e.sender_id
    }
}

/// `(conversation id, mode)` for each customer, creating conversations as needed.
async fn conversations_for(
    tx: &Transaction<'_>,
    tenant: Uuid,
    customers: &[&str],
) -> Result<HashMap<String, (Uuid, String)>, IngestError> {
    if customers.is_empty() {
        return Ok(HashMap::new());
    }
    tx.execute(
        "INSERT INTO conversations (tenant_id, kind, customer_ig_id)
         SELECT $1, 'instagram', unnest($2::text[])
         ON CONFLICT (tenant_id, kind, customer_ig_id) DO NOTHING",
        &[&tenant, &customers],
    )
    .await?;
    let rows = tx
        .query(
            "SELECT customer_ig_id, id, mode FROM conversations
              WHERE tenant_id = $1 AND kind = 'instagram' AND customer_ig_id = ANY($2)",
            &[&tenant, &customers],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2))))
        .collect())
}

async fn handle_other(
    tx: &Transaction<'_>,
    tenant: TenantId,
    account: &str,
    e: &InstagramEvent,
    conversations: &HashMap<String, (Uuid, String)>,
    report: &mut IngestReport,
) -> Result<(), IngestError> {
    let t = tenant.as_uuid();
    let customer = customer_of(e, account);
    let conversation = conversations.get(customer).map(|c| c.0);
    match &e.kind {
        EventKind::Echo(m) | EventKind::Message(m) => {
            // Sent by the account: ours (see `echo_of_our_send`), or a human's.
            let ours = echo_of_our_send(tx, tenant, conversation, m, e.timestamp_ms).await?;
            if ours {
                report.echoes_of_our_sends += 1;
                return Ok(());
            }
            let Some(conversation) = conversation else {
                return Ok(());
            };
            let inserted = tx
                .execute(
                    "INSERT INTO messages (tenant_id, conversation_id, direction, author, mid, text, attachments, sent_at)
                     VALUES ($1, $2, 'outbound', 'merchant_app', $3, $4, $5, $6)
                     ON CONFLICT (tenant_id, mid) WHERE mid IS NOT NULL DO NOTHING",
                    &[&t, &conversation, &m.mid, &m.text, &attachments_json(m), &at(e.timestamp_ms)],
                )
                .await?;
            if inserted == 1 {
                let switched = tx
                    .execute(
                        "UPDATE conversations
                            SET mode = 'human', mode_changed_at = now(),
                                mode_reason_key = NULL, mode_reason_params = '{}', mode_reason = 'The shop replied from the Instagram app', last_message_at = greatest(last_message_at, $2),
                                updated_at = now()
                          WHERE id = $1 AND mode = 'ai'",
                        &[&conversation, &at(e.timestamp_ms)],
                    )
                    .await?;
                crate::conversations::events::answered_from_instagram_app(
                    tx,
                    conversation,
                    switched == 1,
                    at(e.timestamp_ms),
                )
                .await?;
                if switched == 1 {
                    report.human_takeovers += 1;
                    tracing::info!(tenant = %tenant, conversation = %conversation, "a human replied from Instagram: AI paused for this conversation");
                }
            }
        }
        EventKind::Deleted { mid } => {
            tx.execute(
                "UPDATE messages SET deleted_at = now(), text = NULL, attachments = '[]'::jsonb
                  WHERE tenant_id = $1 AND mid = $2 AND deleted_at IS NULL",
                &[&t, mid],
            )
            .await?;
            record(tx, t, conversation, "deleted", &format!("deleted:{mid}"), e).await?;
            report.other_events += 1;
        }
        EventKind::Edit {
            mid,
            text,
            num_edit,
        } => {
            tx.execute(
                "UPDATE messages SET text = $3, edited_at = now() WHERE tenant_id = $1 AND mid = $2",
                &[&t, mid, text],
            )
            .await?;
            record(
                tx,
                t,
                conversation,
                "edit",
                &format!("edit:{mid}:{}", num_edit.unwrap_or(0)),
                e,
            )
            .await?;
            report.other_events += 1;
        }
        EventKind::Read { mid, watermark } => {
            let key = format!(
                "read:{}:{}",
                e.sender_id,
                mid.clone()
                    .unwrap_or_else(|| watermark.unwrap_or(0).to_string())
            );
            record(tx, t, conversation, "read", &key, e).await?;
            report.other_events += 1;
        }
        EventKind::Reaction {
            mid,
            action,
            reaction,
            emoji,
        } => {
            let key = format!(
                "reaction:{}:{mid}:{action}:{}:{}",
                e.sender_id,
                reaction.as_deref().or(emoji.as_deref()).unwrap_or(""),
                e.timestamp_ms
            );
            record(tx, t, conversation, "reaction", &key, e).await?;
            report.other_events += 1;
        }
        EventKind::Referral { .. } => {
            record(
                tx,
                t,
                conversation,
                "referral",
                &format!("referral:{}:{}", e.sender_id, e.timestamp_ms),
                e,
            )
            .await?;
            report.other_events += 1;
        }
        EventKind::Postback { .. } => {
            // A postback "sent" by the account itself: nothing to answer.
            record(
                tx,
                t,
                conversation,
                "postback",
                &format!("postback:{}:{}", e.sender_id, e.timestamp_ms),
                e,
            )
            .await?;
            report.other_events += 1;
        }
    }
    Ok(())
}

/// Whether an echo is of our own send, settling that send: by the mid Instagram returned
/// when we have it; else by recipient, text and the attempt's time, only among parts whose
/// outcome is unknown (`sending`, no mid: an echo may beat the send call's answer, or the
/// answer never came). A mid is bound to one part only (a unique index).
async fn echo_of_our_send(
    tx: &Transaction<'_>,
    tenant: TenantId,
    conversation: Option<Uuid>,
    m: &MessageEvent,
    timestamp_ms: i64,
) -> Result<bool, IngestError> {
    let t = tenant.as_uuid();
    let settle = |key: String, author: Option<String>, text: Option<String>| async move {
        crate::instagram::outbound::record_sent(
            tx,
            tenant,
            conversation,
            &key,
            Some(&m.mid),
            text.as_deref(),
            author.as_deref().unwrap_or("ai"),
            "echo",
        )
        .await
    };
    if let Some(r) = tx
        .query_opt(
            "SELECT idempotency_key, status, payload->>'author', payload->>'text' FROM outbound_messages WHERE tenant_id = $1 AND mid = $2",
            &[&t, &m.mid],
        )
        .await?
    {
        if r.get::<_, &str>(1) != "sent" {
            settle(r.get(0), r.get(2), r.get(3)).await?;
        }
        return Ok(true);
    }
    if let (Some(conversation), Some(text)) = (conversation, &m.text) {
        let found = tx
            .query_opt(
                "SELECT idempotency_key, payload->>'author', payload->>'text' FROM outbound_messages
                  WHERE tenant_id = $1 AND conversation_id = $2 AND status = 'sending' AND mid IS NULL
                    AND kind IN ('text', 'quick_replies') AND payload->>'text' = $3
                    AND attempt_started_at BETWEEN $4::timestamptz - interval '10 minutes' AND $4::timestamptz + interval '2 minutes'
                  ORDER BY attempt_started_at, (payload->>'seq')::int LIMIT 1",
                &[&t, &conversation, text, &at(timestamp_ms)],
            )
            .await?;
        if let Some(r) = found {
            settle(r.get(0), r.get(1), r.get(2)).await?;
            return Ok(true);
        }
    }
    Ok(tx
        .query_opt(
            "SELECT 1 FROM messages WHERE tenant_id = $1 AND mid = $2 AND author IN ('ai', 'merchant')",
            &[&t, &m.mid],
        )
        .await?
        .is_some())
}

async fn record(
    tx: &Transaction<'_>,
    tenant: Uuid,
    conversation: Option<Uuid>,
    kind: &str,
    dedupe_key: &str,
    e: &InstagramEvent,
) -> Result<(), IngestError> {
    let payload = serde_json::to_value(e).unwrap_or_default();
    tx.execute(
        "INSERT INTO inbound_events (tenant_id, conversation_id, kind, dedupe_key, payload) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (tenant_id, dedupe_key) DO NOTHING",
        &[&tenant, &conversation, &kind, &dedupe_key, &payload],
    )
    .await?;
    Ok(())
}
