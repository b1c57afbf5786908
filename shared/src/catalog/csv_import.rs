//! Catalog CSV import: read a merchant's spreadsheet export (Arabic or English headers, UTF-8
//! with or without BOM, quoted fields with commas and newlines, prices like `12.5 JD` or
//! `د.أ 12.500`), show a preview with every problem named by row and column, and commit in one
//! transaction, upserting by SKU: the valid rows, with the rejected ones returned with their
//! reasons (and as a CSV to fix and upload again), or, with [`ImportMode::AllOrNothing`],
//! nothing at all when any row is wrong.

use super::{check_image_url, check_name, check_stock, Sku};
use crate::money::Jod;
use crate::tenants::TenantId;
use deadpool_postgres::GenericClient;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};

pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
pub const MAX_ROWS: usize = 50_000;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Sku,
    Name,
    Description,
    Category,
    Price,
    Stock,
    ImageUrl,
    Active,
    Attributes,
}

impl Field {
    /// Header words a merchant's file may use for each field (compared case-insensitively,
    /// without spaces, underscores or hyphens).
    fn synonyms(self) -> &'static [&'static str] {
        match self {
            Field::Sku => &[
                "sku",
                "code",
                "productcode",
                "itemcode",
                "رمز",
                "الرمز",
                "كود",
                "الكود",
                "رمزالمنتج",
            ],
            Field::Name => &[
                "name",
                "title",
                "product",
                "productname",
                "الاسم",
                "اسم",
                "اسمالمنتج",
                "المنتج",
            ],
            Field::Description => &["description", "details", "الوصف", "وصف", "التفاصيل"],
            Field::Category => &[
                "category",
                "categoryname",
                "type",
                "الفئة",
                "فئة",
                "التصنيف",
                "القسم",
            ],
            Field::Price => &[
                "price",
                "pricejod",
                "priceinjod",
                "السعر",
                "سعر",
                "السعربالدينار",
            ],
            Field::Stock => &[
                "stock",
                "quantity",
                "qty",
                "inventory",
                "المخزون",
                "الكمية",
                "كمية",
            ],
            Field::ImageUrl => &[
                "imageurl",
                "image",
                "imagelink",
                "photo",
                "picture",
                "صورة",
                "الصورة",
                "رابطالصورة",
            ],
            Field::Active => &[
                "active",
                "isactive",
                "enabled",
                "available",
                "فعال",
                "متاح",
                "متوفر",
            ],
            Field::Attributes => &["attributes", "extra", "الخصائص"],
        }
    }

    const ALL: [Field; 9] = [
        Field::Sku,
        Field::Name,
        Field::Description,
        Field::Category,
        Field::Price,
        Field::Stock,
        Field::ImageUrl,
        Field::Active,
        Field::Attributes,
    ];
}

