//! "Resync recent conversations": reads Instagram's Conversations API and stores what the
//! webhooks missed, through the same inbox (so nothing is stored twice).

use super::events::{
    Attachment, Entry, EventKind, EventSource, InstagramEvent, MessageEvent, WebhookBatch,
};
use super::inbox::{ingest, IngestError, IngestReport};
use super::tokens;
use crate::app::App;
use crate::db::begin_for_tenant;
use crate::tenants::TenantId;

pub const CONVERSATIONS: u32 = 20;
pub const MESSAGES_PER_CONVERSATION: u32 = 50;

#[derive(Debug, thiserror::Error)]
pub enum ResyncError {
    #[error("Instagram is not configured on this server")]
    NotConfigured,
    #[error("the shop is not connected to Instagram; sign in with Instagram first")]
    NotConnected,
    #[error("Instagram did not answer as expected: {0}")]
    Instagram(String),
    #[error(transparent)]
    Ingest(#[from] IngestError),
}

#[derive(Debug, Default, serde::Serialize, utoipa::ToSchema)]
pub struct ResyncReport {
    pub conversations_read: usize,
    pub messages_read: usize,
    pub messages_added: usize,
}

pub async fn resync(app: &App, tenant: TenantId) -> Result<ResyncReport, ResyncError> {
    let graph = app.graph.as_ref().ok_or(ResyncError::NotConfigured)?;
    let token = {
        let mut c = app.db.app().await.map_err(IngestError::from)?;
        let tx = begin_for_tenant(&mut c, tenant)
            .await
            .map_err(IngestError::from)?;
        tokens::load(&tx, &app.keys, tenant)
            .await
            .map_err(IngestError::from)?
    }
    .ok_or(ResyncError::NotConnected)?;
    let account = token.ig_user_id.clone();
    let conversations = graph
        .recent_conversations(&account, &token.token, CONVERSATIONS)
        .await
        .map_err(|e| ResyncError::Instagram(e.to_string()))?;
    let mut report = ResyncReport {
        conversations_read: conversations.len(),
        ..Default::default()
    };
    let mut events = Vec::new();
    for conversation in &conversations {
        let messages = graph
            .conversation_messages(&conversation.id, &token.token, MESSAGES_PER_CONVERSATION)
            .await
            .map_err(|e| ResyncError::Instagram(e.to_string()))?;
        report.messages_read += messages.len();
        // Oldest first, as webhooks would have delivered them.
        for m in messages.into_iter().rev() {
            let message = MessageEvent {
                mid: m.mid,
                text: m.text,
                attachments: m
                    .attachments
                    .into_iter()
                    .map(|raw| Attachment {
                        kind: attachment_kind(&raw),
                        url: attachment_url(&raw),
                        raw,
                    })
                    .collect(),
                quick_reply_payload: None,
                reply_to_mid: None,
                reply_to_story: None,
                referral: None,
                is_unsupported: false,
            };
            let kind = if m.from_id == account {
                EventKind::Echo(message)
            } else {
                EventKind::Message(message)
            };
            events.push(InstagramEvent {
                sender_id: m.from_id,
                recipient_id: m.to_id,
                timestamp_ms: m.created_time.timestamp_millis(),
                source: EventSource::Messaging,
                kind,
            });
        }
    }
    let batch = WebhookBatch {
        entries: vec![Entry {
            account_id: account,
            time_ms: None,
            events,
            skipped: vec![],
        }],
    };
    let ingested: IngestReport = ingest(app, &batch).await?;
    report.messages_added = ingested.stored_messages;
    Ok(report)
}

fn attachment_kind(raw: &serde_json::Value) -> String {
    for (key, kind) in [
        ("image_data", "image"),
        ("video_data", "video"),
        ("audio_data", "audio"),
        ("file_url", "file"),
    ] {
        if raw.get(key).is_some() {
            return kind.into();
        }
    }
    raw.get("type")
        .and_then(|t| t.as_str())
        .unwrap_or("unknown")
        .to_owned()
}

fn attachment_url(raw: &serde_json::Value) -> Option<String> {
    ["image_data", "video_data", "audio_data"]
        .iter()
        .find_map(|k| {
            raw.get(k)
                .and_then(|d| d.get("url"))
                .and_then(|u| u.as_str())
        })
        .or_else(|| raw.get("file_url").and_then(|u| u.as_str()))
        .or_else(|| {
            raw.get("payload")
                .and_then(|p| p.get("url"))
                .and_then(|u| u.as_str())
        })
        .map(str::to_owned)
}
