//! Placing an order: lines priced from the catalog (never from whoever asks), stock taken
//! atomically, the delivery fee from the shop's zones, the minimum order rule, a per-shop
//! order number, and the order.created hook event, all in the caller's transaction. The
//! idempotency key makes placing the same order twice return the first one.
//!
//! An order from the merchant's test chat (source "playground") is a test: its stock is
//! checked but not taken, it is numbered in a series of its own (the shop's order numbers
//! are not consumed), and no hook event is sent for it.

use crate::catalog::CatalogItem;
use crate::money::Jod;
use crate::orders::{self, OrderDetail};
use crate::phone::JordanMobile;
use crate::rules::{self, BusinessRules};
use crate::tenants::TenantId;
use deadpool_postgres::GenericClient;
use std::collections::BTreeMap;
use uuid::Uuid;

/// Most units of one product in one order.
pub const MAX_QUANTITY: i64 = 1000;
/// Most different products in one order.
pub const MAX_LINES: usize = 50;

#[derive(Debug, Clone)]
pub struct OrderRequest {
    /// (SKU, quantity) as asked; SKUs repeated are added up.
    pub lines: Vec<(String, i64)>,
    pub customer_name: String,
    pub phone: JordanMobile,
    pub city: String,
    pub address: String,
    pub notes: String,
    pub customer_ig_id: Option<String>,
    pub conversation_id: Option<Uuid>,
    /// "instagram", "playground" or "dashboard".
    pub source: String,
    /// Who placed it, for the status history: "ai", "merchant".
    pub placed_by: String,
    pub idempotency_key: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    /// The order cannot be placed as asked; the reason is meant for the customer.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Database(#[from] tokio_postgres::Error),
}

impl From<crate::catalog::CatalogError> for CheckoutError {
    fn from(e: crate::catalog::CatalogError) -> Self {
        match e {
            crate::catalog::CatalogError::Database(e) => CheckoutError::Database(e),
            other => CheckoutError::Refused(other.to_string()),
        }
    }
}

