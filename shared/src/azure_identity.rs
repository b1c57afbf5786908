//! Managed identity for Azure services (Service Bus, Blob Storage, Key Vault).

use azure_core::credentials::TokenCredential;
use azure_identity::{ManagedIdentityCredential, ManagedIdentityCredentialOptions, UserAssignedId};
use std::sync::Arc;

/// System-assigned identity, or the user-assigned one with this client id.
pub fn managed_identity(client_id: Option<&str>) -> Result<Arc<dyn TokenCredential>, String> {
    let options = ManagedIdentityCredentialOptions {
        user_assigned_id: client_id.map(|id| UserAssignedId::ClientId(id.to_owned())),
        ..Default::default()
    };
    let credential = ManagedIdentityCredential::new(Some(options))
        .map_err(|e| format!("managed identity: {e}"))?;
    Ok(credential)
}
