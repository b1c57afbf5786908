//! `/api/v1/settings/model` and `/api/v1/settings/model/test`: the shop's own LLM key, base
//! URL and model (the key sealed, never shown again), and a "test connection" that sends one
//! tiny chat through the model the shop's turns would use.

use super::auth::{merchant, merchant_write};
use super::shop::{in_shop, internal, invalid, json_body};
use crate::http::{answer_here, capped_body, ApiError};
use shared::app::App;
use shared::model_settings::{self, ModelSettingsChange};
use shared::sessions::MerchantSession;
use shared::settings::Environment;
use warp::filters::BoxedFilter;
use warp::{Filter, Reply};

type Resp = warp::reply::Response;

const BODY_LIMIT: usize = 4 * 1024;

enum Op {
    Get(MerchantSession),
    Put(MerchantSession, ModelSettingsChange),
    Test(MerchantSession, bytes::Bytes),
}

pub fn routes(app: App) -> BoxedFilter<(Resp,)> {
    let end = warp::path::end;
    let model = end()
        .and(warp::get())
        .and(merchant(app.clone()))
        .map(Op::Get)
        .or(end()
            .and(warp::put())
            .and(merchant_write(app.clone()))
            .and(json_body::<ModelSettingsChange>(BODY_LIMIT))
            .map(Op::Put))
        .unify()
        .or(warp::path!("test")
            .and(warp::post())
            .and(merchant_write(app.clone()))
            .and(capped_body(BODY_LIMIT))
            .map(Op::Test))
        .unify();
    warp::path!("api" / "v1" / "settings" / "model" / ..)
        .and(answer_here(model.then(move |op| {
            let app = app.clone();
            async move { run(app, op).await.unwrap_or_else(|e| e.into_response()) }
        })))
        .boxed()
}

fn allow_private(app: &App) -> bool {
    app.settings.environment == Environment::Local
}

async fn run(app: App, op: Op) -> Result<Resp, ApiError> {
    let keys = app.keys.clone();
    match op {
        Op::Get(s) => in_shop(&app, s.tenant, |tx| {
            Box::pin(async move { model_settings::view(tx, &keys).await.map_err(internal) })
        })
        .await
        .map(|v| warp::reply::json(&v).into_response()),
        Op::Put(s, change) => {
            let change = match model_settings::check(change, allow_private(&app)) {
                Ok(c) => c,
                Err(problems) => return Ok(invalid(problems)),
            };
            let t = s.tenant;
            in_shop(&app, t, |tx| {
                Box::pin(async move {
                    model_settings::save(tx, &keys, t, &change)
                        .await
                        .map_err(internal)?;
                    model_settings::view(tx, &keys).await.map_err(internal)
                })
            })
            .await
            .map(|v| warp::reply::json(&v).into_response())
        }
        Op::Test(s, body) => {
            // An optional, not-yet-saved change to try before saving it.
            let draft = if body.iter().all(u8::is_ascii_whitespace) {
                None
            } else {
                let change: ModelSettingsChange = crate::http::read_json(&body)?;
                match model_settings::check(change, allow_private(&app)) {
                    Ok(c) => Some(c),
                    Err(problems) => return Ok(invalid(problems)),
                }
            };
            let saved = in_shop(&app, s.tenant, |tx| {
                Box::pin(async move { Ok(model_settings::load_own_model(tx, &keys).await) })
            })
            .await?;
            let saved = match saved {
                Ok(own) => own,
                // A key sealed under a retired key: only a new key helps, and a draft may
                // bring one.
                Err(model_settings::ModelSettingsError::Key(_))
                    if draft.as_ref().is_some_and(|d| d.replaces_api_key()) =>
                {
                    None
                }
                Err(model_settings::ModelSettingsError::Key(_)) => {
                    return Ok(warp::reply::json(&model_settings::ConnectionTest::failed(
                        Some("own"),
                        "The saved API key can no longer be read; enter it again.".into(),
                    ))
                    .into_response())
                }
                Err(e) => return Err(internal(e)),
            };
            let own = match &draft {
                Some(change) => model_settings::with_change(saved, change),
                None => saved,
            };
            let outcome = model_settings::test_connection(
                app.llm.as_ref(),
                &app.settings.llm,
                own.as_ref(),
                shared::agent::model_reach(&app),
            )
            .await;
            Ok(warp::reply::json(&outcome).into_response())
        }
    }
}
