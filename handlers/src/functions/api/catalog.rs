//! `/api/v1/catalog/...`: items (list, get, create, update, delete, the grid's bulk save),
//! categories, CSV import (preview, then commit) and the streamed CSV export.
//!
//! Each address is matched first; everything after (method, sign-in, CSRF, body) answers
//! from that address, so a refused request never falls through to another route.
//!
//! Item writes go to product search in their transaction; with an external index (Azure AI
//! Search) the shop's queued entries are pushed right after the commit (see
//! [`shared::search::pending`]).

use super::auth::{merchant, merchant_write};
use super::shop::{catalog_error, in_shop, json_body};
use crate::http::{answer_here, capped_body, ApiError};
use serde::Deserialize;
use shared::app::App;
use shared::catalog::{
    self, csv_export, csv_import, CategoryInput, ItemFilter, ItemInput, ItemPatch,
};
use shared::search::pending;
use shared::sessions::MerchantSession;
use shared::tenants::TenantId;
use std::collections::HashMap;
use uuid::Uuid;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::{Filter, Reply};

const JSON_LIMIT: usize = 64 * 1024;
const BULK_LIMIT: usize = 2 * 1024 * 1024;

type Resp = warp::reply::Response;

fn json<T: serde::Serialize>(v: &T) -> Resp {
    warp::reply::json(v).into_response()
}

fn created<T: serde::Serialize>(v: &T) -> Resp {
    warp::reply::with_status(warp::reply::json(v), StatusCode::CREATED).into_response()
}

fn no_content() -> Resp {
    StatusCode::NO_CONTENT.into_response()
}

