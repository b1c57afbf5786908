//! The Functions host's custom-handler protocol: invocation payloads in, invocation
//! responses out. Forwarded HTTP functions never come through here: they receive the
//! original request at its original `/api/...` path.

pub mod invocation;

pub use invocation::{Invocation, InvocationResponse};

use crate::http::{capped_body, ApiError};
use std::future::Future;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::{Filter, Reply};

/// Invocation bodies are small JSON envelopes; a queue message is at most 256 KB on
/// Service Bus standard, and encoding can add a third.
pub const MAX_INVOCATION_BYTES: usize = 1024 * 1024;

/// `POST /<name>`: decodes the envelope and hands it to `run`. `Ok(logs)` answers 200 with
/// `{"Outputs":{},"Logs":logs,"ReturnValue":null}`; `Err(reason)` answers 500 so the host
/// counts a failure (a queue message is then delivered again, and dead-lettered in the end).
pub fn invocation_route<F, Fut>(name: &'static str, run: F) -> BoxedFilter<(warp::reply::Response,)>
where
    F: Fn(Invocation) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Vec<String>, String>> + Send,
{
    warp::path(name)
        .and(warp::path::end())
        .and(warp::post())
        .and(capped_body(MAX_INVOCATION_BYTES))
        .then(move |body: bytes::Bytes| {
            let run = run.clone();
            async move {
                let invocation = match Invocation::parse(&body) {
                    Ok(inv) => inv,
                    Err(e) => {
                        tracing::warn!(function = name, error = %e, "malformed invocation");
                        return ApiError::bad_request(e.to_string()).into_response();
                    }
                };
                match run(invocation).await {
                    Ok(logs) => {
                        warp::reply::json(&InvocationResponse::with_logs(logs)).into_response()
                    }
                    Err(reason) => {
                        tracing::error!(function = name, %reason, "invocation failed");
                        let body = InvocationResponse::with_logs(vec![reason]);
                        warp::reply::with_status(
                            warp::reply::json(&body),
                            StatusCode::INTERNAL_SERVER_ERROR,
                        )
                        .into_response()
                    }
                }
            }
        })
        .boxed()
}
