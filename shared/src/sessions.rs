//! Merchant sign-in sessions. The cookie holds a random token; the database holds only its
//! SHA-256. State-changing requests also carry a CSRF token derived from the session (HMAC),
//! which the SPA reads from `GET /api/v1/me`.

use crate::crypto::{random_token, sha256, Keys};
use crate::db::{begin_for_tenant, Database, DbError};
use crate::tenants::TenantId;
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

pub const COOKIE_NAME: &str = "igshop_session";

pub struct NewSession {
    /// The cookie value. Shown once, never stored.
    pub token: String,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct MerchantSession {
    pub tenant: TenantId,
    pub user_id: Option<Uuid>,
    pub expires_at: DateTime<Utc>,
    token_hash: Vec<u8>,
}

impl MerchantSession {
    pub fn csrf_token(&self, keys: &Keys) -> String {
        keys.sign("csrf", &self.token_hash)
    }

    pub fn csrf_matches(&self, keys: &Keys, presented: Option<&str>) -> bool {
        presented.is_some_and(|p| keys.verify("csrf", &self.token_hash, p))
    }
}

pub async fn start_merchant_session(
    db: &Database,
    keys: &Keys,
    tenant: TenantId,
    user_id: Option<Uuid>,
    ttl_hours: u64,
) -> Result<NewSession, DbError> {
    let token = random_token();
    let token_hash = sha256(token.as_bytes());
    let csrf_token = keys.sign("csrf", &token_hash);
    let expires_at = Utc::now() + Duration::hours(ttl_hours as i64);
    let mut c = db.app().await?;
    let tx = begin_for_tenant(&mut c, tenant).await?;
    tx.execute(
        "INSERT INTO sessions (token_hash, kind, tenant_id, user_id, csrf_token_hash, expires_at)
         VALUES ($1, 'merchant', $2, $3, $4, $5)",
        &[
            &token_hash,
            &tenant.as_uuid(),
            &user_id,
            &sha256(csrf_token.as_bytes()),
            &expires_at,
        ],
    )
    .await?;
    // Expired sessions of this shop go while we are here.
    tx.execute(
        "DELETE FROM sessions WHERE tenant_id = $1 AND expires_at < now()",
        &[&tenant.as_uuid()],
    )
    .await?;
    tx.commit().await?;
    Ok(NewSession {
        token,
        csrf_token,
        expires_at,
    })
}

/// The live session named by a cookie value, if any.
pub async fn find_merchant_session(
    db: &Database,
    token: &str,
) -> Result<Option<MerchantSession>, DbError> {
    if token.is_empty() || token.len() > 200 {
        return Ok(None);
    }
    let token_hash = sha256(token.as_bytes());
    let c = db.app().await?;
    let row = c
        .query_opt(
            "SELECT tenant_id, user_id, expires_at FROM merchant_session($1)",
            &[&token_hash],
        )
        .await?;
    Ok(row.map(|r| MerchantSession {
        tenant: TenantId::from_uuid(r.get(0)),
        user_id: r.get(1),
        expires_at: r.get(2),
        token_hash,
    }))
}

pub async fn end_session(db: &Database, session: &MerchantSession) -> Result<(), DbError> {
    let mut c = db.app().await?;
    let tx = begin_for_tenant(&mut c, session.tenant).await?;
    tx.execute(
        "DELETE FROM sessions WHERE token_hash = $1",
        &[&session.token_hash],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
