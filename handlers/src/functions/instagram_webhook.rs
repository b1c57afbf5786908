//! `instagram-webhook` (HTTP GET/POST `/api/instagram/webhook`, forwarded so the raw body
//! reaches the signature check byte for byte). Until the Instagram channel issue lands it
//! answers 501 with a clear message.

use crate::http::ApiError;
use shared::app::App;
use warp::filters::BoxedFilter;
use warp::{Filter, Reply};

pub fn route(_app: App) -> BoxedFilter<(warp::reply::Response,)> {
    warp::path!("api" / "instagram" / "webhook")
        .and(warp::get().or(warp::post()).unify())
        .map(|| ApiError::not_built("The Instagram webhook").into_response())
        .boxed()
}
