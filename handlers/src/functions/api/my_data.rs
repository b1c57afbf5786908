//! "My data": `GET /api/v1/shop/export` (everything the shop keeps here, as a zip) and
//! `DELETE /api/v1/shop` (the shop and all of its data, after typing its handle; the session
//! ends with it).

use super::auth::{clear_session_cookie, merchant, merchant_write};
use super::shop::{internal, invalid, json_body};
use crate::http::{answer_here, ApiError};
use serde::Deserialize;
use shared::app::App;
use shared::profile::Problem;
use shared::sessions::MerchantSession;
use shared::shop_deletion::{self, DeletionError};
use shared::shop_export::{self, ExportError};
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::{Filter, Reply};

type Resp = warp::reply::Response;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeleteShop {
    /// The shop's Instagram handle, typed by the merchant.
    confirm: String,
}

async fn export(app: App, session: MerchantSession) -> Result<Resp, ApiError> {
    let export = shop_export::export(&app, session.tenant)
        .await
        .map_err(|e| match e {
            ExportError::NoShop => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "This shop no longer exists. Please sign in again.",
            ),
            other => internal(other),
        })?;
    let reply = warp::http::Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/zip")
        .header(
            "content-disposition",
            format!("attachment; filename=\"{}\"", export.file_name),
        )
        .body(export.zip.into())
        .map_err(internal)?;
    Ok(reply)
}

async fn delete(app: App, session: MerchantSession, body: DeleteShop) -> Result<Resp, ApiError> {
    let refuse = |message: String| {
        invalid(vec![Problem {
            field: "confirm".into(),
            message,
        }])
    };
    if body.confirm.contains('\0') {
        return Ok(refuse("must not contain NUL characters".into()));
    }
    match shop_deletion::delete_shop(&app, session.tenant, &body.confirm).await {
        Ok(_) => {
            let reply = warp::reply::with_status(warp::reply(), StatusCode::NO_CONTENT);
            Ok(
                warp::reply::with_header(reply, "set-cookie", clear_session_cookie(&app))
                    .into_response(),
            )
        }
        Err(DeletionError::NotConfirmed(m)) => Ok(refuse(m)),
        Err(e @ (DeletionError::Search(_) | DeletionError::Blob(_))) => {
            tracing::error!(error = %e, "deleting a shop failed before its rows were removed");
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "try_again",
                "Your shop could not be deleted right now (a storage service did not answer); nothing was removed. Please try again in a few minutes.",
            ))
        }
        Err(DeletionError::Database(e)) => Err(internal(e)),
    }
}

pub fn routes(app: App) -> BoxedFilter<(Resp,)> {
    let a = app.clone();
    let get_export = warp::path!("api" / "v1" / "shop" / "export").and(answer_here(
        warp::get().and(merchant(app.clone())).then(move |s| {
            let app = a.clone();
            async move { export(app, s).await.unwrap_or_else(|e| e.into_response()) }
        }),
    ));
    let a = app.clone();
    let delete_shop = warp::path!("api" / "v1" / "shop").and(answer_here(
        warp::delete()
            .and(merchant_write(app))
            .and(json_body::<DeleteShop>(4 * 1024))
            .then(move |s, body| {
                let app = a.clone();
                async move {
                    delete(app, s, body)
                        .await
                        .unwrap_or_else(|e| e.into_response())
                }
            }),
    ));
    get_export.or(delete_shop).unify().boxed()
}
