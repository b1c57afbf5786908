//! `/api/v1/conversations` (the inbox: list, thread, take over, hand back, reply as a
//! person, mark read, close, reopen, notes) and `/api/v1/alerts`.

use super::auth::{merchant, merchant_write};
use super::shop::{in_shop, internal, invalid, json_body};
use crate::http::{answer_here, capped_body, ApiError};
use serde::Deserialize;
use shared::alerts;
use shared::app::App;
use shared::conversations::list::{ChangesQuery, ConversationFilter};
use shared::conversations::thread::ThreadQuery;
use shared::conversations::{
    check_text, human_reply, list, notes, takeover, thread, ConversationError,
};
use shared::profile::Problem;
use shared::sessions::MerchantSession;
use uuid::Uuid;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::{Filter, Reply};

type Resp = warp::reply::Response;

/// A reply or note: 4000 characters, even as `\u` escapes, fit.
const MAX_TEXT_BODY: usize = 64 * 1024;
/// Writes without a body still read (and ignore) at most this much.
const MAX_EMPTY_BODY: usize = 4 * 1024;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TextInput {
    /// 1 to 4000 characters after trimming.
    text: String,
}

#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum AlertState {
    Open,
    All,
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AlertFilter {
    /// open (default) or all.
    #[param(inline)]
    state: Option<AlertState>,
}

pub(crate) fn conversation_error(e: ConversationError) -> ApiError {
    match e {
        ConversationError::NotFound => ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "There is no such conversation in your shop.",
        ),
        ConversationError::Invalid { field, message } => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            format!("{field}: {message}"),
        ),
        ConversationError::WindowClosed(m) => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "window_closed", m)
        }
        ConversationError::BadCursor(m) => ApiError::bad_request(m),
        ConversationError::NotConnected(m) => {
            ApiError::new(StatusCode::CONFLICT, "not_connected", m)
        }
        ConversationError::Database(e) => internal(e),
    }
}

fn id_of(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| conversation_error(ConversationError::NotFound))
}

/// A text body's problems as the 422 answer naming the field.
fn text_problem(field: &'static str, text: &str) -> Option<Resp> {
    match check_text(field, text) {
        Ok(_) => None,
        Err(ConversationError::Invalid { field, message }) => Some(invalid(vec![Problem {
            field: field.into(),
            message,
        }])),
        Err(e) => Some(conversation_error(e).into_response()),
    }
}

enum Op {
    List(MerchantSession, ConversationFilter),
    Changes(MerchantSession, ChangesQuery),
    Thread(MerchantSession, ThreadQuery),
    TakeOver(MerchantSession),
    HandBack(MerchantSession),
    Reply(MerchantSession, TextInput),
    Read(MerchantSession),
    Close(MerchantSession),
    Reopen(MerchantSession),
    Note(MerchantSession, TextInput),
    Alerts(MerchantSession, AlertFilter),
    AlertRead(MerchantSession),
}

pub fn routes(app: App) -> BoxedFilter<(Resp,)> {
    let read = || merchant(app.clone());
    let write = || merchant_write(app.clone());
    let no_body = || capped_body(MAX_EMPTY_BODY).map(drop).untuple_one();
    let action = |name: &'static str, op: fn(MerchantSession) -> Op| {
        warp::path::param::<String>()
            .and(warp::path(name))
            .and(warp::path::end())
            .and(warp::post())
            .and(merchant_write(app.clone()))
            .and(no_body())
            .map(move |id, s| (Some(id), op(s)))
    };
    let with_text = |name: &'static str, op: fn(MerchantSession, TextInput) -> Op| {
        warp::path::param::<String>()
            .and(warp::path(name))
            .and(warp::path::end())
            .and(warp::post())
            .and(merchant_write(app.clone()))
            .and(json_body::<TextInput>(MAX_TEXT_BODY))
            .map(move |id, s, t| (Some(id), op(s, t)))
    };
    let conversations = warp::path::end()
        .and(warp::get())
        .and(read())
        .and(crate::http::query::<ConversationFilter>())
        .map(|s, f| (None, Op::List(s, f)))
        .or(warp::path!("changes")
            .and(warp::get())
            .and(read())
            .and(crate::http::query::<ChangesQuery>())
            .map(|s, q| (None, Op::Changes(s, q))))
        .unify()
        .or(warp::path::param::<String>()
            .and(warp::path::end())
            .and(warp::get())
            .and(read())
            .and(crate::http::query::<ThreadQuery>())
            .map(|id, s, q| (Some(id), Op::Thread(s, q))))
        .unify()
        .or(action("takeover", Op::TakeOver))
        .unify()
        .or(action("handback", Op::HandBack))
        .unify()
        .or(action("read", Op::Read))
        .unify()
        .or(action("close", Op::Close))
        .unify()
        .or(action("reopen", Op::Reopen))
        .unify()
        .or(with_text("reply", Op::Reply))
        .unify()
        .or(with_text("notes", Op::Note))
        .unify();
    let alerts_f = warp::path::end()
        .and(warp::get())
        .and(read())
        .and(crate::http::query::<AlertFilter>())
        .map(|s, f| (None, Op::Alerts(s, f)))
        .or(warp::path::param::<String>()
            .and(warp::path("read"))
            .and(warp::path::end())
            .and(warp::post())
            .and(write())
            .and(no_body())
            .map(|id, s| (Some(id), Op::AlertRead(s))))
        .unify();

    let go = move |id: Option<String>, op: Op| {
        let app = app.clone();
        async move { run(app, id, op).await.unwrap_or_else(|e| e.into_response()) }
    };
    let (g1, g2) = (go.clone(), go);
    let v1 = || warp::path("api").and(warp::path("v1"));
    v1().and(warp::path("conversations"))
        .and(answer_here(
            conversations.untuple_one().then(move |id, op| g1(id, op)),
        ))
        .or(v1().and(warp::path("alerts")).and(answer_here(
            alerts_f.untuple_one().then(move |id, op| g2(id, op)),
        )))
        .unify()
        .boxed()
}

