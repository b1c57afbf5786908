//! The AI agent's turn, run for each `conversation_turn` queue message (ARCHITECTURE.md, "The
//! agent turn"):
//!
//! 1. Wait for the conversation to be quiet (customers send bursts), then take the
//!    conversation's lock: one turn at a time per conversation. Every customer message still
//!    unanswered is answered by this turn; one arriving mid-turn is left for the next.
//! 2. Licence, human mode and Meta's 24-hour window decide whether the AI answers at all.
//! 3. The prompt: system prompt, shop, last 20 messages, fresh context, the new messages.
//! 4. The model with tools, at most `AGENT_MAX_TOOL_ROUNDS` rounds; every call's usage is
//!    recorded.
//! 5. The reply is recorded on the turn before it is sent, and sent under a key derived from
//!    the turn: a turn that crashed is resumed under the same identity, so redelivery never
//!    sends a second reply or places a second order.
//! 6. A model that stays unavailable gets the customer a polite fallback, a human, and the
//!    merchant an alert.

pub mod context;
pub mod crash;
pub mod licence;
mod tools;

pub use context::{
    assemble, closed_now, fresh_message, shop_message, tools as tool_definitions, Fresh, Pending,
    Shop, FUNCTION_SCHEMA, INLINE_CATALOG_MAX, MEMORY_MESSAGES, SYSTEM_PROMPT,
};
pub use tools::Channel;

use crate::alerts::{self, Said, Severity};
use crate::app::App;
use crate::catalog::CatalogItem;
use crate::db::{begin_for_tenant, DbError};
use crate::instagram::outbound::{self, Recipient, SendOutcome};
use crate::llm::usage::{self, CallKind, UsageEvent};
use crate::llm::{ChatMessage, ChatRequest, LlmClient, LlmError, Role};
use crate::search::{HitKind, SearchQuery};
use crate::tenants::TenantId;
use chrono::{Duration as ChronoDuration, Utc};
use context::Conversation;
use crash::CrashPoint;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::time::Duration;
use uuid::Uuid;

/// What the customer gets when the model cannot answer: an apology and a person.
pub const FALLBACK_REPLY: &str =
    "يا هلا! آسفين، صار عنا عطل بسيط. حولنا رسالتك لحدا من الفريق ورح يرد عليك بأقرب وقت 🙏";
/// What the customer gets on a handoff when the model did not say it itself.
pub const HANDOFF_REPLY: &str = "تمام، حولتك لحدا من الفريق ورح يرد عليك بأقرب وقت.";

/// Longest the lock on a conversation is waited for before the message is handed back to
/// the queue.
const LOCK_WAIT: &str = "120s";

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error(transparent)]
    Database(#[from] DbError),
    #[error("search is unavailable: {0}")]
    Search(String),
    #[error("sending failed: {0}")]
    Send(String),
    #[error("stopped at the test crash point {0:?}")]
    Crashed(CrashPoint),
    #[error("{0}")]
    Internal(String),
    /// Redelivery cannot fix it: the queue dead-letters it after the maximum deliveries, where
    /// an operator can look at it.
    #[error("the queue message is not a conversation turn the agent understands: {0}")]
    NotUnderstood(String),
}

impl From<crate::catalog::CatalogError> for AgentError {
    fn from(e: crate::catalog::CatalogError) -> Self {
        match e {
            crate::catalog::CatalogError::Database(e) => AgentError::Database(e.into()),
            other => AgentError::Internal(other.to_string()),
        }
    }
}

impl From<tokio_postgres::Error> for AgentError {
    fn from(e: tokio_postgres::Error) -> Self {
        AgentError::Database(e.into())
    }
}

/// One tool call as recorded on the turn (`agent_turns.tool_calls`) and shown in the test chat.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ToolSummary {
    pub name: String,
    /// The arguments the model sent (as it sent them when they were not JSON).
    #[schema(value_type = Object)]
    pub arguments: Value,
    pub ok: bool,
    pub summary: String,
    /// Told to later turns.
    #[serde(default)]
    pub remember: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TurnStatus {
    Replied,
    HandedOff,
    Skipped,
    Failed,
}

impl TurnStatus {
    fn as_str(&self) -> &'static str {
        match self {
            TurnStatus::Replied => "replied",
            TurnStatus::HandedOff => "handed_off",
            TurnStatus::Skipped => "skipped",
            TurnStatus::Failed => "failed",
        }
    }
}

/// What a turn did.
#[derive(Debug, Clone, Serialize)]
pub struct TurnReport {
    pub turn_id: Option<Uuid>,
    pub status: Option<TurnStatus>,
    /// Why no reply: "nothing_pending", "nothing_to_answer", "human_mode", "window_closed",
    /// "licence: …".
    pub skip_reason: Option<String>,
    pub reply: Option<String>,
    pub tool_calls: Vec<ToolSummary>,
    /// How the send went ("sent", "retry_later: …", "refused: …", "not_connected").
    pub delivery: Option<String>,
}

impl TurnReport {
    fn nothing() -> Self {
        TurnReport {
            turn_id: None,
            status: None,
            skip_reason: Some("nothing_pending".into()),
            reply: None,
            tool_calls: vec![],
            delivery: None,
        }
    }
}

