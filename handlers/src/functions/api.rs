//! `api` (HTTP, forwarded: `/api/v1/...`): The merchant API (/api/v1).
//! Until issue 4 (merchant data) lands it answers 501 with a clear message.

use crate::http::ApiError;
use shared::app::App;
use warp::filters::BoxedFilter;
use warp::{Filter, Reply};

pub fn route(_app: App) -> BoxedFilter<(warp::reply::Response,)> {
    warp::path("api")
        .and(warp::path!("v1" / ..))
        .and(warp::path::tail())
        .map(|_tail: warp::path::Tail| ApiError::not_built("The merchant API (/api/v1)").into_response())
        .boxed()
}