fn json<T: serde::Serialize>(v: &T) -> Resp {
    warp::reply::json(v).into_response()
}

fn created<T: serde::Serialize>(v: &T) -> Resp {
    warp::reply::with_status(warp::reply::json(v), StatusCode::CREATED).into_response()
}

fn no_content() -> Resp {
    warp::reply::with_status(warp::reply(), StatusCode::NO_CONTENT).into_response()
}

async fn run(app: App, raw_id: Option<String>, op: Op) -> Result<Resp, ApiError> {
    let id = || id_of(raw_id.as_deref().unwrap_or(""));
    let e = conversation_error;
    match op {
        Op::List(s, f) => in_shop(&app, s.tenant, |tx| {
            Box::pin(async move { list::list(tx, &f).await.map_err(e) })
        })
        .await
        .map(|p| json(&p)),
        Op::Changes(s, q) => in_shop(&app, s.tenant, |tx| {
            Box::pin(async move { list::changes(tx, &q).await.map_err(e) })
        })
        .await
        .map(|c| json(&c)),
        Op::Thread(s, q) => {
            let id = id()?;
            in_shop(&app, s.tenant, |tx| {
                Box::pin(async move { thread::thread(tx, id, &q).await.map_err(e) })
            })
            .await
            .map(|t| json(&t))
        }
        Op::TakeOver(s) => {
            let id = id()?;
            in_shop(&app, s.tenant, |tx| {
                Box::pin(async move {
                    takeover::take_over(
                        tx,
                        id,
                        "You took over from the dashboard",
                        takeover::TAKEN_OVER,
                    )
                    .await
                    .map_err(e)
                })
            })
            .await
            .map(|c| json(&c))
        }
        Op::HandBack(s) => {
            let id = id()?;
            in_shop(&app, s.tenant, |tx| {
                Box::pin(async move { takeover::hand_back(tx, id).await.map_err(e) })
            })
            .await
            .map(|c| json(&c))
        }
        Op::Read(s) => {
            let id = id()?;
            in_shop(&app, s.tenant, |tx| {
                Box::pin(async move { takeover::mark_read(tx, id).await.map_err(e) })
            })
            .await
            .map(|()| no_content())
        }
        Op::Close(s) => {
            let id = id()?;
            in_shop(&app, s.tenant, |tx| {
                Box::pin(async move { takeover::close(tx, id).await.map_err(e) })
            })
            .await
            .map(|c| json(&c))
        }
        Op::Reopen(s) => {
            let id = id()?;
            in_shop(&app, s.tenant, |tx| {
                Box::pin(async move { takeover::reopen(tx, id).await.map_err(e) })
            })
            .await
            .map(|c| json(&c))
        }
        Op::Reply(s, input) => {
            let id = id()?;
            if let Some(refused) = text_problem("text", &input.text) {
                return Ok(refused);
            }
            human_reply::reply(&app, s.tenant, id, &input.text)
                .await
                .map(|ev| created(&ev))
                .map_err(e)
        }
        Op::Note(s, input) => {
            let id = id()?;
            if let Some(refused) = text_problem("text", &input.text) {
                return Ok(refused);
            }
            in_shop(&app, s.tenant, |tx| {
                Box::pin(async move { notes::add_note(tx, id, &input.text).await.map_err(e) })
            })
            .await
            .map(|ev| created(&ev))
        }
        Op::Alerts(s, f) => {
            let open_only = !matches!(f.state, Some(AlertState::All));
            in_shop(&app, s.tenant, |tx| {
                Box::pin(async move { alerts::list(tx, open_only).await.map_err(internal) })
            })
            .await
            .map(|a| json(&serde_json::json!({ "alerts": a })))
        }
        Op::AlertRead(s) => {
            let id = Uuid::parse_str(raw_id.as_deref().unwrap_or("")).ok();
            let found = match id {
                Some(id) => {
                    in_shop(&app, s.tenant, |tx| {
                        Box::pin(async move { alerts::mark_read(tx, id).await.map_err(internal) })
                    })
                    .await?
                }
                None => false,
            };
            if found {
                Ok(no_content())
            } else {
                Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    "There is no such alert in your shop.",
                ))
            }
        }
    }
}
