//! Tokens and cost of each model call, recorded in `usage_events` (inside the caller's tenant
//! transaction, so row-level security applies).

use super::{BilledTo, Usage};
use crate::tenants::TenantId;
use deadpool_postgres::GenericClient;
use rust_decimal::Decimal;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    Chat,
    Embedding,
}

pub struct UsageEvent<'a> {
    pub tenant: TenantId,
    pub conversation_id: Option<Uuid>,
    pub turn_id: Option<Uuid>,
    pub kind: CallKind,
    pub provider: &'a str,
    pub model: &'a str,
    pub usage: Usage,
    pub cost_usd: Decimal,
    pub billed_to: BilledTo,
}

pub async fn record(
    db: &impl GenericClient,
    e: &UsageEvent<'_>,
) -> Result<(), tokio_postgres::Error> {
    db.execute(&db.prepare_cached("INSERT INTO usage_events (tenant_id, conversation_id, turn_id, kind, provider, model,
                                   prompt_tokens, cached_tokens, completion_tokens, cost_usd, billed_to)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)").await?,
        &[
            &e.tenant.as_uuid(),
            &e.conversation_id,
            &e.turn_id,
            &match e.kind {
                CallKind::Chat => "chat",
                CallKind::Embedding => "embedding",
            },
            &e.provider,
            &e.model,
            &(e.usage.prompt_tokens as i32),
            &(e.usage.cached_tokens as i32),
            &(e.usage.completion_tokens as i32),
            &e.cost_usd,
            &e.billed_to.as_str(),
        ],
    )
    .await?;
    // One JSON line per model call: Application Insights' `traces` sums cost_usd for the
    // "model cost per day" alert (infra/main.bicep).
    tracing::info!(
        tenant = %e.tenant,
        kind = match e.kind {
            CallKind::Chat => "chat",
            CallKind::Embedding => "embedding",
        },
        provider = e.provider,
        model = e.model,
        prompt_tokens = e.usage.prompt_tokens,
        cached_tokens = e.usage.cached_tokens,
        completion_tokens = e.usage.completion_tokens,
        cost_usd = %e.cost_usd,
        billed_to = e.billed_to.as_str(),
        "model usage"
    );
    Ok(())
}
