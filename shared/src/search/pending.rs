//! The catalog items an external search index (Azure AI Search) has not taken yet: the
//! `search_index_pending` table (migration V5).
//!
//! * A catalog write records its items with [`queue`] in its own transaction, so a change
//!   that commits is never lost for search and one that rolls back queues nothing.
//! * Right after the commit the API pushes that shop's entries ([`push_shop_now`], best
//!   effort, bounded in time); the sweeper pushes what is left for every shop ([`push_due`]).
//!
//! A push reads each item as it is at that moment: present and active → uploaded, deleted or
//! inactive → deleted from the index. So pushing twice is harmless and entries cannot be
//! applied out of order. An entry is claimed for [`LEASE_SECS`] while its push is in flight
//! (a second pusher never sends an older state after a newer one), deleted only if no write
//! queued it again meanwhile (`generation`), and backed off by its attempts when the service
//! fails.
//!
//! The Postgres backend needs none of this ([`ProductIndex::SearchText`]): catalog writes keep
//! `search_text` in their own transaction.

use super::{attributes_text, ProductDoc, ProductIndex, SearchError};
use crate::app::App;
use crate::db::{begin_for_tenant, DbError};
use crate::tenants::TenantId;
use deadpool_postgres::{GenericClient, Object, Transaction};
use std::collections::HashMap;
use std::time::Duration;
use uuid::Uuid;

/// Entries claimed and pushed together (one upload request per shop in the batch).
pub const BATCH: i64 = 100;
/// How long a claimed entry is left to its pusher; far above one batch's requests (the client
/// gives up on a request after 15 s).
pub const LEASE_SECS: f64 = 120.0;
/// Batches pushed right after a write: a large CSV import leaves the rest to the sweeper.
const AFTER_WRITE_BATCHES: usize = 10;
/// The merchant's request waits at most this long for the push after its commit.
const AFTER_WRITE_TIME: Duration = Duration::from_secs(10);
/// Batches per sweeper run.
const SWEEP_BATCHES: usize = 50;

/// Records that these items of `tenant` must be (re)pushed, in the caller's transaction.
/// Queuing an item already queued counts as a new write of it.
pub async fn queue(
    tx: &impl GenericClient,
    tenant: TenantId,
    ids: &[Uuid],
) -> Result<(), tokio_postgres::Error> {
    if ids.is_empty() {
        return Ok(());
    }
    tx.execute(
        "INSERT INTO search_index_pending (tenant_id, item_id)
         SELECT DISTINCT $1::uuid, id FROM unnest($2::uuid[]) AS u(id)
         ON CONFLICT (tenant_id, item_id) DO UPDATE
            SET generation = search_index_pending.generation + 1,
                queued_at = now(), next_attempt_at = now()",
        &[&tenant.as_uuid(), &ids],
    )
    .await?;
    Ok(())
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PushReport {
    /// Entries whose item is now as it should be in the index.
    pub pushed: usize,
    /// Entries left for a later attempt because the service refused or failed.
    pub retrying: usize,
}

/// After a catalog write of `tenant` has committed: pushes the shop's pending entries now,
/// so the agent finds the change at once. Best effort: failures are logged and the entries
/// stay for the sweeper. Does nothing for the Postgres backend.
pub async fn push_shop_now(app: &App, tenant: TenantId) {
    if app.search.product_index() != ProductIndex::External {
        return;
    }
    let push = push(app, Reach::Shop(tenant), AFTER_WRITE_BATCHES);
    match tokio::time::timeout(AFTER_WRITE_TIME, push).await {
        Ok(Ok(r)) if r.retrying == 0 => {}
        Ok(Ok(r)) => tracing::warn!(
            tenant = %tenant, pushed = r.pushed, retrying = r.retrying,
            "search index: some catalog changes were not pushed; the sweeper retries them"
        ),
        Ok(Err(e)) => tracing::warn!(
            tenant = %tenant, error = %e,
            "search index: catalog changes not pushed; the sweeper retries them"
        ),
        Err(_) => tracing::warn!(
            tenant = %tenant,
            "search index: pushing catalog changes took too long; the sweeper finishes"
        ),
    }
}

/// The sweeper's part: pushes due entries of every shop (platform role), in batches. Stops
/// early when the service is unavailable, leaving the rest for the next run.
pub async fn push_due(app: &App) -> Result<PushReport, SearchError> {
    push(app, Reach::AllShops, SWEEP_BATCHES).await
}

#[derive(Debug, Clone, Copy)]
enum Reach {
    /// One shop, as the application role under row-level security.
    Shop(TenantId),
    /// Every shop, as the platform role.
    AllShops,
}

async fn connection(app: &App, reach: Reach) -> Result<Object, DbError> {
    match reach {
        Reach::Shop(_) => app.db.app().await,
        Reach::AllShops => app.db.platform().await,
    }
}

async fn begin(c: &mut Object, reach: Reach) -> Result<Transaction<'_>, DbError> {
    match reach {
        Reach::Shop(tenant) => begin_for_tenant(c, tenant).await,
        Reach::AllShops => Ok(c.transaction().await?),
    }
}

