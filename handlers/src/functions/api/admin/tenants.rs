//! Tenants in the console: a tile per shop (traffic, AI, orders, cost, problems, connection,
//! licence, budget), disable / enable, and the read-only conversation viewer (each view
//! audited).

use super::{admin, admin_write, internal, json, not_found, shielded, signed_in, uuid_of};
use crate::http::ApiError;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use shared::admin::{audit, AdminSession};
use shared::app::App;
use shared::licence::book::{LicenceBook, LicenceStatus};
use shared::tenants::TenantId;
use warp::filters::BoxedFilter;
use warp::Filter;

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Budget {
    #[schema(value_type = String, example = "50.00")]
    monthly_usd: Decimal,
    pause_at_limit: bool,
    /// Platform-billed model cost this month (Asia/Amman month).
    #[schema(value_type = String)]
    spent_usd: Decimal,
    percent: i64,
    /// ok | warning (≥ 80 %) | reached (≥ 100 %)
    pub(crate) state: &'static str,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct TenantTile {
    id: TenantId,
    ig_handle: Option<String>,
    display_name: Option<String>,
    /// active | reconnect_needed | disabled
    status: String,
    created_at: chrono::DateTime<chrono::Utc>,
    messages_24h: i64,
    messages_30d: i64,
    ai_replies_30d: i64,
    handoffs_30d: i64,
    orders_30d: i64,
    /// Model cost this month (USD, every billing).
    #[schema(value_type = String, example = "1.234567")]
    cost_month_usd: Decimal,
    /// Failed turns and failed sends, last 30 days.
    errors_30d: i64,
    last_webhook_at: Option<chrono::DateTime<chrono::Utc>>,
    token_expires_at: Option<chrono::DateTime<chrono::Utc>>,
    licence: LicenceStatus,
    budget: Option<Budget>,
    /// A count of what needs attention, for sorting by problems.
    problems: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct TenantTiles {
    tenants: Vec<TenantTile>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct TileQuery {
    /// cost | problems | name (default)
    sort: Option<String>,
}

pub(crate) fn budget_of(
    monthly: Option<Decimal>,
    pause: Option<bool>,
    spent: Decimal,
) -> Option<Budget> {
    let monthly = monthly?;
    let percent = if monthly > Decimal::ZERO {
        (spent * Decimal::from(100) / monthly)
            .trunc()
            .try_into()
            .unwrap_or(i64::MAX)
    } else {
        0
    };
    Some(Budget {
        monthly_usd: monthly,
        pause_at_limit: pause.unwrap_or(false),
        spent_usd: spent,
        percent,
        state: if percent >= 100 {
            "reached"
        } else if percent >= 80 {
            "warning"
        } else {
            "ok"
        },
    })
}

/// Start of this month in Amman, as SQL.
pub(crate) const MONTH_START: &str =
    "(date_trunc('month', now() AT TIME ZONE 'Asia/Amman') AT TIME ZONE 'Asia/Amman')";

pub(crate) async fn tiles(
    app: &App,
    only: Option<uuid::Uuid>,
) -> Result<Vec<TenantTile>, ApiError> {
    let whitelist = app.licences.current().await;
    let now = chrono::Utc::now();
    let c = app.db.platform().await.map_err(internal)?;
    let sql = format!(
        "SELECT t.id, t.ig_handle, t.display_name, t.status, t.created_at,
           (SELECT count(*) FROM messages m WHERE m.tenant_id = t.id AND m.direction = 'inbound' AND m.created_at > now() - interval '24 hours'),
           (SELECT count(*) FROM messages m WHERE m.tenant_id = t.id AND m.direction = 'inbound' AND m.created_at > now() - interval '30 days'),
           (SELECT count(*) FROM agent_turns a WHERE a.tenant_id = t.id AND a.status = 'replied' AND a.started_at > now() - interval '30 days'),
           (SELECT count(*) FROM agent_turns a WHERE a.tenant_id = t.id AND a.status = 'handed_off' AND a.started_at > now() - interval '30 days'),
           (SELECT count(*) FROM orders o WHERE o.tenant_id = t.id AND o.source <> 'playground' AND o.created_at > now() - interval '30 days'),
           (SELECT coalesce(sum(u.cost_usd), 0) FROM usage_events u WHERE u.tenant_id = t.id AND u.created_at >= {MONTH_START}),
           (SELECT count(*) FROM agent_turns a WHERE a.tenant_id = t.id AND a.status = 'failed' AND a.started_at > now() - interval '30 days')
             + (SELECT count(*) FROM outbound_messages o WHERE o.tenant_id = t.id AND o.status = 'failed' AND o.created_at > now() - interval '30 days'),
           greatest((SELECT max(m.created_at) FROM messages m JOIN conversations cv ON cv.id = m.conversation_id
                      WHERE m.tenant_id = t.id AND m.direction = 'inbound' AND cv.kind = 'instagram'),
                    (SELECT max(e.received_at) FROM inbound_events e WHERE e.tenant_id = t.id)),
           mt.expires_at, b.monthly_usd::numeric(14,6), b.pause_at_limit,
           (SELECT coalesce(sum(u.cost_usd), 0) FROM usage_events u WHERE u.tenant_id = t.id AND u.billed_to = 'platform' AND u.created_at >= {MONTH_START})
         FROM tenants t
         LEFT JOIN meta_tokens mt ON mt.tenant_id = t.id
         LEFT JOIN tenant_budgets b ON b.tenant_id = t.id
         WHERE $1::uuid IS NULL OR t.id = $1
         ORDER BY coalesce(t.ig_handle, t.display_name, t.id::text)"
    );
    let rows = c.query(&sql, &[&only]).await.map_err(internal)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let status: String = r.get(3);
            let handle: Option<String> = r.get(1);
            let licence = if status == "disabled" {
                LicenceStatus::disabled()
            } else {
                match &whitelist {
                    Ok(w) => LicenceBook::status_in(w, handle.as_deref(), now),
                    Err(reason) => LicenceStatus {
                        state: "unavailable",
                        expires_on: None,
                        days_left: None,
                        message: reason.clone(),
                    },
                }
            };
            let token_expires_at: Option<chrono::DateTime<chrono::Utc>> = r.get(13);
            let errors: i64 = r.get(11);
            let budget = budget_of(r.get(14), r.get(15), r.get(16));
            let problems = errors
                + i64::from(status == "reconnect_needed") * 10
                + i64::from(!licence.allows_ai() && status != "disabled") * 10
                + i64::from(token_expires_at.is_some_and(|t| t < now + chrono::Duration::days(7)))
                    * 5
                + i64::from(budget.as_ref().is_some_and(|b| b.state != "ok")) * 5;
            TenantTile {
                id: TenantId::from_uuid(r.get(0)),
                ig_handle: handle,
                display_name: r.get(2),
                status,
                created_at: r.get(4),
                messages_24h: r.get(5),
                messages_30d: r.get(6),
                ai_replies_30d: r.get(7),
                handoffs_30d: r.get(8),
                orders_30d: r.get(9),
                cost_month_usd: r.get(10),
                errors_30d: errors,
                last_webhook_at: r.get(12),
                token_expires_at,
                licence,
                budget,
                problems,
            }
        })
        .collect())
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ConversationRow {
    id: uuid::Uuid,
    /// instagram | playground
    kind: String,
    customer_username: Option<String>,
    customer_name: Option<String>,
    /// ai | human
    mode: String,
    last_message_at: Option<chrono::DateTime<chrono::Utc>>,
    messages: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ConversationList {
    conversations: Vec<ConversationRow>,
    page: i64,
    per_page: i64,
    total: i64,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PageQuery {
    /// From 1.
    page: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ViewedMessage {
    id: uuid::Uuid,
    /// inbound | outbound
    direction: String,
    /// customer | ai | merchant | merchant_app | system
    author: String,
    /// null once purged (GDPR, after 30 days) or for attachments only.
    text: Option<String>,
    text_purged: bool,
    sent_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ConversationView {
    conversation: ConversationRow,
    messages: Vec<ViewedMessage>,
}

const PER_PAGE: i64 = 50;

async fn set_status(
    app: &App,
    s: &AdminSession,
    id: uuid::Uuid,
    enable: bool,
) -> Result<TenantTile, ApiError> {
    let mut c = app.db.platform().await.map_err(internal)?;
    let tx = c.transaction().await.map_err(internal)?;
    let n = tx
        .execute(
            if enable {
                "UPDATE tenants SET status = 'active', updated_at = now() WHERE id = $1 AND status = 'disabled'"
            } else {
                "UPDATE tenants SET status = 'disabled', updated_at = now() WHERE id = $1"
            },
            &[&id],
        )
        .await
        .map_err(internal)?;
    let exists = tx
        .query_opt("SELECT 1 FROM tenants WHERE id = $1", &[&id])
        .await
        .map_err(internal)?;
    if exists.is_none() {
        return Err(not_found("shop"));
    }
    audit(
        &tx,
        &s.actor(),
        Some(TenantId::from_uuid(id)),
        if enable {
            "tenant.enable"
        } else {
            "tenant.disable"
        },
        Some(&id.to_string()),
        serde_json::json!({ "changed": n == 1 }),
    )
    .await
    .map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    tiles(app, Some(id))
        .await?
        .pop()
        .ok_or_else(|| not_found("shop"))
}

fn conversation_row(r: &deadpool_postgres::tokio_postgres::Row) -> ConversationRow {
    ConversationRow {
        id: r.get(0),
        kind: r.get(1),
        customer_username: r.get(2),
        customer_name: r.get(3),
        mode: r.get(4),
        last_message_at: r.get(5),
        messages: r.get(6),
    }
}

const CONVERSATION_COLUMNS: &str =
    "c.id, c.kind, c.customer_username, c.customer_name, c.mode, c.last_message_at,
    (SELECT count(*) FROM messages m WHERE m.tenant_id = c.tenant_id AND m.conversation_id = c.id)";

async fn conversations(
    app: &App,
    tenant: uuid::Uuid,
    page: i64,
) -> Result<ConversationList, ApiError> {
    let page = page.max(1);
    let c = app.db.platform().await.map_err(internal)?;
    if c.query_opt("SELECT 1 FROM tenants WHERE id = $1", &[&tenant])
        .await
        .map_err(internal)?
        .is_none()
    {
        return Err(not_found("shop"));
    }
    let total: i64 = c
        .query_one(
            "SELECT count(*) FROM conversations WHERE tenant_id = $1",
            &[&tenant],
        )
        .await
        .map_err(internal)?
        .get(0);
    let rows = c
        .query(
            &format!(
                "SELECT {CONVERSATION_COLUMNS} FROM conversations c WHERE c.tenant_id = $1
                      ORDER BY c.last_message_at DESC NULLS LAST, c.id LIMIT $2 OFFSET $3"
            ),
            &[&tenant, &PER_PAGE, &(page - 1).saturating_mul(PER_PAGE)],
        )
        .await
        .map_err(internal)?;
    Ok(ConversationList {
        conversations: rows.iter().map(conversation_row).collect(),
        page,
        per_page: PER_PAGE,
        total,
    })
}

async fn conversation(
    app: &App,
    s: &AdminSession,
    tenant: uuid::Uuid,
    id: uuid::Uuid,
) -> Result<ConversationView, ApiError> {
    let mut c = app.db.platform().await.map_err(internal)?;
    let tx = c.transaction().await.map_err(internal)?;
    let row = tx
        .query_opt(
            &format!("SELECT {CONVERSATION_COLUMNS} FROM conversations c WHERE c.tenant_id = $1 AND c.id = $2"),
            &[&tenant, &id],
        )
        .await
        .map_err(internal)?
        .ok_or_else(|| not_found("conversation in this shop"))?;
    let messages = tx
        .query(
            "SELECT id, direction, author, text, text_purged_at IS NOT NULL, sent_at FROM messages
              WHERE tenant_id = $1 AND conversation_id = $2 ORDER BY sent_at, created_at LIMIT 1000",
            &[&tenant, &id],
        )
        .await
        .map_err(internal)?
        .into_iter()
        .map(|r| ViewedMessage { id: r.get(0), direction: r.get(1), author: r.get(2), text: r.get(3), text_purged: r.get(4), sent_at: r.get(5) })
        .collect();
    // The view is recorded before it is shown.
    audit(
        &tx,
        &s.actor(),
        Some(TenantId::from_uuid(tenant)),
        "conversation.view",
        Some(&id.to_string()),
        serde_json::json!({}),
    )
    .await
    .map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    Ok(ConversationView {
        conversation: conversation_row(&row),
        messages,
    })
}

pub fn routes(app: App) -> BoxedFilter<(warp::reply::Response,)> {
    let a = app.clone();
    let list = warp::path!("api" / "admin" / "tenants")
        .and(warp::get())
        .and(shielded(
            admin(app.clone())
                .and(crate::http::query::<TileQuery>())
                .map(|s, q| (s, q)),
        ))
        .then(
            move |r: Result<(AdminSession, TileQuery), warp::reply::Response>| {
                let app = a.clone();
                async move {
                    let (_s, q) = signed_in!(r);
                    json(
                        async {
                            let mut t = tiles(&app, None).await?;
                            match q.sort.as_deref() {
                                None | Some("name") => {}
                                Some("cost") => {
                                    t.sort_by(|a, b| b.cost_month_usd.cmp(&a.cost_month_usd))
                                }
                                Some("problems") => t.sort_by(|a, b| b.problems.cmp(&a.problems)),
                                Some(other) => {
                                    return Err(ApiError::bad_request(format!(
                                        "sort is cost, problems or name, got {other:?}"
                                    )))
                                }
                            }
                            Ok(TenantTiles { tenants: t })
                        }
                        .await,
                    )
                }
            },
        );
    let a = app.clone();
    let status = warp::path!("api" / "admin" / "tenants" / String / String)
        .and(warp::post())
        .and(shielded(admin_write(app.clone())))
        .then(
            move |id: String, action: String, s: Result<AdminSession, warp::reply::Response>| {
                let app = a.clone();
                async move {
                    let s = signed_in!(s);
                    json(
                        async {
                            let id = uuid_of(&id, "shop")?;
                            match action.as_str() {
                                "disable" => set_status(&app, &s, id, false).await,
                                "enable" => set_status(&app, &s, id, true).await,
                                _ => Err(not_found("action (disable or enable)")),
                            }
                        }
                        .await,
                    )
                }
            },
        );
    let a = app.clone();
    let list_conversations = warp::path!("api" / "admin" / "tenants" / String / "conversations")
        .and(warp::get())
        .and(shielded(
            admin(app.clone())
                .and(crate::http::query::<PageQuery>())
                .map(|s, q| (s, q)),
        ))
        .then(
            move |id: String, r: Result<(AdminSession, PageQuery), warp::reply::Response>| {
                let app = a.clone();
                async move {
                    let (_s, q) = signed_in!(r);
                    json(
                        async {
                            conversations(&app, uuid_of(&id, "shop")?, q.page.unwrap_or(1)).await
                        }
                        .await,
                    )
                }
            },
        );
    let a = app.clone();
    let view = warp::path!("api" / "admin" / "tenants" / String / "conversations" / String)
        .and(warp::get())
        .and(shielded(admin(app)))
        .then(
            move |tenant: String, id: String, s: Result<AdminSession, warp::reply::Response>| {
                let app = a.clone();
                async move {
                    let s = signed_in!(s);
                    json(
                        async {
                            conversation(
                                &app,
                                &s,
                                uuid_of(&tenant, "shop")?,
                                uuid_of(&id, "conversation")?,
                            )
                            .await
                        }
                        .await,
                    )
                }
            },
        );
    list.or(status)
        .unify()
        .or(list_conversations)
        .unify()
        .or(view)
        .unify()
        .boxed()
}
