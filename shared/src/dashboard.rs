//! The dashboard overview: conversations, AI replies, orders, revenue, tokens and cost over a
//! range of Asia/Amman calendar days, computed from the shop's own rows (row-level security
//! applies), with a per-day series in which every day of the range is present.
//!
//! Only Instagram conversations count (the merchant's test chats are not customers), and
//! orders taken in test chats are left out; tokens and cost count every model call the shop
//! made, since all of them were paid for.

use chrono::{Days, NaiveDate};
use deadpool_postgres::GenericClient;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The longest range one overview covers.
pub const MAX_DAYS: u64 = 366;
/// The range when none is given: the last 30 days, today included.
pub const DEFAULT_DAYS: u64 = 30;

/// `?from=YYYY-MM-DD&to=YYYY-MM-DD`, Asia/Amman calendar days, both included.
#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RangeQuery {
    /// First day (Asia/Amman), default: 29 days before `to`.
    pub from: Option<NaiveDate>,
    /// Last day (Asia/Amman), included; default: today.
    pub to: Option<NaiveDate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DayRange {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Database(#[from] tokio_postgres::Error),
}

impl RangeQuery {
    /// The range asked for, with defaults from `today` (in Asia/Amman); refuses a start after
    /// the end and ranges longer than [`MAX_DAYS`].
    pub fn resolve(self, today: NaiveDate) -> Result<DayRange, DashboardError> {
        let to = self.to.unwrap_or(today);
        let from = self.from.unwrap_or_else(|| {
            to.checked_sub_days(Days::new(DEFAULT_DAYS - 1))
                .unwrap_or(to)
        });
        if from > to {
            return Err(DashboardError::Invalid(format!(
                "the start date {from} is after the end date {to}"
            )));
        }
        let days = (to - from).num_days() + 1;
        if days as u64 > MAX_DAYS {
            return Err(DashboardError::Invalid(format!(
                "the range covers {days} days; choose at most {MAX_DAYS}"
            )));
        }
        Ok(DayRange { from, to })
    }
}

/// Today's date in Asia/Amman, as the database's time zone data knows it.
pub async fn today_in_amman(tx: &impl GenericClient) -> Result<NaiveDate, tokio_postgres::Error> {
    Ok(tx
        .query_one("SELECT (now() AT TIME ZONE 'Asia/Amman')::date", &[])
        .await?
        .get(0))
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Overview {
    #[schema(value_type = String, format = Date, example = "2025-01-01")]
    pub from: NaiveDate,
    #[schema(value_type = String, format = Date, example = "2025-01-30")]
    pub to: NaiveDate,
    /// Conversations with at least one message in the range.
    pub conversations: i64,
    /// Conversations that started in the range.
    pub new_conversations: i64,
    /// Messages customers sent.
    pub messages_in: i64,
    /// Replies the AI sent.
    pub ai_replies: i64,
    /// Conversations handed to a human in the range (by the AI, or switched by the merchant
    /// and still with a human).
    pub handoffs: i64,
    pub orders: OrderCounts,
    /// Sum of the totals of orders not cancelled, JOD with 3 decimals.
    #[schema(value_type = String, example = "125.500")]
    pub revenue_jod: String,
    pub tokens: Tokens,
    /// What the model calls cost, USD.
    #[schema(value_type = String, example = "0.012345")]
    pub cost_usd: String,
    /// One entry per day of the range, oldest first, zeros on quiet days.
    pub days: Vec<DayFigures>,
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct OrderCounts {
    /// Every order placed in the range, whatever its status now.
    pub total: i64,
    /// Orders not cancelled.
    pub not_cancelled: i64,
    /// Status → count, every status present.
    pub by_status: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Tokens {
    pub prompt: i64,
    /// Of the prompt tokens, those the provider served from its cache.
    pub cached: i64,
    pub completion: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DayFigures {
    #[schema(value_type = String, format = Date, example = "2025-01-01")]
    pub day: NaiveDate,
    pub messages_in: i64,
    pub ai_replies: i64,
    pub orders: i64,
    #[schema(value_type = String, example = "12.500")]
    pub revenue_jod: String,
}

const STATUSES: [&str; 6] = [
    "pending",
    "confirmed",
    "shipped",
    "delivered",
    "cancelled",
    "returned",
];

/// Both ends of the range as instants: `$1` the first day, `$2` the last (included).
const LO: &str = "($1::date::timestamp AT TIME ZONE 'Asia/Amman')";
const HI: &str = "(($2::date + 1)::timestamp AT TIME ZONE 'Asia/Amman')";

fn jod(d: Decimal) -> String {
    format!("{:.3}", d.round_dp(3))
}

pub async fn overview(
    tx: &impl GenericClient,
    range: DayRange,
) -> Result<Overview, DashboardError> {
    let p: [&(dyn tokio_postgres::types::ToSql + Sync); 2] = [&range.from, &range.to];
    let mut days: BTreeMap<NaiveDate, DayFigures> = BTreeMap::new();
    let mut day = range.from;
    while day <= range.to {
        days.insert(
            day,
            DayFigures {
                day,
                messages_in: 0,
                ai_replies: 0,
                orders: 0,
                revenue_jod: jod(Decimal::ZERO),
            },
        );
        day = day.succ_opt().expect("dates within range");
    }

    let messages = tx
        .query(
            &format!(
                // A reply sent in several Instagram parts is one reply (its parts share the
                // send's message key).
                "SELECT (m.sent_at AT TIME ZONE 'Asia/Amman')::date,
                        count(*) FILTER (WHERE m.direction = 'inbound' AND m.author = 'customer'),
                        count(DISTINCT coalesce(o.payload->>'message_key', m.id::text)) FILTER (WHERE m.direction = 'outbound' AND m.author = 'ai')
                 FROM messages m JOIN conversations c ON c.id = m.conversation_id AND c.kind = 'instagram'
                 LEFT JOIN outbound_messages o ON m.direction = 'outbound' AND o.tenant_id = m.tenant_id AND o.mid = m.mid
                 WHERE m.sent_at >= {LO} AND m.sent_at < {HI}
                 GROUP BY 1"
            ),
            &p,
        )
        .await?;
    let (mut messages_in, mut ai_replies) = (0, 0);
    for r in &messages {
        let (d, i, a): (NaiveDate, i64, i64) = (r.get(0), r.get(1), r.get(2));
        messages_in += i;
        ai_replies += a;
        if let Some(f) = days.get_mut(&d) {
            f.messages_in = i;
            f.ai_replies = a;
        }
    }

    let orders = tx
        .query(
            &format!(
                "SELECT (created_at AT TIME ZONE 'Asia/Amman')::date, status, count(*), coalesce(sum(total_jod), 0)
                 FROM orders WHERE created_at >= {LO} AND created_at < {HI} AND NOT is_test
                 GROUP BY 1, 2"
            ),
            &p,
        )
        .await?;
    let mut counts = OrderCounts {
        by_status: STATUSES.iter().map(|s| (s.to_string(), 0)).collect(),
        ..Default::default()
    };
    let mut revenue = Decimal::ZERO;
    let mut revenue_by_day: BTreeMap<NaiveDate, Decimal> = BTreeMap::new();
    for r in &orders {
        let (d, status, n, sum): (NaiveDate, String, i64, Decimal) =
            (r.get(0), r.get(1), r.get(2), r.get(3));
        counts.total += n;
        *counts.by_status.entry(status.clone()).or_default() += n;
        if let Some(f) = days.get_mut(&d) {
            f.orders += n;
        }
        if status != "cancelled" {
            counts.not_cancelled += n;
            revenue += sum;
            *revenue_by_day.entry(d).or_default() += sum;
        }
    }
    for (d, sum) in revenue_by_day {
        if let Some(f) = days.get_mut(&d) {
            f.revenue_jod = jod(sum);
        }
    }

    let c = tx
        .query_one(
            &format!(
                "SELECT
                   (SELECT count(DISTINCT m.conversation_id) FROM messages m
                      JOIN conversations c ON c.id = m.conversation_id AND c.kind = 'instagram'
                      WHERE m.sent_at >= {LO} AND m.sent_at < {HI}),
                   (SELECT count(*) FROM conversations
                      WHERE kind = 'instagram' AND created_at >= {LO} AND created_at < {HI}),
                   (SELECT count(*) FROM (
                      SELECT t.conversation_id FROM agent_turns t
                        JOIN conversations c ON c.id = t.conversation_id AND c.kind = 'instagram'
                        WHERE t.status = 'handed_off' AND t.started_at >= {LO} AND t.started_at < {HI}
                      UNION
                      SELECT id FROM conversations
                        WHERE kind = 'instagram' AND mode = 'human'
                          AND mode_changed_at >= {LO} AND mode_changed_at < {HI}) h),
                   coalesce((SELECT sum(prompt_tokens) FROM usage_events WHERE created_at >= {LO} AND created_at < {HI}), 0)::bigint,
                   coalesce((SELECT sum(cached_tokens) FROM usage_events WHERE created_at >= {LO} AND created_at < {HI}), 0)::bigint,
                   coalesce((SELECT sum(completion_tokens) FROM usage_events WHERE created_at >= {LO} AND created_at < {HI}), 0)::bigint,
                   coalesce((SELECT sum(cost_usd) FROM usage_events WHERE created_at >= {LO} AND created_at < {HI}), 0)"
            ),
            &p,
        )
        .await?;
    let cost: Decimal = c.get(6);
    Ok(Overview {
        from: range.from,
        to: range.to,
        conversations: c.get(0),
        new_conversations: c.get(1),
        messages_in,
        ai_replies,
        handoffs: c.get(2),
        orders: counts,
        revenue_jod: jod(revenue),
        tokens: Tokens {
            prompt: c.get(3),
            cached: c.get(4),
            completion: c.get(5),
        },
        cost_usd: format!("{:.6}", cost.round_dp(6)),
        days: days.into_values().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn ranges_default_to_the_last_30_days_and_are_bounded() {
        let today = d("2025-03-31");
        let r = RangeQuery::default().resolve(today).unwrap();
        assert_eq!((r.from, r.to), (d("2025-03-02"), today));
        let q = |from: &str, to: &str| RangeQuery {
            from: Some(d(from)),
            to: Some(d(to)),
        };
        assert!(q("2025-01-01", "2025-01-01").resolve(today).is_ok());
        assert!(q("2025-01-02", "2025-01-01").resolve(today).is_err());
        assert!(
            q("2024-01-01", "2024-12-31").resolve(today).is_ok(),
            "366 days (leap year)"
        );
        assert!(
            q("2024-01-01", "2025-01-01").resolve(today).is_err(),
            "367 days"
        );
    }
}
