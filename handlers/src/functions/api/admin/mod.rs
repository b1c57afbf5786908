//! `/api/admin/…`: the product owner's console API. Admin sessions only (their own cookie,
//! `igshop_admin`, never a merchant's), CSRF on every write, and every action and every
//! conversation view written to `audit_log`. Queries run as the platform role (they see
//! every shop).

pub(crate) mod alerts;
pub(crate) mod auth;
pub(crate) mod costs;
pub(crate) mod licences;
pub(crate) mod tenants;

pub use auth::{admin, admin_write};

/// The session (or the refusal to answer with) from [`shielded`].
macro_rules! signed_in {
    ($r:expr) => {
        match $r {
            Ok(v) => v,
            Err(answer) => return answer,
        }
    };
}
pub(crate) use signed_in;

use crate::http::ApiError;
use serde::Serialize;
use shared::app::App;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::{Filter, Reply};

pub fn routes(app: App) -> BoxedFilter<(warp::reply::Response,)> {
    auth::routes(app.clone())
        .or(licences::routes(app.clone()))
        .unify()
        .or(tenants::routes(app.clone()))
        .unify()
        .or(costs::routes(app.clone()))
        .unify()
        .or(alerts::routes(app))
        .unify()
        .boxed()
}

/// The filters after a route's path and method matched: a refusal (sign-in, CSRF, body)
/// becomes this route's answer instead of letting other routes try.
pub(crate) fn shielded<T, F>(
    inner: F,
) -> impl Filter<Extract = (Result<T, warp::reply::Response>,), Error = std::convert::Infallible> + Clone
where
    T: Send + 'static,
    F: Filter<Extract = (T,), Error = warp::Rejection> + Clone + Send + Sync + 'static,
{
    inner
        .map(Ok)
        .recover(|r: warp::Rejection| async move {
            let answer = crate::http::recover(r)
                .await
                .unwrap_or_else(|never| match never {});
            Ok::<_, std::convert::Infallible>(Err(answer))
        })
        .unify()
}

pub(crate) fn internal(e: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "admin request failed");
    ApiError::internal(
        "The console request failed on our side; nothing was changed. Please try again.",
    )
}

pub(crate) fn json<T: Serialize>(r: Result<T, ApiError>) -> warp::reply::Response {
    match r {
        Ok(v) => warp::reply::json(&v).into_response(),
        Err(e) => e.into_response(),
    }
}

pub(crate) fn no_content(r: Result<(), ApiError>) -> warp::reply::Response {
    match r {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => e.into_response(),
    }
}

pub(crate) fn not_found(what: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("There is no such {what}."),
    )
}

/// A path segment that must be a UUID.
pub(crate) fn uuid_of(raw: &str, what: &str) -> Result<uuid::Uuid, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::bad_request(format!("{raw:?} is not a {what} id")))
}
