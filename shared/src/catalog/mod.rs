//! The shop's catalog: categories and items (SKU, name, price in JOD, stock, image, extra
//! attributes). Every function runs inside the caller's tenant transaction, so row-level
//! security scopes it; the caller commits.
//!
//! Writes keep product search current in that same transaction: they always refresh
//! `search_text` (the Postgres backend), and with [`ProductIndex::External`] they also queue
//! their items for the external index ([`crate::search::pending`]), which the caller pushes
//! after the commit.

pub mod csv_export;
pub mod csv_import;
mod sku;

pub use sku::Sku;

use crate::money::Jod;
pub use crate::search::ProductIndex;
use crate::tenants::TenantId;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// A value that is well-formed but not allowed: `field` names it (`name`, `changes[2].stock`).
    #[error("{message}")]
    Invalid { field: String, message: String },
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Database(#[from] tokio_postgres::Error),
}

impl CatalogError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        CatalogError::Invalid {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Category {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub sort_order: i32,
    pub item_count: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CatalogItem {
    pub id: Uuid,
    pub sku: Sku,
    pub name: String,
    pub description: String,
    pub category_id: Option<Uuid>,
    pub category: Option<String>,
    pub price_jod: Jod,
    pub stock: i32,
    pub image_url: Option<String>,
    pub attributes: serde_json::Map<String, serde_json::Value>,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a merchant gives to create or fully replace an item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemInput {
    pub sku: Sku,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub category_id: Option<Uuid>,
    pub price_jod: Jod,
    #[serde(default)]
    pub stock: i32,
    #[serde(default)]
    pub image_url: Option<String>,
    #[serde(default)]
    pub attributes: serde_json::Map<String, serde_json::Value>,
    #[serde(default = "yes")]
    pub is_active: bool,
}

fn yes() -> bool {
    true
}

/// A partial change from the grid; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemPatch {
    pub sku: Option<Sku>,
    pub name: Option<String>,
    pub description: Option<String>,
    /// `Some(None)` clears the category.
    #[serde(default, with = "double_option")]
    pub category_id: Option<Option<Uuid>>,
    pub price_jod: Option<Jod>,
    pub stock: Option<i32>,
    #[serde(default, with = "double_option")]
    pub image_url: Option<Option<String>>,
    pub attributes: Option<serde_json::Map<String, serde_json::Value>>,
    pub is_active: Option<bool>,
}

mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    pub fn serialize<T: Serialize, S: Serializer>(
        v: &Option<Option<T>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match v {
            None => s.serialize_none(),
            Some(inner) => inner.serialize(s),
        }
    }
    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_DESCRIPTION_CHARS: usize = 5000;
pub const MAX_STOCK: i32 = 1_000_000;

pub fn check_name(name: &str) -> Result<String, CatalogError> {
    let n = name.trim();
    if n.is_empty() {
        return Err(CatalogError::invalid("name", "the name is empty"));
    }
    if n.chars().count() > MAX_NAME_CHARS {
        return Err(CatalogError::invalid(
            "name",
            format!("the name is longer than {MAX_NAME_CHARS} characters"),
        ));
    }
    Ok(n.to_owned())
}

pub fn check_stock(stock: i32) -> Result<i32, CatalogError> {
    if !(0..=MAX_STOCK).contains(&stock) {
        return Err(CatalogError::invalid(
            "stock",
            format!("stock must be a whole number from 0 to {MAX_STOCK}, got {stock}"),
        ));
    }
    Ok(stock)
}

pub fn check_image_url(url: Option<&str>) -> Result<Option<String>, CatalogError> {
    let Some(u) = url.map(str::trim).filter(|u| !u.is_empty()) else {
        return Ok(None);
    };
    match url::Url::parse(u) {
        Ok(p) if p.scheme() == "https" || p.scheme() == "http" => Ok(Some(u.to_owned())),
        _ => Err(CatalogError::invalid(
            "image_url",
            format!("the image URL {u:?} is not an http(s) address"),
        )),
    }
}

fn check_description(d: &str) -> Result<String, CatalogError> {
    if d.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(CatalogError::invalid(
            "description",
            format!("the description is longer than {MAX_DESCRIPTION_CHARS} characters"),
        ));
    }
    Ok(d.trim().to_owned())
}

fn conflict_or(e: tokio_postgres::Error, sku: &str) -> CatalogError {
    if e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) {
        CatalogError::Conflict(format!("another item already has the SKU {sku}"))
    } else if e.code() == Some(&tokio_postgres::error::SqlState::FOREIGN_KEY_VIOLATION) {
        CatalogError::invalid("category_id", "there is no such category in your shop")
    } else {
        CatalogError::Database(e)
    }
}

const ITEM_COLUMNS: &str = "i.id, i.sku, i.name, i.description, i.category_id, c.name, i.price_jod, i.stock, i.image_url, i.attributes, i.is_active, i.created_at, i.updated_at";

