//! A person of the shop answers from the dashboard: inside Meta's 24-hour window a normal
//! message, from 24 hours to 7 days with the HUMAN_AGENT tag, later not at all. Answering
//! pauses the AI for the conversation (a person is talking now) and settles a waiting
//! handoff. The text goes through the same outbound path as the agent's replies: recorded
//! first, split at 1000 bytes, each part sent once.

use super::events::{person_answered, record, Recorded};
use super::thread::{event, ThreadEvent};
use super::{check_text, detail, Author, ConversationError, Mode, Window, WindowState};
use crate::app::App;
use crate::db::begin_for_tenant;
use crate::instagram::outbound::{self, Recipient, SendError, SendOutcome};
use crate::tenants::TenantId;
use chrono::Utc;
use uuid::Uuid;

pub const ANSWERED: &str = "You answered: the AI is paused for this conversation.";

/// Why nothing can be sent, in the merchant's words.
pub fn window_closed_message(last_customer_message_at: Option<chrono::DateTime<Utc>>) -> String {
    match last_customer_message_at {
        Some(last) => {
            let days = (Utc::now() - last).num_days();
            format!(
                "The customer last wrote {days} days ago. Instagram only lets you answer within 7 days of their last message."
            )
        }
        None => "This customer has not written to you yet. Instagram only lets you answer within 7 days of their last message.".into(),
    }
}

pub async fn reply(
    app: &App,
    tenant: TenantId,
    conversation: Uuid,
    raw_text: &str,
) -> Result<ThreadEvent, ConversationError> {
    let text = check_text("text", raw_text)?;
    let not_connected = || {
        ConversationError::NotConnected(
            "Your Instagram account is not connected, so nothing can be sent. Connect it again and retry."
                .into(),
        )
    };
    if app.graph.is_none() {
        return Err(ConversationError::NotConnected(
            "Sending to Instagram is not set up on this server.".into(),
        ));
    }
    let (customer, tagged) = {
        let mut c = app.db.app().await?;
        let tx = begin_for_tenant(&mut c, tenant).await?;
        let conv = detail(&tx, conversation, true).await?;
        let window = Window::at(conv.last_customer_message_at, Utc::now());
        if window.state == WindowState::Closed {
            return Err(ConversationError::WindowClosed(window_closed_message(
                conv.last_customer_message_at,
            )));
        }
        let connected = tx
            .query_opt("SELECT 1 FROM meta_tokens", &[])
            .await?
            .is_some();
        if !connected {
            return Err(not_connected());
        }
        if conv.mode == Mode::Ai {
            tx.execute(
                "UPDATE conversations SET mode = 'human', mode_changed_at = now(), mode_reason_key = NULL, mode_reason_params = '{}', mode_reason = 'You answered from the dashboard', updated_at = now() WHERE id = $1",
                &[&conversation],
            )
            .await?;
            record(
                &tx,
                conversation,
                Recorded::ModeChange,
                Author::Merchant,
                Some(ANSWERED),
            )
            .await?;
        }
        person_answered(&tx, conversation).await?;
        tx.commit().await.map_err(crate::db::DbError::from)?;
        (
            conv.customer.ig_id,
            window.state == WindowState::HumanAgentOnly,
        )
    };

    let key = format!("merchant:{conversation}:{}", Uuid::new_v4());
    let to = Recipient {
        tenant,
        conversation,
        customer_igsid: customer,
    };
    let outcome = outbound::send_human_text(app, &to, &key, &text, tagged)
        .await
        .map_err(|e| match e {
            SendError::Database(db) => ConversationError::Database(db),
            SendError::NotConfigured => not_connected(),
            // Crash points are armed by the agent's fault tests only, for agent turns; a
            // dashboard reply reaching one is a test-harness bug, and stopping here is what
            // the crash simulates.
            SendError::Crashed(point) => {
                panic!("test crash point {point:?} reached by a dashboard reply")
            }
        })?;
    match &outcome {
        SendOutcome::NotConnected => return Err(not_connected()),
        SendOutcome::Refused { reason, .. } => {
            tracing::warn!(tenant = %tenant, conversation = %conversation, reason, "Instagram refused a reply from the dashboard")
        }
        SendOutcome::RetryLater { reason, .. } => {
            tracing::info!(tenant = %tenant, conversation = %conversation, reason, "a reply from the dashboard waits for a retry")
        }
        SendOutcome::Sent { .. } => {}
    }
    let mut c = app.db.app().await?;
    let tx = begin_for_tenant(&mut c, tenant).await?;
    let first = tx
        .query_opt(
            "SELECT id FROM outbound_messages WHERE payload->>'message_key' = $1 ORDER BY (payload->>'seq')::int LIMIT 1",
            &[&key],
        )
        .await?
        .ok_or(ConversationError::NotFound)?;
    let answer = event(&tx, conversation, first.get(0)).await?;
    tx.commit().await.map_err(crate::db::DbError::from)?;
    Ok(answer)
}
