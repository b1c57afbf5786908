//! `instagram-webhook` (HTTP GET/POST `/api/instagram/webhook`, forwarded so the raw body
//! reaches the signature check byte for byte).
//!
//! GET answers Meta's verification handshake. POST checks `X-Hub-Signature-256` against
//! either configured secret before anything is parsed, stores the batch (deduplicated by
//! `mid`), queues one agent turn per conversation touched, and answers 200 only after the
//! batch is committed — Meta delivers again on anything else.

use crate::http::{capped_body, ApiError};
use secrecy::ExposeSecret;
use serde::Deserialize;
use shared::app::App;
use shared::instagram::events::parse_webhook;
use shared::instagram::inbox::ingest;
use shared::instagram::signature::verify_webhook_signature;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::{Filter, Reply};

/// Meta sends up to 1000 events per batch (a few hundred KB).
pub const MAX_WEBHOOK_BYTES: usize = 4 * 1024 * 1024;

#[derive(Deserialize)]
struct Handshake {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    verify_token: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub fn route(app: App) -> BoxedFilter<(warp::reply::Response,)> {
    let a = app.clone();
    let verify = warp::path!("api" / "instagram" / "webhook")
        .and(warp::get())
        .and(warp::query::<Handshake>())
        .map(move |h: Handshake| {
            let expected = a.settings.instagram.verify_token.as_ref();
            let ok = h.mode.as_deref() == Some("subscribe")
                && matches!((expected, &h.verify_token), (Some(e), Some(given)) if constant_time_eq(e.expose_secret().as_bytes(), given.as_bytes()));
            match (ok, h.challenge) {
                (true, Some(challenge)) => warp::reply::with_status(challenge, StatusCode::OK).into_response(),
                _ => ApiError::new(StatusCode::FORBIDDEN, "verification_failed", "The verify token does not match.").into_response(),
            }
        });

    let a = app.clone();
    let receive = warp::path!("api" / "instagram" / "webhook")
        .and(warp::post())
        .and(warp::header::optional::<String>("x-hub-signature-256"))
        .and(warp::header::optional::<String>("traceparent"))
        .and(capped_body(MAX_WEBHOOK_BYTES))
        .then(move |signature: Option<String>, traceparent: Option<String>, body: bytes::Bytes| {
            let app = a.clone();
            async move {
                // The host's trace, or a new one under `handler serve`: the queued turns and
                // their sends carry it (shared::trace).
                let trace = shared::trace::Traceparent::from_header_or_new(traceparent.as_deref());
                let span = tracing::info_span!("webhook", traceparent = %trace, trace_id = %trace.trace_id());
                use tracing::Instrument;
                shared::trace::scope(trace, receive(&app, signature.as_deref(), &body).instrument(span))
                    .await
                    .unwrap_or_else(|e| e.into_response())
            }
        });

    verify.or(receive).unify().boxed()
}

async fn receive(
    app: &App,
    signature: Option<&str>,
    body: &[u8],
) -> Result<warp::reply::Response, ApiError> {
    let secrets = app.settings.instagram.signing_secrets();
    if let Err(e) = verify_webhook_signature(body, signature, &secrets) {
        tracing::warn!(reason = %e, "webhook refused: bad signature");
        shared::alerts::note_webhook_signature_failure(&app.db, &e.to_string());
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_signature",
            "The webhook signature is missing or wrong.",
        ));
    }
    let batch = parse_webhook(body).map_err(|e| {
        ApiError::bad_request(format!(
            "The webhook body is not an Instagram event batch: {e}"
        ))
    })?;
    let report = ingest(app, &batch).await.map_err(|e| {
        tracing::error!(error = %e, "storing a webhook batch failed; Meta will deliver it again");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "retry",
            "The batch could not be stored; deliver it again.",
        )
    })?;
    tracing::info!(
        events = batch.event_count(),
        stored = report.stored_messages,
        duplicates = report.duplicate_messages,
        queued = report.queued_conversations,
        takeovers = report.human_takeovers,
        unknown_accounts = report.unknown_accounts.len(),
        "webhook batch stored"
    );
    Ok(warp::reply::with_status("EVENT_RECEIVED", StatusCode::OK).into_response())
}
