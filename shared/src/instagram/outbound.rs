//! Sending to a customer through the Graph API, exactly once. Every send is first recorded in
//! `outbound_messages` under an idempotency key (a retried agent turn uses the same keys and
//! finds them sent), text is split at 1000 bytes, each account is held to its send rate, and
//! errors are handled by class: an invalid token marks the shop "reconnect needed", a closed
//! window or unavailable user stops, rate limits and temporary errors are retried within the
//! call with short back-off and then left to the sweeper.
//!
//! Instagram's send API has no idempotency key, so a send whose outcome is unknown (a crash
//! or a timeout after the request left) is never simply sent again: it is settled by its echo
//! webhook or by the conversation's latest messages read through the Graph API, and sent
//! again only when that evidence says Instagram does not have it (or, when the conversation
//! cannot be read, after [`UNKNOWN_OUTCOME_BOUND`] without an echo).

use super::graph::{ErrorClass, GraphError, ProductCard, QuickReply, SenderAction};
use super::split::split_message;
use super::tokens;
use crate::agent::crash::CrashPoint;
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
    /// Tests only: a crash point armed for the conversation was reached.
    #[error("stopped at the test crash point {0:?}")]
    Crashed(CrashPoint),
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

/// Tries of one part within one call (the first attempt, short waits for a passing failure,
/// the wait for an unknown outcome's echo) before the sweeper takes over.
const IN_CALL_TRIES: u32 = 4;
/// The longest single wait within a call: a longer `Retry-After` leaves the part to the sweeper.
const IN_CALL_MAX_WAIT: Duration = Duration::from_secs(5);
/// With no evidence either way (the conversation cannot be read back), a send whose outcome
/// is unknown is sent again only after this long without its echo. Echoes arrive within
/// seconds.
pub const UNKNOWN_OUTCOME_BOUND: Duration = Duration::from_secs(120);
/// How far back a conversation's messages are searched for an unknown send (clock skew
/// between us and Instagram included).
const EVIDENCE_SKEW: chrono::Duration = chrono::Duration::minutes(2);

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
        let stored: Vec<serde_json::Value> = parts
            .iter()
            .enumerate()
            .map(|(i, part)| {
                serde_json::to_value(Stored {
                    recipient: to.customer_igsid.clone(),
                    author: author.to_owned(),
                    message_key: key.to_owned(),
                    seq: i as i32 + 1,
                    text: part.text().map(str::to_owned),
                    part: part.clone(),
                })
                .expect("serialisable")
            })
            .collect();
        let insert = tx.prepare_cached("INSERT INTO outbound_messages (tenant_id, conversation_id, idempotency_key, kind, payload)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, idempotency_key) DO NOTHING RETURNING 1").await?;
        // The token and every part's record, sent together (rolled back when not connected).
        let kinds: Vec<&str> = parts.iter().map(Part::kind).collect();
        let recorded = futures::future::try_join_all((0..total).map(|i| {
            let (tx, insert, t, kinds, keys, stored) = (&tx, &insert, &t, &kinds, &keys, &stored);
            async move {
                tx.query_opt(
                    insert,
                    &[t, &to.conversation, &keys[i], &kinds[i], &stored[i]],
                )
                .await
            }
        }));
        let (token, recorded) = tokio::join!(tokens::load(&tx, &app.keys, to.tenant), recorded);
        let Some(token) = token? else {
            return Ok(SendOutcome::NotConnected);
        };
        for (i, row) in recorded?.into_iter().enumerate() {
            fresh[i] = row.is_some();
        }
        tx.commit().await?;
        token
    };
    let mut mids = Vec::new();
    let mut already = 0;
    for (i, part) in parts.iter().enumerate() {
        let mut fresh = fresh[i];
        let mut tries = 0;
        loop {
            tries += 1;
            let sent = send_part(
                app, graph, &token, to, &keys[i], key, part, author, fresh, tries,
            )
            .await?;
            match sent {
                PartOutcome::Sent(mid) => {
                    mids.extend(mid);
                    break;
                }
                PartOutcome::Already(mid) => {
                    already += 1;
                    mids.extend(mid);
                    break;
                }
                // A passing failure or an outcome still unknown: wait a little and look again,
                // a few times, then leave it (and the parts after it) to the sweeper.
                PartOutcome::Retry { outcome, wait } => match wait {
                    Some(w) if tries < IN_CALL_TRIES && w <= IN_CALL_MAX_WAIT => {
                        tokio::time::sleep(w).await;
                        fresh = false;
                    }
                    _ => return Ok(outcome),
                },
                PartOutcome::Stop(outcome) => return Ok(outcome),
            }
        }
    }
    Ok(SendOutcome::Sent { mids, already })
}

