//! "My data": everything the shop keeps here, as one zip the merchant can download — the
//! catalog and orders in the CSV exports' own format, returns, conversations with their
//! messages and notes, the profile, rules, AI instructions and the knowledge-base list, and
//! a README saying what each file is. Only the shop's rows (row-level security), read in one
//! snapshot per file.

use crate::app::App;
use crate::db::{begin_for_tenant, DbError};
use crate::tenants::TenantId;
use bytes::Bytes;
use serde_json::{json, Value};
use std::io::Write;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Database(#[from] DbError),
    #[error("the shop no longer exists")]
    NoShop,
    #[error("writing the zip: {0}")]
    Zip(String),
}

impl From<tokio_postgres::Error> for ExportError {
    fn from(e: tokio_postgres::Error) -> Self {
        ExportError::Database(e.into())
    }
}

/// The zip and the name to save it under (`<handle>-export-YYYY-MM-DD.zip`, Amman's date).
pub struct Export {
    pub file_name: String,
    pub zip: Vec<u8>,
}

pub const README: &str = "Your IG-Shop-Agent data
=======================

catalog.csv          Your catalog, in the same columns the catalog import reads back
                     (UTF-8 with BOM, opens in Excel).
orders.csv           Every order: number, date and time (Asia/Amman), status, customer,
                     phone, city, address, items, subtotal, delivery fee and total in JOD.
returns.csv          Every return request with its order number, status, reason and your note.
conversations.json   Every Instagram conversation: the customer, the mode (AI or person), and
                     its messages (who wrote them, when, text and attachment links) and events
                     (notes, handoffs, mode changes). Message text older than 30 days is
                     removed by design and appears as null.
profile.yaml         Your business profile, as you edit it in the app.
business-rules.json  Delivery zones and fees, minimum order, working hours, handoff rules.
ai-instructions.txt  Your instructions to the AI.
knowledge.json       The documents and pages of your knowledge base (titles, sources, status).

Times are in UTC unless a file says otherwise; money is Jordanian dinars with 3 decimals.
";

/// Collects what a CSV export writes into its channel.
async fn collect_csv<F, Fut>(write: F) -> Result<Vec<u8>, ExportError>
where
    F: FnOnce(tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>) -> Fut,
    Fut: std::future::Future<Output = Result<(), DbError>> + Send + 'static,
{
    let (tx, mut rx) = tokio::sync::mpsc::channel(8);
    let writer = tokio::spawn(write(tx));
    let mut out = Vec::new();
    while let Some(chunk) = rx.recv().await {
        out.extend_from_slice(&chunk.map_err(|e| ExportError::Zip(e.to_string()))?);
    }
    writer
        .await
        .map_err(|e| ExportError::Zip(e.to_string()))??;
    Ok(out)
}

pub async fn export(app: &App, tenant: TenantId) -> Result<Export, ExportError> {
    let db = app.db.clone();
    let catalog =
        collect_csv(
            |out| async move { crate::catalog::csv_export::export(&db, tenant, out).await },
        )
        .await?;
    let db = app.db.clone();
    let orders = collect_csv(|out| async move {
        crate::orders::export(&db, tenant, &crate::orders::OrderFilter::default(), out).await
    })
    .await?;

    let mut c = app.db.app().await?;
    let tx = begin_for_tenant(&mut c, tenant).await?;
    let shop = crate::tenants::load(&tx, tenant)
        .await?
        .ok_or(ExportError::NoShop)?;
    let handle = shop.ig_handle.clone().unwrap_or_else(|| "shop".into());
    let today: String = tx
        .query_one(
            "SELECT to_char(now() AT TIME ZONE 'Asia/Amman', 'YYYY-MM-DD')",
            &[],
        )
        .await?
        .get(0);
    let returns = returns_csv(&tx).await?;
    let conversations = conversations_json(&tx).await?;
    let profile: String = match tx.query_opt("SELECT yaml FROM profiles", &[]).await? {
        Some(r) => r.get(0),
        None => "# No business profile has been saved yet.\n".into(),
    };
    let rules: Value = tx
        .query_opt("SELECT rules FROM business_rules", &[])
        .await?
        .map(|r| r.get(0))
        .unwrap_or_else(|| json!({}));
    let instructions: String = tx
        .query_opt("SELECT instructions FROM ai_settings", &[])
        .await?
        .map(|r| r.get(0))
        .unwrap_or_default();
    let documents = crate::knowledge::documents::list(&tx)
        .await
        .map_err(|e| ExportError::Zip(e.to_string()))?;
    tx.commit().await.map_err(DbError::from)?;

    let pretty = |v: &Value| serde_json::to_vec_pretty(v).expect("JSON serialises");
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("README.txt", README.as_bytes().to_vec()),
        ("catalog.csv", catalog),
        ("orders.csv", orders),
        ("returns.csv", returns),
        ("conversations.json", pretty(&conversations)),
        ("profile.yaml", profile.into_bytes()),
        ("business-rules.json", pretty(&rules)),
        ("ai-instructions.txt", instructions.into_bytes()),
        ("knowledge.json", pretty(&json!({ "documents": documents }))),
    ];
    let zip = tokio::task::spawn_blocking(move || zip_of(files))
        .await
        .map_err(|e| ExportError::Zip(e.to_string()))??;
    Ok(Export {
        file_name: format!("{handle}-export-{today}.zip"),
        zip,
    })
}

