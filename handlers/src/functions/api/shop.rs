//! Plumbing for the merchant API: a tenant transaction per request, JSON bodies with caps and
//! readable errors, and domain errors turned into HTTP answers.

use crate::http::{capped_body, read_json, ApiError};
use deadpool_postgres::Transaction;
use futures::future::BoxFuture;
use serde::de::DeserializeOwned;
use shared::app::App;
use shared::catalog::CatalogError;
use shared::db::begin_for_tenant;
use shared::profile::Problem;
use shared::tenants::TenantId;
use warp::http::StatusCode;
use warp::{Filter, Rejection, Reply};

/// Runs `work` in one transaction of the shop's (row-level security applies) and commits it
/// only if `work` succeeded: an error writes nothing.
pub async fn in_shop<T, F>(app: &App, tenant: TenantId, work: F) -> Result<T, ApiError>
where
    F: for<'a> FnOnce(&'a Transaction<'a>) -> BoxFuture<'a, Result<T, ApiError>>,
{
    let mut c = app.db.app().await.map_err(internal)?;
    let tx = begin_for_tenant(&mut c, tenant).await.map_err(internal)?;
    let out = work(&tx).await?;
    tx.commit().await.map_err(internal)?;
    Ok(out)
}

pub fn internal(e: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "request failed");
    ApiError::internal("Something went wrong on our side; nothing was changed. Please try again.")
}

pub fn catalog_error(e: CatalogError) -> ApiError {
    match e {
        CatalogError::Invalid { field, message } => ApiError::invalid(field, message),
        CatalogError::NotFound => ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "There is no such item in your shop.",
        ),
        CatalogError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
        CatalogError::Database(e) => internal(e),
    }
}

/// A JSON object body of at most `limit` bytes, read into `T` by [`read_json`] (400 when it
/// cannot be read, 422 naming a field with a NUL character).
pub fn json_body<T: DeserializeOwned + Send>(
    limit: usize,
) -> impl Filter<Extract = (T,), Error = Rejection> + Clone {
    capped_body(limit).and_then(|bytes: bytes::Bytes| async move {
        read_json::<T>(&bytes).map_err(warp::reject::custom)
    })
}

/// 422 naming each field that is wrong: `{"error":"invalid","message":…,"problems":[…]}`.
pub fn invalid(problems: Vec<Problem>) -> warp::reply::Response {
    ApiError::invalid_all(problems).into_response()
}
