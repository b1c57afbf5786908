//! `api` (HTTP, forwarded: `/api/v1/...`): the merchant API — sign-in state, the catalog,
//! orders and returns, the shop's setup and settings, the knowledge base, the test chat, the
//! dashboard, the inbox and alerts, the shop's data (export, deletion) and the OpenAPI
//! document (`openapi.rs` lists every endpoint). Paths not built
//! answer 501 with a message saying so.

pub(crate) mod admin;
mod auth;
mod catalog;
mod conversations;
mod dashboard;
mod knowledge;
mod me;
mod my_data;
pub mod openapi;
mod orders;
mod settings;
mod setup;
mod shop;
mod test_chat;

pub use auth::{clear_session_cookie, merchant, merchant_write, session_cookie};

use crate::http::ApiError;
use shared::app::App;
use warp::filters::BoxedFilter;
use warp::{Filter, Reply};

pub fn route(app: App) -> BoxedFilter<(warp::reply::Response,)> {
    let not_built = warp::path("api")
        .and(warp::path!("v1" / ..))
        .and(warp::path::tail())
        .map(|_tail: warp::path::Tail| {
            ApiError::not_built("This part of the merchant API (/api/v1)").into_response()
        });
    openapi::routes()
        .or(me::routes(app.clone()))
        .unify()
        .or(catalog::routes(app.clone()))
        .unify()
        .or(orders::routes(app.clone()))
        .unify()
        .or(setup::routes(app.clone()))
        .unify()
        .or(test_chat::routes(app.clone()))
        .unify()
        .or(knowledge::routes(app.clone()))
        .unify()
        .or(settings::routes(app.clone()))
        .unify()
        .or(dashboard::routes(app.clone()))
        .unify()
        .or(conversations::routes(app.clone()))
        .unify()
        .or(my_data::routes(app))
        .unify()
        .or(not_built)
        .unify()
        .boxed()
}
