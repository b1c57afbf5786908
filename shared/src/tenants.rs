//! Tenants: one shop, one Instagram professional account.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

/// The id of a shop. Every tenant-owned row carries it; row-level security compares it with
/// the transaction's `app.tenant_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TenantId(Uuid);

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
