//! Logs as JSON lines on stdout (Application Insights collects them in Azure). Each request
//! gets a span carrying the host's invocation id and the W3C `traceparent`, so every line a
//! request logs can be joined to the host's own telemetry. Query strings are never logged:
//! OAuth codes and tokens travel there.

use tracing_subscriber::{fmt, EnvFilter};

pub fn init() {
    let filter = EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let pretty = std::env::var("LOG_FORMAT")
        .map(|v| v == "pretty")
        .unwrap_or(false);
    if pretty {
        let _ = fmt().with_env_filter(filter).with_target(false).try_init();
    } else {
        let _ = fmt()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_env_filter(filter)
            .try_init();
    }
}

pub fn request_span(info: warp::trace::Info<'_>) -> tracing::Span {
    let header = |name: &str| {
        info.request_headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    tracing::info_span!(
        "request",
        method = %info.method(),
        path = %info.path(),
        invocation_id = %header("x-azure-functions-invocationid"),
        traceparent = %header("traceparent"),
    )
}
