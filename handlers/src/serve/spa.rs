//! The built SPA (`frontend/dist`): files as they are, and `index.html` for any other
//! non-API GET so client-side routes survive a reload. Vite's hashed files under `/assets/`
//! never change under their name: cached for a year, immutable. Everything else (index.html
//! above all, which names the current hashes) is revalidated on every load. A missing file
//! under `/assets/` is a 404, not index.html: a browser asking for an old script must not get
//! HTML instead.

use std::path::Path;
use warp::filters::BoxedFilter;
use warp::http::header::{HeaderValue, CACHE_CONTROL};
use warp::{Filter, Reply};

pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
pub const REVALIDATE: &str = "no-cache";

fn with_cache(mut r: warp::reply::Response, value: &'static str) -> warp::reply::Response {
    r.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static(value));
    r
}

fn is_asset(path: &str) -> bool {
    path.starts_with("/assets/")
}

pub fn routes(dist: &Path) -> Option<BoxedFilter<(warp::reply::Response,)>> {
    let index = dist.join("index.html");
    if !index.is_file() {
        return None;
    }
    let files = warp::get()
        .and(warp::path::full())
        .and(warp::fs::dir(dist.to_path_buf()))
        .map(|p: warp::path::FullPath, f: warp::fs::File| {
            let cache = if is_asset(p.as_str()) {
                IMMUTABLE
            } else {
                REVALIDATE
            };
            with_cache(f.into_response(), cache)
        });
    let app_route = warp::path::full().and_then(|p: warp::path::FullPath| async move {
        let p = p.as_str();
        if p == "/api" || p.starts_with("/api/") || is_asset(p) {
            Err(warp::reject::not_found())
        } else {
            Ok(())
        }
    });
    let fallback = warp::get()
        .and(app_route)
        .untuple_one()
        .and(warp::fs::file(index))
        .map(|f: warp::fs::File| with_cache(f.into_response(), REVALIDATE));
    Some(files.or(fallback).unify().boxed())
}
