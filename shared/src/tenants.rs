//! Tenants: one shop, one Instagram professional account.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

/// The id of a shop. Every tenant-owned row carries it; row-level security compares it with
/// the transaction's `app.tenant_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TenantId(Uuid);

crate::string_schema!(
    TenantId,
    "The shop's id",
    "6f1c3c2e-8a44-4f43-9a55-2f0c9d1f7b10",
    format = utoipa::openapi::schema::SchemaFormat::KnownFormat(
        utoipa::openapi::schema::KnownFormat::Uuid
    )
);

impl TenantId {
    pub fn new() -> Self {
        TenantId(Uuid::new_v4())
    }
    pub fn from_uuid(id: Uuid) -> Self {
        TenantId(id)
    }
    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl Default for TenantId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for TenantId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(TenantId)
    }
}

/// An Instagram handle, normalised: no `@`, lower case, 1-30 of `a-z 0-9 . _`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct InstagramHandle(String);

crate::string_schema!(
    InstagramHandle,
    "An Instagram handle without @, lower case: 1-30 of a-z 0-9 . _",
    "jo.shop",
    pattern = r"^[a-z0-9._]{1,30}$"
);

impl InstagramHandle {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let h = raw.trim().trim_start_matches('@').to_lowercase();
        if h.is_empty() || h.len() > 30 {
            return Err(format!(
                "an Instagram handle has 1 to 30 characters, got {:?}",
                raw.trim()
            ));
        }
        if !h
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_')
        {
            return Err(format!(
                "an Instagram handle has only letters, digits, '.' and '_', got {:?}",
                raw.trim()
            ));
        }
        Ok(InstagramHandle(h))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for InstagramHandle {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        InstagramHandle::parse(&s)
    }
}

impl From<InstagramHandle> for String {
    fn from(h: InstagramHandle) -> String {
        h.0
    }
}

impl fmt::Display for InstagramHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A shop as the dashboard shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Tenant {
    pub id: TenantId,
    pub ig_user_id: Option<String>,
    pub ig_handle: Option<String>,
    pub display_name: Option<String>,
    pub status: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Creates the shop of an Instagram account on first sign-in, or brings it up to date.
/// Returns the tenant and whether it was new. Runs as the platform: no tenant exists yet.
pub async fn upsert_for_instagram_account(
    db: &crate::db::Database,
    ig_user_id: &str,
    handle: &InstagramHandle,
) -> Result<(TenantId, bool), crate::db::DbError> {
    let mut c = db.platform().await?;
    let tx = c.transaction().await?;
    // A handle moves with its owner: if another account held it, that account renamed.
    tx.execute(
        "UPDATE tenants SET ig_handle = NULL, updated_at = now() WHERE ig_handle = $1 AND ig_user_id IS DISTINCT FROM $2",
        &[&handle.as_str(), &ig_user_id],
    )
    .await?;
    let row = tx
        .query_one(
            "INSERT INTO tenants (ig_user_id, ig_handle, display_name) VALUES ($1, $2, $2)
             ON CONFLICT (ig_user_id) DO UPDATE
                SET ig_handle = EXCLUDED.ig_handle,
                    status = CASE WHEN tenants.status = 'disabled' THEN 'disabled' ELSE 'active' END,
                    updated_at = now()
             RETURNING id, (xmax = 0)",
            &[&ig_user_id, &handle.as_str()],
        )
        .await?;
    tx.commit().await?;
    Ok((TenantId::from_uuid(row.get(0)), row.get(1)))
}

/// The shop that owns an Instagram professional account (webhook routing).
pub async fn for_instagram_account(
    db: &crate::db::Database,
    ig_user_id: &str,
) -> Result<Option<TenantId>, crate::db::DbError> {
    let c = db.app().await?;
    let row = c
        .query_one("SELECT tenant_for_instagram_account($1)", &[&ig_user_id])
        .await?;
    Ok(row.get::<_, Option<uuid::Uuid>>(0).map(TenantId::from_uuid))
}

pub async fn load(
    tx: &impl deadpool_postgres::GenericClient,
    tenant: TenantId,
) -> Result<Option<Tenant>, tokio_postgres::Error> {
    let row = tx
        .query_opt(
            "SELECT id, ig_user_id, ig_handle, display_name, status, created_at FROM tenants WHERE id = $1",
            &[&tenant.as_uuid()],
        )
        .await?;
    Ok(row.map(|r| Tenant {
        id: TenantId::from_uuid(r.get(0)),
        ig_user_id: r.get(1),
        ig_handle: r.get(2),
        display_name: r.get(3),
        status: r.get(4),
        created_at: r.get(5),
    }))
}

/// The shop's Instagram connection stopped working: the merchant must sign in again.
pub async fn mark_reconnect_needed(
    tx: &impl deadpool_postgres::GenericClient,
    tenant: TenantId,
    reason: &str,
) -> Result<(), tokio_postgres::Error> {
    tx.execute(
        "UPDATE tenants SET status = 'reconnect_needed', updated_at = now() WHERE id = $1 AND status = 'active'",
        &[&tenant.as_uuid()],
    )
    .await?;
    crate::alerts::raise_said(
        tx,
        Some(tenant),
        "instagram_reconnect_needed",
        crate::alerts::Severity::Critical,
        &crate::alerts::Said::new(
            "instagram_reconnect_needed",
            serde_json::json!({}),
            format!("Instagram needs to be connected again: {reason}"),
        ),
        Some("instagram_reconnect_needed"),
    )
    .await
}

#[cfg(test)]
mod handle_tests {
    use super::InstagramHandle;

    #[test]
    fn handles_are_normalised_and_checked() {
        assert_eq!(
            InstagramHandle::parse(" @Jordan.Shop_1 ").unwrap().as_str(),
            "jordan.shop_1"
        );
        assert!(InstagramHandle::parse("").is_err());
        assert!(InstagramHandle::parse("has space").is_err());
        assert!(InstagramHandle::parse("متجر").is_err());
        assert!(InstagramHandle::parse(&"a".repeat(31)).is_err());
    }
}
