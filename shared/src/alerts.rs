//! Alerts for merchants and the product owner (token expiry, reconnect needed, failures).
//! An open alert with the same dedupe key is not raised twice. Merchants list their shop's
//! alerts and mark them read (acknowledged).

use crate::tenants::TenantId;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use uuid::Uuid;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// What an alert or a handoff reason says: a message key the web app words in the
/// merchant's language (English and Arabic, `frontend/src/locales/*/alerts.json` under
/// `message`), its parameters, and the English text (logs, the admin console). Technical
/// details (HTTP codes, parser positions) never go into the parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Said {
    pub key: &'static str,
    pub params: serde_json::Value,
    pub text: String,
}

impl Said {
    pub fn new(key: &'static str, params: serde_json::Value, text: impl Into<String>) -> Self {
        Said {
            key,
            params,
            text: text.into(),
        }
    }
}

/// Raises an alert inside the caller's transaction (a tenant's, or the platform's), with
/// English text only.
pub async fn raise(
    client: &impl GenericClient,
    tenant: Option<TenantId>,
    kind: &str,
    severity: Severity,
    message: &str,
    dedupe_key: Option<&str>,
) -> Result<(), tokio_postgres::Error> {
    insert(
        client,
        tenant,
        kind,
        severity,
        message,
        None,
        &serde_json::json!({}),
        dedupe_key,
    )
    .await
}

/// Raises an alert the web app words in the merchant's language.
pub async fn raise_said(
    client: &impl GenericClient,
    tenant: Option<TenantId>,
    kind: &str,
    severity: Severity,
    said: &Said,
    dedupe_key: Option<&str>,
) -> Result<(), tokio_postgres::Error> {
    insert(
        client,
        tenant,
        kind,
        severity,
        &said.text,
        Some(said.key),
        &said.params,
        dedupe_key,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn insert(
    client: &impl GenericClient,
    tenant: Option<TenantId>,
    kind: &str,
    severity: Severity,
    message: &str,
    key: Option<&str>,
    params: &serde_json::Value,
    dedupe_key: Option<&str>,
) -> Result<(), tokio_postgres::Error> {
    client
        .execute(
            "INSERT INTO alerts (tenant_id, kind, severity, message, message_key, params, dedupe_key) VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT DO NOTHING",
            &[&tenant.map(|t| t.as_uuid()), &kind, &severity.as_str(), &message, &key, params, &dedupe_key],
        )
        .await?;
    match tenant {
        Some(t) => {
            tracing::warn!(tenant = %t, kind, severity = severity.as_str(), "alert: {message}")
        }
        None => tracing::warn!(
            kind,
            severity = severity.as_str(),
            "platform alert: {message}"
        ),
    }
    Ok(())
}

/// One alert as the merchant sees it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Alert {
    pub id: Uuid,
    /// e.g. instagram_reconnect_needed, instagram_token_expiring, handoff, ai_unavailable.
    pub kind: String,
    pub severity: Severity,
    /// English text (shown when the app has no wording for `message_key`).
    pub message: String,
    /// The message key the web app words in the merchant's language, with `params`.
    #[schema(required = true)]
    pub message_key: Option<String>,
    #[schema(value_type = Object)]
    pub params: serde_json::Value,
    pub created_at: DateTime<Utc>,
    /// When it was marked read (null: still open).
    #[schema(required = true)]
    pub acknowledged_at: Option<DateTime<Utc>>,
}

/// Most alerts one list shows.
pub const LIST_LIMIT: i64 = 200;

/// The shop's alerts, newest first: only the open ones, or all.
pub async fn list(
    client: &impl GenericClient,
    open_only: bool,
) -> Result<Vec<Alert>, tokio_postgres::Error> {
    let rows = client
        .query(
            "SELECT id, kind, severity, message, created_at, acknowledged_at, message_key, params FROM alerts
              WHERE tenant_id = app_current_tenant() AND (NOT $1 OR acknowledged_at IS NULL)
              ORDER BY created_at DESC, id DESC LIMIT $2",
            &[&open_only, &LIST_LIMIT],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Alert {
            id: r.get(0),
            kind: r.get(1),
            severity: match r.get::<_, &str>(2) {
                "info" => Severity::Info,
                "critical" => Severity::Critical,
                _ => Severity::Warning,
            },
            message: r.get(3),
            created_at: r.get(4),
            acknowledged_at: r.get(5),
            message_key: r.get(6),
            params: r.get(7),
        })
        .collect())
}

/// Marks one of the shop's alerts read; `false` when the shop has no such alert. Marking it
/// again keeps the first time.
pub async fn mark_read(
    client: &impl GenericClient,
    id: Uuid,
) -> Result<bool, tokio_postgres::Error> {
    let n = client
        .execute(
            "UPDATE alerts SET acknowledged_at = coalesce(acknowledged_at, now())
              WHERE id = $1 AND tenant_id = app_current_tenant()",
            &[&id],
        )
        .await?;
    Ok(n > 0)
}

/// A webhook arrived with a missing or wrong signature: one open platform alert says so (at
/// most one database write a minute per instance, in the background, so a flood of forged
/// requests costs nothing more).
pub fn note_webhook_signature_failure(db: &crate::db::Database, reason: &str) {
    use std::sync::atomic::{AtomicI64, Ordering};
    static LAST: AtomicI64 = AtomicI64::new(0);
    let now = chrono::Utc::now().timestamp();
    let last = LAST.load(Ordering::Relaxed);
    if now - last < 60
        || LAST
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
    {
        return;
    }
    let db = db.clone();
    let message = format!("Instagram webhook requests were refused for a bad signature (last: {reason}); check META_APP_SECRET / INSTAGRAM_APP_SECRET, or someone is forging requests");
    tokio::spawn(async move {
        let result = async {
            let c = db.platform().await?;
            raise(
                &c,
                None,
                "webhook_signature",
                Severity::Warning,
                &message,
                Some("webhook_signature_failures"),
            )
            .await?;
            Ok::<_, crate::db::DbError>(())
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "could not record the webhook signature alert");
        }
    });
}