fn item_from_row(r: &tokio_postgres::Row) -> CatalogItem {
    let attrs: serde_json::Value = r.get(9);
    CatalogItem {
        id: r.get(0),
        sku: Sku::parse(r.get::<_, &str>(1))
            .unwrap_or_else(|_| Sku::parse("invalid").expect("constant")),
        name: r.get(2),
        description: r.get(3),
        category_id: r.get(4),
        category: r.get(5),
        price_jod: r.get(6),
        stock: r.get(7),
        image_url: r.get(8),
        attributes: attrs.as_object().cloned().unwrap_or_default(),
        is_active: r.get(10),
        created_at: r.get(11),
        updated_at: r.get(12),
    }
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemFilter {
    pub search: Option<String>,
    pub category_id: Option<Uuid>,
    pub page: Option<u32>,
    /// 1 to [`MAX_PER_PAGE`] (500); 50 when not given.
    #[param(minimum = 1, maximum = 500)]
    pub per_page: Option<u32>,
}

pub const MAX_PER_PAGE: u32 = 500;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub page: u32,
    pub per_page: u32,
    pub total: i64,
}

pub async fn list_items(
    tx: &impl GenericClient,
    filter: &ItemFilter,
) -> Result<Page<CatalogItem>, CatalogError> {
    let per_page = filter.per_page.unwrap_or(50).clamp(1, MAX_PER_PAGE);
    let page = filter.page.unwrap_or(1).max(1);
    let search = filter
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| format!("%{}%", s.replace('%', "\\%").replace('_', "\\_")));
    let total: i64 = tx
        .query_one(
            "SELECT count(*) FROM catalog_items i
              WHERE ($1::text IS NULL OR i.name ILIKE $1 OR i.sku ILIKE $1 OR i.description ILIKE $1)
                AND ($2::uuid IS NULL OR i.category_id = $2)",
            &[&search, &filter.category_id],
        )
        .await?
        .get(0);
    let rows = tx
        .query(
            &format!(
                "SELECT {ITEM_COLUMNS} FROM catalog_items i LEFT JOIN categories c ON c.id = i.category_id
                  WHERE ($1::text IS NULL OR i.name ILIKE $1 OR i.sku ILIKE $1 OR i.description ILIKE $1)
                    AND ($2::uuid IS NULL OR i.category_id = $2)
                  ORDER BY i.name, i.sku LIMIT $3 OFFSET $4"
            ),
            &[&search, &filter.category_id, &(per_page as i64), &((page as i64 - 1) * per_page as i64)],
        )
        .await?;
    Ok(Page {
        items: rows.iter().map(item_from_row).collect(),
        page,
        per_page,
        total,
    })
}

pub async fn get_item(tx: &impl GenericClient, id: Uuid) -> Result<CatalogItem, CatalogError> {
    tx.query_opt(&format!("SELECT {ITEM_COLUMNS} FROM catalog_items i LEFT JOIN categories c ON c.id = i.category_id WHERE i.id = $1"), &[&id])
        .await?
        .map(|r| item_from_row(&r))
        .ok_or(CatalogError::NotFound)
}

/// An item by its SKU (exact, after trimming), active or not.
pub async fn get_item_by_sku(
    tx: &impl GenericClient,
    sku: &str,
) -> Result<Option<CatalogItem>, CatalogError> {
    let stmt = tx
        .prepare_cached(&format!("SELECT {ITEM_COLUMNS} FROM catalog_items i LEFT JOIN categories c ON c.id = i.category_id WHERE i.sku = $1"))
        .await?;
    Ok(tx
        .query_opt(&stmt, &[&sku.trim()])
        .await?
        .map(|r| item_from_row(&r)))
}

/// Items by id, in the order given (missing ids left out).
pub async fn get_items(
    tx: &impl GenericClient,
    ids: &[Uuid],
) -> Result<Vec<CatalogItem>, CatalogError> {
    let stmt = tx
        .prepare_cached(&format!("SELECT {ITEM_COLUMNS} FROM catalog_items i LEFT JOIN categories c ON c.id = i.category_id WHERE i.id = ANY($1)"))
        .await?;
    let rows = tx.query(&stmt, &[&ids]).await?;
    let mut items: Vec<CatalogItem> = rows.iter().map(item_from_row).collect();
    items.sort_by_key(|i| ids.iter().position(|id| *id == i.id));
    Ok(items)
}

