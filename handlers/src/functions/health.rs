//! `health` (HTTP GET `/api/health`): liveness, and readiness of the database, queue and
//! blob store. `?probe=live` answers without touching dependencies.

use serde::Deserialize;
use shared::app::App;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::{Filter, Reply};

#[derive(Deserialize)]
struct Query {
    probe: Option<String>,
}

pub fn route(app: App) -> BoxedFilter<(warp::reply::Response,)> {
    warp::path!("api" / "health")
        .and(warp::get())
        .and(warp::query::<Query>())
        .then(move |q: Query| {
            let app = app.clone();
            async move {
                if q.probe.as_deref() == Some("live") {
                    return warp::reply::json(&serde_json::json!({ "status": "alive" }))
                        .into_response();
                }
                let readiness = shared::health::readiness(&app).await;
                let status = if readiness.ready() {
                    StatusCode::OK
                } else {
                    StatusCode::SERVICE_UNAVAILABLE
                };
                warp::reply::with_status(warp::reply::json(&readiness), status).into_response()
            }
        })
        .boxed()
}
