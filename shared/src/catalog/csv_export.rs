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
    let mut out = vec![0xEF, 0xBB, 0xBF];
    out.extend(line(HEADER.iter().map(|s| s.to_string()).collect()));
    out
}

pub fn row(item: &CatalogItem) -> Vec<u8> {
    line(vec![
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

fn line(fields: Vec<String>) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    // Cells starting with = + - @ are neutralised so a spreadsheet never runs them as formulas.
    let safe: Vec<String> = fields
        .into_iter()
        .map(|f| {
            if f.starts_with(['=', '+', '@']) || (f.starts_with('-') && f.parse::<f64>().is_err()) {
                format!("'{f}")
            } else {
                f
            }
        })
        .collect();
    w.write_record(&safe).expect("writing to memory");
    w.into_inner().expect("writing to memory")
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
    if out.send(Ok(header().into())).await.is_err() {
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
    let mut chunk = Vec::with_capacity(64 * 1024);
    while let Some(record) = rows.next().await {
        chunk.extend(row(&super::item_from_row(&record?)));
        if chunk.len() >= 32 * 1024
            && out
                .send(Ok(std::mem::take(&mut chunk).into()))
                .await
                .is_err()
        {
            return Ok(());
        }
    }
    if !chunk.is_empty() {
        let _ = out.send(Ok(chunk.into())).await;
    }
    tx.commit().await?;
    Ok(())
}