fn header_key(h: &str) -> String {
    h.trim()
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '_' && *c != '-' && *c != '(' && *c != ')')
        .collect()
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CsvFileError {
    #[error("The file is empty.")]
    Empty,
    #[error("The file is larger than {} MB.", MAX_FILE_BYTES / 1024 / 1024)]
    TooLarge,
    #[error("The file has more than {MAX_ROWS} rows; split it into smaller files.")]
    TooManyRows,
    #[error("The file is saved as UTF-16. In Excel choose Save As → \"CSV UTF-8 (Comma delimited)\" and upload again.")]
    Utf16,
    #[error("The file is not UTF-8 (it looks like {0}). In Excel choose Save As → \"CSV UTF-8 (Comma delimited)\"; in Google Sheets use File → Download → CSV.")]
    NotUtf8(&'static str),
    #[error("The file has no {0} column. Name the columns, for example: sku, name, price, stock, category (or in Arabic: الرمز، الاسم، السعر، الكمية، الفئة).")]
    MissingColumn(&'static str),
    #[error("The columns {0} both look like {1}; keep one or rename the other.")]
    AmbiguousColumn(String, String),
    #[error("The file could not be read as CSV at line {line}: {reason}")]
    Malformed { line: u64, reason: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RowError {
    /// The spreadsheet row: the header is row 1.
    pub row: usize,
    pub column: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ImportRow {
    pub row: usize,
    pub sku: Sku,
    pub name: String,
    pub description: String,
    pub category: Option<String>,
    pub price_jod: Jod,
    pub stock: i32,
    pub image_url: Option<String>,
    pub is_active: bool,
    pub attributes: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ColumnMapping {
    pub header: String,
    /// `None`: kept as an extra attribute.
    pub field: Option<Field>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ParsedFile {
    pub columns: Vec<ColumnMapping>,
    pub rows: Vec<ImportRow>,
    pub errors: Vec<RowError>,
    /// Every data row as the file had it (row number, cells): the rejected ones go back to
    /// the merchant unchanged.
    #[serde(skip)]
    #[schema(ignore)]
    pub records: Vec<(usize, csv::StringRecord)>,
}

/// What commit does with a file that has bad rows.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ImportMode {
    /// Import the valid rows; the rejected ones come back with their reasons.
    #[default]
    ValidRows,
    /// Import nothing when any row is wrong.
    AllOrNothing,
}

/// Decodes and parses the file; every row problem is collected, not just the first.
/// `overrides` maps a header (as written) to the field the merchant chose for it.
pub fn parse(
    bytes: &[u8],
    overrides: &HashMap<String, Option<Field>>,
) -> Result<ParsedFile, CsvFileError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(CsvFileError::TooLarge);
    }
    let text = decode(bytes)?;
    if text.trim().is_empty() {
        return Err(CsvFileError::Empty);
    }
    let delimiter = detect_delimiter(text);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .trim(csv::Trim::None)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| CsvFileError::Malformed {
            line: 1,
            reason: e.to_string(),
        })?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();

    if headers.iter().any(|h| h.contains('\0')) {
        return Err(CsvFileError::Malformed {
            line: 1,
            reason: "a column name contains a NUL character".into(),
        });
    }
    // Column → field.
    let mut columns = Vec::with_capacity(headers.len());
    let mut taken: HashMap<Field, String> = HashMap::new();
    for h in &headers {
        let field = match overrides.get(h) {
            Some(choice) => *choice,
            None => {
                let key = header_key(h);
                Field::ALL
                    .into_iter()
                    .find(|f| f.synonyms().iter().any(|s| header_key(s) == key))
            }
        };
        if let Some(f) = field {
            if let Some(other) = taken.insert(f, h.clone()) {
                return Err(CsvFileError::AmbiguousColumn(
                    format!("{other:?} and {h:?}"),
                    format!("{f:?}").to_lowercase(),
                ));
            }
        }
        columns.push(ColumnMapping {
            header: h.clone(),
            field,
        });
    }
    for (f, name) in [
        (Field::Sku, "SKU"),
        (Field::Name, "name"),
        (Field::Price, "price"),
    ] {
        if !taken.contains_key(&f) {
            return Err(CsvFileError::MissingColumn(name));
        }
    }
    let index = |f: Field| columns.iter().position(|c| c.field == Some(f));
    let (i_sku, i_name, i_price) = (
        index(Field::Sku).unwrap(),
        index(Field::Name).unwrap(),
        index(Field::Price).unwrap(),
    );
    let (i_desc, i_cat, i_stock, i_img, i_active, i_attrs) = (
        index(Field::Description),
        index(Field::Category),
        index(Field::Stock),
        index(Field::ImageUrl),
        index(Field::Active),
        index(Field::Attributes),
    );

    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut records = Vec::new();
    let mut first_row_of: HashMap<String, usize> = HashMap::new();
    for (n, record) in reader.records().enumerate() {
        let row = n + 2;
        if n >= MAX_ROWS {
            return Err(CsvFileError::TooManyRows);
        }
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(row as u64);
                return Err(CsvFileError::Malformed {
                    line,
                    reason: e.to_string(),
                });
            }
        };
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        records.push((row, record.clone()));
        // Our export writes a leading ' before = + - @ so spreadsheets never run a cell as a
        // formula; it is taken off again here.
        let cell = |i: Option<usize>| {
            let c = i.and_then(|i| record.get(i)).map(str::trim).unwrap_or("");
            match c.strip_prefix('\'') {
                Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest,
                _ => c,
            }
        };
        let mut row_errors = Vec::new();
        let mut fail = |column: &str, reason: String| {
            row_errors.push(RowError {
                row,
                column: Some(column.to_owned()),
                reason,
            })
        };

        // PostgreSQL text cannot hold NUL: a row with one is named here, not at commit.
        for (i, field) in record.iter().enumerate() {
            if field.contains('\0') {
                let column = headers.get(i).map_or("", String::as_str);
                fail(column, crate::text::NUL_MESSAGE.to_owned());
            }
        }
        let sku = match Sku::parse(cell(Some(i_sku))) {
            Ok(s) => Some(s),
            Err(e) => {
                fail(&headers[i_sku], e);
                None
            }
        };
        if let Some(s) = &sku {
            if let Some(first) = first_row_of.get(s.as_str()) {
                fail(
                    &headers[i_sku],
                    format!("the SKU {s} is also on row {first}; each SKU once per file"),
                );
            } else {
                first_row_of.insert(s.as_str().to_owned(), row);
            }
        }
        let name = check_name(cell(Some(i_name)))
            .map_err(|e| fail(&headers[i_name], e.to_string()))
            .ok();
        let price = Jod::parse(cell(Some(i_price)))
            .map_err(|e| fail(&headers[i_price], e.to_string()))
            .ok();
        let stock_text = cell(i_stock);
        let stock = if stock_text.is_empty() {
            Some(0)
        } else {
            let ascii: String = stock_text
                .chars()
                .map(|c| match c {
                    '٠'..='٩' => char::from(b'0' + (c as u32 - '٠' as u32) as u8),
                    _ => c,
                })
                .collect();
            match ascii.parse::<i32>().ok().map(check_stock) {
                Some(Ok(s)) => Some(s),
                Some(Err(e)) => {
                    fail(&headers[i_stock.unwrap()], e.to_string());
                    None
                }
                None => {
                    fail(
                        &headers[i_stock.unwrap()],
                        format!("{stock_text:?} is not a whole number"),
                    );
                    None
                }
            }
        };
        let image = check_image_url(Some(cell(i_img)))
            .map_err(|e| fail(&headers[i_img.unwrap_or(0)], e.to_string()))
            .ok()
            .flatten();
        let active = match cell(i_active).to_lowercase().as_str() {
            "" | "yes" | "y" | "true" | "1" | "نعم" | "فعال" | "متاح" => Some(true),
            "no" | "n" | "false" | "0" | "لا" | "غير فعال" | "غير متاح" => {
                Some(false)
            }
            other => {
                fail(
                    &headers[i_active.unwrap()],
                    format!("{other:?} is not yes or no"),
                );
                None
            }
        };
        let mut attributes = serde_json::Map::new();
        if let Some(i) = i_attrs {
            let raw = cell(Some(i));
            if !raw.is_empty() {
                match serde_json::from_str::<serde_json::Value>(raw) {
                    Ok(serde_json::Value::Object(m)) => attributes = m,
                    _ => fail(
                        &headers[i],
                        "the attributes column must hold a JSON object like {\"color\":\"blue\"}"
                            .into(),
                    ),
                }
            }
        }
        for (i, c) in columns.iter().enumerate() {
            if c.field.is_none() && !c.header.is_empty() {
                let v = record.get(i).map(str::trim).unwrap_or("");
                if !v.is_empty() {
                    attributes.insert(c.header.clone(), serde_json::Value::String(v.to_owned()));
                }
            }
        }
        let description = cell(i_desc).to_owned();
        if description.chars().count() > super::MAX_DESCRIPTION_CHARS {
            fail(
                &headers[i_desc.unwrap()],
                format!(
                    "the description is longer than {} characters",
                    super::MAX_DESCRIPTION_CHARS
                ),
            );
        }
        if row_errors.is_empty() {
            rows.push(ImportRow {
                row,
                sku: sku.expect("checked"),
                name: name.expect("checked"),
                description,
                category: Some(cell(i_cat).to_owned()).filter(|c| !c.is_empty()),
                price_jod: price.expect("checked"),
                stock: stock.expect("checked"),
                image_url: image,
                is_active: active.expect("checked"),
                attributes,
            });
        } else {
            errors.extend(row_errors);
        }
    }
    Ok(ParsedFile {
        columns,
        rows,
        errors,
        records,
    })
}

fn decode(bytes: &[u8]) -> Result<&str, CsvFileError> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(CsvFileError::Utf16);
    }
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|_| {
        // Arabic Excel on Windows saves in Windows-1256 unless told otherwise: its Arabic
        // letters sit in 0xC1–0xED.
        let high = bytes.iter().filter(|b| **b >= 0x80).count();
        let arabic_1256 = bytes.iter().filter(|b| (0xC1..=0xED).contains(*b)).count();
        CsvFileError::NotUtf8(if high > 0 && arabic_1256 * 2 >= high {
            "Windows Arabic (Windows-1256)"
        } else {
            "a legacy encoding"
        })
    })
}

