//! `POST /api/v1/test-chat`: the merchant talks to their own agent. The same turn runs as for
//! an Instagram customer (prompt, tools, orders marked `playground`), without sending to
//! Instagram; the answer carries the reply and the tool calls made.

use super::auth::merchant_write;
use super::shop::{internal, json_body};
use crate::http::{answer_here, ApiError};
use serde::Deserialize;
use serde_json::json;
use shared::app::App;
use shared::sessions::MerchantSession;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::{Filter, Reply};

/// Longest test message, in characters (Instagram's own limit is 1000 bytes).
pub const MAX_MESSAGE_CHARS: usize = 2000;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TestMessage {
    /// What the customer writes (at most 2000 characters).
    message: String,
    /// Start a new test conversation first (forget the earlier messages).
    #[serde(default)]
    reset: bool,
}

pub fn routes(app: App) -> BoxedFilter<(warp::reply::Response,)> {
    let handler = warp::path::end()
        .and(warp::post())
        .and(merchant_write(app.clone()))
        .and(json_body::<TestMessage>(16 * 1024))
        .then(move |s: MerchantSession, body: TestMessage| {
            let app = app.clone();
            async move {
                run(app, s, body)
                    .await
                    .unwrap_or_else(|e| e.into_response())
            }
        });
    warp::path("api")
        .and(warp::path("v1"))
        .and(warp::path("test-chat"))
        .and(answer_here(handler))
        .boxed()
}

async fn run(
    app: App,
    s: MerchantSession,
    body: TestMessage,
) -> Result<warp::reply::Response, ApiError> {
    let message = body.message.trim();
    if message.is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "Write a message to send to your assistant.",
        ));
    }
    if message.chars().count() > MAX_MESSAGE_CHARS {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            format!("The message is longer than {MAX_MESSAGE_CHARS} characters."),
        ));
    }
    let (conversation, report) = shared::agent::test_chat(&app, s.tenant, message, body.reset)
        .await
        .map_err(internal)?;
    Ok(warp::reply::json(&json!({
        "conversation_id": conversation,
        "reply": report.reply,
        "status": report.status,
        "skip_reason": report.skip_reason,
        "tool_calls": report.tool_calls,
    }))
    .into_response())
}
