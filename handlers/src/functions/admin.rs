//! `admin` (HTTP, forwarded: `/api/admin/...`): the product owner's console API. A function
//! of its own because the `api` function's route is `v1/{*path}`: under the Functions host a
//! request reaches the binary only through a function whose route matches it. The routes and
//! their plumbing live beside the merchant API (`api::admin`).

use shared::app::App;
use warp::filters::BoxedFilter;

pub fn route(app: App) -> BoxedFilter<(warp::reply::Response,)> {
    super::api::admin::routes(app)
}