fn detect_delimiter(text: &str) -> u8 {
    let first = text.lines().next().unwrap_or("");
    let count = |c: char| first.matches(c).count();
    [(b',', count(',')), (b';', count(';')), (b'\t', count('\t'))]
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map(|(d, _)| d)
        .unwrap_or(b',')
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Preview {
    pub columns: Vec<ColumnMapping>,
    pub total_rows: usize,
    pub valid_rows: usize,
    pub to_create: usize,
    pub to_update: usize,
    pub errors: Vec<RowError>,
    /// Categories named in the file that the shop does not have yet.
    pub unknown_categories: Vec<String>,
    /// The first rows, as they will be saved.
    pub sample: Vec<ImportRow>,
}

/// What committing would do, against the shop's current catalog.
pub async fn preview(
    tx: &impl GenericClient,
    parsed: &ParsedFile,
) -> Result<Preview, tokio_postgres::Error> {
    let skus: Vec<&str> = parsed.rows.iter().map(|r| r.sku.as_str()).collect();
    let existing: i64 = tx
        .query_one(
            "SELECT count(*) FROM catalog_items WHERE sku = ANY($1)",
            &[&skus],
        )
        .await?
        .get(0);
    let unknown_categories = unknown_categories(tx, parsed).await?;
    Ok(Preview {
        columns: parsed.columns.clone(),
        total_rows: parsed.rows.len()
            + parsed
                .errors
                .iter()
                .map(|e| e.row)
                .collect::<BTreeSet<_>>()
                .len(),
        valid_rows: parsed.rows.len(),
        to_create: parsed.rows.len() - existing as usize,
        to_update: existing as usize,
        errors: parsed.errors.clone(),
        unknown_categories,
        sample: parsed.rows.iter().take(20).cloned().collect(),
    })
}

async fn unknown_categories(
    tx: &impl GenericClient,
    parsed: &ParsedFile,
) -> Result<Vec<String>, tokio_postgres::Error> {
    let named: BTreeSet<String> = parsed
        .rows
        .iter()
        .filter_map(|r| r.category.clone())
        .collect();
    let known: BTreeSet<String> = tx
        .query("SELECT lower(name) FROM categories", &[])
        .await?
        .iter()
        .map(|r| r.get::<_, String>(0))
        .collect();
    Ok(named
        .into_iter()
        .filter(|n| !known.contains(&n.to_lowercase()))
        .collect())
}

#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    #[error("The file has {0} problem(s); fix them and upload again. Nothing was saved.")]
    HasErrors(usize),
    #[error("These categories do not exist yet: {0}. Create them, or import with \"create missing categories\".")]
    UnknownCategories(String),
    #[error(transparent)]
    Database(#[from] tokio_postgres::Error),
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CommitReport {
    pub created: usize,
    pub updated: usize,
    /// Rows identical to what the shop already had.
    pub unchanged: usize,
    pub categories_created: usize,
    /// Rows not imported, each problem named by row and column.
    pub rejected: Vec<RowError>,
    /// The rejected rows as the file had them, with a last `problem` column: a CSV (UTF-8
    /// with BOM) to fix and upload again. `null` when every row was imported.
    pub rejected_csv: Option<String>,
}

/// Upserts the rows by SKU in the caller's transaction (one statement for all rows). With
/// [`ImportMode::ValidRows`] rows with problems (and, without `create_missing_categories`,
/// rows naming a category the shop does not have) are left out and reported; with
/// [`ImportMode::AllOrNothing`] any of them refuses the whole file.
pub async fn commit(
    tx: &impl GenericClient,
    tenant: TenantId,
    parsed: &ParsedFile,
    create_missing_categories: bool,
    mode: ImportMode,
    index: crate::search::ProductIndex,
) -> Result<CommitReport, CommitError> {
    if mode == ImportMode::AllOrNothing && !parsed.errors.is_empty() {
        return Err(CommitError::HasErrors(parsed.errors.len()));
    }
    let mut missing = unknown_categories(tx, parsed).await?;
    let mut rejected = parsed.errors.clone();
    let mut accepted: Vec<&ImportRow> = parsed.rows.iter().collect();
    if !missing.is_empty() && !create_missing_categories {
        if mode == ImportMode::AllOrNothing {
            return Err(CommitError::UnknownCategories(missing.join(", ")));
        }
        let unknown: BTreeSet<String> = missing.iter().map(|c| c.to_lowercase()).collect();
        let column = parsed
            .columns
            .iter()
            .find(|c| c.field == Some(Field::Category))
            .map(|c| c.header.clone());
        accepted.retain(|r| {
            let Some(c) = r.category.as_ref().filter(|c| unknown.contains(&c.to_lowercase()))
            else {
                return true;
            };
            rejected.push(RowError {
                row: r.row,
                column: column.clone(),
                reason: format!("the category {c:?} does not exist yet; create it, or import with \"create missing categories\""),
            });
            false
        });
        rejected.sort_by_key(|e| e.row);
        missing.clear();
    }
    let rejected_csv = rejected_file(parsed, &rejected);
    let t = tenant.as_uuid();
    if !missing.is_empty() {
        tx.execute(
            "INSERT INTO categories (tenant_id, name) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING",
            &[&t, &missing],
        )
        .await?;
    }
    let ids: HashMap<String, uuid::Uuid> = tx
        .query("SELECT lower(name), id FROM categories", &[])
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let rows = &accepted;
    let skus: Vec<&str> = rows.iter().map(|r| r.sku.as_str()).collect();
    let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    let descriptions: Vec<&str> = rows.iter().map(|r| r.description.as_str()).collect();
    let categories: Vec<Option<uuid::Uuid>> = rows
        .iter()
        .map(|r| {
            r.category
                .as_ref()
                .and_then(|c| ids.get(&c.to_lowercase()).copied())
        })
        .collect();
    let prices: Vec<Jod> = rows.iter().map(|r| r.price_jod).collect();
    let stocks: Vec<i32> = rows.iter().map(|r| r.stock).collect();
    let images: Vec<Option<&str>> = rows.iter().map(|r| r.image_url.as_deref()).collect();
    let actives: Vec<bool> = rows.iter().map(|r| r.is_active).collect();
    let attributes: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| serde_json::Value::Object(r.attributes.clone()))
        .collect();
    // The search text is written with the row, so the indexes are touched once.
    let search_texts: Vec<String> = rows
        .iter()
        .map(|r| {
            let doc = crate::search::ProductDoc {
                id: uuid::Uuid::nil(),
                sku: r.sku.to_string(),
                name: r.name.clone(),
                description: r.description.clone(),
                category: r.category.clone(),
                attributes_text: crate::search::attributes_text(&serde_json::Value::Object(
                    r.attributes.clone(),
                )),
            };
            crate::search::arabic::search_form(&doc.searchable_text())
        })
        .collect();
    // Rows that did not change are left alone (a re-import of the same file rewrites nothing).
    let outcome = tx
        .query(
            "INSERT INTO catalog_items (tenant_id, sku, name, description, category_id, price_jod, stock, image_url, is_active, attributes, search_text)
             SELECT $1, s, n, d, c, p, k, i, a, x, st
               FROM unnest($2::text[], $3::text[], $4::text[], $5::uuid[], $6::numeric[], $7::int[], $8::text[], $9::bool[], $10::jsonb[], $11::text[])
                    AS u(s, n, d, c, p, k, i, a, x, st)
             ON CONFLICT (tenant_id, sku) DO UPDATE
                SET name = EXCLUDED.name, description = EXCLUDED.description, category_id = EXCLUDED.category_id,
                    price_jod = EXCLUDED.price_jod, stock = EXCLUDED.stock, image_url = EXCLUDED.image_url,
                    is_active = EXCLUDED.is_active, attributes = EXCLUDED.attributes, search_text = EXCLUDED.search_text,
                    updated_at = now()
              WHERE (catalog_items.name, catalog_items.description, catalog_items.category_id, catalog_items.price_jod,
                     catalog_items.stock, catalog_items.image_url, catalog_items.is_active, catalog_items.attributes, catalog_items.search_text)
                    IS DISTINCT FROM
                    (EXCLUDED.name, EXCLUDED.description, EXCLUDED.category_id, EXCLUDED.price_jod,
                     EXCLUDED.stock, EXCLUDED.image_url, EXCLUDED.is_active, EXCLUDED.attributes, EXCLUDED.search_text)
             RETURNING (xmax = 0), id",
            &[&t, &skus, &names, &descriptions, &categories, &prices, &stocks, &images, &actives, &attributes, &search_texts],
        )
        .await?;
    let created = outcome.iter().filter(|r| r.get::<_, bool>(0)).count();
    let updated = outcome.len() - created;
    if index == crate::search::ProductIndex::External {
        let changed: Vec<uuid::Uuid> = outcome.iter().map(|r| r.get(1)).collect();
        crate::search::pending::queue(tx, tenant, &changed).await?;
    }
    Ok(CommitReport {
        created,
        updated,
        unchanged: rows.len() - created - updated,
        categories_created: missing.len(),
        rejected,
        rejected_csv,
    })
}

/// The rejected rows as the file had them, with their problems in a last column.
fn rejected_file(parsed: &ParsedFile, rejected: &[RowError]) -> Option<String> {
    if rejected.is_empty() {
        return None;
    }
    let mut reasons: HashMap<usize, Vec<String>> = HashMap::new();
    for e in rejected {
        let reason = match &e.column {
            Some(c) if !c.is_empty() => format!("{c}: {}", e.reason),
            _ => e.reason.clone(),
        };
        reasons.entry(e.row).or_default().push(reason);
    }
    let mut names: Vec<&str> = parsed.columns.iter().map(|c| c.header.as_str()).collect();
    names.push("problem");
    let mut out = crate::csv_download::header(&names);
    for (row, record) in &parsed.records {
        if let Some(r) = reasons.get(row) {
            let mut cells: Vec<String> = (0..parsed.columns.len())
                .map(|i| record.get(i).unwrap_or("").to_owned())
                .collect();
            cells.push(r.join("; "));
            out.extend(crate::csv_download::line(cells));
        }
    }
    Some(String::from_utf8(out).expect("CSV lines are UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> ParsedFile {
        parse(s.as_bytes(), &HashMap::new()).unwrap()
    }

    #[test]
    fn arabic_headers_bom_quotes_and_price_forms_are_read() {
        let file = "\u{FEFF}الرمز,الاسم,السعر,الكمية,الفئة,الوصف,اللون\n\
                    TS-1,\"قميص، أزرق\",12.500,5,قمصان,\"سطر أول\nسطر ثاني\",أزرق\n\
                    TS-2,Hoodie,12.5 JD,٣,Hoodies,,\n\
                    TS-3,بنطلون,د.أ 20.000,,,,أسود\n";
        let p = parse_str(file);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(p.rows.len(), 3);
        assert_eq!(p.rows[0].name, "قميص، أزرق");
        assert_eq!(p.rows[0].description, "سطر أول\nسطر ثاني");
        assert_eq!(p.rows[0].attributes["اللون"], "أزرق");
        assert_eq!(p.rows[1].price_jod.to_string(), "12.500");
        assert_eq!(p.rows[1].stock, 3);
        assert_eq!(p.rows[2].price_jod.to_string(), "20.000");
        assert_eq!(p.rows[2].stock, 0);
        assert_eq!(p.rows[2].category, None);
        assert_eq!(p.rows[0].row, 2);
    }

    #[test]
    fn every_bad_row_is_named_with_its_reason() {
        let file = "sku,name,price,stock\nA,Shirt,-3,1\nB,Shirt,abc,1\nC,Shirt,1.2345,1\nA,Dup,1,1\n,NoSku,1,1\nE,,1,1\nF,Ok,1,lots\nG,Fine,2.000,2\n";
        let p = parse_str(file);
        assert_eq!(p.rows.len(), 1, "{:?}", p.rows);
        let reasons: Vec<(usize, String)> =
            p.errors.iter().map(|e| (e.row, e.reason.clone())).collect();
        let has =
            |row: usize, word: &str| reasons.iter().any(|(r, m)| *r == row && m.contains(word));
        assert!(has(2, "negative"));
        assert!(has(3, "not a price"));
        assert!(has(4, "3 decimals"));
        assert!(has(5, "row 2"), "{reasons:?}");
        assert!(has(6, "SKU is empty"));
        assert!(has(7, "name is empty"));
        assert!(has(8, "whole number"));
    }

    #[test]
    fn file_level_problems_say_what_to_do() {
        assert_eq!(
            parse(b"", &HashMap::new()).unwrap_err(),
            CsvFileError::Empty
        );
        assert_eq!(
            parse(b"name,price\nx,1\n", &HashMap::new()).unwrap_err(),
            CsvFileError::MissingColumn("SKU")
        );
        // "قميص" in Windows-1256.
        let cp1256 = [
            b's', b'k', b'u', b',', b'n', b'a', b'm', b'e', b',', b'p', b'r', b'i', b'c', b'e',
            b'\n', b'A', b',', 0xE3, 0xE4, 0xED, 0xD5, b',', b'1', b'\n',
        ];
        let err = parse(&cp1256, &HashMap::new()).unwrap_err();
        assert!(
            matches!(err, CsvFileError::NotUtf8("Windows Arabic (Windows-1256)")),
            "{err:?}"
        );
        assert!(err.to_string().contains("CSV UTF-8"));
        assert_eq!(
            parse(&[0xFF, 0xFE, b'a', 0], &HashMap::new()).unwrap_err(),
            CsvFileError::Utf16
        );
        assert!(matches!(
            parse(b"sku,code,name,price\n", &HashMap::new()).unwrap_err(),
            CsvFileError::AmbiguousColumn(..)
        ));
    }

    #[test]
    fn semicolons_and_chosen_mappings_work() {
        let p = parse_str("Code;Title;Price (JOD)\nX1;Bag;7,000.000\n");
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let mut chosen = HashMap::new();
        chosen.insert("Artikel".to_string(), Some(Field::Sku));
        chosen.insert("Preis".to_string(), Some(Field::Price));
        chosen.insert("Bezeichnung".to_string(), Some(Field::Name));
        let p = parse(b"Artikel,Bezeichnung,Preis\nZ9,Cap,3\n", &chosen).unwrap();
        assert_eq!(p.rows[0].sku.as_str(), "Z9");
    }
}
