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
