//! `/api/v1/profile`, `/api/v1/ai-instructions`, `/api/v1/business-rules` and
//! `/api/v1/onboarding`: how the shop describes itself and the rules the agent follows.

use super::auth::{merchant, merchant_write};
use super::shop::{in_shop, internal, invalid};
use crate::http::{answer_here, capped_body, read_json, read_json_value, read_text, ApiError};
use serde::Deserialize;
use serde_json::json;
use shared::app::App;
use shared::profile::{self, Problem};
use shared::rules::{self, BusinessRules};
use shared::sessions::MerchantSession;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::{Filter, Reply};

type Resp = warp::reply::Response;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Instructions {
    instructions: String,
}

enum Op {
    GetProfile(MerchantSession),
    PutProfile(MerchantSession, Option<String>, bytes::Bytes),
    GetInstructions(MerchantSession),
    PutInstructions(MerchantSession, bytes::Bytes),
    GetRules(MerchantSession),
    PutRules(MerchantSession, bytes::Bytes),
    Onboarding(MerchantSession),
    FinishOnboarding(MerchantSession),
}

pub fn routes(app: App) -> BoxedFilter<(Resp,)> {
    let read = || merchant(app.clone());
    let write = || merchant_write(app.clone());
    let body = || capped_body(64 * 1024);
    let end = warp::path::end;
    let profile = end()
        .and(warp::get())
        .and(read())
        .map(Op::GetProfile)
        .or(end()
            .and(warp::put())
            .and(write())
            .and(warp::header::optional::<String>("content-type"))
            .and(body())
            .map(Op::PutProfile))
        .unify();
    let instructions = end()
        .and(warp::get())
        .and(read())
        .map(Op::GetInstructions)
        .or(end()
            .and(warp::put())
            .and(write())
            .and(body())
            .map(Op::PutInstructions))
        .unify();
    let rules_f = end()
        .and(warp::get())
        .and(read())
        .map(Op::GetRules)
        .or(end()
            .and(warp::put())
            .and(write())
            .and(body())
            .map(Op::PutRules))
        .unify();
    let onboarding = end()
        .and(warp::get())
        .and(read())
        .map(Op::Onboarding)
        .or(warp::path!("finish")
            .and(warp::post())
            .and(write())
            .map(Op::FinishOnboarding))
        .unify();
    let go = move |op: Op| {
        let app = app.clone();
        async move { run(app, op).await.unwrap_or_else(|e| e.into_response()) }
    };
    let (g1, g2, g3, g4) = (go.clone(), go.clone(), go.clone(), go);
    let v1 = || warp::path("api").and(warp::path("v1"));
    v1().and(warp::path("profile"))
        .and(answer_here(profile.then(move |op| g1(op))))
        .or(v1()
            .and(warp::path("ai-instructions"))
            .and(answer_here(instructions.then(move |op| g2(op)))))
        .unify()
        .or(v1()
            .and(warp::path("business-rules"))
            .and(answer_here(rules_f.then(move |op| g3(op)))))
        .unify()
        .or(v1()
            .and(warp::path("onboarding"))
            .and(answer_here(onboarding.then(move |op| g4(op)))))
        .unify()
        .boxed()
}

