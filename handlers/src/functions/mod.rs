//! The nine functions of the app. Each module is one function: its `function.json` lives in
//! `handlers/functions/<name>/` (embedded here for `handler package`), and its route is
//! the path the host uses to reach it — `/api/<route>` for forwarded HTTP triggers,
//! `POST /<name>` for queue and timer invocations.

pub mod admin;
pub mod agent;
pub mod api;
pub mod health;
pub mod instagram_oauth;
pub mod instagram_webhook;
pub mod meta_callbacks;
pub mod nightly;
pub mod sweeper;

use crate::http::recover;
use shared::app::App;
use shared::settings::Environment;
use warp::filters::BoxedFilter;
use warp::{Filter, Reply};

pub struct FunctionDef {
    pub name: &'static str,
    pub function_json: &'static str,
}

macro_rules! function {
    ($name:literal) => {
        FunctionDef {
            name: $name,
            function_json: include_str!(concat!("../../functions/", $name, "/function.json")),
        }
    };
}

pub const FUNCTIONS: [FunctionDef; 9] = [
    function!("api"),
    function!("admin"),
    function!("instagram-webhook"),
    function!("instagram-oauth"),
    function!("meta-callbacks"),
    function!("health"),
    function!("agent"),
    function!("nightly"),
    function!("sweeper"),
];

/// Every route of the nine functions.
pub fn routes(app: App) -> BoxedFilter<(warp::reply::Response,)> {
    health::route(app.clone())
        .or(api::route(app.clone()))
        .unify()
        .or(admin::route(app.clone()))
        .unify()
        .or(instagram_webhook::route(app.clone()))
        .unify()
        .or(instagram_oauth::route(app.clone()))
        .unify()
        .or(meta_callbacks::route(app.clone()))
        .unify()
        .or(agent::route(app.clone()))
        .unify()
        .or(nightly::route(app.clone()))
        .unify()
        .or(sweeper::route(app))
        .unify()
        .boxed()
}

/// `GET /`: the host polls it until the handler answers.
pub fn readiness_probe() -> BoxedFilter<(warp::reply::Response,)> {
    warp::path::end()
        .and(warp::get())
        .map(|| "ok".into_response())
        .boxed()
}

/// What the Functions host talks to: the probe and every function route, with rejections
/// turned into JSON errors and a tracing span per request.
pub fn host_service(app: App) -> BoxedFilter<(warp::reply::Response,)> {
    let hsts = app.settings.environment != Environment::Local;
    with_plumbing(readiness_probe().or(routes(app)).unify().boxed(), hsts)
}

/// Errors as JSON, a span per request, and the security headers on every answer
/// (`Strict-Transport-Security` with `hsts`: outside the local environment). A wrong method
/// on an address the API has answers 405 with `Allow` (from the OpenAPI endpoint list),
/// whichever route refused it.
pub fn with_plumbing(
    routes: BoxedFilter<(warp::reply::Response,)>,
    hsts: bool,
) -> BoxedFilter<(warp::reply::Response,)> {
    warp::method()
        .and(warp::path::full())
        .and(routes.recover(recover).unify())
        .map(
            |method: warp::http::Method, path: warp::path::FullPath, r| {
                let r = method_not_allowed(&method, path.as_str(), r);
                crate::telemetry::finished(&r);
                r
            },
        )
        .with(warp::trace(crate::telemetry::request_span))
        .map(move |r| crate::security_headers::apply(Reply::into_response(r), hsts))
        .boxed()
}

/// The methods the API answers at `path` (each `{param}` of a documented path matches one
/// segment); empty for an address it does not have.
pub fn allowed_methods(path: &str) -> Vec<&'static str> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let mut methods: Vec<&'static str> = api::openapi::endpoints()
        .into_iter()
        .filter(|e| {
            let template: Vec<&str> = e.path.split('/').collect();
            template.len() == segments.len()
                && template
                    .iter()
                    .zip(&segments)
                    .all(|(t, s)| (t.starts_with('{') && !s.is_empty()) || t == s)
        })
        .map(|e| match e.method_name() {
            "get" => "GET",
            "post" => "POST",
            "put" => "PUT",
            "patch" => "PATCH",
            "delete" => "DELETE",
            _ => "OPTIONS",
        })
        .collect();
    methods.sort_unstable();
    methods.dedup();
    methods
}

fn method_not_allowed(
    method: &warp::http::Method,
    path: &str,
    r: warp::reply::Response,
) -> warp::reply::Response {
    use warp::http::StatusCode;
    if !matches!(
        r.status(),
        StatusCode::METHOD_NOT_ALLOWED | StatusCode::NOT_IMPLEMENTED | StatusCode::NOT_FOUND
    ) || !path.starts_with("/api/")
    {
        return r;
    }
    let allowed = allowed_methods(path);
    if allowed.is_empty() || allowed.contains(&method.as_str()) {
        return r;
    }
    let allow = allowed.join(", ");
    let mut answer = crate::http::ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("This address does not accept {method}; it accepts {allow}."),
    )
    .into_response();
    if let Ok(v) = warp::http::HeaderValue::from_str(&allow) {
        answer.headers_mut().insert(warp::http::header::ALLOW, v);
    }
    answer
}