enum PartOutcome {
    /// Sent by this attempt.
    Sent(Option<String>),
    /// Sent earlier (or confirmed now by its echo or the conversation).
    Already(Option<String>),
    /// Not (known to be) delivered yet; recorded for the sweeper. `wait`: how long the caller
    /// may wait before trying again within its call (`None`: leave it to the sweeper).
    Retry {
        outcome: SendOutcome,
        wait: Option<Duration>,
    },
    Stop(SendOutcome),
}

/// What the evidence says about a send whose outcome was unknown.
enum Evidence {
    Delivered(String),
    NotDelivered,
    /// Too early to tell: look again after this long.
    NotYet(Duration),
}

/// Sends one recorded part unless it was sent already (or its echo came back), and records
/// the outcome. Shared by the first attempt and the sweeper's retries.
///
/// The part is marked `sending` (with the time) and committed before the Graph call. A part
/// found `sending` later was cut off by a crash or a timeout after the request left: it is
/// settled by evidence — its echo, or the conversation's latest messages — and only sent
/// again when the evidence says Instagram does not have it.
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
    attempt: u32,
) -> Result<PartOutcome, SendError> {
    let t = to.tenant.as_uuid();
    let echo_wait = Duration::from_millis(app.settings.instagram.echo_wait_ms);
    if !fresh {
        let mut c = app.db.app().await?;
        let tx = begin_for_tenant(&mut c, to.tenant).await?;
        let row = tx
            .query_one(&tx.prepare_cached("SELECT status, mid, (extract(epoch FROM now() - attempt_started_at) * 1000)::float8
                  FROM outbound_messages WHERE tenant_id = $1 AND idempotency_key = $2").await?, &[&t, &key])
            .await?;
        tx.commit().await?;
        let (status, mid, age_ms): (String, Option<String>, Option<f64>) =
            (row.get(0), row.get(1), row.get(2));
        match status.as_str() {
            "sent" => return Ok(PartOutcome::Already(mid)),
            "failed" => {
                return Ok(PartOutcome::Stop(SendOutcome::Refused {
                    class: ErrorClass::Permanent,
                    reason: "an earlier attempt under this key was refused".into(),
                }))
            }
            _ => {}
        }
        if let Some(mid) = mid {
            // Its echo came back: delivered.
            confirm(app, to, key, Some(&mid), part, author, "echo").await?;
            return Ok(PartOutcome::Already(Some(mid)));
        }
        if status == "sending" {
            let age = Duration::from_millis(age_ms.unwrap_or(0.0).max(0.0) as u64);
            match settle(app, graph, token, to, part, age, echo_wait).await? {
                Evidence::Delivered(mid) => {
                    tracing::info!(
                        key,
                        "a send of unknown outcome was found delivered; not sent again"
                    );
                    confirm(app, to, key, Some(&mid), part, author, "conversation").await?;
                    return Ok(PartOutcome::Already(Some(mid)));
                }
                Evidence::NotYet(wait) => {
                    let reason = "the outcome of the last attempt is unknown: waiting for its echo";
                    schedule(
                        app,
                        to.tenant,
                        key,
                        message_key,
                        wait,
                        "OutcomeUnknown",
                        reason,
                    )
                    .await?;
                    return Ok(PartOutcome::Retry {
                        outcome: SendOutcome::RetryLater {
                            after: wait,
                            reason: reason.into(),
                        },
                        wait: Some(wait),
                    });
                }
                Evidence::NotDelivered => {
                    tracing::info!(
                        key,
                        "a send of unknown outcome was not delivered; sending it again"
                    );
                }
            }
        }
    }

    app.send_rate.wait_turn(&token.ig_user_id).await;
    // From this commit on, until the answer is recorded, the outcome is unknown.
    {
        let mut c = app.db.app().await?;
        let tx = begin_for_tenant(&mut c, to.tenant).await?;
        let started = tx
            .query_opt(&tx.prepare_cached("UPDATE outbound_messages SET status = 'sending', attempt_started_at = now(), attempts = attempts + 1, next_attempt_at = NULL
                  WHERE tenant_id = $1 AND idempotency_key = $2 AND status IN ('pending', 'sending') AND mid IS NULL
              RETURNING 1").await?, &[&t, &key])
            .await?
            .is_some();
        tx.commit().await?;
        if !started {
            // Settled meanwhile (its echo arrived): look again.
            return Ok(PartOutcome::Retry {
                outcome: SendOutcome::RetryLater {
                    after: Duration::from_secs(1),
                    reason: "settled meanwhile".into(),
                },
                wait: Some(Duration::ZERO),
            });
        }
    }
    if crate::agent::crash::hit(to.conversation, CrashPoint::BeforeGraphCall) {
        return Err(SendError::Crashed(CrashPoint::BeforeGraphCall));
    }
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
    if crate::agent::crash::hit(to.conversation, CrashPoint::AfterGraphCall) {
        return Err(SendError::Crashed(CrashPoint::AfterGraphCall));
    }
    match result {
        Ok(mid) => {
            confirm(app, to, key, mid.as_deref(), part, author, "answer").await?;
            Ok(PartOutcome::Sent(mid))
        }
        // A typing indicator is harmless to repeat; anything else is settled by evidence.
        Err(e) if e.outcome_unknown() && !matches!(part, Part::Action(_)) => {
            tracing::warn!(key, error = %e, "send outcome unknown: settled by its echo or the conversation, not sent again blindly");
            let reason = format!("outcome unknown: {e}");
            schedule(
                app,
                to.tenant,
                key,
                message_key,
                echo_wait,
                "OutcomeUnknown",
                &reason,
            )
            .await?;
            Ok(PartOutcome::Retry {
                outcome: SendOutcome::RetryLater {
                    after: echo_wait,
                    reason,
                },
                wait: Some(echo_wait),
            })
        }
        Err(e) => failure(app, to.tenant, key, message_key, &e, attempt).await,
    }
}

/// Decides, from evidence, whether a send of unknown outcome reached the customer.
async fn settle(
    app: &App,
    graph: &super::graph::GraphClient,
    token: &tokens::StoredToken,
    to: &Recipient,
    part: &Part,
    age: Duration,
    echo_wait: Duration,
) -> Result<Evidence, SendError> {
    if age < echo_wait {
        return Ok(Evidence::NotYet(echo_wait - age));
    }
    let later = |age: Duration| {
        if age >= UNKNOWN_OUTCOME_BOUND {
            Evidence::NotDelivered
        } else {
            Evidence::NotYet((UNKNOWN_OUTCOME_BOUND - age).min(Duration::from_secs(30)))
        }
    };
    let Some(text) = part.text() else {
        // Cards carry no text to look for: their echo, or the bound.
        return Ok(match part {
            Part::Action(_) => Evidence::NotDelivered,
            _ => later(age),
        });
    };
    match find_delivered(app, graph, token, to, text, age).await? {
        Ok(Some(mid)) => Ok(Evidence::Delivered(mid)),
        Ok(None) => Ok(Evidence::NotDelivered),
        Err(e) => {
            tracing::warn!(error = %e, "could not read the conversation to settle a send of unknown outcome");
            Ok(later(age))
        }
    }
}

/// The mid of a message with this text from the account to the customer in the
/// conversation's latest messages, sent since the attempt began and held by no other part
/// or message (the oldest such).
async fn find_delivered(
    app: &App,
    graph: &super::graph::GraphClient,
    token: &tokens::StoredToken,
    to: &Recipient,
    text: &str,
    age: Duration,
) -> Result<Result<Option<String>, GraphError>, SendError> {
    let account = &token.ig_user_id;
    let conversation = match graph
        .conversation_with(account, &token.token, &to.customer_igsid)
        .await
    {
        Ok(Some(c)) => c,
        Ok(None) => return Ok(Ok(None)),
        Err(e) => return Ok(Err(e)),
    };
    let messages = match graph
        .conversation_messages(&conversation.id, &token.token, 25)
        .await
    {
        Ok(m) => m,
        Err(e) => return Ok(Err(e)),
    };
    let since = chrono::Utc::now()
        - chrono::Duration::from_std(age).unwrap_or(chrono::Duration::zero())
        - EVIDENCE_SKEW;
    // Newest first, as Instagram lists them.
    let candidates: Vec<String> = messages
        .into_iter()
        .filter(|m| {
            &m.from_id == account
                && m.to_id == to.customer_igsid
                && m.created_time >= since
                && m.text.as_deref().map(str::trim) == Some(text.trim())
        })
        .map(|m| m.mid)
        .collect();
    if candidates.is_empty() {
        return Ok(Ok(None));
    }
    let mut c = app.db.app().await?;
    let tx = begin_for_tenant(&mut c, to.tenant).await?;
    let row = tx
        .query_opt(
            "SELECT c.mid FROM unnest($1::text[]) WITH ORDINALITY AS c(mid, n)
              WHERE NOT EXISTS (SELECT 1 FROM outbound_messages o WHERE o.tenant_id = $2 AND o.mid = c.mid)
                AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.tenant_id = $2 AND m.mid = c.mid)
              ORDER BY c.n DESC LIMIT 1",
            &[&candidates, &to.tenant.as_uuid()],
        )
        .await?;
    tx.commit().await?;
    Ok(Ok(row.map(|r| r.get(0))))
}

async fn confirm(
    app: &App,
    to: &Recipient,
    key: &str,
    mid: Option<&str>,
    part: &Part,
    author: &str,
    by: &str,
) -> Result<(), SendError> {
    let mut c = app.db.app().await?;
    let tx = begin_for_tenant(&mut c, to.tenant).await?;
    record_sent(
        &tx,
        to.tenant,
        Some(to.conversation),
        key,
        mid,
        part.text(),
        author,
        by,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Marks a part `sent` with its mid and enters it in the conversation's history (so the
/// inbox and the agent's memory see it). A mid belongs to one part only.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn record_sent(
    tx: &deadpool_postgres::Transaction<'_>,
    tenant: TenantId,
    conversation: Option<Uuid>,
    key: &str,
    mid: Option<&str>,
    text: Option<&str>,
    author: &str,
    by: &str,
) -> Result<(), tokio_postgres::Error> {
    let t = tenant.as_uuid();
    // Sent together, and run in this order: the statements are prepared first (a statement
    // not yet prepared on this connection would otherwise let a later one overtake it), so
    // each is sent at its first poll, in the order below.
    let (unbind_sql, sent_sql, history_sql) = tokio::try_join!(
        tx.prepare_cached("UPDATE outbound_messages SET mid = NULL, status = 'sending', confirmed_by = NULL,
                attempt_started_at = coalesce(attempt_started_at, now()), next_attempt_at = now()
          WHERE tenant_id = $1 AND mid = $2 AND idempotency_key <> $3"),
        tx.prepare_cached("UPDATE outbound_messages SET status = 'sent', mid = coalesce($3, mid), sent_at = coalesce(sent_at, now()),
                confirmed_by = coalesce(confirmed_by, $4), error_class = NULL, last_error = NULL, next_attempt_at = NULL
          WHERE tenant_id = $1 AND idempotency_key = $2"),
        // The conversation moves only when the message is new.
        tx.prepare_cached("WITH entered AS (
               INSERT INTO messages (tenant_id, conversation_id, direction, author, mid, text, sent_at)
               VALUES ($1, $2, 'outbound', $3, $4, $5, now())
               ON CONFLICT (tenant_id, mid) WHERE mid IS NOT NULL DO NOTHING RETURNING 1)
             UPDATE conversations SET last_message_at = now(), updated_at = now()
              WHERE id = $2 AND EXISTS (SELECT 1 FROM entered)"),
    )?;
    // Instagram's answer names the part it delivered; an echo of the same text bound to
    // another part is taken back from it first (that part is settled again).
    let unbind = async {
        if let Some(mid) = mid {
            tx.execute(&unbind_sql, &[&t, &mid, &key]).await?;
        }
        Ok::<_, tokio_postgres::Error>(())
    };
    let sent = async { tx.execute(&sent_sql, &[&t, &key, &mid, &by]).await };
    let history = async {
        if let (Some(mid), Some(text), Some(conversation)) = (mid, text, conversation) {
            tx.execute(&history_sql, &[&t, &conversation, &author, &mid, &text])
                .await?;
        }
        Ok(())
    };
    tokio::try_join!(unbind, sent, history)?;
    Ok(())
}

/// This part and the ones after it wait until `after`, in order.
async fn schedule(
    app: &App,
    tenant: TenantId,
    key: &str,
    message_key: &str,
    after: Duration,
    class_name: &str,
    reason: &str,
) -> Result<(), SendError> {
    let mut c = app.db.app().await?;
    let tx = begin_for_tenant(&mut c, tenant).await?;
    schedule_in(&tx, tenant, key, message_key, after, class_name, reason).await?;
    tx.commit().await?;
    Ok(())
}

async fn schedule_in(
    tx: &deadpool_postgres::Transaction<'_>,
    tenant: TenantId,
    key: &str,
    message_key: &str,
    after: Duration,
    class_name: &str,
    reason: &str,
) -> Result<(), tokio_postgres::Error> {
    let t = tenant.as_uuid();
    tx.execute(
        &tx.prepare_cached(
            "UPDATE outbound_messages SET error_class = $3, last_error = $4
          WHERE tenant_id = $1 AND idempotency_key = $2",
        )
        .await?,
        &[&t, &key, &class_name, &reason],
    )
    .await?;
    tx.execute(&tx.prepare_cached("UPDATE outbound_messages
            SET next_attempt_at = now() + make_interval(secs => $3) + make_interval(secs => (payload->>'seq')::int / 1000.0)
          WHERE tenant_id = $1 AND payload->>'message_key' = $2 AND status IN ('pending', 'sending') AND mid IS NULL").await?,
        &[&t, &message_key, &after.as_secs_f64()],
    )
    .await?;
    Ok(())
}

/// How often the sweeper tries a send before giving it up.
pub const MAX_ATTEMPTS: i32 = 8;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct RetryReport {
    /// Parts this sweep sent through the Graph API.
    pub sent: usize,
    /// Parts found delivered (by their echo or in the conversation), not sent again.
    pub confirmed: usize,
    pub retrying: usize,
    pub failed: usize,
}

/// The sweeper's part: sends that were rate-limited, hit a temporary error, or whose outcome
/// is unknown go again when due — in order within each message, one conversation at a time
/// (the conversation's turn lock), through the same code as the first attempt.
pub async fn retry_due(app: &App, batch: i64) -> Result<RetryReport, SendError> {
    let mut report = RetryReport::default();
    let Some(graph) = app.graph.as_ref() else {
        return Ok(report);
    };
    // An attempt older than the Graph timeout that is still `sending` lost its sender.
    let abandoned_after = app.settings.instagram.timeout_secs as f64 + 2.0;
    let due = {
        let c = app.db.platform().await?;
        c.query(&c.prepare_cached("SELECT o.tenant_id, o.conversation_id, o.idempotency_key, o.payload, o.attempts FROM outbound_messages o
              WHERE ((o.status IN ('pending', 'sending') AND o.next_attempt_at <= now())
                  OR (o.status = 'sending' AND o.next_attempt_at IS NULL AND o.attempt_started_at < now() - make_interval(secs => $2))
                  OR (o.status = 'pending' AND o.next_attempt_at IS NULL AND o.created_at < now() - interval '2 minutes'
                      AND o.created_at > now() - interval '24 hours'))
              ORDER BY coalesce(o.next_attempt_at, o.attempt_started_at, o.created_at), (o.payload->>'seq')::int LIMIT $1").await?,
            &[&batch, &abandoned_after],
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
                  WHERE tenant_id = $1 AND payload->>'message_key' = $2 AND status IN ('pending', 'sending') AND mid IS NULL").await?,
                &[&tenant.as_uuid(), &stored.message_key],
            )
            .await?;
            tx.commit().await?;
            report.failed += 1;
            held_back.insert((tenant.as_uuid(), stored.message_key.clone()));
            continue;
        }
        // Parts go in order: never one whose earlier part is not sent yet.
        if stored.seq > 1 {
            let c = app.db.platform().await?;
            let earlier = c
                .query_one(&c.prepare_cached("SELECT count(*) FILTER (WHERE status <> 'sent'), count(*) FILTER (WHERE status = 'failed')
                      FROM outbound_messages WHERE tenant_id = $1 AND payload->>'message_key' = $2
                      AND (payload->>'seq')::int < $3").await?,
                    &[&tenant.as_uuid(), &stored.message_key, &stored.seq])
                .await?;
            let (earlier_unsent, earlier_failed): (i64, i64) = (earlier.get(0), earlier.get(1));
            if earlier_failed > 0 {
                // Left pending by earlier versions after a refused part: not sent either.
                let mut a = app.db.app().await?;
                let tx = begin_for_tenant(&mut a, tenant).await?;
                tx.execute(&tx.prepare_cached("UPDATE outbound_messages SET status = 'failed', next_attempt_at = NULL,
                        last_error = 'not sent: an earlier part was refused'
                      WHERE tenant_id = $1 AND idempotency_key = $2 AND status IN ('pending', 'sending') AND mid IS NULL").await?,
                    &[&tenant.as_uuid(), &key])
                .await?;
                tx.commit().await?;
                report.failed += 1;
                continue;
            }
            if earlier_unsent > 0 {
                held_back.insert((tenant.as_uuid(), stored.message_key.clone()));
                continue;
            }
        }
        if !tokens_of.contains_key(&tenant.as_uuid()) {
            tokens_of.insert(tenant.as_uuid(), load_token(app, tenant).await?);
        }
        let Some(token) = tokens_of[&tenant.as_uuid()].as_ref() else {
            continue;
        };
        // Not while a turn of this conversation runs (it may be sending this very part).
        let mut lock_conn = app.db.app().await?;
        let lock = lock_conn.transaction().await.map_err(DbError::from)?;
        let free: bool = lock
            .query_one(
                &lock
                    .prepare_cached(
                        "SELECT pg_try_advisory_xact_lock(hashtextextended('turn:' || $1::text, 0))",
                    )
                    .await?,
                &[&conversation.to_string()],
            )
            .await?
            .get(0);
        if !free {
            held_back.insert((tenant.as_uuid(), stored.message_key.clone()));
            continue;
        }
        let to = Recipient {
            tenant,
            conversation,
            customer_igsid: stored.recipient.clone(),
        };
        let outcome = send_part(
            app,
            graph,
            token,
            &to,
            &key,
            &stored.message_key,
            &stored.part,
            &stored.author,
            false,
            IN_CALL_TRIES,
        )
        .await;
        let _ = lock.rollback().await;
        match outcome? {
            PartOutcome::Sent(_) => report.sent += 1,
            PartOutcome::Already(_) => report.confirmed += 1,
            PartOutcome::Retry { .. } => {
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

/// Records a failure Instagram answered (or a connection that was never made): Instagram does
/// not have the part. Passing failures wait (this part and the ones after it, in order);
/// the rest stop the message.
async fn failure(
    app: &App,
    tenant: TenantId,
    key: &str,
    message_key: &str,
    e: &GraphError,
    attempt: u32,
) -> Result<PartOutcome, SendError> {
    let class = e.class();
    let reason = e.to_string();
    let class_name = format!("{class:?}");
    let mut c = app.db.app().await?;
    let tx = begin_for_tenant(&mut c, tenant).await?;
    let t = tenant.as_uuid();
    if e.is_retryable() {
        let after = e.retry_after().unwrap_or(Duration::from_secs(30));
        tx.execute(&tx.prepare_cached("UPDATE outbound_messages SET status = 'pending' WHERE tenant_id = $1 AND idempotency_key = $2").await?,
            &[&t, &key],
        )
        .await?;
        schedule_in(&tx, tenant, key, message_key, after, &class_name, &reason).await?;
        tx.commit().await?;
        // Within the call: short back-off (0.5 s, 1 s, 2 s…), or Instagram's Retry-After when
        // it is short; a rate limit without one waits for the sweeper.
        let backoff = Duration::from_millis(500 * (1u64 << attempt.saturating_sub(1).min(4)));
        let wait = match e.retry_after() {
            Some(h) if h <= IN_CALL_MAX_WAIT => Some(h.max(backoff)),
            Some(_) => None,
            None => Some(backoff),
        };
        return Ok(PartOutcome::Retry {
            outcome: SendOutcome::RetryLater { after, reason },
            wait,
        });
    }
    tx.execute(&tx.prepare_cached("UPDATE outbound_messages SET status = 'failed', error_class = $3, last_error = $4, next_attempt_at = NULL
          WHERE tenant_id = $1 AND idempotency_key = $2").await?,
        &[&t, &key, &class_name, &reason],
    )
    .await?;
    // The parts after a refused one are not sent either (a reply with a hole in it).
    tx.execute(&tx.prepare_cached("UPDATE outbound_messages SET status = 'failed', error_class = $3, last_error = 'not sent: an earlier part was refused', next_attempt_at = NULL
          WHERE tenant_id = $1 AND payload->>'message_key' = $2 AND status = 'pending' AND mid IS NULL").await?,
        &[&t, &message_key, &class_name],
    )
    .await?;
    if class == ErrorClass::InvalidToken {
        tenants::mark_reconnect_needed(&tx, tenant, "Instagram rejected the access token").await?;
    }
    tx.commit().await?;
    Ok(PartOutcome::Stop(SendOutcome::Refused { class, reason }))
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