impl From<orders::OrderError> for CheckoutError {
    fn from(e: orders::OrderError) -> Self {
        match e {
            orders::OrderError::Database(e) => CheckoutError::Database(e),
            other => CheckoutError::Refused(other.to_string()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Placed {
    pub order: OrderDetail,
    /// False when the idempotency key found an order placed earlier.
    pub created: bool,
}

fn refused(m: impl Into<String>) -> CheckoutError {
    CheckoutError::Refused(m.into())
}

/// What the order would cost, without placing it (for summaries).
#[derive(Debug, Clone)]
pub struct Quote {
    pub lines: Vec<(CatalogItem, i64, Jod)>,
    /// The delivery zone's own name, when the shop has zones.
    pub zone: Option<String>,
    pub subtotal: Jod,
    pub delivery_fee: Jod,
    pub total: Jod,
}

/// Prices and checks the lines (stock, minimum order, delivery zone), locking the items'
/// rows when `lock` is set. The zone is the one the city matches (any spelling, see
/// [`rules::zone_for`]).
pub async fn quote(
    tx: &impl GenericClient,
    rules: &BusinessRules,
    lines: &[(String, i64)],
    city: &str,
    lock: bool,
) -> Result<Quote, CheckoutError> {
    if lines.is_empty() {
        return Err(refused("the order has no items"));
    }
    let mut wanted: BTreeMap<String, i64> = BTreeMap::new();
    for (sku, qty) in lines {
        let sku = sku.trim();
        if sku.is_empty() {
            return Err(refused("an item has no SKU"));
        }
        if *qty < 1 {
            return Err(refused(format!(
                "the quantity of {sku} must be at least 1 (got {qty})"
            )));
        }
        *wanted.entry(sku.to_owned()).or_default() += qty;
    }
    if wanted.len() > MAX_LINES {
        return Err(refused(format!(
            "an order can have at most {MAX_LINES} different products"
        )));
    }
    let mut priced = Vec::new();
    let mut subtotal = Jod::from_fils(0).expect("zero");
    for (sku, qty) in &wanted {
        if *qty > MAX_QUANTITY {
            return Err(refused(format!(
                "at most {MAX_QUANTITY} pieces of {sku} can be ordered at once"
            )));
        }
        let sql = format!(
            "SELECT id FROM catalog_items WHERE sku = $1{}",
            if lock { " FOR UPDATE" } else { "" }
        );
        let Some(row) = tx.query_opt(&sql, &[sku]).await? else {
            return Err(refused(format!(
                "there is no product with SKU {sku} in this shop"
            )));
        };
        let id: Uuid = row.get(0);
        let item = crate::catalog::get_items(tx, &[id])
            .await?
            .pop()
            .ok_or_else(|| refused(format!("there is no product with SKU {sku} in this shop")))?;
        if !item.is_active {
            return Err(refused(format!(
                "{} ({sku}) is not sold any more",
                item.name
            )));
        }
        if i64::from(item.stock) < *qty {
            return Err(refused(if item.stock <= 0 {
                format!("{} ({sku}) is out of stock", item.name)
            } else {
                format!(
                    "only {} left of {} ({sku}); {qty} were asked for",
                    item.stock, item.name
                )
            }));
        }
        let line_total = item
            .price_jod
            .checked_mul(*qty as u32)
            .ok_or_else(|| refused("the order total is too large"))?;
        subtotal = subtotal
            .checked_add(line_total)
            .ok_or_else(|| refused("the order total is too large"))?;
        priced.push((item, *qty, line_total));
    }
    if let Some(min) = rules.minimum_order_jod {
        if subtotal.decimal() < min.decimal() {
            return Err(refused(format!(
                "the minimum order is {min} JD; these items come to {subtotal} JD"
            )));
        }
    }
    let zone = rules::zone_for(rules, city);
    let delivery_fee = if rules.delivery_zones.is_empty() {
        Jod::from_fils(0).expect("zero")
    } else {
        zone.map(|z| z.fee_jod).ok_or_else(|| {
            let zones: Vec<&str> = rules
                .delivery_zones
                .iter()
                .map(|z| z.city.as_str())
                .collect();
            refused(format!(
                "the shop does not deliver to \"{}\"; it delivers to: {}",
                city.trim(),
                zones.join(", ")
            ))
        })?
    };
    let total = subtotal
        .checked_add(delivery_fee)
        .ok_or_else(|| refused("the order total is too large"))?;
    Ok(Quote {
        lines: priced,
        zone: zone.map(|z| z.city.clone()),
        subtotal,
        delivery_fee,
        total,
    })
}

/// Places the order (or returns the one already placed under the same idempotency key).
pub async fn place(
    tx: &impl GenericClient,
    tenant: TenantId,
    rules: &BusinessRules,
    req: &OrderRequest,
) -> Result<Placed, CheckoutError> {
    let t = tenant.as_uuid();
    // One order at a time per shop from here: order numbers are consecutive.
    tx.execute(
        &tx.prepare_cached(
            "SELECT pg_advisory_xact_lock(hashtextextended('orders:' || $1::text, 0))",
        )
        .await?,
        &[&t.to_string()],
    )
    .await?;
    if let Some(row) = tx
        .query_opt(
            &tx.prepare_cached("SELECT id FROM orders WHERE idempotency_key = $1")
                .await?,
            &[&req.idempotency_key],
        )
        .await?
    {
        return Ok(Placed {
            order: orders::detail(tx, row.get(0)).await?,
            created: false,
        });
    }
    let name = req.customer_name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(refused("the customer's name is missing"));
    }
    let city = req.city.trim();
    if city.is_empty() {
        return Err(refused("the city is missing"));
    }
    let address = req.address.trim();
    if address.chars().count() < 3 {
        return Err(refused(
            "the address is missing (area, street and building are needed)",
        ));
    }
    let q = quote(tx, rules, &req.lines, city, true).await?;
    // The order keeps the zone's own name ("عمّان" for "3amman").
    let city = q.zone.as_deref().unwrap_or(city);
    let test = req.source == "playground";
    let number: i64 = tx
        .query_one(
            &tx.prepare_cached(
                "SELECT coalesce(max(order_number), CASE WHEN $1 THEN 0 ELSE 1000 END) + 1 FROM orders WHERE is_test = $1",
            )
            .await?,
            &[&test],
        )
        .await?
        .get(0);
    let id: Uuid = tx
        .query_one(&tx.prepare_cached("INSERT INTO orders (tenant_id, order_number, conversation_id, customer_ig_id, customer_name, customer_phone,
                                 city, address, notes, status, source, subtotal_jod, delivery_fee_jod, total_jod, idempotency_key)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', $10, $11, $12, $13, $14) RETURNING id").await?,
            &[
                &t, &number, &req.conversation_id, &req.customer_ig_id, &name, &req.phone.as_str(),
                &city, &address, &req.notes.trim(), &req.source, &q.subtotal, &q.delivery_fee, &q.total,
                &req.idempotency_key,
            ],
        )
        .await?
        .get(0);
    for (item, qty, line_total) in &q.lines {
        let taken = if test {
            1
        } else {
            tx.execute(&tx.prepare_cached("UPDATE catalog_items SET stock = stock - $2, updated_at = now() WHERE id = $1 AND stock >= $2").await?,
                &[&item.id, &(*qty as i32)],
            )
            .await?
        };
        if taken != 1 {
            return Err(refused(format!(
                "{} ({}) is out of stock",
                item.name, item.sku
            )));
        }
        tx.execute(&tx.prepare_cached("INSERT INTO order_items (tenant_id, order_id, catalog_item_id, sku, name, unit_price_jod, quantity, line_total_jod)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)").await?,
            &[&t, &id, &item.id, &item.sku.as_str(), &item.name, &item.price_jod, &(*qty as i32), line_total],
        )
        .await?;
    }
    tx.execute(&tx.prepare_cached("INSERT INTO order_status_history (tenant_id, order_id, from_status, to_status, changed_by) VALUES ($1, $2, NULL, 'pending', $3)").await?,
        &[&t, &id, &req.placed_by],
    )
    .await?;
    let order = orders::detail(tx, id).await?;
    if !test {
        crate::delivery_hooks::queue_event(tx, tenant, &order, "order.created").await?;
    }
    Ok(Placed {
        order,
        created: true,
    })
}