fn zip_of(files: Vec<(&str, Vec<u8>)>) -> Result<Vec<u8>, ExportError> {
    let zip_error = |e: zip::result::ZipError| ExportError::Zip(e.to_string());
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in files {
        w.start_file(name, options).map_err(zip_error)?;
        w.write_all(&bytes)
            .map_err(|e| ExportError::Zip(e.to_string()))?;
    }
    Ok(w.finish().map_err(zip_error)?.into_inner())
}

const RETURNS_HEADER: [&str; 7] = [
    "order_number",
    "requested_at",
    "status",
    "reason",
    "merchant_note",
    "customer_name",
    "updated_at",
];

async fn returns_csv(tx: &deadpool_postgres::Transaction<'_>) -> Result<Vec<u8>, ExportError> {
    let rows = tx
        .query(
            "SELECT o.order_number, to_char(r.created_at AT TIME ZONE 'Asia/Amman', 'YYYY-MM-DD HH24:MI'), r.status,
                    r.reason, r.merchant_note, coalesce(o.customer_name, ''),
                    to_char(r.updated_at AT TIME ZONE 'Asia/Amman', 'YYYY-MM-DD HH24:MI')
               FROM return_requests r JOIN orders o ON o.id = r.order_id ORDER BY r.created_at",
            &[],
        )
        .await?;
    let mut out = crate::csv_download::header(&RETURNS_HEADER);
    for r in rows {
        out.extend(crate::csv_download::line([
            r.get::<_, i64>(0).to_string(),
            r.get(1),
            r.get(2),
            r.get(3),
            r.get(4),
            r.get(5),
            r.get(6),
        ]));
    }
    Ok(out)
}

async fn conversations_json(tx: &deadpool_postgres::Transaction<'_>) -> Result<Value, ExportError> {
    let conversations = tx
        .query(
            "SELECT c.id, c.customer_ig_id, c.customer_username, c.customer_name, c.customer_phone, c.customer_city,
                    c.customer_address, c.mode, c.created_at, c.last_message_at,
                    coalesce((SELECT jsonb_agg(jsonb_build_object('at', m.sent_at, 'author', m.author, 'direction', m.direction,
                                  'text', m.text, 'attachments', m.attachments) ORDER BY m.sent_at, m.id)
                                FROM messages m WHERE m.conversation_id = c.id), '[]'::jsonb),
                    coalesce((SELECT jsonb_agg(jsonb_build_object('at', e.at, 'kind', e.kind, 'author', e.author, 'text', e.text)
                                  ORDER BY e.at, e.id)
                                FROM conversation_events e WHERE e.conversation_id = c.id), '[]'::jsonb)
               FROM conversations c WHERE c.kind = 'instagram' ORDER BY c.created_at, c.id",
            &[],
        )
        .await?;
    let list: Vec<Value> = conversations
        .iter()
        .map(|r| {
            json!({
                "id": r.get::<_, uuid::Uuid>(0),
                "customer": {
                    "ig_id": r.get::<_, String>(1),
                    "username": r.get::<_, Option<String>>(2),
                    "name": r.get::<_, Option<String>>(3),
                    "phone": r.get::<_, Option<String>>(4),
                    "city": r.get::<_, Option<String>>(5),
                    "address": r.get::<_, Option<String>>(6),
                },
                "mode": r.get::<_, String>(7),
                "created_at": r.get::<_, chrono::DateTime<chrono::Utc>>(8),
                "last_message_at": r.get::<_, Option<chrono::DateTime<chrono::Utc>>>(9),
                "messages": r.get::<_, Value>(10),
                "events": r.get::<_, Value>(11),
            })
        })
        .collect();
    Ok(json!({ "conversations": list }))
}
