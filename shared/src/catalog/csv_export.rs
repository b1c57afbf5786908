//! Catalog CSV export, in the columns the importer reads back (a round trip gives the same
//! catalog). Rows are written one at a time so memory stays constant.

use super::CatalogItem;

pub const HEADER: [&str; 9] = [
    "sku",
    "name",
    "description",
    "category",
    "price_jod",
    "stock",
    "image_url",
    "active",
    "attributes",
];

/// The header line, with a UTF-8 BOM so Excel opens Arabic text correctly.
pub fn header() -> Vec<u8> {
    crate::csv_download::header(&HEADER)
}

pub fn row(item: &CatalogItem) -> Vec<u8> {
    crate::csv_download::line([
        item.sku.to_string(),
        item.name.clone(),
        item.description.clone(),
        item.category.clone().unwrap_or_default(),
        item.price_jod.to_string(),
        item.stock.to_string(),
        item.image_url.clone().unwrap_or_default(),
        if item.is_active {
            "yes".into()
        } else {
            "no".into()
        },
        if item.attributes.is_empty() {
            String::new()
        } else {
            serde_json::Value::Object(item.attributes.clone()).to_string()
        },
    ])
}

/// Writes the shop's whole catalog as CSV into `out`, a chunk per few rows, reading the rows
/// through a cursor: memory stays constant however large the catalog. Stops quietly when the
/// receiver goes away (the download was cancelled).
pub async fn export(
    db: &crate::db::Database,
    tenant: crate::tenants::TenantId,
    out: tokio::sync::mpsc::Sender<Result<bytes::Bytes, std::io::Error>>,
) -> Result<(), crate::db::DbError> {
    use futures::StreamExt;
    let mut c = db.app().await?;
    let tx = crate::db::begin_for_tenant(&mut c, tenant).await?;
    let mut chunks = crate::csv_download::Chunks::new(out);
    if !chunks.push(header()).await {
        return Ok(());
    }
    let sql = format!(
        "SELECT {} FROM catalog_items i LEFT JOIN categories c ON c.id = i.category_id ORDER BY i.sku",
        super::ITEM_COLUMNS
    );
    let rows = tx
        .query_raw(sql.as_str(), std::iter::empty::<i32>())
        .await?;
    futures::pin_mut!(rows);
    while let Some(record) = rows.next().await {
        if !chunks.push(row(&super::item_from_row(&record?))).await {
            return Ok(());
        }
    }
    chunks.finish().await;
    tx.commit().await?;
    Ok(())
}