/// Handles one queue message of the agent. An error makes the queue deliver it again.
pub async fn handle_queue_message(
    app: &App,
    body: &Value,
    delivery_count: i32,
) -> Result<(), AgentError> {
    let parsed = (|| {
        if body["kind"].as_str() != Some("conversation_turn") {
            return None;
        }
        let tenant = Uuid::parse_str(body["tenant_id"].as_str()?).ok()?;
        let conversation = Uuid::parse_str(body["conversation_id"].as_str()?).ok()?;
        Some((TenantId::from_uuid(tenant), conversation))
    })();
    let Some((tenant, conversation)) = parsed else {
        let shown: String = body.to_string().chars().take(200).collect();
        return Err(AgentError::NotUnderstood(shown));
    };
    // The webhook's trace (or a new one, for a message the sweeper queued): the turn's logs
    // and its Graph sends carry it.
    let trace = crate::trace::Traceparent::from_header_or_new(body["traceparent"].as_str());
    let span = tracing::info_span!("turn", traceparent = %trace, trace_id = %trace.trace_id(), tenant = %tenant, conversation = %conversation);
    let work = async move {
        wait_for_quiet(app, tenant, conversation).await?;
        let report = run_turn(app, tenant, conversation, Channel::Instagram).await?;
        tracing::info!(
            tenant = %tenant,
            conversation = %conversation,
            delivery_count,
            status = report.status.as_ref().map_or("", TurnStatus::as_str),
            skip_reason = report.skip_reason.as_deref().unwrap_or(""),
            tools = report.tool_calls.len(),
            delivery = report.delivery.as_deref().unwrap_or(""),
            "agent turn"
        );
        Ok(())
    };
    use tracing::Instrument;
    crate::trace::scope(trace, work.instrument(span)).await
}