#[derive(Debug, Clone, Copy)]
struct Claimed {
    tenant: TenantId,
    item: Uuid,
    generation: i64,
}

async fn push(app: &App, reach: Reach, max_batches: usize) -> Result<PushReport, SearchError> {
    let mut report = PushReport::default();
    for _ in 0..max_batches {
        let (claimed, mut docs) = claim(app, reach).await?;
        if claimed.is_empty() {
            break;
        }
        let mut by_shop: HashMap<TenantId, Vec<Claimed>> = HashMap::new();
        for c in &claimed {
            by_shop.entry(c.tenant).or_default().push(*c);
        }
        let mut done: Vec<Claimed> = Vec::new();
        let mut failed: Vec<(Claimed, String)> = Vec::new();
        let mut unavailable = false;
        for (tenant, entries) in by_shop {
            let (uploads, removals): (Vec<ProductDoc>, Vec<Uuid>) = {
                let mut uploads = Vec::new();
                let mut removals = Vec::new();
                for e in &entries {
                    match docs.remove(&(e.tenant, e.item)) {
                        Some(doc) => uploads.push(doc),
                        None => removals.push(e.item),
                    }
                }
                (uploads, removals)
            };
            let result = match app.search.index_products(tenant, &uploads).await {
                Ok(()) => app.search.remove_products(tenant, &removals).await,
                Err(e) => Err(e),
            };
            match result {
                Ok(()) => done.extend(entries),
                Err(e) => {
                    tracing::warn!(tenant = %tenant, items = entries.len(), error = %e, "search index: push failed");
                    unavailable |= e.is_transient();
                    let message = super::cut(&e.to_string(), 500);
                    failed.extend(entries.into_iter().map(|c| (c, message.clone())));
                }
            }
        }
        settle(app, reach, &done, &failed).await?;
        report.pushed += done.len();
        report.retrying += failed.len();
        if unavailable || (claimed.len() as i64) < BATCH {
            break;
        }
    }
    Ok(report)
}

