//! "My data": a merchant deletes their shop. The Instagram handle must be typed to confirm.
//! First what lives outside the database — the search index entries of the catalog and the
//! knowledge base, the knowledge-base originals in blob storage — then every row of the shop
//! in one tenant transaction (the tenant row goes, and every tenant-owned table follows it by
//! `ON DELETE CASCADE`, sessions included), with its queued work. If any outside part
//! fails, no row is deleted and the merchant can try again (removing twice is harmless).
//!
//! Meta's data-deletion callback (`instagram::data_deletion`) erases one Instagram *customer*
//! in every shop and keeps the shops; this removes one *shop* whole.

use crate::app::App;
use crate::db::{begin_for_tenant, DbError};
use crate::tenants::{InstagramHandle, TenantId};
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum DeletionError {
    /// The typed confirmation is not the shop's handle.
    #[error("{0}")]
    NotConfirmed(String),
    #[error("the search index could not be cleared: {0}")]
    Search(String),
    #[error("blob storage: {0}")]
    Blob(String),
    #[error(transparent)]
    Database(#[from] DbError),
}

impl From<tokio_postgres::Error> for DeletionError {
    fn from(e: tokio_postgres::Error) -> Self {
        DeletionError::Database(e.into())
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Deleted {
    pub catalog_items: usize,
    pub documents: usize,
    pub blobs: usize,
}

/// Whether `typed` confirms deleting the shop with `handle` (case and a leading `@` do not
/// matter).
pub fn confirms(handle: Option<&str>, typed: &str) -> bool {
    match (handle, InstagramHandle::parse(typed)) {
        (Some(h), Ok(t)) => t.as_str() == h,
        _ => false,
    }
}

pub async fn delete_shop(
    app: &App,
    tenant: TenantId,
    typed: &str,
) -> Result<Deleted, DeletionError> {
    let (items, documents) = {
        let mut c = app.db.app().await?;
        let tx = begin_for_tenant(&mut c, tenant).await?;
        let handle = crate::tenants::load(&tx, tenant)
            .await?
            .and_then(|t| t.ig_handle);
        if !confirms(handle.as_deref(), typed) {
            return Err(DeletionError::NotConfirmed(format!(
                "Type your shop's Instagram handle{} exactly to confirm.",
                handle.map(|h| format!(" ({h})")).unwrap_or_default()
            )));
        }
        let items: Vec<Uuid> = tx
            .query("SELECT id FROM catalog_items", &[])
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let documents: Vec<(Uuid, Option<String>)> = tx
            .query("SELECT id, blob_path FROM kb_documents", &[])
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        tx.commit().await.map_err(DbError::from)?;
        (items, documents)
    };
    let search = |e: crate::search::SearchError| DeletionError::Search(e.to_string());
    app.search
        .remove_products(tenant, &items)
        .await
        .map_err(search)?;
    let mut blobs = 0;
    for (id, path) in &documents {
        app.search
            .remove_document(tenant, *id)
            .await
            .map_err(search)?;
        if let Some(path) = path {
            app.blobs
                .delete(path)
                .await
                .map_err(|e| DeletionError::Blob(e.to_string()))?;
            blobs += 1;
        }
    }

    let mut c = app.db.app().await?;
    let tx = begin_for_tenant(&mut c, tenant).await?;
    let t = tenant.to_string();
    tx.execute(
        "DELETE FROM queue_messages WHERE body->>'tenant_id' = $1",
        &[&t],
    )
    .await?;
    tx.execute("DELETE FROM tenants WHERE id = $1", &[&tenant.as_uuid()])
        .await?;
    tx.commit().await.map_err(DbError::from)?;
    tracing::info!(tenant = %tenant, items = items.len(), documents = documents.len(), blobs, "a merchant deleted their shop");
    Ok(Deleted {
        catalog_items: items.len(),
        documents: documents.len(),
        blobs,
    })
}

#[cfg(test)]
mod tests {
    use super::confirms;

    #[test]
    fn only_the_shops_own_handle_confirms() {
        assert!(confirms(Some("jo.shop"), "jo.shop"));
        assert!(confirms(Some("jo.shop"), " @Jo.Shop "));
        assert!(!confirms(Some("jo.shop"), "jo.shop2"));
        assert!(!confirms(Some("jo.shop"), ""));
        assert!(!confirms(None, "jo.shop"));
    }
}
