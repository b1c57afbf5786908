//! Orders and return requests as the merchant manages them: paged lists with filters,
//! details with items and history, and status changes along the allowed paths only. Each
//! status change is recorded and, when the shop has a delivery hook, queued for it.

use crate::money::Jod;
use chrono::{DateTime, NaiveDate, Utc};
use deadpool_postgres::GenericClient;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Pending,
    Confirmed,
    Shipped,
    Delivered,
    Cancelled,
    Returned,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::Confirmed => "confirmed",
            OrderStatus::Shipped => "shipped",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Returned => "returned",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
    }

    /// Where an order may go from here.
    pub fn next(self) -> &'static [OrderStatus] {
        use OrderStatus::*;
        match self {
            Pending => &[Confirmed, Cancelled],
            Confirmed => &[Shipped, Cancelled],
            Shipped => &[Delivered, Returned],
            Delivered => &[Returned],
            Cancelled | Returned => &[],
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Database(#[from] tokio_postgres::Error),
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrderSummary {
    pub id: Uuid,
    pub order_number: i64,
    pub status: OrderStatus,
    pub customer_name: Option<String>,
    pub customer_phone: Option<String>,
    pub customer_ig_id: Option<String>,
    pub city: Option<String>,
    pub total_jod: Jod,
    pub item_count: i64,
    pub source: String,
    /// Placed from the merchant's test chat: took no stock, numbered apart, in no total.
    pub is_test: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrderLine {
    pub sku: String,
    pub name: String,
    pub unit_price_jod: Jod,
    pub quantity: i32,
    pub line_total_jod: Jod,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatusChange {
    pub from: Option<String>,
    pub to: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrderDetail {
    #[serde(flatten)]
    pub summary: OrderSummary,
    pub address: Option<String>,
    pub notes: String,
    pub subtotal_jod: Jod,
    pub delivery_fee_jod: Jod,
    pub conversation_id: Option<Uuid>,
    pub items: Vec<OrderLine>,
    pub history: Vec<StatusChange>,
    pub allowed_next: Vec<OrderStatus>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderFilter {
    pub status: Option<String>,
    /// Calendar days in Asia/Amman, inclusive.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Name, phone, Instagram id or order number.
    pub customer: Option<String>,
    /// Also list the orders placed from the test chat (left out by default).
    pub include_tests: Option<bool>,
    pub page: Option<u32>,
    /// 1 to [`MAX_PER_PAGE`] (200); 50 when not given.
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u32>,
}

pub const MAX_PER_PAGE: u32 = 200;

const SUMMARY: &str = "o.id, o.order_number, o.status, o.customer_name, o.customer_phone, o.customer_ig_id, o.city, o.total_jod,
    (SELECT coalesce(sum(quantity), 0) FROM order_items oi WHERE oi.order_id = o.id), o.source, o.created_at, o.is_test";

fn summary(r: &tokio_postgres::Row) -> OrderSummary {
    OrderSummary {
        id: r.get(0),
        order_number: r.get(1),
        status: OrderStatus::parse(r.get(2)).unwrap_or(OrderStatus::Pending),
        customer_name: r.get(3),
        customer_phone: r.get(4),
        customer_ig_id: r.get(5),
        city: r.get(6),
        total_jod: r.get(7),
        item_count: r.get(8),
        source: r.get(9),
        created_at: r.get(10),
        is_test: r.get(11),
    }
}

const FILTER: &str = "($1::text IS NULL OR o.status = $1)
    AND ($2::date IS NULL OR o.created_at >= ($2::date::timestamp AT TIME ZONE 'Asia/Amman'))
    AND ($3::date IS NULL OR o.created_at < (($3::date + 1)::timestamp AT TIME ZONE 'Asia/Amman'))
    AND ($4::text IS NULL OR o.customer_name ILIKE $4 OR o.customer_phone ILIKE $4 OR o.customer_ig_id = $5 OR o.order_number::text = $5)
    AND ($6 OR NOT o.is_test)";

/// The customer search as SQL parameters: a pattern for names and phones, and the exact
/// text for an Instagram id or an order number (`#1042` or `1042`).
fn customer_params(f: &OrderFilter) -> (Option<String>, Option<String>) {
    let customer = f
        .customer
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let like = customer.map(|c| format!("%{}%", c.replace('%', "\\%").replace('_', "\\_")));
    let exact = customer.map(|c| c.trim_start_matches('#').to_owned());
    (like, exact)
}

pub async fn list(
    tx: &impl GenericClient,
    f: &OrderFilter,
) -> Result<crate::catalog::Page<OrderSummary>, OrderError> {
    if let Some(s) = &f.status {
        OrderStatus::parse(s).ok_or_else(|| OrderError::Invalid(format!("unknown status {s:?}; use pending, confirmed, shipped, delivered, cancelled or returned")))?;
    }
    if let (Some(a), Some(b)) = (f.from, f.to) {
        if a > b {
            return Err(OrderError::Invalid(
                "the start date is after the end date".into(),
            ));
        }
    }
    let per_page = f.per_page.unwrap_or(50).clamp(1, MAX_PER_PAGE);
    let page = f.page.unwrap_or(1).max(1);
    let (like, exact) = customer_params(f);
    let tests = f.include_tests.unwrap_or(false);
    let params: [&(dyn tokio_postgres::types::ToSql + Sync); 6] =
        [&f.status, &f.from, &f.to, &like, &exact, &tests];
    let total: i64 = tx
        .query_one(
            &format!("SELECT count(*) FROM orders o WHERE {FILTER}"),
            &params,
        )
        .await?
        .get(0);
    let rows = tx
        .query(
            &format!("SELECT {SUMMARY} FROM orders o WHERE {FILTER} ORDER BY o.created_at DESC, o.order_number DESC LIMIT {per_page} OFFSET {}", (page as i64 - 1) * per_page as i64),
            &params,
        )
        .await?;
    Ok(crate::catalog::Page {
        items: rows.iter().map(summary).collect(),
        page,
        per_page,
        total,
    })
}

pub async fn detail(tx: &impl GenericClient, id: Uuid) -> Result<OrderDetail, OrderError> {
    let r = tx
        .query_opt(&format!("SELECT {SUMMARY}, o.address, o.notes, o.subtotal_jod, o.delivery_fee_jod, o.conversation_id FROM orders o WHERE o.id = $1"), &[&id])
        .await?
        .ok_or(OrderError::NotFound)?;
    let s = summary(&r);
    let items = tx
        .query("SELECT sku, name, unit_price_jod, quantity, line_total_jod FROM order_items WHERE order_id = $1 ORDER BY sku", &[&id])
        .await?
        .iter()
        .map(|r| OrderLine { sku: r.get(0), name: r.get(1), unit_price_jod: r.get(2), quantity: r.get(3), line_total_jod: r.get(4) })
        .collect();
    let history = tx
        .query("SELECT from_status, to_status, changed_by, changed_at FROM order_status_history WHERE order_id = $1 ORDER BY changed_at", &[&id])
        .await?
        .iter()
        .map(|r| StatusChange { from: r.get(0), to: r.get(1), by: r.get(2), at: r.get(3) })
        .collect();
    Ok(OrderDetail {
        allowed_next: s.status.next().to_vec(),
        summary: s,
        address: r.get(12),
        notes: r.get(13),
        subtotal_jod: r.get(14),
        delivery_fee_jod: r.get(15),
        conversation_id: r.get(16),
        items,
        history,
    })
}

/// Moves an order along an allowed path (row-locked, so two clicks cannot both apply).
pub async fn change_status(
    tx: &impl GenericClient,
    tenant: crate::tenants::TenantId,
    id: Uuid,
    to: OrderStatus,
    by: &str,
) -> Result<OrderDetail, OrderError> {
    let row = tx
        .query_opt("SELECT status FROM orders WHERE id = $1 FOR UPDATE", &[&id])
        .await?
        .ok_or(OrderError::NotFound)?;
    let from = OrderStatus::parse(row.get(0)).unwrap_or(OrderStatus::Pending);
    if from == to {
        return detail(tx, id).await;
    }
    if !from.next().contains(&to) {
        let allowed: Vec<&str> = from.next().iter().map(|s| s.as_str()).collect();
        return Err(OrderError::Invalid(format!(
            "an order that is {} cannot become {}; it can become: {}",
            from.as_str(),
            to.as_str(),
            if allowed.is_empty() {
                "nothing (it is final)".to_string()
            } else {
                allowed.join(", ")
            }
        )));
    }
    tx.execute(
        "UPDATE orders SET status = $2, updated_at = now() WHERE id = $1",
        &[&id, &to.as_str()],
    )
    .await?;
    if to == OrderStatus::Cancelled {
        // A cancelled order (never shipped) gives its pieces back to the stock; a test order
        // took none.
        tx.execute(
            "UPDATE catalog_items ci SET stock = ci.stock + oi.quantity, updated_at = now()
               FROM order_items oi JOIN orders o ON o.id = oi.order_id
              WHERE oi.order_id = $1 AND oi.catalog_item_id = ci.id AND NOT o.is_test",
            &[&id],
        )
        .await?;
    }
    tx.execute(
        "INSERT INTO order_status_history (tenant_id, order_id, from_status, to_status, changed_by) VALUES ($1, $2, $3, $4, $5)",
        &[&tenant.as_uuid(), &id, &from.as_str(), &to.as_str(), &by],
    )
    .await?;
    let d = detail(tx, id).await?;
    if !d.summary.is_test {
        crate::delivery_hooks::queue_event(tx, tenant, &d, "order.status_changed").await?;
    }
    Ok(d)
}

/// The orders CSV, one row per order, for a filter.
pub const CSV_HEADER: [&str; 11] = [
    "order_number",
    "created_at",
    "status",
    "customer_name",
    "customer_phone",
    "city",
    "address",
    "items",
    "subtotal_jod",
    "delivery_fee_jod",
    "total_jod",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReturnStatus {
    Requested,
    Approved,
    Rejected,
    Received,
    Refunded,
}

impl ReturnStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReturnStatus::Requested => "requested",
            ReturnStatus::Approved => "approved",
            ReturnStatus::Rejected => "rejected",
            ReturnStatus::Received => "received",
            ReturnStatus::Refunded => "refunded",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
    }
    pub fn next(self) -> &'static [ReturnStatus] {
        use ReturnStatus::*;
        match self {
            Requested => &[Approved, Rejected],
            Approved => &[Received],
            Received => &[Refunded],
            Rejected | Refunded => &[],
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReturnRequest {
    pub id: Uuid,
    pub order_id: Uuid,
    pub order_number: i64,
    pub status: ReturnStatus,
    pub reason: String,
    pub merchant_note: String,
    pub customer_name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub allowed_next: Vec<ReturnStatus>,
}

fn return_row(r: &tokio_postgres::Row) -> ReturnRequest {
    let status = ReturnStatus::parse(r.get(3)).unwrap_or(ReturnStatus::Requested);
    ReturnRequest {
        id: r.get(0),
        order_id: r.get(1),
        order_number: r.get(2),
        status,
        reason: r.get(4),
        merchant_note: r.get(5),
        customer_name: r.get(6),
        created_at: r.get(7),
        allowed_next: status.next().to_vec(),
    }
}

const RETURN_COLUMNS: &str = "r.id, r.order_id, o.order_number, r.status, r.reason, r.merchant_note, o.customer_name, r.created_at";

pub async fn list_returns(
    tx: &impl GenericClient,
    status: Option<&str>,
) -> Result<Vec<ReturnRequest>, OrderError> {
    if let Some(s) = status {
        ReturnStatus::parse(s)
            .ok_or_else(|| OrderError::Invalid(format!("unknown return status {s:?}")))?;
    }
    let rows = tx
        .query(
            &format!("SELECT {RETURN_COLUMNS} FROM return_requests r JOIN orders o ON o.id = r.order_id WHERE ($1::text IS NULL OR r.status = $1) ORDER BY r.created_at DESC LIMIT 500"),
            &[&status],
        )
        .await?;
    Ok(rows.iter().map(return_row).collect())
}

pub async fn get_return(tx: &impl GenericClient, id: Uuid) -> Result<ReturnRequest, OrderError> {
    tx.query_opt(&format!("SELECT {RETURN_COLUMNS} FROM return_requests r JOIN orders o ON o.id = r.order_id WHERE r.id = $1"), &[&id])
        .await?
        .map(|r| return_row(&r))
        .ok_or(OrderError::NotFound)
}

pub async fn change_return_status(
    tx: &impl GenericClient,
    id: Uuid,
    to: ReturnStatus,
    note: Option<&str>,
) -> Result<ReturnRequest, OrderError> {
    let row = tx
        .query_opt(
            "SELECT status FROM return_requests WHERE id = $1 FOR UPDATE",
            &[&id],
        )
        .await?
        .ok_or(OrderError::NotFound)?;
    let from = ReturnStatus::parse(row.get(0)).unwrap_or(ReturnStatus::Requested);
    if from != to && !from.next().contains(&to) {
        return Err(OrderError::Invalid(format!(
            "a return that is {} cannot become {}",
            from.as_str(),
            to.as_str()
        )));
    }
    let note = note
        .map(str::trim)
        .map(|n| n.chars().take(2000).collect::<String>());
    tx.execute(
        "UPDATE return_requests SET status = $2, merchant_note = coalesce($3, merchant_note), updated_at = now() WHERE id = $1",
        &[&id, &to.as_str(), &note],
    )
    .await?;
    get_return(tx, id).await
}

/// Writes the orders matching `filter` as CSV into `out` through a cursor: constant memory
/// however many orders there are. Stops when the receiver goes away.
pub async fn export(
    db: &crate::db::Database,
    tenant: crate::tenants::TenantId,
    filter: &OrderFilter,
    out: tokio::sync::mpsc::Sender<Result<bytes::Bytes, std::io::Error>>,
) -> Result<(), crate::db::DbError> {
    use futures::StreamExt;
    let mut c = db.app().await?;
    let tx = crate::db::begin_for_tenant(&mut c, tenant).await?;
    let mut chunks = crate::csv_download::Chunks::new(out);
    if !chunks.push(crate::csv_download::header(&CSV_HEADER)).await {
        return Ok(());
    }
    let (like, exact) = customer_params(filter);
    let sql = format!(
        "SELECT o.order_number, to_char(o.created_at AT TIME ZONE 'Asia/Amman', 'YYYY-MM-DD HH24:MI'), o.status, coalesce(o.customer_name, ''),
                coalesce(o.customer_phone, ''), coalesce(o.city, ''), coalesce(o.address, ''),
                (SELECT coalesce(string_agg(oi.quantity || ' x ' || oi.sku, '; ' ORDER BY oi.sku), '') FROM order_items oi WHERE oi.order_id = o.id),
                o.subtotal_jod::text, o.delivery_fee_jod::text, o.total_jod::text
           FROM orders o WHERE {FILTER} ORDER BY o.created_at"
    );
    // Test-chat orders only when asked for: they are in no export by default.
    let tests = filter.include_tests.unwrap_or(false);
    let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = vec![
        &filter.status,
        &filter.from,
        &filter.to,
        &like,
        &exact,
        &tests,
    ];
    let rows = tx.query_raw(sql.as_str(), params).await?;
    futures::pin_mut!(rows);
    while let Some(r) = rows.next().await {
        let r = r?;
        let line = crate::csv_download::line([
            r.get::<_, i64>(0).to_string(),
            r.get(1),
            r.get(2),
            r.get(3),
            r.get(4),
            r.get(5),
            r.get(6),
            r.get(7),
            r.get(8),
            r.get(9),
            r.get(10),
        ]);
        if !chunks.push(line).await {
            return Ok(());
        }
    }
    chunks.finish().await;
    tx.commit().await?;
    Ok(())
}
