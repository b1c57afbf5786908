//! Alerts for merchants and the product owner (token expiry, reconnect needed, failures).
//! An open alert with the same dedupe key is not raised twice.

use crate::tenants::TenantId;
use deadpool_postgres::GenericClient;

#[derive(Debug, Clone, Copy)]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// Raises an alert inside the caller's transaction (a tenant's, or the platform's).
pub async fn raise(
    client: &impl GenericClient,
    tenant: Option<TenantId>,
    kind: &str,
    severity: Severity,
    message: &str,
    dedupe_key: Option<&str>,
) -> Result<(), tokio_postgres::Error> {
    client
        .execute(
            "INSERT INTO alerts (tenant_id, kind, severity, message, dedupe_key) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT DO NOTHING",
            &[&tenant.map(|t| t.as_uuid()), &kind, &severity.as_str(), &message, &dedupe_key],
        )
        .await?;
    tracing::warn!(tenant = ?tenant.map(|t| t.to_string()), kind, severity = severity.as_str(), "alert: {message}");
    Ok(())
}

/// A webhook arrived with a missing or wrong signature: one open platform alert says so (at
/// most one database write a minute per instance, in the background, so a flood of forged
/// requests costs nothing more).
pub fn note_webhook_signature_failure(db: &crate::db::Database, reason: &str) {
    use std::sync::atomic::{AtomicI64, Ordering};
    static LAST: AtomicI64 = AtomicI64::new(0);
    let now = chrono::Utc::now().timestamp();
    let last = LAST.load(Ordering::Relaxed);
    if now - last < 60 || LAST.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_err() {
        return;
    }
    let db = db.clone();
    let message = format!("Instagram webhook requests were refused for a bad signature (last: {reason}); check META_APP_SECRET / INSTAGRAM_APP_SECRET, or someone is forging requests");
    tokio::spawn(async move {
        let result = async {
            let c = db.platform().await?;
            raise(&c, None, "webhook_signature", Severity::Warning, &message, Some("webhook_signature_failures")).await?;
            Ok::<_, crate::db::DbError>(())
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "could not record the webhook signature alert");
        }
    });
}