/// Waits until the conversation's newest unanswered message is `AGENT_QUIET_MS` old (at most
/// a few rounds: a customer who never stops typing still gets an answer).
async fn wait_for_quiet(app: &App, tenant: TenantId, conversation: Uuid) -> Result<(), AgentError> {
    let quiet = Duration::from_millis(app.settings.agent.quiet_ms);
    if quiet.is_zero() {
        return Ok(());
    }
    for _ in 0..5 {
        let mut c = app.db.app().await?;
        let tx = begin_for_tenant(&mut c, tenant).await?;
        let age_ms: Option<f64> = tx
            .query_one(&tx.prepare_cached("SELECT extract(epoch FROM now() - max(created_at)) * 1000 FROM messages
                  WHERE conversation_id = $1 AND direction = 'inbound' AND answered_by_turn IS NULL AND NOT standby").await?,
                &[&conversation],
            )
            .await?
            .get::<_, Option<rust_decimal::Decimal>>(0)
            .and_then(|d| d.to_string().parse::<f64>().ok());
        tx.commit().await?;
        let Some(age_ms) = age_ms else {
            return Ok(());
        };
        let age = Duration::from_millis(age_ms.max(0.0) as u64);
        if age >= quiet {
            return Ok(());
        }
        tokio::time::sleep(quiet - age).await;
    }
    Ok(())
}

/// Runs one turn for the conversation (see the module docs). The playground channel is the
/// merchant's test chat: no quiet wait by the caller, nothing sent to Instagram.
pub async fn run_turn(
    app: &App,
    tenant: TenantId,
    conversation_id: Uuid,
    channel: Channel,
) -> Result<TurnReport, AgentError> {
    // The conversation's lock lives in a transaction of its own, released when the turn
    // ends, fails or its worker dies.
    let mut lock_conn = app.db.app().await?;
    let lock = lock_conn.transaction().await.map_err(DbError::from)?;
    // One round trip: the wait limit and the lock (the id is a formatted UUID, nothing else).
    lock.batch_execute(&format!(
        "SET LOCAL lock_timeout = '{LOCK_WAIT}';
         SELECT pg_advisory_xact_lock(hashtextextended('turn:{conversation_id}', 0))"
    ))
    .await?;
    // A resumed turn answers only what it had recorded; messages that arrived while it was
    // interrupted get the next turn at once, under the same lock.
    let mut report = locked_turn(app, tenant, conversation_id, channel).await;
    for _ in 0..2 {
        match &report {
            Ok((_, true)) => report = locked_turn(app, tenant, conversation_id, channel).await,
            _ => break,
        }
    }
    let _ = lock.rollback().await;
    report.map(|(r, _)| r)
}

struct Started {
    turn_id: Uuid,
    conversation: Conversation,
    messages: Vec<Pending>,
    /// A reply recorded by a run that crashed before sending it.
    recorded_reply: Option<String>,
    recorded_tools: Vec<ToolSummary>,
    recorded_status: Option<String>,
    licence: licence::Licence,
    /// What the model needs, read in the same transaction (when the turn will ask it).
    context: Option<Loaded>,
}

/// The shop and the conversation's past as the prompt needs them.
struct Loaded {
    shop: Shop,
    memory: Vec<ChatMessage>,
    earlier: Vec<String>,
    /// The shop's own model, or why its saved key cannot be used.
    own: Result<Option<crate::llm::OwnModel>, String>,
}

async fn load_context(
    tx: &deadpool_postgres::Transaction<'_>,
    app: &App,
    conversation: Uuid,
) -> Result<Loaded, AgentError> {
    // Sent together (pipelined on the connection).
    let (shop, memory, earlier, own) = tokio::join!(
        context::load_shop(tx),
        context::memory(tx, conversation),
        context::earlier_actions(tx, conversation),
        crate::model_settings::load_own_model(tx, &app.keys)
    );
    let (shop, memory, earlier) = (shop?, memory?, earlier?);
    let own = match own {
        Ok(own) => Ok(own),
        Err(crate::model_settings::ModelSettingsError::Database(e)) => return Err(e.into()),
        Err(e) => Err(e.to_string()),
    };
    Ok(Loaded {
        shop,
        memory,
        earlier,
        own,
    })
}

async fn start_turn(
    app: &App,
    tenant: TenantId,
    conversation_id: Uuid,
) -> Result<Option<Started>, AgentError> {
    let mut c = app.db.app().await?;
    let tx = begin_for_tenant(&mut c, tenant).await?;
    // Sent together (pipelined on the connection).
    let running = async {
        tx.query_opt(
            &tx.prepare_cached(
                "SELECT id, message_ids, reply_text, tool_calls, skip_reason FROM agent_turns
              WHERE conversation_id = $1 AND status = 'running'",
            )
            .await?,
            &[&conversation_id],
        )
        .await
    };
    let (conversation, pending, running) = tokio::try_join!(
        context::load_conversation(&tx, conversation_id),
        context::pending_messages(&tx, conversation_id),
        running
    )?;
    let Some(conversation) = conversation else {
        return Ok(None);
    };
    // Licence, and what the model will need, in the same transaction (read together; the
    // context is dropped when the licence refuses).
    let wants_context = conversation.mode == "ai";
    let admit = || async {
        tokio::join!(licence::check(&tx, app, tenant), async {
            match wants_context {
                true => Some(load_context(&tx, app, conversation_id).await),
                false => None,
            }
        })
    };
    let (mut started, admitted) = match running {
        Some(r) => {
            // A run of this turn crashed: resume it under the same identity.
            let turn_id: Uuid = r.get(0);
            let mut ids: Vec<Uuid> = r.get(1);
            let recorded_reply: Option<String> = r.get(2);
            if recorded_reply.is_none() {
                for p in &pending {
                    if !ids.contains(&p.id) {
                        ids.push(p.id);
                    }
                }
                tx.execute(
                    &tx.prepare_cached("UPDATE agent_turns SET message_ids = $2 WHERE id = $1")
                        .await?,
                    &[&turn_id, &ids],
                )
                .await?;
            }
            let messages = context::messages_by_id(&tx, &ids).await?;
            // A recorded reply is sent as it is: nothing to admit.
            let admitted = match recorded_reply {
                None => Some(admit().await),
                Some(_) => None,
            };
            let started = Started {
                turn_id,
                conversation,
                messages,
                recorded_reply,
                recorded_tools: serde_json::from_value(r.get(3)).unwrap_or_default(),
                recorded_status: r.get(4),
                licence: licence::Licence::Valid,
                context: None,
            };
            (started, admitted)
        }
        None if pending.is_empty() => return Ok(None),
        None => {
            let ids: Vec<Uuid> = pending.iter().map(|p| p.id).collect();
            let insert = async {
                tx.query_one(&tx.prepare_cached("INSERT INTO agent_turns (tenant_id, conversation_id, message_ids) VALUES ($1, $2, $3) RETURNING id").await?,
                    &[&tenant.as_uuid(), &conversation_id, &ids],
                )
                .await
                .map(|r| r.get::<_, Uuid>(0))
            };
            // The turn's record and what it needs, sent together.
            let (turn_id, admitted) = tokio::join!(insert, admit());
            let started = Started {
                turn_id: turn_id?,
                conversation,
                messages: pending,
                recorded_reply: None,
                recorded_tools: vec![],
                recorded_status: None,
                licence: licence::Licence::Valid,
                context: None,
            };
            (started, Some(admitted))
        }
    };
    if let Some((licence, context)) = admitted {
        started.licence = licence?;
        if let licence::Licence::Refused(reason) = &started.licence {
            alerts::raise_said(
                &tx,
                Some(tenant),
                "licence",
                Severity::Critical,
                &Said::new(
                    "licence_refused",
                    json!({}),
                    format!("AI replies are off: {reason}"),
                ),
                Some("licence_refused"),
            )
            .await?;
        } else {
            started.context = context.transpose()?;
        }
    }
    tx.commit().await.map_err(DbError::from)?;
    Ok(Some(started))
}

/// Ends the turn: its status, and its messages marked answered by it.
async fn finish_turn(
    app: &App,
    tenant: TenantId,
    turn_id: Uuid,
    status: &TurnStatus,
    skip_reason: Option<&str>,
    error: Option<&str>,
) -> Result<(), AgentError> {
    let mut c = app.db.app().await?;
    let tx = begin_for_tenant(&mut c, tenant).await?;
    // Sent together (pipelined, run in this order).
    let ended = async {
        tx.execute(&tx.prepare_cached("UPDATE agent_turns SET status = $2, skip_reason = coalesce($3, skip_reason), error = coalesce($4, error), finished_at = now()
              WHERE id = $1").await?,
            &[&turn_id, &status.as_str(), &skip_reason, &error],
        )
        .await
    };
    let answered = async {
        tx.execute(&tx.prepare_cached("UPDATE messages SET answered_by_turn = $1
              WHERE id = ANY((SELECT message_ids FROM agent_turns WHERE id = $1)::uuid[]) AND answered_by_turn IS NULL").await?,
            &[&turn_id],
        )
        .await
    };
    tokio::try_join!(ended, answered)?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}

async fn skip(
    app: &App,
    tenant: TenantId,
    turn_id: Uuid,
    reason: &str,
) -> Result<TurnReport, AgentError> {
    finish_turn(
        app,
        tenant,
        turn_id,
        &TurnStatus::Skipped,
        Some(reason),
        None,
    )
    .await?;
    Ok(TurnReport {
        turn_id: Some(turn_id),
        status: Some(TurnStatus::Skipped),
        skip_reason: Some(reason.to_owned()),
        reply: None,
        tool_calls: vec![],
        delivery: None,
    })
}

/// One turn; the flag says it resumed a recorded reply, so messages may be waiting still.
async fn locked_turn(
    app: &App,
    tenant: TenantId,
    conversation_id: Uuid,
    channel: Channel,
) -> Result<(TurnReport, bool), AgentError> {
    let Some(started) = start_turn(app, tenant, conversation_id).await? else {
        return Ok((TurnReport::nothing(), false));
    };
    let resumed = started.recorded_reply.is_some();
    let report = run_started(app, tenant, conversation_id, channel, started).await?;
    Ok((report, resumed))
}

async fn run_started(
    app: &App,
    tenant: TenantId,
    conversation_id: Uuid,
    channel: Channel,
    mut started: Started,
) -> Result<TurnReport, AgentError> {
    let turn_id = started.turn_id;
    let conversation = started.conversation.clone();

    let (reply, tools, status) = match started.recorded_reply.clone() {
        Some(reply) => {
            // Decided by a run that crashed before sending: send that, nothing new.
            let status = if started.recorded_status.as_deref() == Some("handed_off") {
                TurnStatus::HandedOff
            } else {
                TurnStatus::Replied
            };
            (reply, started.recorded_tools.clone(), status)
        }
        None => {
            // Nothing the model could answer (only a message Instagram did not pass on, or
            // only messages since deleted): no reply.
            if !started.messages.iter().any(|m| m.answerable) {
                return skip(app, tenant, turn_id, "nothing_to_answer").await;
            }
            // Licence, mode, window.
            if let licence::Licence::Refused(reason) = &started.licence {
                return skip(app, tenant, turn_id, &format!("licence: {reason}")).await;
            }
            if conversation.mode == "human" {
                return skip(app, tenant, turn_id, "human_mode").await;
            }
            if channel == Channel::Instagram
                && conversation
                    .last_customer_message_at
                    .is_none_or(|at| Utc::now() - at > ChronoDuration::hours(24))
            {
                return skip(app, tenant, turn_id, "window_closed").await;
            }
            let loaded = match started.context.take() {
                Some(loaded) => loaded,
                None => {
                    return Err(AgentError::Internal(
                        "the turn's context was not loaded".into(),
                    ))
                }
            };
            let decided = decide(
                app,
                tenant,
                &conversation,
                turn_id,
                channel,
                &started.messages,
                loaded,
            )
            .await?;
            if crash::hit(conversation_id, CrashPoint::AfterTools) {
                return Err(AgentError::Crashed(CrashPoint::AfterTools));
            }
            // Recorded before it is sent: a crash from here on resends this, nothing else.
            {
                let mut c = app.db.app().await?;
                let tx = begin_for_tenant(&mut c, tenant).await?;
                let tools = serde_json::to_value(&decided.tools).expect("serialisable");
                let handed_off = (decided.status == TurnStatus::HandedOff).then_some("handed_off");
                let recorded = async {
                    tx.execute(&tx.prepare_cached("UPDATE agent_turns SET reply_text = $2, tool_calls = $3, skip_reason = $4, error = $5 WHERE id = $1").await?,
                        &[&turn_id, &decided.reply, &tools, &handed_off, &decided.error],
                    )
                    .await
                    .map_err(AgentError::from)
                };
                // With the model call that gave the reply (sent together).
                let spent = async {
                    match &decided.spent {
                        Some(spent) => {
                            record_spent(&tx, tenant, conversation_id, turn_id, spent).await
                        }
                        None => Ok(()),
                    }
                };
                tokio::try_join!(recorded, spent)?;
                tx.commit().await.map_err(DbError::from)?;
            }
            (decided.reply, decided.tools, decided.status)
        }
    };

    if crash::hit(conversation_id, CrashPoint::BeforeSend) {
        return Err(AgentError::Crashed(CrashPoint::BeforeSend));
    }
    let delivery = deliver(app, tenant, &conversation, turn_id, channel, &reply).await?;
    if crash::hit(conversation_id, CrashPoint::AfterSend) {
        return Err(AgentError::Crashed(CrashPoint::AfterSend));
    }
    finish_turn(app, tenant, turn_id, &status, None, None).await?;
    Ok(TurnReport {
        turn_id: Some(turn_id),
        status: Some(status),
        skip_reason: None,
        reply: Some(reply),
        tool_calls: tools,
        delivery: Some(delivery),
    })
}

/// Sends (Instagram) or stores (playground) the reply, once per turn.
async fn deliver(
    app: &App,
    tenant: TenantId,
    conversation: &Conversation,
    turn_id: Uuid,
    channel: Channel,
    reply: &str,
) -> Result<String, AgentError> {
    match channel {
        Channel::Playground => {
            let mut c = app.db.app().await?;
            let tx = begin_for_tenant(&mut c, tenant).await?;
            let key = format!("playground:{turn_id}");
            tx.execute(&tx.prepare_cached("INSERT INTO messages (tenant_id, conversation_id, direction, author, mid, text, sent_at)
                 VALUES ($1, $2, 'outbound', 'ai', $3, $4, now())
                 ON CONFLICT (tenant_id, mid) WHERE mid IS NOT NULL DO NOTHING").await?,
                &[&tenant.as_uuid(), &conversation.id, &key, &reply],
            )
            .await?;
            tx.execute(&tx.prepare_cached("UPDATE conversations SET last_message_at = now(), updated_at = now() WHERE id = $1").await?,
                &[&conversation.id],
            )
            .await?;
            tx.commit().await.map_err(DbError::from)?;
            Ok("stored".into())
        }
        Channel::Instagram => {
            let to = Recipient {
                tenant,
                conversation: conversation.id,
                customer_igsid: conversation.customer_ig_id.clone(),
            };
            let outcome = outbound::send_text(app, &to, &format!("reply:{turn_id}"), reply, "ai")
                .await
                .map_err(|e| match e {
                    outbound::SendError::Database(e) => AgentError::Database(e),
                    outbound::SendError::Crashed(point) => AgentError::Crashed(point),
                    other => AgentError::Send(other.to_string()),
                })?;
            Ok(match outcome {
                SendOutcome::Sent { .. } => "sent".into(),
                SendOutcome::RetryLater { reason, .. } => format!("retry_later: {reason}"),
                SendOutcome::Refused { reason, .. } => format!("refused: {reason}"),
                SendOutcome::NotConnected => "not_connected".into(),
            })
        }
    }
}

struct Decided {
    reply: String,
    tools: Vec<ToolSummary>,
    status: TurnStatus,
    error: Option<String>,
    /// The model call that gave the reply: recorded in the transaction that records the
    /// reply, one transaction fewer per turn. A crash between the model's answer and that
    /// commit leaves the call unrecorded (its answer is not used either); the turn runs again
    /// and records the call that gives its reply.
    spent: Option<Spent>,
}

/// Retrieval and the model with tools: what to answer.
async fn decide(
    app: &App,
    tenant: TenantId,
    conversation: &Conversation,
    turn_id: Uuid,
    channel: Channel,
    messages: &[Pending],
    loaded: Loaded,
) -> Result<Decided, AgentError> {
    let Loaded {
        shop,
        memory,
        earlier,
        own,
    } = loaded;
    let burst: String = context::latest_messages(messages)
        .0
        .iter()
        .map(|m| m.text.as_str())
        .collect::<Vec<_>>()
        .join("\n");

    // The shop's handoff words need no model.
    let lowered = crate::search::arabic::normalize(&burst.to_lowercase());
    if let Some(word) = shop.rules.handoff.keywords.iter().find(|k| {
        let k = crate::search::arabic::normalize(&k.to_lowercase());
        !k.trim().is_empty() && lowered.contains(k.trim())
    }) {
        let said = Said::new(
            "handoff_word",
            json!({ "word": word }),
            format!("the customer wrote \"{word}\" (a handoff word)"),
        );
        let reason = said.text.clone();
        hand_over(app, tenant, conversation, &said).await?;
        return Ok(Decided {
            reply: HANDOFF_REPLY.into(),
            tools: vec![ToolSummary {
                name: "handoff_to_human".into(),
                arguments: json!({ "reason": reason }),
                ok: true,
                summary: format!("handed over to the team: {reason}"),
                remember: true,
            }],
            status: TurnStatus::HandedOff,
            error: None,
            spent: None,
        });
    }

    let own = match own {
        Ok(own) => own,
        Err(reason) => {
            let said = Said::new(
                "own_key_unreadable",
                json!({}),
                format!("{reason}; enter the shop's API key again in the settings"),
            );
            return fallback(app, tenant, conversation, said, vec![]).await;
        }
    };
    let client = match LlmClient::for_shop(
        app.llm.as_ref(),
        &app.settings.llm,
        own.as_ref(),
        model_reach(app),
    )
    .await
    {
        Ok(c) => c,
        Err(e) => return fallback(app, tenant, conversation, describe_llm_error(&e), vec![]).await,
    };
    let Some(client) = client else {
        return fallback(
            app,
            tenant,
            conversation,
            Said::new(
                "model_not_configured",
                json!({}),
                "no AI model is configured on this server or for the shop",
            ),
            vec![],
        )
        .await;
    };

    // Products and passages are looked up at the same time (two search calls in production).
    let want_products = shop.inline_catalog.is_none() && !burst.trim().is_empty();
    let want_passages = !burst.trim().is_empty();
    let (products, passages) = tokio::join!(
        async {
            if want_products {
                find_products(app, tenant, &burst, context::RETRIEVED_PRODUCTS).await
            } else {
                Ok(vec![])
            }
        },
        async {
            if want_passages {
                find_passages(
                    app,
                    tenant,
                    Some((conversation.id, turn_id)),
                    &burst,
                    context::RETRIEVED_PASSAGES,
                    shop.has_passage_vectors,
                )
                .await
            } else {
                Ok(vec![])
            }
        }
    );
    let (products, passages): (Vec<CatalogItem>, Vec<(String, String)>) = (products?, passages?);
    let now = Utc::now();
    let fresh = Fresh {
        now,
        conversation,
        earlier_actions: &earlier,
        products: &products,
        passages: &passages,
        closed_message: closed_now(&shop.rules, now),
        catalog_stock: shop.inline_catalog.as_deref().unwrap_or(&[]),
    };
    let mut prompt = assemble(&shop, memory, &fresh, messages);
    let tool_defs = context::tools();
    let mut ctx = tools::ToolContext {
        app,
        tenant,
        conversation,
        turn_id,
        channel,
        shop: &shop,
        orders_asked: 0,
    };
    let mut summaries: Vec<ToolSummary> = Vec::new();
    let mut handoff: Option<String> = None;
    let rounds = app.settings.agent.max_tool_rounds;
    for round in 0..=rounds {
        // The last round has no tools: the model must answer in words.
        let last = round == rounds;
        let request = ChatRequest {
            messages: prompt.clone(),
            tools: (!last).then(|| tool_defs.clone()),
            temperature: Some(0.4),
            max_tokens: Some(600),
        };
        let answer = client.chat(&request).await;
        let reply = match answer {
            Ok(r) => r,
            Err(e) => {
                let reason = describe_llm_error(&e);
                return fallback(app, tenant, conversation, reason, summaries).await;
            }
        };
        let spent = Spent::of(&client, CallKind::Chat, client.chat_model(), reply.usage);
        if reply.tool_calls.is_empty() || last {
            let text = reply.content.unwrap_or_default();
            let text = text.trim();
            let (text, status) = match (&handoff, text.is_empty()) {
                (Some(_), true) => (HANDOFF_REPLY.to_owned(), TurnStatus::HandedOff),
                (Some(_), false) => (text.to_owned(), TurnStatus::HandedOff),
                (None, true) => {
                    record_usage(app, tenant, conversation.id, turn_id, &spent).await?;
                    return fallback(
                        app,
                        tenant,
                        conversation,
                        Said::new(
                            "model_empty_answer",
                            json!({}),
                            "the model gave an empty answer",
                        ),
                        summaries,
                    )
                    .await;
                }
                (None, false) => (text.to_owned(), TurnStatus::Replied),
            };
            return Ok(Decided {
                reply: text,
                tools: summaries,
                status,
                error: None,
                spent: Some(spent),
            });
        }
        // A call whose tools run next is recorded before they do.
        record_usage(app, tenant, conversation.id, turn_id, &spent).await?;
        prompt.push(ChatMessage {
            role: Role::Assistant,
            content: reply.content.clone(),
            tool_calls: reply.tool_calls.clone(),
            tool_call_id: None,
        });
        for call in &reply.tool_calls {
            let outcome = tools::run(&mut ctx, call).await?;
            if outcome.handoff.is_some() {
                handoff = outcome.handoff.clone();
            }
            summaries.push(ToolSummary {
                name: call.name.clone(),
                arguments: serde_json::from_str(&call.arguments)
                    .unwrap_or_else(|_| Value::String(call.arguments.clone())),
                ok: outcome.ok,
                summary: outcome.summary.clone(),
                remember: outcome.remember,
            });
            prompt.push(ChatMessage::tool_result(
                call.id.clone(),
                outcome.answer.to_string(),
            ));
        }
    }
    unreachable!("the last round always returns")
}

/// Where a shop's own model address may point: anywhere locally, public addresses only in
/// production.
pub fn model_reach(app: &App) -> crate::llm::Reach {
    match app.settings.environment {
        crate::settings::Environment::Local => crate::llm::Reach::Anywhere,
        crate::settings::Environment::Production => crate::llm::Reach::PublicOnly,
    }
}

/// The model's failure as a reason the merchant reads (a message key: never "HTTP 429: …"),
/// with the provider's words kept in the English text for the logs.
fn describe_llm_error(e: &LlmError) -> Said {
    let key = match e {
        LlmError::Unavailable {
            status: Some(429), ..
        } => "model_busy",
        LlmError::Unavailable { status: None, .. } => "model_unreachable",
        LlmError::Unavailable { .. } => "model_down",
        LlmError::Unauthorized { .. } => "model_key_refused",
        LlmError::Refused { .. } => "model_request_refused",
        LlmError::Malformed(_) => "model_answer_unreadable",
        LlmError::Config(_) => "model_config",
    };
    let text = match e {
        LlmError::Unauthorized { .. } => format!("the AI provider refused the API key ({e})"),
        _ => e.to_string(),
    };
    Said::new(key, json!({}), text)
}

/// The model could not answer: the customer gets an apology and a person, the merchant an
/// alert.
async fn fallback(
    app: &App,
    tenant: TenantId,
    conversation: &Conversation,
    cause: Said,
    tools: Vec<ToolSummary>,
) -> Result<Decided, AgentError> {
    let reason = cause.text.clone();
    tracing::warn!(tenant = %tenant, conversation = %conversation.id, reason, "AI reply failed; handing over");
    let handoff = Said::new(
        "ai_failed",
        json!({ "cause": cause.key }),
        format!("the AI could not answer: {reason}"),
    );
    hand_over(app, tenant, conversation, &handoff).await?;
    {
        let mut c = app.db.app().await?;
        let tx = begin_for_tenant(&mut c, tenant).await?;
        alerts::raise_said(
            &tx,
            Some(tenant),
            "ai_unavailable",
            Severity::Critical,
            &Said::new(
                "ai_unavailable",
                json!({ "cause": cause.key }),
                format!("The AI could not answer a customer ({reason}). The conversation was handed to your team."),
            ),
            Some("ai_unavailable"),
        )
        .await?;
        tx.commit().await.map_err(DbError::from)?;
    }
    Ok(Decided {
        reply: FALLBACK_REPLY.into(),
        tools,
        status: TurnStatus::HandedOff,
        error: Some(reason),
        spent: None,
    })
}

/// Human mode for the conversation (its reason kept as a message key too), and an alert for
/// the merchant.
pub(crate) async fn hand_over(
    app: &App,
    tenant: TenantId,
    conversation: &Conversation,
    reason: &Said,
) -> Result<(), AgentError> {
    let mut c = app.db.app().await?;
    let tx = begin_for_tenant(&mut c, tenant).await?;
    tx.execute(
        &tx.prepare_cached(
            "UPDATE conversations SET mode = 'human', mode_changed_at = now(), mode_reason = $2,
                mode_reason_key = $3, mode_reason_params = $4, updated_at = now()
          WHERE id = $1",
        )
        .await?,
        &[&conversation.id, &reason.text, &reason.key, &reason.params],
    )
    .await?;
    crate::conversations::events::handed_off(&tx, conversation.id, &reason.text).await?;
    let who = conversation
        .customer_username
        .as_deref()
        .map(|u| format!("@{u}"))
        .or_else(|| conversation.customer_name.clone());
    alerts::raise_said(
        &tx,
        Some(tenant),
        "handoff",
        Severity::Warning,
        &Said::new(
            "handoff",
            json!({ "who": who, "reason_key": reason.key, "reason_params": reason.params }),
            format!(
                "{} needs a person: {}",
                who.as_deref().unwrap_or("A customer"),
                reason.text
            ),
        ),
        Some(&format!("handoff:{}", conversation.id)),
    )
    .await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}

/// One model call's tokens and cost, as recorded in `usage_events`.
struct Spent {
    kind: CallKind,
    provider: &'static str,
    model: String,
    usage: crate::llm::Usage,
    cost_usd: rust_decimal::Decimal,
    billed_to: crate::llm::BilledTo,
}

impl Spent {
    fn of(client: &LlmClient, kind: CallKind, model: &str, usage: crate::llm::Usage) -> Self {
        Spent {
            kind,
            provider: client.provider(),
            model: model.to_owned(),
            usage,
            cost_usd: client.cost_usd(model, usage),
            billed_to: client.billed_to(),
        }
    }
}

/// Records a model call of the turn in the caller's transaction (the event and the turn's
/// call count, sent together).
async fn record_spent(
    tx: &deadpool_postgres::Transaction<'_>,
    tenant: TenantId,
    conversation: Uuid,
    turn_id: Uuid,
    spent: &Spent,
) -> Result<(), AgentError> {
    let event = UsageEvent {
        tenant,
        conversation_id: Some(conversation),
        turn_id: Some(turn_id),
        kind: spent.kind,
        provider: spent.provider,
        model: &spent.model,
        usage: spent.usage,
        cost_usd: spent.cost_usd,
        billed_to: spent.billed_to,
    };
    let counted = async {
        tx.execute(
            &tx.prepare_cached(
                "UPDATE agent_turns SET model_calls = model_calls + 1 WHERE id = $1",
            )
            .await?,
            &[&turn_id],
        )
        .await
    };
    let (recorded, counted) = tokio::join!(usage::record(tx, &event), counted);
    recorded?;
    counted?;
    Ok(())
}

/// Records a model call of the turn in a transaction of its own, as soon as it is made.
async fn record_usage(
    app: &App,
    tenant: TenantId,
    conversation: Uuid,
    turn_id: Uuid,
    spent: &Spent,
) -> Result<(), AgentError> {
    let mut c = app.db.app().await?;
    let tx = begin_for_tenant(&mut c, tenant).await?;
    record_spent(&tx, tenant, conversation, turn_id, spent).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}

/// Active products of the shop for the customer's words, best first.
pub async fn find_products(
    app: &App,
    tenant: TenantId,
    text: &str,
    limit: usize,
) -> Result<Vec<CatalogItem>, AgentError> {
    let query = SearchQuery::new(tenant, text).with_limit(limit);
    let failed = |e: crate::search::SearchError| AgentError::Search(e.to_string());
    // Searched in the database: the search and the items in one transaction. Elsewhere (Azure
    // AI Search): the search first, with no connection held while it runs.
    let searched_elsewhere = match app.search.product_index() {
        crate::search::ProductIndex::SearchText => None,
        crate::search::ProductIndex::External => {
            Some(app.search.search_products(&query).await.map_err(failed)?)
        }
    };
    if searched_elsewhere.as_ref().is_some_and(Vec::is_empty) {
        return Ok(vec![]);
    }
    let mut c = app.db.app().await?;
    let tx = begin_for_tenant(&mut c, tenant).await?;
    let hits = match searched_elsewhere {
        Some(hits) => hits,
        None => app
            .search
            .search_products_in(&tx, &query)
            .await
            .map_err(failed)?,
    };
    let ids: Vec<Uuid> = hits
        .iter()
        .filter(|h| h.kind == HitKind::Product)
        .map(|h| h.id)
        .collect();
    let items = if ids.is_empty() {
        vec![]
    } else {
        crate::catalog::get_items(&tx, &ids).await?
    };
    tx.commit().await.map_err(DbError::from)?;
    Ok(items.into_iter().filter(|i| i.is_active).collect())
}

/// Knowledge passages (title, text) for the words, hybrid when an embedding model is
/// configured and the shop has passages with embeddings (`has_vectors`, read with the turn's
/// context; the query's embedding is recorded as usage of the turn).
pub async fn find_passages(
    app: &App,
    tenant: TenantId,
    turn: Option<(Uuid, Uuid)>,
    text: &str,
    limit: usize,
    has_vectors: bool,
) -> Result<Vec<(String, String)>, AgentError> {
    let mut query = SearchQuery::new(tenant, text).with_limit(limit);
    let mut embedded = None;
    if let Some(client) = app.llm.as_ref().filter(|c| c.embedding_model().is_some()) {
        if has_vectors {
            match client.embed(&[text.chars().take(2000).collect()]).await {
                Ok((mut vectors, u)) => {
                    if let Some(v) = vectors.pop() {
                        query = query.with_embedding(v);
                    }
                    embedded = Some((client, u));
                }
                // Text search still works without the vector.
                Err(e) => tracing::warn!(error = %e, "query embedding failed; text search only"),
            }
        }
    }
    // The embedding's usage is recorded while the search runs.
    let record = async {
        match (embedded, turn) {
            (Some((client, u)), Some((conversation, turn_id))) => {
                let model = client.embedding_model().unwrap_or_default();
                let spent = Spent::of(client, CallKind::Embedding, model, u);
                record_usage(app, tenant, conversation, turn_id, &spent).await
            }
            _ => Ok(()),
        }
    };
    let (hits, recorded) = tokio::join!(app.search.search_passages(&query), record);
    recorded?;
    let hits = hits.map_err(|e| AgentError::Search(e.to_string()))?;
    Ok(hits.into_iter().map(|h| (h.title, h.snippet)).collect())
}

/// Customer messages older than this with no answer and no turn under way are queued again
/// by the sweeper (a dead-lettered message, a send to Service Bus that was lost).
pub const STUCK_AFTER_MINUTES: i32 = 2;

/// The sweeper's part: one queue message for each conversation with customer messages left
/// unanswered (within Meta's 24-hour window) and no turn running right now. The message id
/// changes every 10 minutes, so a conversation is queued again at most that often.
pub async fn requeue_stuck(app: &App) -> Result<usize, AgentError> {
    let mut c = app.db.platform().await?;
    let rows = c
        .query(
            &c.prepare_cached(
                "SELECT m.tenant_id, m.conversation_id
               FROM messages m JOIN conversations c ON c.id = m.conversation_id
              WHERE m.direction = 'inbound' AND m.answered_by_turn IS NULL AND m.deleted_at IS NULL
                AND NOT m.standby AND c.kind = 'instagram' AND c.mode = 'ai'
                AND m.created_at < now() - make_interval(mins => $1)
                AND m.created_at > now() - interval '24 hours'
              GROUP BY m.tenant_id, m.conversation_id
              LIMIT 500",
            )
            .await?,
            &[&STUCK_AFTER_MINUTES],
        )
        .await?;
    let bucket = Utc::now().timestamp() / 600;
    let mut queued = 0;
    for r in &rows {
        let (tenant, conversation): (Uuid, Uuid) = (r.get(0), r.get(1));
        // A turn running right now holds the conversation's lock: skip it. A turn left
        // `running` by a crash holds nothing: its conversation is queued again, and the new
        // delivery resumes that turn.
        let tx = c.transaction().await.map_err(DbError::from)?;
        let free: bool = tx
            .query_one(
                "SELECT pg_try_advisory_xact_lock(hashtextextended('turn:' || $1::text, 0))",
                &[&conversation.to_string()],
            )
            .await?
            .get(0);
        tx.rollback().await.map_err(DbError::from)?;
        if !free {
            continue;
        }
        let message = crate::queue::QueueMessage {
            message_id: format!("turn:{conversation}:sweep:{bucket}"),
            body: json!({ "kind": "conversation_turn", "tenant_id": tenant, "conversation_id": conversation }),
        };
        app.queue
            .send(&message)
            .await
            .map_err(|e| AgentError::Internal(format!("queue: {e}")))?;
        queued += 1;
    }
    Ok(queued)
}

/// The merchant's test chat: the playground conversation of the shop, a new customer message,
/// and the same turn as for Instagram (without sending). `reset` starts a new conversation.
pub async fn test_chat(
    app: &App,
    tenant: TenantId,
    message: &str,
    reset: bool,
) -> Result<(Uuid, TurnReport), AgentError> {
    let customer = format!("playground:{}", tenant.as_uuid());
    let conversation: Uuid = {
        let mut c = app.db.app().await?;
        let tx = begin_for_tenant(&mut c, tenant).await?;
        if reset {
            tx.execute(
                &tx.prepare_cached(
                    "DELETE FROM conversations WHERE kind = 'playground' AND customer_ig_id = $1",
                )
                .await?,
                &[&customer],
            )
            .await?;
        }
        let id: Uuid = tx
            .query_one(&tx.prepare_cached("INSERT INTO conversations (tenant_id, kind, customer_ig_id, customer_username, last_customer_message_at, last_message_at)
                 VALUES ($1, 'playground', $2, 'test-chat', now(), now())
                 ON CONFLICT (tenant_id, kind, customer_ig_id)
                 DO UPDATE SET last_customer_message_at = now(), last_message_at = now(), updated_at = now()
                 RETURNING id").await?,
                &[&tenant.as_uuid(), &customer],
            )
            .await?
            .get(0);
        tx.execute(&tx.prepare_cached("INSERT INTO messages (tenant_id, conversation_id, direction, author, text, sent_at)
             VALUES ($1, $2, 'inbound', 'customer', $3, now())").await?,
            &[&tenant.as_uuid(), &id, &message],
        )
        .await?;
        tx.commit().await.map_err(DbError::from)?;
        id
    };
    let report = run_turn(app, tenant, conversation, Channel::Playground).await?;
    Ok((conversation, report))
}
