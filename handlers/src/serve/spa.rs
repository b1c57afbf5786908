//! The built SPA (`frontend/dist`): files as they are, and `index.html` for any other
//! non-API GET so client-side routes survive a reload.

use std::path::Path;
use warp::filters::BoxedFilter;
use warp::{Filter, Reply};

pub fn routes(dist: &Path) -> Option<BoxedFilter<(warp::reply::Response,)>> {
    let index = dist.join("index.html");
    if !index.is_file() {
        return None;
    }
    let files = warp::get()
        .and(warp::fs::dir(dist.to_path_buf()))
        .map(|f: warp::fs::File| f.into_response());
    let not_api = warp::path::full().and_then(|p: warp::path::FullPath| async move {
        if p.as_str().starts_with("/api/") || p.as_str() == "/api" {
            Err(warp::reject::not_found())
        } else {
            Ok(())
        }
    });
    let fallback = warp::get()
        .and(not_api)
        .untuple_one()
        .and(warp::fs::file(index))
        .map(|f: warp::fs::File| f.into_response());
    Some(files.or(fallback).unify().boxed())
}