/// Claims up to [`BATCH`] due entries and reads their items (active ones only) in one
/// transaction.
async fn claim(
    app: &App,
    reach: Reach,
) -> Result<(Vec<Claimed>, HashMap<(TenantId, Uuid), ProductDoc>), SearchError> {
    let shop = match reach {
        Reach::Shop(t) => Some(t.as_uuid()),
        Reach::AllShops => None,
    };
    let mut c = connection(app, reach).await?;
    let tx = begin(&mut c, reach).await?;
    let claimed: Vec<Claimed> = tx
        .query(
            "WITH due AS (
                SELECT tenant_id, item_id FROM search_index_pending
                 WHERE ($1::uuid IS NULL OR tenant_id = $1)
                   AND next_attempt_at <= now()
                   AND (claimed_until IS NULL OR claimed_until <= now())
                 ORDER BY next_attempt_at
                 LIMIT $2
                 FOR UPDATE SKIP LOCKED)
             UPDATE search_index_pending p SET claimed_until = now() + make_interval(secs => $3)
               FROM due WHERE p.tenant_id = due.tenant_id AND p.item_id = due.item_id
             RETURNING p.tenant_id, p.item_id, p.generation",
            &[&shop, &BATCH, &LEASE_SECS],
        )
        .await?
        .iter()
        .map(|r| Claimed {
            tenant: TenantId::from_uuid(r.get(0)),
            item: r.get(1),
            generation: r.get(2),
        })
        .collect();
    let tenants: Vec<Uuid> = claimed.iter().map(|c| c.tenant.as_uuid()).collect();
    let items: Vec<Uuid> = claimed.iter().map(|c| c.item).collect();
    let docs = tx
        .query(
            "SELECT i.tenant_id, i.id, i.sku, i.name, i.description, c.name, i.attributes
               FROM unnest($1::uuid[], $2::uuid[]) AS q(tenant_id, item_id)
               JOIN catalog_items i ON i.id = q.item_id AND i.tenant_id = q.tenant_id
               LEFT JOIN categories c ON c.id = i.category_id
              WHERE i.is_active",
            &[&tenants, &items],
        )
        .await?
        .iter()
        .map(|r| {
            let attributes: serde_json::Value = r.get(6);
            let doc = ProductDoc {
                id: r.get(1),
                sku: r.get(2),
                name: r.get(3),
                description: r.get(4),
                category: r.get(5),
                attributes_text: attributes_text(&attributes),
            };
            ((TenantId::from_uuid(r.get(0)), doc.id), doc)
        })
        .collect();
    tx.commit().await.map_err(DbError::from)?;
    Ok((claimed, docs))
}

/// Deletes the entries pushed (unless queued again meanwhile), backs off the failed ones, and
/// releases every claim.
async fn settle(
    app: &App,
    reach: Reach,
    done: &[Claimed],
    failed: &[(Claimed, String)],
) -> Result<(), SearchError> {
    let mut c = connection(app, reach).await?;
    let tx = begin(&mut c, reach).await?;
    if !done.is_empty() {
        let tenants: Vec<Uuid> = done.iter().map(|c| c.tenant.as_uuid()).collect();
        let items: Vec<Uuid> = done.iter().map(|c| c.item).collect();
        let generations: Vec<i64> = done.iter().map(|c| c.generation).collect();
        tx.execute(
            "DELETE FROM search_index_pending p
              USING unnest($1::uuid[], $2::uuid[], $3::bigint[]) AS d(tenant_id, item_id, generation)
              WHERE p.tenant_id = d.tenant_id AND p.item_id = d.item_id AND p.generation = d.generation",
            &[&tenants, &items, &generations],
        )
        .await?;
        // What is left was written again while it was pushed: due at once.
        tx.execute(
            "UPDATE search_index_pending p SET claimed_until = NULL
               FROM unnest($1::uuid[], $2::uuid[]) AS d(tenant_id, item_id)
              WHERE p.tenant_id = d.tenant_id AND p.item_id = d.item_id",
            &[&tenants, &items],
        )
        .await?;
    }
    if !failed.is_empty() {
        let tenants: Vec<Uuid> = failed.iter().map(|(c, _)| c.tenant.as_uuid()).collect();
        let items: Vec<Uuid> = failed.iter().map(|(c, _)| c.item).collect();
        let errors: Vec<&str> = failed.iter().map(|(_, e)| e.as_str()).collect();
        // 30 s, doubling per attempt, at most an hour; never given up: the index must end up
        // matching the catalog, and `last_error` says why it does not yet.
        tx.execute(
            "UPDATE search_index_pending p
                SET attempts = p.attempts + 1, last_error = d.error, claimed_until = NULL,
                    next_attempt_at = now() + least(interval '30 seconds' * power(2, least(p.attempts, 12)), interval '1 hour')
               FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS d(tenant_id, item_id, error)
              WHERE p.tenant_id = d.tenant_id AND p.item_id = d.item_id",
            &[&tenants, &items, &errors],
        )
        .await?;
    }
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}
