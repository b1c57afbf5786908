//! `meta-callbacks` (HTTP, forwarded: `/api/meta/...`): Meta's deauthorize and data-deletion callbacks.
//! Until issue 3 (Instagram channel) lands it answers 501 with a clear message.

use crate::http::ApiError;
use shared::app::App;
use warp::filters::BoxedFilter;
use warp::{Filter, Reply};

pub fn route(_app: App) -> BoxedFilter<(warp::reply::Response,)> {
    warp::path("api")
        .and(warp::path!("meta" / ..))
        .and(warp::path::tail())
        .map(|_tail: warp::path::Tail| ApiError::not_built("Meta's deauthorize and data-deletion callbacks").into_response())
        .boxed()
}
