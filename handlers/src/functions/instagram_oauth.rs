//! `instagram-oauth` (HTTP, forwarded: `/api/instagram/oauth/...`): Sign-in with Instagram.
//! Until issue 3 (Instagram channel) lands it answers 501 with a clear message.

use crate::http::ApiError;
use shared::app::App;
use warp::filters::BoxedFilter;
use warp::{Filter, Reply};

pub fn route(_app: App) -> BoxedFilter<(warp::reply::Response,)> {
    warp::path("api")
        .and(warp::path!("instagram" / "oauth" / ..))
        .and(warp::path::tail())
        .map(|_tail: warp::path::Tail| ApiError::not_built("Sign-in with Instagram").into_response())
        .boxed()
}