async fn run(app: App, op: Op) -> Result<Resp, ApiError> {
    match op {
        Op::GetProfile(s) => {
            let t = s.tenant;
            in_shop(&app, t, |tx| {
                Box::pin(async move {
                    let saved = tx.query_opt("SELECT yaml, data, updated_at FROM profiles", &[]).await.map_err(internal)?;
                    Ok(match saved {
                        Some(r) => json!({ "yaml": r.get::<_, String>(0), "profile": r.get::<_, serde_json::Value>(1), "updated_at": r.get::<_, chrono::DateTime<chrono::Utc>>(2), "is_template": false }),
                        None => {
                            let handle = shared::tenants::load(tx, t).await.map_err(internal)?.and_then(|t| t.ig_handle);
                            let yaml = profile::template(handle.as_deref());
                            json!({ "yaml": yaml, "profile": serde_json::to_value(profile::from_yaml(&yaml).ok()).unwrap_or_default(), "is_template": true })
                        }
                    })
                })
            })
            .await
            .map(|v| warp::reply::json(&v).into_response())
        }
        Op::PutProfile(s, content_type, body) => {
            let is_yaml = content_type.as_deref().is_some_and(|c| c.contains("yaml"));
            let text = read_text(&body, "profile")?.to_owned();
            // A YAML document's cost grows with its nesting: bounded before parsing
            // (profile::from_yaml) and parsed off the async workers, so a hostile one cannot
            // hold up other requests.
            let parsed = if is_yaml {
                let yaml = text.clone();
                tokio::task::spawn_blocking(move || profile::from_yaml(&yaml)).await.map_err(internal)?
            } else {
                profile::from_json(read_json_value(text.as_bytes())?)
            };
            let p = match parsed {
                Ok(p) => p,
                Err(e) => return Ok(invalid(e.problems)),
            };
            let yaml = if is_yaml { text } else { profile::to_yaml(&p) };
            let data = serde_json::to_value(&p).expect("profile serialises");
            let t = s.tenant;
            in_shop(&app, t, |tx| {
                Box::pin(async move {
                    tx.execute(
                        "INSERT INTO profiles (tenant_id, yaml, data) VALUES ($1, $2, $3)
                         ON CONFLICT (tenant_id) DO UPDATE SET yaml = EXCLUDED.yaml, data = EXCLUDED.data, updated_at = now()",
                        &[&t.as_uuid(), &yaml, &data],
                    )
                    .await
                    .map_err(internal)?;
                    Ok(json!({ "yaml": yaml, "profile": data, "is_template": false }))
                })
            })
            .await
            .map(|v| warp::reply::json(&v).into_response())
        }
        Op::GetInstructions(s) => in_shop(&app, s.tenant, |tx| {
            Box::pin(async move {
                let r = tx.query_opt("SELECT instructions, updated_at FROM ai_settings", &[]).await.map_err(internal)?;
                Ok(json!({ "instructions": r.as_ref().map(|r| r.get::<_, String>(0)).unwrap_or_default(), "updated_at": r.map(|r| r.get::<_, chrono::DateTime<chrono::Utc>>(1)) }))
            })
        })
        .await
        .map(|v| warp::reply::json(&v).into_response()),
        Op::PutInstructions(s, body) => {
            let i: Instructions = read_json(&body)?;
            if i.instructions.chars().count() > rules::MAX_INSTRUCTIONS_CHARS {
                return Ok(invalid(vec![Problem { field: "instructions".into(), message: format!("is longer than {} characters", rules::MAX_INSTRUCTIONS_CHARS) }]));
            }
            let t = s.tenant;
            in_shop(&app, t, |tx| {
                Box::pin(async move {
                    tx.execute(
                        "INSERT INTO ai_settings (tenant_id, instructions) VALUES ($1, $2)
                         ON CONFLICT (tenant_id) DO UPDATE SET instructions = EXCLUDED.instructions, updated_at = now()",
                        &[&t.as_uuid(), &i.instructions.trim()],
                    )
                    .await
                    .map_err(internal)?;
                    Ok(json!({ "instructions": i.instructions.trim() }))
                })
            })
            .await
            .map(|v| warp::reply::json(&v).into_response())
        }
        Op::GetRules(s) => in_shop(&app, s.tenant, |tx| {
            Box::pin(async move {
                let r = tx.query_opt("SELECT rules FROM business_rules", &[]).await.map_err(internal)?;
                let rules: BusinessRules = r.and_then(|r| serde_json::from_value(r.get(0)).ok()).unwrap_or_default();
                Ok(serde_json::to_value(rules).expect("rules serialise"))
            })
        })
        .await
        .map(|v| warp::reply::json(&v).into_response()),
        Op::PutRules(s, body) => {
            let r: BusinessRules = read_json(&body)?;
            let r = match rules::validate(r) {
                Ok(r) => r,
                Err(problems) => return Ok(invalid(problems)),
            };
            let value = serde_json::to_value(&r).expect("rules serialise");
            let t = s.tenant;
            in_shop(&app, t, |tx| {
                Box::pin(async move {
                    tx.execute(
                        "INSERT INTO business_rules (tenant_id, rules) VALUES ($1, $2)
                         ON CONFLICT (tenant_id) DO UPDATE SET rules = EXCLUDED.rules, updated_at = now()",
                        &[&t.as_uuid(), &value],
                    )
                    .await
                    .map_err(internal)?;
                    Ok(value)
                })
            })
            .await
            .map(|v| warp::reply::json(&v).into_response())
        }
        Op::Onboarding(s) => onboarding(&app, s, false).await,
        Op::FinishOnboarding(s) => onboarding(&app, s, true).await,
    }
}

/// The wizard's steps, each computed from what the shop really has.
async fn onboarding(app: &App, s: MerchantSession, finish: bool) -> Result<Resp, ApiError> {
    let t = s.tenant;
    let v = in_shop(app, t, |tx| {
        Box::pin(async move {
            let r = tx
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM meta_tokens) OR EXISTS (SELECT 1 FROM tenants WHERE ig_user_id LIKE 'local:%'),
                            EXISTS (SELECT 1 FROM catalog_items),
                            EXISTS (SELECT 1 FROM kb_documents),
                            EXISTS (SELECT 1 FROM profiles),
                            (SELECT completed_at FROM onboarding_progress)",
                    &[],
                )
                .await
                .map_err(internal)?;
            let (instagram, catalog, knowledge, profile): (bool, bool, bool, bool) = (r.get(0), r.get(1), r.get(2), r.get(3));
            let mut completed: Option<chrono::DateTime<chrono::Utc>> = r.get(4);
            if finish {
                if !(instagram && catalog && profile) {
                    return Err(ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "not_ready",
                        "Connect Instagram, add at least one product and save the business profile before the AI goes live.",
                    ));
                }
                let row = tx
                    .query_one(
                        "INSERT INTO onboarding_progress (tenant_id, completed_at) VALUES ($1, now())
                         ON CONFLICT (tenant_id) DO UPDATE SET completed_at = coalesce(onboarding_progress.completed_at, now()), updated_at = now()
                         RETURNING completed_at",
                        &[&t.as_uuid()],
                    )
                    .await
                    .map_err(internal)?;
                completed = row.get(0);
            }
            Ok(json!({
                "steps": [
                    { "step": "instagram", "done": instagram },
                    { "step": "catalog", "done": catalog },
                    { "step": "knowledge_base", "done": knowledge, "optional": true },
                    { "step": "profile", "done": profile },
                ],
                "completed_at": completed,
                "live": completed.is_some(),
            }))
        })
    })
    .await?;
    // Whether the AI will really answer once live: the shop's licence.
    let mut v = v;
    let licence = shared::licence::for_shop(app, t).await.map_err(internal)?;
    v["licence"] = json!(licence);
    Ok(warp::reply::json(&v).into_response())
}