pub async fn create_item(
    tx: &impl GenericClient,
    tenant: TenantId,
    input: &ItemInput,
    index: ProductIndex,
) -> Result<CatalogItem, CatalogError> {
    let name = check_name(&input.name)?;
    let description = check_description(&input.description)?;
    let stock = check_stock(input.stock)?;
    let image = check_image_url(input.image_url.as_deref())?;
    let id: Uuid = tx
        .query_one(
            "INSERT INTO catalog_items (tenant_id, sku, name, description, category_id, price_jod, stock, image_url, attributes, is_active)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
            &[
                &tenant.as_uuid(),
                &input.sku.as_str(),
                &name,
                &description,
                &input.category_id,
                &input.price_jod,
                &stock,
                &image,
                &serde_json::Value::Object(input.attributes.clone()),
                &input.is_active,
            ],
        )
        .await
        .map_err(|e| conflict_or(e, input.sku.as_str()))?
        .get(0);
    reindex(tx, tenant, &[id], index).await?;
    get_item(tx, id).await
}

pub async fn update_item(
    tx: &impl GenericClient,
    id: Uuid,
    patch: &ItemPatch,
    index: ProductIndex,
) -> Result<CatalogItem, CatalogError> {
    let current = get_item(tx, id).await?;
    let name = match &patch.name {
        Some(n) => check_name(n)?,
        None => current.name,
    };
    let description = match &patch.description {
        Some(d) => check_description(d)?,
        None => current.description,
    };
    let stock = check_stock(patch.stock.unwrap_or(current.stock))?;
    let image = match &patch.image_url {
        Some(u) => check_image_url(u.as_deref())?,
        None => current.image_url,
    };
    let sku = patch.sku.clone().unwrap_or(current.sku);
    let tenant: Uuid = tx.query_one(
        "UPDATE catalog_items SET sku = $2, name = $3, description = $4, category_id = $5, price_jod = $6, stock = $7,
                image_url = $8, attributes = $9, is_active = $10, updated_at = now()
          WHERE id = $1 RETURNING tenant_id",
        &[
            &id,
            &sku.as_str(),
            &name,
            &description,
            &patch.category_id.unwrap_or(current.category_id),
            &patch.price_jod.unwrap_or(current.price_jod),
            &stock,
            &image,
            &serde_json::Value::Object(patch.attributes.clone().unwrap_or(current.attributes)),
            &patch.is_active.unwrap_or(current.is_active),
        ],
    )
    .await
    .map_err(|e| conflict_or(e, sku.as_str()))?
    .get(0);
    reindex(tx, TenantId::from_uuid(tenant), &[id], index).await?;
    get_item(tx, id).await
}

pub async fn delete_item(
    tx: &impl GenericClient,
    id: Uuid,
    index: ProductIndex,
) -> Result<(), CatalogError> {
    let tenant: Uuid = tx
        .query_opt(
            "DELETE FROM catalog_items WHERE id = $1 RETURNING tenant_id",
            &[&id],
        )
        .await?
        .ok_or(CatalogError::NotFound)?
        .get(0);
    if index == ProductIndex::External {
        crate::search::pending::queue(tx, TenantId::from_uuid(tenant), &[id]).await?;
    }
    Ok(())
}

/// The grid's save: every change applies, or none does (the caller's transaction). Errors
/// name the row.
pub async fn bulk_update(
    tx: &impl GenericClient,
    changes: &[(Uuid, ItemPatch)],
    index: ProductIndex,
) -> Result<Vec<CatalogItem>, CatalogError> {
    if changes.len() > 1000 {
        return Err(CatalogError::invalid(
            "changes",
            "at most 1000 changes at once",
        ));
    }
    let mut out = Vec::with_capacity(changes.len());
    for (n, (id, patch)) in changes.iter().enumerate() {
        out.push(
            update_item(tx, *id, patch, index)
                .await
                .map_err(|e| match e {
                    CatalogError::Invalid { field, message } => CatalogError::Invalid {
                        field: format!("changes[{n}].{field}"),
                        message: format!("change {}: {message}", n + 1),
                    },
                    CatalogError::Conflict(m) => {
                        CatalogError::Conflict(format!("change {}: {m}", n + 1))
                    }
                    CatalogError::NotFound => CatalogError::invalid(
                        &format!("changes[{n}].id"),
                        format!("change {}: there is no such item in your shop", n + 1),
                    ),
                    other => other,
                })?,
        );
    }
    Ok(out)
}

pub async fn list_categories(tx: &impl GenericClient) -> Result<Vec<Category>, CatalogError> {
    let rows = tx
        .query(
            "SELECT c.id, c.name, c.description, c.sort_order, count(i.id)
               FROM categories c LEFT JOIN catalog_items i ON i.category_id = c.id
              GROUP BY c.id ORDER BY c.sort_order, c.name",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Category {
            id: r.get(0),
            name: r.get(1),
            description: r.get(2),
            sort_order: r.get(3),
            item_count: r.get(4),
        })
        .collect())
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryInput {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub sort_order: i32,
}

