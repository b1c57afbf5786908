//! `/api/v1/orders`, `/api/v1/returns` and the delivery hook settings and log.

use super::auth::{merchant, merchant_write};
use super::shop::{in_shop, internal, json_body};
use crate::http::{answer_here, ApiError};
use secrecy::SecretString;
use serde::Deserialize;
use shared::app::App;
use shared::delivery_hooks;
use shared::orders::{self, OrderError, OrderFilter, OrderStatus, ReturnStatus};
use shared::sessions::MerchantSession;
use shared::settings::Environment;
use uuid::Uuid;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::{Filter, Reply};

type Resp = warp::reply::Response;

fn order_error(e: OrderError) -> ApiError {
    match e {
        OrderError::NotFound => ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "There is no such order or return in your shop.",
        ),
        OrderError::Invalid(m) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", m),
        OrderError::Database(e) => internal(e),
    }
}

fn id_of(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| order_error(OrderError::NotFound))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewStatus {
    status: String,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ReturnFilter {
    status: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct HookInput {
    url: String,
    secret: String,
    #[serde(default = "yes")]
    enabled: bool,
}

fn yes() -> bool {
    true
}

enum Op {
    List(MerchantSession, OrderFilter),
    Export(MerchantSession, OrderFilter),
    Get(MerchantSession),
    SetStatus(MerchantSession, NewStatus),
    Returns(MerchantSession, ReturnFilter),
    GetReturn(MerchantSession),
    SetReturnStatus(MerchantSession, NewStatus),
    GetHook(MerchantSession),
    PutHook(MerchantSession, HookInput),
    HookLog(MerchantSession),
}

/// `GET …/{id}` and `POST …/{id}/status`, as orders and returns both have them.
fn one_and_its_status<R, W>(
    read: R,
    write: W,
    get: fn(MerchantSession) -> Op,
    set: fn(MerchantSession, NewStatus) -> Op,
) -> BoxedFilter<((Option<String>, Op),)>
where
    R: Filter<Extract = (MerchantSession,), Error = warp::Rejection>
        + Clone
        + Send
        + Sync
        + 'static,
    W: Filter<Extract = (MerchantSession,), Error = warp::Rejection>
        + Clone
        + Send
        + Sync
        + 'static,
{
    let one = warp::path::param::<String>()
        .and(warp::path::end())
        .and(warp::get())
        .and(read)
        .map(move |id, s| (Some(id), get(s)));
    let status = warp::path::param::<String>()
        .and(warp::path!("status"))
        .and(warp::post())
        .and(write)
        .and(json_body::<NewStatus>(4096))
        .map(move |id, s, c| (Some(id), set(s, c)));
    one.or(status).unify().boxed()
}

pub fn routes(app: App) -> BoxedFilter<(Resp,)> {
    let read = || merchant(app.clone());
    let write = || merchant_write(app.clone());
    let end = warp::path::end;
    let orders = end()
        .and(warp::get())
        .and(read())
        .and(crate::http::query::<OrderFilter>())
        .map(|s, f| (None, Op::List(s, f)))
        .or(warp::path!("export.csv")
            .and(warp::get())
            .and(read())
            .and(crate::http::query::<OrderFilter>())
            .map(|s, f| (None, Op::Export(s, f))))
        .unify()
        .or(one_and_its_status(read(), write(), Op::Get, Op::SetStatus))
        .unify();
    let returns = end()
        .and(warp::get())
        .and(read())
        .and(crate::http::query::<ReturnFilter>())
        .map(|s, f| (None, Op::Returns(s, f)))
        .or(one_and_its_status(
            read(),
            write(),
            Op::GetReturn,
            Op::SetReturnStatus,
        ))
        .unify();
    let hook = end()
        .and(warp::get())
        .and(read())
        .map(|s| (None, Op::GetHook(s)))
        .or(end()
            .and(warp::put())
            .and(write())
            .and(json_body::<HookInput>(4096))
            .map(|s, h| (None, Op::PutHook(s, h))))
        .unify()
        .or(warp::path!("log")
            .and(warp::get())
            .and(read())
            .map(|s| (None, Op::HookLog(s))))
        .unify();

    let run_op = move |id: Option<String>, op: Op| {
        let app = app.clone();
        async move { run(app, id, op).await.unwrap_or_else(|e| e.into_response()) }
    };
    let (r1, r2, r3) = (run_op.clone(), run_op.clone(), run_op);
    let v1 = || warp::path("api").and(warp::path("v1"));
    v1().and(warp::path("orders"))
        .and(answer_here(
            orders.untuple_one().then(move |id, op| r1(id, op)),
        ))
        .or(v1().and(warp::path("returns")).and(answer_here(
            returns.untuple_one().then(move |id, op| r2(id, op)),
        )))
        .unify()
        .or(v1().and(warp::path("delivery-hook")).and(answer_here(
            hook.untuple_one().then(move |id, op| r3(id, op)),
        )))
        .unify()
        .boxed()
}

fn json<T: serde::Serialize>(v: &T) -> Resp {
    warp::reply::json(v).into_response()
}

async fn run(app: App, id: Option<String>, op: Op) -> Result<Resp, ApiError> {
    let id = || id_of(id.as_deref().unwrap_or(""));
    match op {
        Op::List(s, f) => in_shop(&app, s.tenant, |tx| {
            Box::pin(async move {
                crate::http::check_per_page(f.per_page, orders::MAX_PER_PAGE)?;
                orders::list(tx, &f).await.map_err(order_error)
            })
        })
        .await
        .map(|p| json(&p)),
        Op::Get(s) => {
            let id = id()?;
            in_shop(&app, s.tenant, |tx| {
                Box::pin(async move { orders::detail(tx, id).await.map_err(order_error) })
            })
            .await
            .map(|d| json(&d))
        }
        Op::SetStatus(s, change) => {
            let id = id()?;
            let to = OrderStatus::parse(&change.status)
                .ok_or_else(|| ApiError::invalid("status", format!("{:?} is not an order status; use confirmed, shipped, delivered, cancelled or returned", change.status)))?;
            let t = s.tenant;
            in_shop(&app, t, |tx| {
                Box::pin(async move {
                    orders::change_status(tx, t, id, to, "merchant")
                        .await
                        .map_err(order_error)
                })
            })
            .await
            .map(|d| json(&d))
        }
        Op::Export(s, f) => {
            // Validate the filter before the download starts.
            in_shop(&app, s.tenant, |tx| {
                let f = f.clone();
                Box::pin(async move {
                    orders::list(
                        tx,
                        &OrderFilter {
                            per_page: Some(1),
                            ..f
                        },
                    )
                    .await
                    .map_err(order_error)
                })
            })
            .await?;
            let (tx, rx) = tokio::sync::mpsc::channel(8);
            let db = app.db.clone();
            tokio::spawn(async move {
                if let Err(e) = orders::export(&db, s.tenant, &f, tx).await {
                    tracing::error!(error = %e, "orders export failed part-way");
                }
            });
            let body = warp::reply::stream(tokio_stream::wrappers::ReceiverStream::new(rx));
            let body = warp::reply::with_header(body, "content-type", "text/csv; charset=utf-8");
            Ok(warp::reply::with_header(
                body,
                "content-disposition",
                "attachment; filename=\"orders.csv\"",
            )
            .into_response())
        }
        Op::Returns(s, f) => in_shop(&app, s.tenant, |tx| {
            Box::pin(async move {
                orders::list_returns(tx, f.status.as_deref())
                    .await
                    .map_err(order_error)
            })
        })
        .await
        .map(|r| json(&r)),
        Op::GetReturn(s) => {
            let id = id()?;
            in_shop(&app, s.tenant, |tx| {
                Box::pin(async move { orders::get_return(tx, id).await.map_err(order_error) })
            })
            .await
            .map(|r| json(&r))
        }
        Op::SetReturnStatus(s, change) => {
            let id = id()?;
            let to = ReturnStatus::parse(&change.status).ok_or_else(|| {
                ApiError::invalid(
                    "status",
                    format!(
                        "{:?} is not a return status; use approved, rejected, received or refunded",
                        change.status
                    ),
                )
            })?;
            in_shop(&app, s.tenant, |tx| {
                Box::pin(async move {
                    orders::change_return_status(tx, id, to, change.note.as_deref())
                        .await
                        .map_err(order_error)
                })
            })
            .await
            .map(|r| json(&r))
        }
        Op::GetHook(s) => in_shop(&app, s.tenant, |tx| {
            Box::pin(async move { delivery_hooks::get_config(tx).await.map_err(internal) })
        })
        .await
        .map(|h| json(&serde_json::json!({ "hook": h }))),
        Op::PutHook(s, input) => {
            let t = s.tenant;
            let keys = app.keys.clone();
            let allow_http = app.settings.environment == Environment::Local;
            in_shop(&app, t, |tx| {
                Box::pin(async move {
                    delivery_hooks::set_config(
                        tx,
                        &keys,
                        t,
                        &input.url,
                        &SecretString::from(input.secret),
                        input.enabled,
                        allow_http,
                        false,
                    )
                    .await
                    .map_err(|m| {
                        let field = if m.contains("secret") {
                            "secret"
                        } else {
                            "url"
                        };
                        ApiError::invalid(field, m)
                    })?;
                    delivery_hooks::get_config(tx).await.map_err(internal)
                })
            })
            .await
            .map(|h| json(&serde_json::json!({ "hook": h })))
        }
        Op::HookLog(s) => in_shop(&app, s.tenant, |tx| {
            Box::pin(async move { delivery_hooks::log(tx, 200).await.map_err(internal) })
        })
        .await
        .map(|l| json(&l)),
    }
}
