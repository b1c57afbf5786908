//! Logs as JSON lines on stdout (Application Insights collects them in Azure). Each request
//! gets a span carrying the host's invocation id and the W3C `traceparent`, so every line a
//! request logs can be joined to the host's own telemetry. Query strings are never logged:
//! OAuth codes and tokens travel there.

use tracing_subscriber::{fmt, EnvFilter};

pub fn init() {
    // warp's own request lines are replaced by `finished` (a 501 for a part not built yet is
    // not an error of the product).
    let filter = EnvFilter::try_from_env("RUST_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info"))
        .add_directive(
            "warp::filters::trace=off"
                .parse()
                .expect("a valid directive"),
        );
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

/// The request's span: the host's invocation id and `traceparent`, or new ones when there
/// are none (`handler serve` has no host in front), so every request's lines can be joined.
pub fn request_span(info: warp::trace::Info<'_>) -> tracing::Span {
    let header = |name: &str| {
        info.request_headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.trim().is_empty())
            .map(str::to_owned)
    };
    let invocation_id = header("x-azure-functions-invocationid")
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let trace = shared::trace::Traceparent::from_header_or_new(header("traceparent").as_deref());
    tracing::info_span!(
        "request",
        method = %info.method(),
        path = %info.path(),
        invocation_id = %invocation_id,
        traceparent = %trace,
        trace_id = %trace.trace_id(),
    )
}

/// How a finished request is logged: server errors as errors, except 501 (a route not built
/// yet, which is not a failure of the product) and 503 with a retry (the caller delivers
/// again); refused requests as warnings only when the caller may have a bug (not 401/404).
pub fn finished_level(status: u16) -> tracing::Level {
    match status {
        501 => tracing::Level::INFO,
        500..=599 => tracing::Level::ERROR,
        400 | 405 | 413 | 415 | 422 => tracing::Level::WARN,
        _ => tracing::Level::INFO,
    }
}

/// One line per answered request, inside its span, at [`finished_level`].
pub fn finished(response: &warp::reply::Response) {
    let status = response.status().as_u16();
    match finished_level(status) {
        tracing::Level::ERROR => tracing::error!(status, "request failed"),
        tracing::Level::WARN => tracing::warn!(status, "request refused"),
        _ => tracing::info!(status, "request answered"),
    }
}
