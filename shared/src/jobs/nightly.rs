//! The nightly job's own parts: the GDPR purge of message text, the usage roll-up into
//! `usage_daily`, licence-expiry and budget warnings. Each is idempotent: a second run finds
//! nothing left to purge and writes the same totals again. They run as the platform role
//! (every shop), under one advisory lock so two runs never overlap.

use crate::app::App;
use crate::db::DbError;
use crate::tenants::TenantId;
use chrono::{DateTime, Utc};

/// Cluster-wide key of the nightly job's advisory lock.
pub const NIGHTLY_LOCK_KEY: i64 = 0x1654_0020;
/// Message text is kept this long.
pub const RETENTION_DAYS: i64 = 30;
/// Rows per purge transaction: short transactions, no long locks, bounded memory.
pub const PURGE_BATCH: i64 = 5_000;
/// Days recomputed by the roll-up (late usage and a missed night are covered).
pub const ROLLUP_DAYS: i64 = 35;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PurgeReport {
    pub messages: u64,
    pub turns: u64,
    pub sends: u64,
    pub batches: u64,
}

/// Removes the text of every message sent before `cutoff` — and the same words where they
/// are copied (the turn's recorded reply, the payload of a finished send) — in batches of
/// `batch` rows, each its own transaction. Orders, totals and conversation metadata stay;
/// the message rows stay too (direction, author, time), so counts do not change.
pub async fn purge_message_text(
    app: &App,
    cutoff: DateTime<Utc>,
    batch: i64,
) -> Result<PurgeReport, DbError> {
    let mut report = PurgeReport::default();
    let c = app.db.platform().await?;
    let statements = [
        "WITH doomed AS (
            SELECT id FROM messages WHERE text_purged_at IS NULL AND sent_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)
         UPDATE messages m SET text = NULL, attachments = '[]'::jsonb, reply_to = NULL, text_purged_at = now()
           FROM doomed WHERE m.id = doomed.id",
        "WITH doomed AS (
            SELECT id FROM agent_turns WHERE reply_text IS NOT NULL AND status <> 'running' AND started_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)
         UPDATE agent_turns t SET reply_text = NULL FROM doomed WHERE t.id = doomed.id",
        "WITH doomed AS (
            SELECT id FROM outbound_messages WHERE status <> 'pending' AND created_at < $1 AND payload <> '{}'::jsonb LIMIT $2 FOR UPDATE SKIP LOCKED)
         UPDATE outbound_messages o SET payload = '{}'::jsonb FROM doomed WHERE o.id = doomed.id",
    ];
    for (i, sql) in statements.iter().enumerate() {
        let stmt = c.prepare(sql).await?;
        loop {
            let n = c.execute(&stmt, &[&cutoff, &batch]).await?;
            if n == 0 {
                break;
            }
            report.batches += 1;
            match i {
                0 => report.messages += n,
                1 => report.turns += n,
                _ => report.sends += n,
            }
            if (n as i64) < batch {
                break;
            }
        }
    }
    Ok(report)
}

/// Recomputes `usage_daily` for the last [`ROLLUP_DAYS`] Asia/Amman days from the source
/// rows: messages in, AI replies, handoffs, orders (not the playground), tokens and cost.
/// Writing the same totals twice changes nothing.
pub async fn roll_up_usage(app: &App) -> Result<u64, DbError> {
    let c = app.db.platform().await?;
    let n = c
        .execute(
            "WITH days AS (
                SELECT ((now() AT TIME ZONE 'Asia/Amman')::date - $1::int) AS first),
             bounds AS (SELECT first, (first::timestamp AT TIME ZONE 'Asia/Amman') AS since FROM days),
             m AS (SELECT tenant_id, (sent_at AT TIME ZONE 'Asia/Amman')::date AS day, count(*) AS n
                     FROM messages, bounds WHERE direction = 'inbound' AND sent_at >= bounds.since GROUP BY 1, 2),
             r AS (SELECT tenant_id, (started_at AT TIME ZONE 'Asia/Amman')::date AS day,
                          count(*) FILTER (WHERE status = 'replied') AS replies,
                          count(*) FILTER (WHERE status = 'handed_off') AS handoffs
                     FROM agent_turns, bounds WHERE started_at >= bounds.since GROUP BY 1, 2),
             o AS (SELECT tenant_id, (created_at AT TIME ZONE 'Asia/Amman')::date AS day, count(*) AS n
                     FROM orders, bounds WHERE NOT is_test AND created_at >= bounds.since GROUP BY 1, 2),
             u AS (SELECT tenant_id, (created_at AT TIME ZONE 'Asia/Amman')::date AS day,
                          sum(prompt_tokens) AS p, sum(cached_tokens) AS ca, sum(completion_tokens) AS co, sum(cost_usd) AS cost
                     FROM usage_events, bounds WHERE created_at >= bounds.since GROUP BY 1, 2),
             keys AS (SELECT tenant_id, day FROM m UNION SELECT tenant_id, day FROM r
                      UNION SELECT tenant_id, day FROM o UNION SELECT tenant_id, day FROM u)
             INSERT INTO usage_daily (tenant_id, day, messages_in, ai_replies, handoffs, orders,
                                      prompt_tokens, cached_tokens, completion_tokens, cost_usd, rolled_up_at)
             SELECT k.tenant_id, k.day, coalesce(m.n, 0), coalesce(r.replies, 0), coalesce(r.handoffs, 0), coalesce(o.n, 0),
                    coalesce(u.p, 0), coalesce(u.ca, 0), coalesce(u.co, 0), coalesce(u.cost, 0), now()
               FROM keys k
               LEFT JOIN m ON m.tenant_id = k.tenant_id AND m.day = k.day
               LEFT JOIN r ON r.tenant_id = k.tenant_id AND r.day = k.day
               LEFT JOIN o ON o.tenant_id = k.tenant_id AND o.day = k.day
               LEFT JOIN u ON u.tenant_id = k.tenant_id AND u.day = k.day
             ON CONFLICT (tenant_id, day) DO UPDATE SET
                 messages_in = EXCLUDED.messages_in, ai_replies = EXCLUDED.ai_replies, handoffs = EXCLUDED.handoffs,
                 orders = EXCLUDED.orders, prompt_tokens = EXCLUDED.prompt_tokens, cached_tokens = EXCLUDED.cached_tokens,
                 completion_tokens = EXCLUDED.completion_tokens, cost_usd = EXCLUDED.cost_usd, rolled_up_at = now()",
            &[&(ROLLUP_DAYS as i32)],
        )
        .await?;
    Ok(n)
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WarningReport {
    pub licence: u64,
    pub budget: u64,
}