pub async fn create_category(
    tx: &impl GenericClient,
    tenant: TenantId,
    input: &CategoryInput,
) -> Result<Category, CatalogError> {
    let name = check_name(&input.name)?;
    let id: Uuid = tx
        .query_one(
            "INSERT INTO categories (tenant_id, name, description, sort_order) VALUES ($1, $2, $3, $4) RETURNING id",
            &[&tenant.as_uuid(), &name, &check_description(&input.description)?, &input.sort_order],
        )
        .await
        .map_err(|e| {
            if e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) {
                CatalogError::Conflict(format!("a category named {name:?} already exists"))
            } else {
                CatalogError::Database(e)
            }
        })?
        .get(0);
    Ok(Category {
        id,
        name,
        description: input.description.trim().to_owned(),
        sort_order: input.sort_order,
        item_count: 0,
    })
}

/// A new name reaches the search documents of the category's items.
pub async fn update_category(
    tx: &impl GenericClient,
    id: Uuid,
    input: &CategoryInput,
    index: ProductIndex,
) -> Result<(), CatalogError> {
    let name = check_name(&input.name)?;
    let old_name: Option<String> = tx
        .query_opt("SELECT name FROM categories WHERE id = $1", &[&id])
        .await?
        .map(|r| r.get(0));
    let row = tx
        .query_opt(
            "UPDATE categories SET name = $2, description = $3, sort_order = $4, updated_at = now() WHERE id = $1
             RETURNING tenant_id",
            &[&id, &name, &check_description(&input.description)?, &input.sort_order],
        )
        .await
        .map_err(|e| {
            if e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) {
                CatalogError::Conflict(format!("a category named {name:?} already exists"))
            } else {
                CatalogError::Database(e)
            }
        })?;
    let Some(row) = row else {
        return Err(CatalogError::NotFound);
    };
    if old_name.as_deref() != Some(name.as_str()) {
        let items = items_of_category(tx, id).await?;
        reindex(tx, TenantId::from_uuid(row.get(0)), &items, index).await?;
    }
    Ok(())
}

/// Items of a deleted category stay, without a category (and their search documents lose its
/// name).
pub async fn delete_category(
    tx: &impl GenericClient,
    id: Uuid,
    index: ProductIndex,
) -> Result<(), CatalogError> {
    let items = items_of_category(tx, id).await?;
    let tenant: Uuid = tx
        .query_opt(
            "DELETE FROM categories WHERE id = $1 RETURNING tenant_id",
            &[&id],
        )
        .await?
        .ok_or(CatalogError::NotFound)?
        .get(0);
    reindex(tx, TenantId::from_uuid(tenant), &items, index).await?;
    Ok(())
}

async fn items_of_category(
    tx: &impl GenericClient,
    category: Uuid,
) -> Result<Vec<Uuid>, tokio_postgres::Error> {
    Ok(tx
        .query(
            "SELECT id FROM catalog_items WHERE category_id = $1",
            &[&category],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

/// Makes search see the current state of these items of `tenant`: their search text now, and
/// for an external index an entry to push after the commit.
async fn reindex(
    tx: &impl GenericClient,
    tenant: TenantId,
    ids: &[Uuid],
    index: ProductIndex,
) -> Result<(), tokio_postgres::Error> {
    refresh_search_text(tx, ids).await?;
    if index == ProductIndex::External {
        crate::search::pending::queue(tx, tenant, ids).await?;
    }
    Ok(())
}

/// Brings the search text of these items up to date, in the caller's transaction, so the
/// Postgres search backend finds every change as soon as it commits.
pub async fn refresh_search_text(
    tx: &impl GenericClient,
    ids: &[Uuid],
) -> Result<(), tokio_postgres::Error> {
    if ids.is_empty() {
        return Ok(());
    }
    let rows = tx
        .query(
            "SELECT i.id, i.sku, i.name, i.description, c.name, i.attributes
               FROM catalog_items i LEFT JOIN categories c ON c.id = i.category_id WHERE i.id = ANY($1)",
            &[&ids],
        )
        .await?;
    let mut out_ids = Vec::with_capacity(rows.len());
    let mut texts = Vec::with_capacity(rows.len());
    for r in &rows {
        let attributes: serde_json::Value = r.get(5);
        let doc = crate::search::ProductDoc {
            id: r.get(0),
            sku: r.get(1),
            name: r.get(2),
            description: r.get(3),
            category: r.get(4),
            attributes_text: crate::search::attributes_text(&attributes),
        };
        out_ids.push(doc.id);
        texts.push(crate::search::arabic::search_form(&doc.searchable_text()));
    }
    tx.execute(
        "UPDATE catalog_items c SET search_text = v.text FROM unnest($1::uuid[], $2::text[]) AS v(id, text) WHERE c.id = v.id",
        &[&out_ids, &texts],
    )
    .await?;
    Ok(())
}
