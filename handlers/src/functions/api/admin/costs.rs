//! The cost tracker: cost per shop per day (rolled-up days from `usage_daily`, the rest live
//! from `usage_events`), totals per model, the price table in use, and per-shop monthly
//! budgets (warning at 80 %, optional AI pause at 100 %).

use super::tenants::{budget_of, Budget, MONTH_START};
use super::{
    admin, admin_write, internal, json, no_content, not_found, shielded, signed_in, uuid_of,
};
use crate::functions::api::shop::json_body;
use crate::http::ApiError;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use shared::admin::{audit, AdminSession};
use shared::app::App;
use shared::dashboard::RangeQuery;
use shared::tenants::TenantId;
use std::str::FromStr;
use warp::filters::BoxedFilter;
use warp::Filter;

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ShopDay {
    #[schema(value_type = String, format = Date)]
    day: chrono::NaiveDate,
    tenant_id: TenantId,
    ig_handle: Option<String>,
    #[schema(value_type = String)]
    cost_usd: Decimal,
    prompt_tokens: i64,
    cached_tokens: i64,
    completion_tokens: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ModelTotal {
    provider: String,
    model: String,
    /// platform | tenant_key
    billed_to: String,
    calls: i64,
    prompt_tokens: i64,
    cached_tokens: i64,
    completion_tokens: i64,
    #[schema(value_type = String)]
    cost_usd: Decimal,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct PriceRow {
    model: String,
    /// USD per million tokens.
    #[schema(value_type = String)]
    input: Decimal,
    #[schema(value_type = String)]
    cached_input: Decimal,
    #[schema(value_type = String)]
    output: Decimal,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Costs {
    #[schema(value_type = String, format = Date)]
    from: chrono::NaiveDate,
    #[schema(value_type = String, format = Date)]
    to: chrono::NaiveDate,
    days: Vec<ShopDay>,
    per_model: Vec<ModelTotal>,
    #[schema(value_type = String)]
    total_usd: Decimal,
    prices: Vec<PriceRow>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct BudgetInput {
    /// USD per month, e.g. "50.00".
    monthly_usd: String,
    /// Stop AI replies once the month's cost reaches the budget.
    #[serde(default)]
    pause_at_limit: bool,
}

async fn costs(app: &App, q: RangeQuery) -> Result<Costs, ApiError> {
    let c = app.db.platform().await.map_err(internal)?;
    let today = shared::dashboard::today_in_amman(&c)
        .await
        .map_err(internal)?;
    let range = q
        .resolve(today)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let rows = c
        .query(
            "WITH live AS (
                SELECT tenant_id, (created_at AT TIME ZONE 'Asia/Amman')::date AS day,
                       sum(cost_usd) AS cost, sum(prompt_tokens)::bigint AS p, sum(cached_tokens)::bigint AS ca, sum(completion_tokens)::bigint AS co
                  FROM usage_events
                 WHERE created_at >= ($1::date::timestamp AT TIME ZONE 'Asia/Amman')
                   AND created_at < (($2::date + 1)::timestamp AT TIME ZONE 'Asia/Amman')
                 GROUP BY 1, 2),
             rolled AS (SELECT tenant_id, day, cost_usd AS cost, prompt_tokens AS p, cached_tokens AS ca, completion_tokens AS co
                  FROM usage_daily WHERE day BETWEEN $1 AND $2 AND day < $3)
             SELECT coalesce(r.tenant_id, l.tenant_id), coalesce(r.day, l.day), t.ig_handle,
                    coalesce(r.cost, l.cost), coalesce(r.p, l.p), coalesce(r.ca, l.ca), coalesce(r.co, l.co)
               FROM rolled r FULL JOIN live l ON l.tenant_id = r.tenant_id AND l.day = r.day
               JOIN tenants t ON t.id = coalesce(r.tenant_id, l.tenant_id)
              WHERE coalesce(r.cost, l.cost) > 0 OR coalesce(r.p, l.p) > 0
              ORDER BY 2, 3",
            &[&range.from, &range.to, &today],
        )
        .await
        .map_err(internal)?;
    let days: Vec<ShopDay> = rows
        .iter()
        .map(|r| ShopDay {
            tenant_id: TenantId::from_uuid(r.get(0)),
            day: r.get(1),
            ig_handle: r.get(2),
            cost_usd: r.get(3),
            prompt_tokens: r.get(4),
            cached_tokens: r.get(5),
            completion_tokens: r.get(6),
        })
        .collect();
    let per_model = c
        .query(
            "SELECT provider, model, billed_to, count(*), coalesce(sum(prompt_tokens), 0)::bigint, coalesce(sum(cached_tokens), 0)::bigint,
                    coalesce(sum(completion_tokens), 0)::bigint, coalesce(sum(cost_usd), 0)
               FROM usage_events
              WHERE created_at >= ($1::date::timestamp AT TIME ZONE 'Asia/Amman')
                AND created_at < (($2::date + 1)::timestamp AT TIME ZONE 'Asia/Amman')
              GROUP BY 1, 2, 3 ORDER BY 8 DESC, 2",
            &[&range.from, &range.to],
        )
        .await
        .map_err(internal)?
        .iter()
        .map(|r| ModelTotal {
            provider: r.get(0),
            model: r.get(1),
            billed_to: r.get(2),
            calls: r.get(3),
            prompt_tokens: r.get(4),
            cached_tokens: r.get(5),
            completion_tokens: r.get(6),
            cost_usd: r.get(7),
        })
        .collect::<Vec<_>>();
    let total_usd = days.iter().map(|d| d.cost_usd).sum();
    Ok(Costs {
        from: range.from,
        to: range.to,
        days,
        per_model,
        total_usd,
        prices: app
            .settings
            .llm
            .prices
            .entries()
            .into_iter()
            .map(|(model, p)| PriceRow {
                model,
                input: p.input,
                cached_input: p.cached_input,
                output: p.output,
            })
            .collect(),
    })
}

async fn set_budget(
    app: &App,
    s: &AdminSession,
    tenant: uuid::Uuid,
    input: Option<BudgetInput>,
) -> Result<Option<Budget>, ApiError> {
    let mut c = app.db.platform().await.map_err(internal)?;
    let tx = c.transaction().await.map_err(internal)?;
    if tx
        .query_opt("SELECT 1 FROM tenants WHERE id = $1", &[&tenant])
        .await
        .map_err(internal)?
        .is_none()
    {
        return Err(not_found("shop"));
    }
    let details;
    match &input {
        Some(i) => {
            let monthly = Decimal::from_str(i.monthly_usd.trim())
                .ok()
                .filter(|d| *d > Decimal::ZERO && *d < Decimal::from(10_000_000))
                .map(|d| d.round_dp(2))
                .ok_or_else(|| ApiError::bad_request(format!("monthly_usd is a positive amount in US dollars such as \"50.00\", got {:?}", i.monthly_usd)))?;
            tx.execute(
                "INSERT INTO tenant_budgets (tenant_id, monthly_usd, pause_at_limit) VALUES ($1, $2, $3)
                 ON CONFLICT (tenant_id) DO UPDATE SET monthly_usd = EXCLUDED.monthly_usd, pause_at_limit = EXCLUDED.pause_at_limit, updated_at = now()",
                &[&tenant, &monthly, &i.pause_at_limit],
            )
            .await
            .map_err(internal)?;
            details = serde_json::json!({ "monthly_usd": monthly.to_string(), "pause_at_limit": i.pause_at_limit });
        }
        None => {
            let n = tx
                .execute(
                    "DELETE FROM tenant_budgets WHERE tenant_id = $1",
                    &[&tenant],
                )
                .await
                .map_err(internal)?;
            if n == 0 {
                return Err(not_found("budget for this shop"));
            }
            details = serde_json::json!({});
        }
    }
    audit(
        &tx,
        &s.actor(),
        Some(TenantId::from_uuid(tenant)),
        if input.is_some() {
            "budget.set"
        } else {
            "budget.remove"
        },
        Some(&tenant.to_string()),
        details,
    )
    .await
    .map_err(internal)?;
    let row = tx
        .query_one(
            &format!("SELECT b.monthly_usd::numeric(14,6), b.pause_at_limit,
                        (SELECT coalesce(sum(u.cost_usd), 0) FROM usage_events u WHERE u.tenant_id = $1 AND u.billed_to = 'platform' AND u.created_at >= {MONTH_START})
                       FROM (SELECT 1) x LEFT JOIN tenant_budgets b ON b.tenant_id = $1"),
            &[&tenant],
        )
        .await
        .map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    Ok(budget_of(row.get(0), row.get(1), row.get(2)))
}

pub fn routes(app: App) -> BoxedFilter<(warp::reply::Response,)> {
    let a = app.clone();
    let costs_route = warp::path!("api" / "admin" / "costs")
        .and(warp::get())
        .and(shielded(
            admin(app.clone())
                .and(crate::http::query::<RangeQuery>())
                .map(|s, q| (s, q)),
        ))
        .then(
            move |r: Result<(AdminSession, RangeQuery), warp::reply::Response>| {
                let app = a.clone();
                async move {
                    let (_s, q) = signed_in!(r);
                    json(costs(&app, q).await)
                }
            },
        );
    let a = app.clone();
    let put_budget = warp::path!("api" / "admin" / "tenants" / String / "budget")
        .and(warp::put())
        .and(shielded(
            admin_write(app.clone())
                .and(json_body::<BudgetInput>(4 * 1024))
                .map(|s, b| (s, b)),
        ))
        .then(
            move |id: String, r: Result<(AdminSession, BudgetInput), warp::reply::Response>| {
                let app = a.clone();
                async move {
                    let (s, input) = signed_in!(r);
                    json(
                        async { set_budget(&app, &s, uuid_of(&id, "shop")?, Some(input)).await }
                            .await,
                    )
                }
            },
        );
    let a = app.clone();
    let delete_budget = warp::path!("api" / "admin" / "tenants" / String / "budget")
        .and(warp::delete())
        .and(shielded(admin_write(app)))
        .then(
            move |id: String, s: Result<AdminSession, warp::reply::Response>| {
                let app = a.clone();
                async move {
                    let s = signed_in!(s);
                    no_content(
                        async {
                            set_budget(&app, &s, uuid_of(&id, "shop")?, None)
                                .await
                                .map(|_| ())
                        }
                        .await,
                    )
                }
            },
        );
    costs_route
        .or(put_budget)
        .unify()
        .or(delete_budget)
        .unify()
        .boxed()
}