/// Merchant alerts 14 days and 1 day before a licence's last day, and when a shop's month
/// reaches 80 % of its budget. Dedupe keys name the expiry (or the month), so a second run
/// raises nothing new, and an extended licence warns again before its new date.
pub async fn raise_warnings(app: &App) -> Result<WarningReport, DbError> {
    let mut report = WarningReport::default();
    let c = app.db.platform().await?;
    if let Ok(w) = app.licences.current().await {
        let today = crate::licence::amman_today(Utc::now());
        let shops = c
            .query(
                "SELECT id, ig_handle FROM tenants WHERE ig_handle IS NOT NULL AND status <> 'disabled'",
                &[],
            )
            .await?;
        for r in shops {
            let handle: String = r.get(1);
            let Some(expiry) = w.entries.get(&handle) else {
                continue;
            };
            let days = expiry.days_left(today);
            let (key, severity, when) = match days {
                0..=1 => (
                    "1d",
                    crate::alerts::Severity::Critical,
                    if days == 0 { "today" } else { "tomorrow" },
                ),
                2..=14 => (
                    "14d",
                    crate::alerts::Severity::Warning,
                    "in two weeks or less",
                ),
                _ => continue,
            };
            let dedupe = format!("licence_expiry_{key}_{expiry}");
            let raised = c
                .execute(
                    "INSERT INTO alerts (tenant_id, kind, severity, message, dedupe_key) VALUES ($1, 'licence_expiring', $2, $3, $4)
                     ON CONFLICT DO NOTHING",
                    &[
                        &r.get::<_, uuid::Uuid>(0),
                        &match severity {
                            crate::alerts::Severity::Critical => "critical",
                            _ => "warning",
                        },
                        &format!("Your licence for AI replies ends {when} (last day {expiry}, Amman time). Contact us to extend it."),
                        &dedupe,
                    ],
                )
                .await?;
            report.licence += raised;
        }
    }
    let month = "(date_trunc('month', now() AT TIME ZONE 'Asia/Amman') AT TIME ZONE 'Asia/Amman')";
    let rows = c
        .query(
            &format!(
                "SELECT b.tenant_id, b.monthly_usd::numeric(14,6), b.pause_at_limit,
                        (SELECT coalesce(sum(u.cost_usd), 0) FROM usage_events u WHERE u.tenant_id = b.tenant_id AND u.billed_to = 'platform' AND u.created_at >= {month}),
                        to_char(now() AT TIME ZONE 'Asia/Amman', 'YYYY-MM')
                   FROM tenant_budgets b"
            ),
            &[],
        )
        .await?;
    for r in rows {
        let budget: rust_decimal::Decimal = r.get(1);
        let spent: rust_decimal::Decimal = r.get(3);
        let month: String = r.get(4);
        if spent * rust_decimal::Decimal::from(100) < budget * rust_decimal::Decimal::from(80) {
            continue;
        }
        let tenant = TenantId::from_uuid(r.get(0));
        let reached = spent >= budget;
        let message = if reached && r.get::<_, bool>(2) {
            format!("The monthly AI budget is used up ({spent:.2} of {budget:.2} USD): AI replies are paused until next month.")
        } else {
            format!(
                "The monthly AI budget is {}% used ({spent:.2} of {budget:.2} USD).",
                (spent * rust_decimal::Decimal::from(100) / budget).trunc()
            )
        };
        let n = c
            .execute(
                "INSERT INTO alerts (tenant_id, kind, severity, message, dedupe_key) VALUES ($1, 'budget', $2, $3, $4) ON CONFLICT DO NOTHING",
                &[
                    &tenant.as_uuid(),
                    &if reached { "critical" } else { "warning" },
                    &message,
                    &format!("budget_{}_{month}", if reached { "100" } else { "80" }),
                ],
            )
            .await?;
        report.budget += n;
    }
    Ok(report)
}

/// Old sign-in attempts and expired sessions go.
pub async fn tidy(app: &App) -> Result<u64, DbError> {
    let c = app.db.platform().await?;
    let a = c
        .execute(
            "DELETE FROM admin_sign_in_attempts WHERE attempted_at < now() - interval '30 days'",
            &[],
        )
        .await?;
    let s = c
        .execute(
            "DELETE FROM sessions WHERE expires_at < now() - interval '1 day'",
            &[],
        )
        .await?;
    Ok(a + s)
}
