//! `GET /api/v1/dashboard?from=&to=`: the overview of a range of Asia/Amman days.

use super::auth::merchant;
use super::shop::{in_shop, internal};
use crate::http::{answer_here, ApiError};
use shared::app::App;
use shared::dashboard::{self, DashboardError, RangeQuery};
use shared::sessions::MerchantSession;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::{Filter, Reply};

fn dashboard_error(e: DashboardError) -> ApiError {
    match e {
        DashboardError::Invalid(m) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", m),
        DashboardError::Database(e) => internal(e),
    }
}

pub fn routes(app: App) -> BoxedFilter<(warp::reply::Response,)> {
    warp::path!("api" / "v1" / "dashboard")
        .and(answer_here(
            warp::get()
                .and(merchant(app.clone()))
                .and(crate::http::query::<RangeQuery>())
                .then(move |s: MerchantSession, q: RangeQuery| {
                    let app = app.clone();
                    async move {
                        in_shop(&app, s.tenant, |tx| {
                            Box::pin(async move {
                                let today =
                                    dashboard::today_in_amman(tx).await.map_err(internal)?;
                                let range = q.resolve(today).map_err(dashboard_error)?;
                                dashboard::overview(tx, range)
                                    .await
                                    .map_err(dashboard_error)
                            })
                        })
                        .await
                        .map(|o| warp::reply::json(&o).into_response())
                        .unwrap_or_else(|e| e.into_response())
                    }
                }),
        ))
        .boxed()
}
