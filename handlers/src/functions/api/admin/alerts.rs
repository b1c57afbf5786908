//! Platform alerts: the open alerts of every shop and of the platform (reconnect needed,
//! licence refusals, budget, the whitelist itself, webhook signature failures), plus what is
//! read live: tokens expiring, licences expiring, budgets at 80 %, dead-lettered queue
//! messages. Acknowledging one closes it.

use super::tenants::MONTH_START;
use super::{
    admin, admin_write, internal, json, no_content, not_found, shielded, signed_in, uuid_of,
};
use crate::http::ApiError;
use serde::Serialize;
use shared::admin::{audit, AdminSession};
use shared::app::App;
use shared::licence::amman_today;
use shared::tenants::TenantId;
use warp::filters::BoxedFilter;
use warp::Filter;

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct PlatformAlert {
    /// The alert's id when it is a stored alert (can be acknowledged); null when computed now.
    id: Option<uuid::Uuid>,
    kind: String,
    /// info | warning | critical
    severity: String,
    message: String,
    tenant_id: Option<TenantId>,
    ig_handle: Option<String>,
    created_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct PlatformAlerts {
    alerts: Vec<PlatformAlert>,
}

async fn alerts(app: &App) -> Result<PlatformAlerts, ApiError> {
    let c = app.db.platform().await.map_err(internal)?;
    let mut out: Vec<PlatformAlert> = c
        .query(
            "SELECT a.id, a.kind, a.severity, a.message, a.tenant_id, t.ig_handle, a.created_at
               FROM alerts a LEFT JOIN tenants t ON t.id = a.tenant_id
              WHERE a.acknowledged_at IS NULL
              ORDER BY CASE a.severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, a.created_at DESC
              LIMIT 500",
            &[],
        )
        .await
        .map_err(internal)?
        .iter()
        .map(|r| PlatformAlert {
            id: Some(r.get(0)),
            kind: r.get(1),
            severity: r.get(2),
            message: r.get(3),
            tenant_id: r.get::<_, Option<uuid::Uuid>>(4).map(TenantId::from_uuid),
            ig_handle: r.get(5),
            created_at: Some(r.get(6)),
        })
        .collect();
    // Tokens expiring within 7 days.
    for r in c
        .query(
            "SELECT t.id, t.ig_handle, m.expires_at FROM meta_tokens m JOIN tenants t ON t.id = m.tenant_id
              WHERE m.expires_at < now() + interval '7 days' AND t.status <> 'disabled' ORDER BY m.expires_at",
            &[],
        )
        .await
        .map_err(internal)?
    {
        let at: chrono::DateTime<chrono::Utc> = r.get(2);
        out.push(PlatformAlert {
            id: None,
            kind: "token_expiring".into(),
            severity: if at < chrono::Utc::now() { "critical" } else { "warning" }.into(),
            message: format!("The Instagram token expires at {}; the shop must reconnect if the refresh fails", at.to_rfc3339()),
            tenant_id: Some(TenantId::from_uuid(r.get(0))),
            ig_handle: r.get(1),
            created_at: None,
        });
    }
    // Budgets at 80 % or more.
    for r in c
        .query(
            &format!("SELECT t.id, t.ig_handle, b.monthly_usd::numeric(14,6), b.pause_at_limit,
                        (SELECT coalesce(sum(u.cost_usd), 0) FROM usage_events u WHERE u.tenant_id = t.id AND u.billed_to = 'platform' AND u.created_at >= {MONTH_START})
                       FROM tenant_budgets b JOIN tenants t ON t.id = b.tenant_id"),
            &[],
        )
        .await
        .map_err(internal)?
    {
        if let Some(b) = super::tenants::budget_of(r.get(2), r.get(3), r.get(4)) {
            if let Some((severity, what)) = match (b.state, r.get::<_, bool>(3)) {
                ("reached", true) => Some(("critical", "reached: AI replies are paused")),
                ("reached", false) => Some(("warning", "reached (AI replies go on)")),
                ("warning", _) => Some(("warning", "at 80 % or more")),
                _ => None,
            } {
                out.push(PlatformAlert {
                    id: None,
                    kind: "budget".into(),
                    severity: severity.into(),
                    message: format!("The monthly budget is {what}"),
                    tenant_id: Some(TenantId::from_uuid(r.get(0))),
                    ig_handle: r.get(1),
                    created_at: None,
                });
            }
        }
    }
    // Dead-lettered queue messages (local queue; Service Bus has its own dead-letter queue).
    let dead: i64 = c
        .query_one("SELECT count(*) FROM queue_messages WHERE dead_lettered_at IS NOT NULL AND dead_lettered_at > now() - interval '7 days'", &[])
        .await
        .map_err(internal)?
        .get(0);
    if dead > 0 {
        out.push(PlatformAlert {
            id: None,
            kind: "dead_letters".into(),
            severity: "critical".into(),
            message: format!("{dead} queue message(s) were dead-lettered in the last 7 days"),
            tenant_id: None,
            ig_handle: None,
            created_at: None,
        });
    }
    // Licences expiring within 14 days, and a whitelist that cannot be used.
    match app.licences.current().await {
        Ok(w) => {
            let today = amman_today(chrono::Utc::now());
            for (handle, expiry) in &w.entries {
                let days = expiry.days_left(today);
                if (0..=14).contains(&days) {
                    out.push(PlatformAlert {
                        id: None,
                        kind: "licence_expiring".into(),
                        severity: if days <= 1 { "critical" } else { "warning" }.into(),
                        message: format!(
                            "The licence of @{handle} ends on {expiry} ({days} day(s) left)"
                        ),
                        tenant_id: None,
                        ig_handle: Some(handle.clone()),
                        created_at: None,
                    });
                }
            }
        }
        Err(reason) => out.push(PlatformAlert {
            id: None,
            kind: "licence_whitelist".into(),
            severity: "critical".into(),
            message: format!("No shop gets AI replies: {reason}"),
            tenant_id: None,
            ig_handle: None,
            created_at: None,
        }),
    }
    Ok(PlatformAlerts { alerts: out })
}

async fn acknowledge(app: &App, s: &AdminSession, id: uuid::Uuid) -> Result<(), ApiError> {
    let mut c = app.db.platform().await.map_err(internal)?;
    let tx = c.transaction().await.map_err(internal)?;
    let row = tx
        .query_opt("UPDATE alerts SET acknowledged_at = now() WHERE id = $1 AND acknowledged_at IS NULL RETURNING tenant_id, kind", &[&id])
        .await
        .map_err(internal)?
        .ok_or_else(|| not_found("open alert"))?;
    let kind: String = row.get(1);
    audit(
        &tx,
        &s.actor(),
        row.get::<_, Option<uuid::Uuid>>(0).map(TenantId::from_uuid),
        "alert.acknowledge",
        Some(&id.to_string()),
        serde_json::json!({ "kind": kind }),
    )
    .await
    .map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    Ok(())
}

pub fn routes(app: App) -> BoxedFilter<(warp::reply::Response,)> {
    let a = app.clone();
    let list = warp::path!("api" / "admin" / "alerts")
        .and(warp::get())
        .and(shielded(admin(app.clone())))
        .then(move |s: Result<AdminSession, warp::reply::Response>| {
            let app = a.clone();
            async move {
                signed_in!(s);
                json(alerts(&app).await)
            }
        });
    let a = app.clone();
    let ack = warp::path!("api" / "admin" / "alerts" / String / "acknowledge")
        .and(warp::post())
        .and(shielded(admin_write(app)))
        .then(
            move |id: String, s: Result<AdminSession, warp::reply::Response>| {
                let app = a.clone();
                async move {
                    let s = signed_in!(s);
                    no_content(async { acknowledge(&app, &s, uuid_of(&id, "alert")?).await }.await)
                }
            },
        );
    list.or(ack).unify().boxed()
}