fn id_of(raw: &str, what: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("There is no such {what} in your shop."),
        )
    })
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct BulkChange {
    id: Uuid,
    #[serde(flatten)]
    patch: ItemPatch,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Bulk {
    changes: Vec<BulkChange>,
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ImportOptions {
    /// JSON object: header as written → field name (or null to keep it as an attribute).
    mapping: Option<String>,
    #[serde(default)]
    create_missing_categories: bool,
    /// Commit only: `valid_rows` (the default) imports the valid rows and returns the rejected
    /// ones; `all_or_nothing` imports nothing when any row is wrong.
    #[param(inline)]
    mode: Option<csv_import::ImportMode>,
}

enum Op {
    List(MerchantSession, ItemFilter),
    Create(MerchantSession, ItemInput),
    Bulk(MerchantSession, Bulk),
    Get(MerchantSession),
    Update(MerchantSession, ItemPatch),
    Delete(MerchantSession),
    ListCategories(MerchantSession),
    CreateCategory(MerchantSession, CategoryInput),
    UpdateCategory(MerchantSession, CategoryInput),
    DeleteCategory(MerchantSession),
    Preview(MerchantSession, ImportOptions, bytes::Bytes),
    Commit(MerchantSession, ImportOptions, bytes::Bytes),
}

fn boxed<F>(f: F) -> BoxedFilter<(Op,)>
where
    F: Filter<Extract = (Op,), Error = warp::Rejection> + Clone + Send + Sync + 'static,
{
    f.boxed()
}

pub fn routes(app: App) -> BoxedFilter<(Resp,)> {
    let app_for_export = app.clone();
    let read = || merchant(app.clone());
    let write = || merchant_write(app.clone());
    let end = warp::path::end;

    let items = boxed(
        end()
            .and(warp::get())
            .and(read())
            .and(crate::http::query::<ItemFilter>())
            .map(Op::List)
            .or(end()
                .and(warp::post())
                .and(write())
                .and(json_body::<ItemInput>(JSON_LIMIT))
                .map(Op::Create))
            .unify()
            .or(warp::path!("bulk")
                .and(warp::post())
                .and(write())
                .and(json_body::<Bulk>(BULK_LIMIT))
                .map(Op::Bulk))
            .unify(),
    );
    let item = boxed(
        warp::get()
            .and(read())
            .map(Op::Get)
            .or(warp::patch()
                .and(write())
                .and(json_body::<ItemPatch>(JSON_LIMIT))
                .map(Op::Update))
            .unify()
            .or(warp::delete().and(write()).map(Op::Delete))
            .unify(),
    );
    let categories = boxed(
        warp::get()
            .and(read())
            .map(Op::ListCategories)
            .or(warp::post()
                .and(write())
                .and(json_body::<CategoryInput>(JSON_LIMIT))
                .map(Op::CreateCategory))
            .unify(),
    );
    let category = boxed(
        warp::put()
            .and(write())
            .and(json_body::<CategoryInput>(JSON_LIMIT))
            .map(Op::UpdateCategory)
            .or(warp::delete().and(write()).map(Op::DeleteCategory))
            .unify(),
    );
    let import = boxed(
        warp::path!("preview")
            .and(warp::post())
            .and(write())
            .and(crate::http::query::<ImportOptions>())
            .and(capped_body(csv_import::MAX_FILE_BYTES))
            .map(Op::Preview)
            .or(warp::path!("commit")
                .and(warp::post())
                .and(write())
                .and(crate::http::query::<ImportOptions>())
                .and(capped_body(csv_import::MAX_FILE_BYTES))
                .map(Op::Commit))
            .unify(),
    );

    let with_id = |f: BoxedFilter<(Op,)>| {
        warp::path::param::<String>()
            .and(warp::path::end())
            .and(f)
            .map(|id: String, op: Op| (Some(id), op))
    };
    let without_id = |f: BoxedFilter<(Op,)>| f.map(|op: Op| (None::<String>, op));
    let handle = move |id: Option<String>, op: Op| {
        let app = app.clone();
        async move { run(app, id, op).await.unwrap_or_else(|e| e.into_response()) }
    };
    let (h1, h2, h3) = (handle.clone(), handle.clone(), handle);

    let base = || {
        warp::path("api")
            .and(warp::path("v1"))
            .and(warp::path("catalog"))
    };
    let items_route = base().and(warp::path("items")).and(answer_here(
        without_id(items)
            .or(with_id(item))
            .unify()
            .untuple_one()
            .then(move |id, op| h1(id, op)),
    ));
    let categories_route = base().and(warp::path("categories")).and(answer_here(
        warp::path::end()
            .and(without_id(categories))
            .or(with_id(category))
            .unify()
            .untuple_one()
            .then(move |id, op| h2(id, op)),
    ));
    let import_route = base().and(warp::path("import")).and(answer_here(
        without_id(import)
            .untuple_one()
            .then(move |id, op| h3(id, op)),
    ));
    let export_route = {
        let a = app_for_export;
        base().and(warp::path!("export.csv")).and(answer_here(
            warp::get()
                .and(merchant(a.clone()))
                .map(move |s: MerchantSession| {
                    let (tx, rx) = tokio::sync::mpsc::channel(8);
                    let db = a.db.clone();
                    tokio::spawn(async move {
                        if let Err(e) = csv_export::export(&db, s.tenant, tx).await {
                            tracing::error!(error = %e, "catalog export failed part-way");
                        }
                    });
                    let body = warp::reply::stream(tokio_stream::wrappers::ReceiverStream::new(rx));
                    let body =
                        warp::reply::with_header(body, "content-type", "text/csv; charset=utf-8");
                    warp::reply::with_header(
                        body,
                        "content-disposition",
                        "attachment; filename=\"catalog.csv\"",
                    )
                    .into_response()
                }),
        ))
    };
    items_route
        .or(categories_route)
        .unify()
        .or(import_route)
        .unify()
        .or(export_route)
        .unify()
        .boxed()
}

/// After a write: when it committed, the external search index takes it now (best effort;
/// the sweeper retries what is left).
async fn pushed<T>(app: &App, tenant: TenantId, out: Result<T, ApiError>) -> Result<T, ApiError> {
    if out.is_ok() {
        pending::push_shop_now(app, tenant).await;
    }
    out
}

async fn run(app: App, id: Option<String>, op: Op) -> Result<Resp, ApiError> {
    let index = app.search.product_index();
    match op {
        Op::List(s, filter) => in_shop(&app, s.tenant, |tx| {
            Box::pin(async move {
                crate::http::check_per_page(filter.per_page, catalog::MAX_PER_PAGE)?;
                catalog::list_items(tx, &filter)
                    .await
                    .map_err(catalog_error)
            })
        })
        .await
        .map(|p| json(&p)),
        Op::Create(s, input) => {
            let t = s.tenant;
            let out = in_shop(&app, t, |tx| {
                Box::pin(async move {
                    catalog::create_item(tx, t, &input, index)
                        .await
                        .map_err(catalog_error)
                })
            })
            .await;
            pushed(&app, t, out).await.map(|i| created(&i))
        }
        Op::Bulk(s, bulk) => {
            let changes: Vec<(Uuid, ItemPatch)> =
                bulk.changes.into_iter().map(|c| (c.id, c.patch)).collect();
            let out = in_shop(&app, s.tenant, |tx| {
                Box::pin(async move {
                    catalog::bulk_update(tx, &changes, index)
                        .await
                        .map_err(catalog_error)
                })
            })
            .await;
            pushed(&app, s.tenant, out)
                .await
                .map(|items| json(&serde_json::json!({ "items": items })))
        }
        Op::Get(s) => {
            let id = id_of(id.as_deref().unwrap_or(""), "item")?;
            in_shop(&app, s.tenant, |tx| {
                Box::pin(async move { catalog::get_item(tx, id).await.map_err(catalog_error) })
            })
            .await
            .map(|i| json(&i))
        }
        Op::Update(s, patch) => {
            let id = id_of(id.as_deref().unwrap_or(""), "item")?;
            let out = in_shop(&app, s.tenant, |tx| {
                Box::pin(async move {
                    catalog::update_item(tx, id, &patch, index)
                        .await
                        .map_err(catalog_error)
                })
            })
            .await;
            pushed(&app, s.tenant, out).await.map(|i| json(&i))
        }
        Op::Delete(s) => {
            let id = id_of(id.as_deref().unwrap_or(""), "item")?;
            let out = in_shop(&app, s.tenant, |tx| {
                Box::pin(async move {
                    catalog::delete_item(tx, id, index)
                        .await
                        .map_err(catalog_error)
                })
            })
            .await;
            pushed(&app, s.tenant, out).await.map(|()| no_content())
        }
        Op::ListCategories(s) => in_shop(&app, s.tenant, |tx| {
            Box::pin(async move { catalog::list_categories(tx).await.map_err(catalog_error) })
        })
        .await
        .map(|c| json(&c)),
        Op::CreateCategory(s, input) => {
            let t = s.tenant;
            in_shop(&app, t, |tx| {
                Box::pin(async move {
                    catalog::create_category(tx, t, &input)
                        .await
                        .map_err(catalog_error)
                })
            })
            .await
            .map(|c| created(&c))
        }
        Op::UpdateCategory(s, input) => {
            let id = id_of(id.as_deref().unwrap_or(""), "category")?;
            let out = in_shop(&app, s.tenant, |tx| {
                Box::pin(async move {
                    catalog::update_category(tx, id, &input, index)
                        .await
                        .map_err(catalog_error)
                })
            })
            .await;
            pushed(&app, s.tenant, out).await.map(|()| no_content())
        }
        Op::DeleteCategory(s) => {
            let id = id_of(id.as_deref().unwrap_or(""), "category")?;
            let out = in_shop(&app, s.tenant, |tx| {
                Box::pin(async move {
                    catalog::delete_category(tx, id, index)
                        .await
                        .map_err(catalog_error)
                })
            })
            .await;
            pushed(&app, s.tenant, out).await.map(|()| no_content())
        }
        Op::Preview(s, options, body) => {
            let parsed = parse_upload(&body, &options)?;
            in_shop(&app, s.tenant, |tx| {
                Box::pin(async move {
                    csv_import::preview(tx, &parsed)
                        .await
                        .map_err(super::shop::internal)
                })
            })
            .await
            .map(|p| json(&p))
        }
        Op::Commit(s, options, body) => {
            let parsed = parse_upload(&body, &options)?;
            let t = s.tenant;
            let create = options.create_missing_categories;
            let mode = options.mode.unwrap_or_default();
            let out = in_shop(&app, t, |tx| {
                Box::pin(async move {
                    let row_problems = || {
                        parsed
                            .errors
                            .iter()
                            .map(|e| shared::profile::Problem {
                                field: match &e.column {
                                    Some(c) => format!("row {} {c}", e.row),
                                    None => format!("row {}", e.row),
                                },
                                message: e.reason.clone(),
                            })
                            .collect::<Vec<_>>()
                    };
                    csv_import::commit(tx, t, &parsed, create, mode, index)
                        .await
                        .map_err(|e| match e {
                            csv_import::CommitError::Database(db) => super::shop::internal(db),
                            csv_import::CommitError::HasErrors(_) => ApiError {
                                code: "not_imported",
                                message: e.to_string(),
                                ..ApiError::invalid_all(row_problems())
                            },
                            other => ApiError {
                                code: "not_imported",
                                ..ApiError::invalid("category", other.to_string())
                            },
                        })
                })
            })
            .await;
            pushed(&app, t, out).await.map(|r| json(&r))
        }
    }
}

fn parse_upload(body: &[u8], options: &ImportOptions) -> Result<csv_import::ParsedFile, ApiError> {
    let overrides: HashMap<String, Option<csv_import::Field>> = match &options.mapping {
        Some(m) => serde_json::from_str(m).map_err(|e| {
            ApiError::bad_request(format!("The column mapping is not valid ({e}); send an object like {{\"Artikel\":\"sku\",\"Notes\":null}}."))
        })?,
        None => HashMap::new(),
    };
    csv_import::parse(body, &overrides).map_err(|e| ApiError {
        code: "bad_file",
        ..ApiError::invalid("file", e.to_string())
    })
}
