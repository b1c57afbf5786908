//! The shop's Instagram token: sealed at rest, refreshed before it expires, and the shop told
//! to reconnect when it can no longer be refreshed.

use super::graph::{ErrorClass, GraphClient};
use crate::alerts::{self, Severity};
use crate::app::App;
use crate::crypto::Keys;
use crate::db::{begin_for_tenant, DbError};
use crate::tenants::{self, TenantId};
use chrono::{DateTime, Duration, Utc};
use deadpool_postgres::GenericClient;
use secrecy::{ExposeSecret, SecretString};

pub struct StoredToken {
    pub ig_user_id: String,
    pub token: SecretString,
    pub expires_at: DateTime<Utc>,
}

pub async fn store(
    tx: &impl GenericClient,
    keys: &Keys,
    tenant: TenantId,
    ig_user_id: &str,
    token: &SecretString,
    expires_at: DateTime<Utc>,
    scopes: &[String],
) -> Result<(), tokio_postgres::Error> {
    let sealed = keys.seal(token.expose_secret().as_bytes());
    tx.execute(&tx.prepare_cached("INSERT INTO meta_tokens (tenant_id, ig_user_id, access_token_enc, key_id, scopes, obtained_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, now(), $6)
         ON CONFLICT (tenant_id) DO UPDATE
            SET ig_user_id = EXCLUDED.ig_user_id, access_token_enc = EXCLUDED.access_token_enc,
                key_id = EXCLUDED.key_id, scopes = EXCLUDED.scopes, obtained_at = now(),
                expires_at = EXCLUDED.expires_at, refreshed_at = NULL, last_refresh_error = NULL, updated_at = now()").await?,
        &[&tenant.as_uuid(), &ig_user_id, &sealed, &keys.key_id(), &scopes, &expires_at],
    )
    .await?;
    Ok(())
}

/// The shop's token, if it has one that can be opened with the current key.
pub async fn load(
    tx: &impl GenericClient,
    keys: &Keys,
    tenant: TenantId,
) -> Result<Option<StoredToken>, tokio_postgres::Error> {
    let Some(row) = tx
        .query_opt(&tx.prepare_cached("SELECT ig_user_id, access_token_enc, key_id, expires_at FROM meta_tokens WHERE tenant_id = $1").await?,
            &[&tenant.as_uuid()],
        )
        .await?
    else {
        return Ok(None);
    };
    let sealed: Vec<u8> = row.get(1);
    let key_id: String = row.get(2);
    match keys.open_string(&key_id, &sealed) {
        Ok(token) => Ok(Some(StoredToken {
            ig_user_id: row.get(0),
            token,
            expires_at: row.get(3),
        })),
        Err(e) => {
            tracing::error!(tenant = %tenant, error = %e, "the stored Instagram token cannot be opened");
            Ok(None)
        }
    }
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct RefreshReport {
    pub refreshed: usize,
    pub failed: usize,
    pub expired: usize,
    pub expiring_soon: usize,
}

/// Nightly: refreshes tokens that expire within 10 days and are at least 24 h old (Instagram
/// refuses younger ones); expired or refused tokens mark the shop "reconnect needed" with an
/// alert; tokens within 7 days of expiry that could not be refreshed raise a warning.
pub async fn refresh_expiring(app: &App, graph: &GraphClient) -> Result<RefreshReport, DbError> {
    let mut report = RefreshReport::default();
    let due: Vec<(TenantId, DateTime<Utc>)> = {
        let c = app.db.platform().await?;
        c.query(&c.prepare_cached("SELECT t.tenant_id, t.expires_at FROM meta_tokens t JOIN tenants s ON s.id = t.tenant_id
              WHERE s.status <> 'disabled' AND t.expires_at < now() + interval '10 days'
                AND coalesce(t.refreshed_at, t.obtained_at) < now() - interval '24 hours'
              ORDER BY t.expires_at").await?,
            &[],
        )
        .await?
        .into_iter()
        .map(|r| (TenantId::from_uuid(r.get(0)), r.get(1)))
        .collect()
    };
    for (tenant, expires_at) in due {
        let mut c = app.db.app().await?;
        let tx = begin_for_tenant(&mut c, tenant).await?;
        if expires_at <= Utc::now() {
            tenants::mark_reconnect_needed(
                &tx,
                tenant,
                "the Instagram token expired; sign in with Instagram again",
            )
            .await?;
            tx.commit().await?;
            report.expired += 1;
            continue;
        }
        let Some(current) = load(&tx, &app.keys, tenant).await? else {
            tx.commit().await?;
            continue;
        };
        match graph.refresh_token(&current.token).await {
            Ok(fresh) => {
                let new_expiry =
                    Utc::now() + Duration::from_std(fresh.expires_in).unwrap_or(Duration::days(60));
                let sealed = app.keys.seal(fresh.access_token.expose_secret().as_bytes());
                tx.execute(&tx.prepare_cached("UPDATE meta_tokens SET access_token_enc = $2, key_id = $3, expires_at = $4, refreshed_at = now(),
                            last_refresh_error = NULL, updated_at = now()
                      WHERE tenant_id = $1").await?,
                    &[&tenant.as_uuid(), &sealed, &app.keys.key_id(), &new_expiry],
                )
                .await?;
                report.refreshed += 1;
            }
            Err(e) => {
                report.failed += 1;
                let reason = e.to_string();
                tx.execute(&tx.prepare_cached("UPDATE meta_tokens SET last_refresh_error = $2, updated_at = now() WHERE tenant_id = $1").await?,
                    &[&tenant.as_uuid(), &reason],
                )
                .await?;
                if e.class() == ErrorClass::InvalidToken {
                    tenants::mark_reconnect_needed(
                        &tx,
                        tenant,
                        "Instagram refused the token; sign in with Instagram again",
                    )
                    .await?;
                } else if expires_at < Utc::now() + Duration::days(7) {
                    report.expiring_soon += 1;
                    alerts::raise_said(
                        &tx,
                        Some(tenant),
                        "instagram_token_expiring",
                        Severity::Warning,
                        &alerts::Said::new(
                            "instagram_token_expiring",
                            serde_json::json!({ "date": expires_at.format("%Y-%m-%d").to_string() }),
                            format!("The Instagram connection expires on {} and could not be renewed automatically ({reason}). Sign in with Instagram again before then.", expires_at.format("%Y-%m-%d")),
                        ),
                        Some("instagram_token_expiring"),
                    )
                    .await?;
                }
            }
        }
        tx.commit().await?;
    }
    Ok(report)
}
